"""The spellings the curated file gives each place (watcher/places/curated.py)."""

from __future__ import annotations

from pathlib import Path

from watcher.places import load, name_key
from watcher.places.curated import curated_names


def test_a_place_has_the_curated_spellings_not_geonames_alternate_names() -> None:
    """Kobani's curated *Kobane* counts; Şabbūrah's GeoNames *Sabura* does not."""
    names = curated_names()
    (kobani,) = (p for p in load().lookup("Kobani") if p.country == "SY")
    (sabburah,) = load().lookup("Sabura")
    assert name_key("Kobane") in names[kobani.id]
    assert name_key("Sabura") not in names.get(sabburah.id, frozenset())


def test_a_missing_or_broken_curated_file_gives_no_curated_spellings(tmp_path: Path) -> None:
    broken = tmp_path / "curated.yaml"
    broken.write_text("blocks: [\n", encoding="utf-8")
    assert curated_names(tmp_path / "missing.yaml") == {}
    assert curated_names(broken) == {}
