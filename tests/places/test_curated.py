"""The spellings the curated file gives each place (watcher/places/curated.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import InputError
from watcher.places import load, name_key
from watcher.places.curated import curated_names


def test_a_place_has_the_curated_spellings_not_geonames_alternate_names() -> None:
    """Kobani's curated *Kobane* counts; Şabbūrah's GeoNames *Sabura* does not."""
    names = curated_names()
    (kobani,) = (p for p in load().lookup("Kobani") if p.country == "SY")
    (sabburah,) = load().lookup("Sabura")
    assert name_key("Kobane") in names[kobani.id]
    assert name_key("Sabura") not in names.get(sabburah.id, frozenset())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "missing.yaml: cannot read the curated places"),
        ("blocks: [\n", "curated.yaml:2:1: not valid YAML"),
        ("", "curated.yaml: no curated places"),
        ("blocks:\n- places: [Kobani]\n", "blocks[0].places[0]: not a curated place with an id"),
        ("blocks:\n- places:\n  - name: Kobani\n", "places[0]: not a curated place with an id"),
    ],
)
def test_a_missing_or_broken_curated_file_is_one_clear_error(
    tmp_path: Path, text: str | None, error: str
) -> None:
    """A packaging fault must not silently change what `~Name` matches."""
    path = tmp_path / ("missing.yaml" if text is None else "curated.yaml")
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        curated_names(path)
    assert error in str(raised.value)
    assert "\n" not in str(raised.value)
