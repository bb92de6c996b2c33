"""The spellings the curated file gives each place (news and Wikipedia spellings).

The built gazetteer mixes them with GeoNames' alternate names, which are also
transliterations nobody writes (*Sabura* for Şabbūrah); `~Name` trusts a typo of the
rule's spelling only where the spelling is the place's own or curated (docs/variants.md).
Read from `data/curated.yaml`, the file the shipped gazetteer was built with, on first use.
A missing or broken file raises InputError, as a broken gazetteer does: no curated spelling
would silently change what `~Name` matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from watcher.errors import InputError
from watcher.places.fold import name_key
from watcher.places.gazetteer import GAZETTEER_FILE

CURATED_FILE = GAZETTEER_FILE.parent / "curated.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader: ~0.04 s, not ~0.26 s


@cache
def curated_names(path: Path = CURATED_FILE) -> dict[str, frozenset[str]]:
    """Place id -> the `name_key`s of the display name and names the curated file gives it.
    Raises InputError (one line: the file, with line:column for a YAML error) for a file
    that is missing, not YAML, empty, or has an entry that is not a mapping with an id."""
    found: dict[str, set[str]] = {}
    for where, entry in _entries(path, _document(path)):
        if not isinstance(entry, dict) or not entry.get("id"):
            raise InputError(str(path), f"{where}: not a curated place with an id")
        names = [entry["name"]] if "name" in entry else []
        names += entry.get("names", [])
        found.setdefault(str(entry["id"]), set()).update(name_key(str(n)) for n in names)
    return {place_id: frozenset(keys) for place_id, keys in found.items()}


def _document(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; InputError for anything else."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"cannot read the curated places: {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise InputError(where, f"not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise InputError(str(path), f"not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InputError(str(path), "no curated places (expected a mapping with `blocks`)")
    return document


def _entries(path: Path, document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each place entry of each block, with where it is (`blocks[2].places[5]`)."""
    blocks = document.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise InputError(str(path), "no curated places (expected a list under `blocks`)")
    for b, block in enumerate(blocks):
        places = block.get("places", []) if isinstance(block, dict) else None
        if not isinstance(places, list):
            raise InputError(str(path), f"blocks[{b}]: not a block with a list of `places`")
        for p, entry in enumerate(places):
            yield f"blocks[{b}].places[{p}]", entry
