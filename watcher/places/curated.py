"""The spellings the curated file gives each place (news and Wikipedia spellings).

The built gazetteer mixes them with GeoNames' alternate names, which are also
transliterations nobody writes (*Sabura* for Şabbūrah); `~Name` trusts a typo of the
rule's spelling only where the spelling is the place's own or curated (docs/variants.md).
Read from `data/curated.yaml`, the file the shipped gazetteer was built with, on first use.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from watcher.places.fold import name_key
from watcher.places.gazetteer import GAZETTEER_FILE

CURATED_FILE = GAZETTEER_FILE.parent / "curated.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader: ~0.04 s, not ~0.26 s


@cache
def curated_names(path: Path = CURATED_FILE) -> dict[str, frozenset[str]]:
    """Place id -> the `name_key`s of the display name and names the curated file gives it;
    {} when the file is missing or unreadable (then no spelling counts as curated)."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError):
        return {}
    found: dict[str, set[str]] = {}
    for block in document.get("blocks", []):
        for entry in block.get("places", []):
            names = [entry["name"]] if "name" in entry else []
            names += entry.get("names", [])
            keys = found.setdefault(str(entry.get("id", "")), set())
            keys.update(name_key(str(name)) for name in names)
    return {place_id: frozenset(keys) for place_id, keys in found.items()}
