"""Vendor the web workspace's front-end assets from the npm registry, with their licences.

    python -m scripts.vendor_assets            # fetches the pinned tarballs with npm and
                                               # writes watcher/web/static/vendor/
    python -m scripts.vendor_assets --check    # exit 1 if a vendored file differs from
                                               # what SOURCES.md records (no network)

The page assets ship in the package so that a fresh clone needs no network for them and
the workspace loads nothing from the internet at run time (docs/web.md, Front-end assets).
Each package is pinned to an exact version and to its tarball's integrity (`PINS`): a
tarball the registry serves differently fails the run. The country shapes are made here
from world-atlas' TopoJSON (`topology_features`), so the browser needs no TopoJSON client.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "watcher" / "web" / "static" / "vendor"
SOURCES_FILE = "SOURCES.md"
REGISTRY = "https://registry.npmjs.org"
COUNTRIES_FILE = "countries.geojson"
COORDINATE_DECIMALS = 3
NATURAL_EARTH_NOTICE = """\
countries.geojson is made from world-atlas' countries TopoJSON (ISC licence, LICENSE
beside this file), itself made from Natural Earth's Admin 0 countries, version 4.1.0
(https://www.naturalearthdata.com/). Natural Earth's data is in the public domain: it
may be used, modified and distributed for any purpose, without permission and without
credit (https://www.naturalearthdata.com/about/terms-of-use/).
"""

Position = tuple[float, float]


@dataclass(frozen=True)
class Pin:
    """One npm package as vendored: which tarball, and what is taken from it."""

    version: str
    integrity: str  # the registry's dist.integrity: the tarball's sha512
    licence: str  # SPDX id, as the package declares it
    licence_file: str  # in the tarball; copied as <package>/LICENSE
    files: tuple[str, ...] = ()  # in the tarball; copied without their `dist/` folder
    countries_from: str = ""  # a world-atlas TopoJSON made into countries.geojson
    notice: str = ""  # written as <package>/NOTICE


PINS: dict[str, Pin] = {
    "htmx.org": Pin(
        version="2.0.11",
        integrity="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        licence="0BSD",
        licence_file="LICENSE",
        files=("dist/htmx.min.js",),
    ),
    "leaflet": Pin(
        version="1.9.4",
        integrity="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        licence="BSD-2-Clause",
        licence_file="LICENSE",
        files=(
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ),
    ),
    "leaflet.markercluster": Pin(
        version="1.5.3",
        integrity="sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        licence="MIT",
        licence_file="MIT-LICENCE.txt",
        files=(
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
        ),
    ),
    "world-atlas": Pin(
        version="2.0.2",
        integrity="sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==",
        licence="ISC",
        licence_file="LICENSE",
        # 1:110m: made from countries-50m.json the file would be 1.7 MB (110m: 0.2 MB).
        countries_from="countries-110m.json",
        notice=NATURAL_EARTH_NOTICE,
    ),
}


class VendorError(Exception):
    """A tarball that cannot be fetched, or is not the one pinned."""


@dataclass(frozen=True)
class Vendored:
    """One file of the vendor folder: where it goes, where it came from, its bytes."""

    path: str  # under the vendor folder: `leaflet/leaflet.js`
    origin: str  # in SOURCES.md's words: the tarball's file, or how it was made
    data: bytes


def main(argv: list[str] | None = None) -> int:
    """Vendor the pinned packages (or, with --check, say whether the vendored files are)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor-dir", type=Path, default=VENDOR_DIR)
    parser.add_argument("--check", action="store_true", help="compare, fetch nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.vendor_dir)
        for problem in problems:
            print(f"{args.vendor_dir}: {problem}")
        print(f"{args.vendor_dir}: {'OUT OF DATE: run the script' if problems else 'up to date'}")
        return 1 if problems else 0
    try:
        files = [file for name, pin in PINS.items() for file in vendored_files(name, pin)]
    except VendorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    files.append(Vendored(SOURCES_FILE, "", sources_markdown(files).encode("utf-8")))
    write(args.vendor_dir, files)
    total = sum(len(file.data) for file in files)
    print(f"{args.vendor_dir}: {len(files)} files, {total:,} bytes")
    return 0


# --- fetching -----------------------------------------------------------------------------


def vendored_files(name: str, pin: Pin) -> list[Vendored]:
    """The files taken or made from one pinned package's tarball (fetched with npm)."""
    tarball = verified(name, pin, npm_pack(name, pin.version))
    return package_files(name, pin, tarball)


def npm_pack(name: str, version: str) -> bytes:
    """The package's tarball as the registry serves it (`npm pack`, into a scratch folder)."""
    with tempfile.TemporaryDirectory() as scratch:
        command = ["npm", "pack", f"{name}@{version}", "--json", "--ignore-scripts"]
        try:
            done = subprocess.run(
                [*command, "--pack-destination", scratch],
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or error
            raise VendorError(f"npm pack {name}@{version} failed: {detail}") from error
        filename = json.loads(done.stdout)[0]["filename"]
        return (Path(scratch) / filename).read_bytes()


def integrity(data: bytes) -> str:
    """npm's Subresource Integrity form of a tarball's sha512, as in dist.integrity."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def verified(name: str, pin: Pin, tarball: bytes) -> bytes:
    """The tarball if it is the one pinned; a changed registry file stops the run."""
    found = integrity(tarball)
    if found != pin.integrity:
        raise VendorError(
            f"{name}@{pin.version}: the tarball's integrity is {found}, "
            f"not the pinned {pin.integrity}: the registry's file changed, or the pin is wrong"
        )
    return tarball


# --- the vendored files -------------------------------------------------------------------


def package_files(name: str, pin: Pin, tarball: bytes) -> list[Vendored]:
    """The licence, the files taken as they are, the notice and the countries, if any."""
    members = tarball_members(tarball)
    licence = member(members, name, pin.licence_file)
    files = [Vendored(f"{name}/LICENSE", f"`{pin.licence_file}`", licence)]
    files.extend(
        Vendored(f"{name}/{destination(path)}", f"`{path}`", member(members, name, path))
        for path in pin.files
    )
    if pin.notice:
        files.append(Vendored(f"{name}/NOTICE", "written by the script", pin.notice.encode()))
    if pin.countries_from:
        topology = json.loads(member(members, name, pin.countries_from))
        origin = f"made from `{pin.countries_from}` (above)"
        files.append(Vendored(f"{name}/{COUNTRIES_FILE}", origin, countries_geojson(topology)))
    return files


def expected_paths(name: str, pin: Pin) -> list[str]:
    """What `package_files` writes for this pin, known without its tarball."""
    paths = [f"{name}/LICENSE", *(f"{name}/{destination(path)}" for path in pin.files)]
    if pin.notice:
        paths.append(f"{name}/NOTICE")
    if pin.countries_from:
        paths.append(f"{name}/{COUNTRIES_FILE}")
    return paths


def destination(path: str) -> str:
    """A file's place under its package's folder: `dist/` dropped, so that leaflet.css
    still finds `images/` beside it."""
    return path.removeprefix("dist/")


def tarball_members(tarball: bytes) -> dict[str, bytes]:
    """Every regular file of the tarball, by its path below the top folder (`package/`)."""
    members = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for info in archive.getmembers():
            handle = archive.extractfile(info) if info.isfile() else None
            if handle is not None:
                members[info.name.split("/", 1)[-1]] = handle.read()
    return members


def member(members: dict[str, bytes], name: str, path: str) -> bytes:
    """One file of a tarball; a pinned file the package lacks is an error that says so."""
    if path not in members:
        raise VendorError(f"{name}: the tarball has no {path}")
    return members[path]


def write(vendor_dir: Path, files: list[Vendored]) -> None:
    """The vendor folder holds exactly `files`: what an earlier run left is removed."""
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)
    for file in files:
        target = vendor_dir / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.data)


# --- TopoJSON to GeoJSON ------------------------------------------------------------------


def countries_geojson(topology: dict[str, Any]) -> bytes:
    """The topology's `countries` as a GeoJSON FeatureCollection: coordinates rounded to
    `COORDINATE_DECIMALS` (about 100 m), outer rings counter-clockwise (RFC 7946)."""
    features = [_rounded_feature(f) for f in topology_features(topology, "countries")]
    document = {"type": "FeatureCollection", "features": features}
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def topology_features(topology: dict[str, Any], object_name: str) -> list[dict[str, Any]]:
    """The GeoJSON features of one geometry collection of a TopoJSON topology."""
    arcs = decoded_arcs(topology)
    return [_feature(g, arcs) for g in topology["objects"][object_name]["geometries"]]


def decoded_arcs(topology: dict[str, Any]) -> list[list[Position]]:
    """Every arc in degrees: a quantized topology's arcs are deltas from the previous
    position, in steps of `transform.scale` from `transform.translate`."""
    transform = topology.get("transform")
    if transform is None:
        return [[(p[0], p[1]) for p in arc] for arc in topology["arcs"]]
    (scale_x, scale_y), (translate_x, translate_y) = transform["scale"], transform["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        positions = []
        for dx, dy, *_ in arc:
            x, y = x + dx, y + dy
            positions.append((x * scale_x + translate_x, y * scale_y + translate_y))
        decoded.append(positions)
    return decoded


def _feature(geometry: dict[str, Any], arcs: list[list[Position]]) -> dict[str, Any]:
    """One TopoJSON geometry as a GeoJSON feature, keeping its id and properties."""
    feature: dict[str, Any] = {"type": "Feature"}
    if "id" in geometry:
        feature["id"] = geometry["id"]
    feature["properties"] = geometry.get("properties", {})
    feature["geometry"] = {
        "type": geometry["type"],
        "coordinates": _coordinates(geometry["type"], geometry["arcs"], arcs),
    }
    return feature


def _coordinates(kind: str, indexes: list, arcs: list[list[Position]]) -> list:
    """A line, polygon or multi-one's coordinates from its arc indexes."""
    if kind == "LineString":
        return _line(indexes, arcs)
    if kind in ("MultiLineString", "Polygon"):
        return [_line(line, arcs) for line in indexes]
    if kind == "MultiPolygon":
        return [[_line(ring, arcs) for ring in polygon] for polygon in indexes]
    raise ValueError(f"TopoJSON geometry {kind} is not needed for country shapes")


def _line(indexes: list[int], arcs: list[list[Position]]) -> list[list[float]]:
    """Arcs joined end to end; index ~i is arc i reversed. Each arc starts where the last
    ended, so that shared position is kept once."""
    positions: list[Position] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        positions.extend(arc[1:] if positions else arc)
    return [list(p) for p in positions]


def _rounded_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """A polygon feature rounded and wound as RFC 7946 says: outer rings anticlockwise,
    holes clockwise (world-atlas winds them the other way, as d3-geo wants)."""
    geometry = feature["geometry"]
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    wound = [_wound_polygon([_rounded(_unwrapped(ring)) for ring in polygon])
             for polygon in polygons]
    kept = [polygon for polygon in wound if polygon]
    coordinates = (kept[0] if kept else []) if geometry["type"] == "Polygon" else kept
    return {**feature, "geometry": {"type": geometry["type"], "coordinates": coordinates}}


def _unwrapped(ring: list[list[float]]) -> list[list[float]]:
    """A ring that crosses the 180th meridian (Fiji, Chukotka) made continuous past it
    (179.4 then 180.6, not -179.4): a flat map would otherwise draw a band across the
    world. A ring that goes all the way round (Antarctica's) is left as it is."""
    shift, out = 0.0, [ring[0]]
    for (x0, _), (x, y) in zip(ring, ring[1:], strict=False):
        if x - x0 > 180:
            shift -= 360
        elif x0 - x > 180:
            shift += 360
        out.append([x + shift, y])
    return out if shift == 0 else ring


def _rounded(ring: list[list[float]]) -> list[list[float]]:
    """Positions to `COORDINATE_DECIMALS`; `+ 0.0` writes -0.0 as 0.0."""
    return [
        [round(x, COORDINATE_DECIMALS) + 0.0, round(y, COORDINATE_DECIMALS) + 0.0] for x, y in ring
    ]


def _wound_polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    """The outer ring anticlockwise, holes clockwise; rings of no area are dropped (the
    110m topology has one, a North Korean sliver quantized to a point), and a polygon
    whose outer ring has none becomes empty."""
    if not rings or signed_area(rings[0]) == 0:
        return []
    return [_wound(ring, hole=i > 0) for i, ring in enumerate(rings) if signed_area(ring)]


def _wound(ring: list[list[float]], *, hole: bool) -> list[list[float]]:
    """The ring anticlockwise (an outer ring) or clockwise (a hole)."""
    anticlockwise = signed_area(ring) > 0
    return ring if anticlockwise != hole else ring[::-1]


def signed_area(ring: list[list[float]]) -> float:
    """Twice the ring's area in the plane of longitude and latitude: positive when it runs
    anticlockwise (the shoelace formula)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))


# --- SOURCES.md and --check ---------------------------------------------------------------


def sources_markdown(files: list[Vendored]) -> str:
    """SOURCES.md: for each package, its version, tarball, integrity, licence, and every
    file with its sha256 (what --check compares)."""
    lines = [
        "# Vendored front-end assets",
        "",
        "Written by `python -m scripts.vendor_assets` (docs/web.md, Front-end assets); do not",
        "edit. `python -m scripts.vendor_assets --check` compares the files here with the",
        "sha256 sums below.",
    ]
    for name, pin in PINS.items():
        lines.extend(["", *_package_section(name, pin, files)])
    return "\n".join([*lines, ""])


def _package_section(name: str, pin: Pin, files: list[Vendored]) -> list[str]:
    """One package's section of SOURCES.md."""
    lines = [
        f"## {name} {pin.version}",
        "",
        f"- tarball: {tarball_url(name, pin.version)}",
        f"- integrity: `{pin.integrity}`",
        f"- licence: {pin.licence} (`{name}/LICENSE`, the tarball's `{pin.licence_file}`)",
    ]
    if pin.countries_from:
        lines.extend(_countries_note(name, pin))
    lines.extend(["", "| file | from the tarball | bytes | sha256 |", "|---|---|---|---|"])
    for file in files:
        if file.path.startswith(f"{name}/"):
            digest = hashlib.sha256(file.data).hexdigest()
            lines.append(f"| `{file.path}` | {file.origin} | {len(file.data)} | `{digest}` |")
    return lines


def _countries_note(name: str, pin: Pin) -> list[str]:
    """How countries.geojson was made, for SOURCES.md."""
    return [
        f"- `{name}/{COUNTRIES_FILE}`: the `countries` object of the tarball's",
        f"  `{pin.countries_from}` (Natural Earth 4.1.0 Admin 0 countries, public domain:",
        f"  `{name}/NOTICE`) decoded from TopoJSON to GeoJSON by scripts/vendor_assets.py",
        "  (arcs delta-decoded and scaled by the topology's transform, coordinates rounded",
        f"  to {COORDINATE_DECIMALS} decimals, outer rings anticlockwise, rings crossing the 180th",
        "  meridian made continuous past it); each feature keeps its",
        "  `id` (ISO 3166-1 numeric, where Natural Earth has one) and `name`. 1:110m, as",
        "  1:50m would make a 1.7 MB file.",
    ]


def tarball_url(name: str, version: str) -> str:
    """The registry's address of an unscoped package's tarball (its dist.tarball)."""
    return f"{REGISTRY}/{name}/-/{name}-{version}.tgz"


_HEADING = re.compile(r"^## (\S+) (\S+)$", re.MULTILINE)
_FILE_ROW = re.compile(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", re.MULTILINE)


def check(vendor_dir: Path) -> list[str]:
    """What differs between the vendor folder, its SOURCES.md and `PINS`; empty if nothing."""
    sources = vendor_dir / SOURCES_FILE
    if not sources.exists():
        return [f"no {SOURCES_FILE}"]
    text = sources.read_text(encoding="utf-8")
    problems = _pin_problems(text)
    recorded = dict(_FILE_ROW.findall(text))
    for path, digest in sorted(recorded.items()):
        file = vendor_dir / path
        if not file.is_file():
            problems.append(f"{path}: missing")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            problems.append(f"{path}: its sha256 is not the one {SOURCES_FILE} records")
    on_disk = {p.relative_to(vendor_dir).as_posix() for p in vendor_dir.rglob("*") if p.is_file()}
    for path in sorted(on_disk - set(recorded) - {SOURCES_FILE}):
        problems.append(f"{path}: not in {SOURCES_FILE}")
    return problems


def _pin_problems(sources: str) -> list[str]:
    """Where SOURCES.md does not record what `PINS` asks for: a pin moved, no re-run."""
    recorded_versions = dict(_HEADING.findall(sources))
    recorded_paths = set(dict(_FILE_ROW.findall(sources)))
    problems = []
    for name, pin in PINS.items():
        if recorded_versions.get(name) != pin.version:
            found = recorded_versions.get(name, "nothing")
            problems.append(f"{name}: pinned at {pin.version}, {SOURCES_FILE} records {found}")
        for path in expected_paths(name, pin):
            if path not in recorded_paths:
                problems.append(f"{path}: pinned, not in {SOURCES_FILE}")
    for name in sorted(set(recorded_versions) - set(PINS)):
        problems.append(f"{name}: in {SOURCES_FILE}, no longer pinned")
    return problems


if __name__ == "__main__":
    sys.exit(main())
