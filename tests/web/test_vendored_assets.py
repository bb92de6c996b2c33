"""The web workspace's vendored front-end assets: each pinned package is there with its
licence and its SOURCES.md entry, every file is the one recorded, and the country shapes
put Syria and Iraq where they are. Nothing here asks the npm registry."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import shutil
import tarfile

import pytest

from scripts import vendor_assets
from scripts.vendor_assets import PINS, VENDOR_DIR, Pin, VendorError, signed_area

SOURCES = VENDOR_DIR / "SOURCES.md"
COUNTRIES = VENDOR_DIR / "world-atlas" / "countries.geojson"
# (west, east, south, north), a tenth of a degree wider than the countries' real extent.
BOUNDS = {"Syria": (35.6, 42.5, 32.2, 37.4), "Iraq": (38.6, 48.7, 28.9, 37.5)}


def recorded_files() -> dict[str, str]:
    """SOURCES.md's file rows: path under the vendor folder -> sha256."""
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", SOURCES.read_text(), re.M)
    return dict(rows)


def countries() -> dict[str, dict]:
    """The shipped country features, by name."""
    document = json.loads(COUNTRIES.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    return {f["properties"]["name"]: f for f in document["features"]}


def polygons(feature: dict) -> list[list[list[list[float]]]]:
    geometry = feature["geometry"]
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


# --- what is vendored ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PINS))
def test_every_pinned_package_has_its_licence_and_its_sources_entry(name):
    pin = PINS[name]
    licence = (VENDOR_DIR / name / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright" in licence or "Permission" in licence
    section = SOURCES.read_text().split(f"\n## {name} {pin.version}\n", 1)[1].split("\n## ")[0]
    assert f"- tarball: https://registry.npmjs.org/{name}/-/{name}-{pin.version}.tgz" in section
    assert f"- integrity: `{pin.integrity}`" in section
    assert f"- licence: {pin.licence} (`{name}/LICENSE`" in section
    assert f"| `{name}/LICENSE` |" in section


def test_every_file_sources_lists_is_there_with_its_sha256_and_no_other():
    recorded = recorded_files()
    assert "htmx.org/htmx.min.js" in recorded
    assert "leaflet/images/marker-icon.png" in recorded
    for path, digest in recorded.items():
        assert hashlib.sha256((VENDOR_DIR / path).read_bytes()).hexdigest() == digest, path
    on_disk = {p.relative_to(VENDOR_DIR).as_posix() for p in VENDOR_DIR.rglob("*") if p.is_file()}
    assert on_disk == {*recorded, "SOURCES.md"}


def test_nothing_vendored_is_a_source_map_or_an_unminified_copy():
    names = [p.name for p in VENDOR_DIR.rglob("*") if p.is_file()]
    assert not [n for n in names if n.endswith(".map") or "-src" in n or n == "htmx.js"]


def test_the_natural_earth_shapes_say_they_are_public_domain():
    notice = (VENDOR_DIR / "world-atlas" / "NOTICE").read_text(encoding="utf-8")
    assert "Natural Earth" in notice and "public domain" in notice


# --- --check ------------------------------------------------------------------------------


def test_check_passes_on_the_committed_files(capsys):
    assert vendor_assets.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_naming_a_changed_missing_or_unrecorded_file(tmp_path, capsys):
    vendor = tmp_path / "vendor"
    shutil.copytree(VENDOR_DIR, vendor)
    (vendor / "htmx.org" / "htmx.min.js").write_bytes(b"alert('not htmx')")
    (vendor / "leaflet" / "leaflet.css").unlink()
    (vendor / "leaflet" / "leaflet.js.map").write_text("{}")
    assert vendor_assets.main(["--check", "--vendor-dir", str(vendor)]) == 1
    out = capsys.readouterr().out
    assert "htmx.org/htmx.min.js: its sha256 is not the one SOURCES.md records" in out
    assert "leaflet/leaflet.css: missing" in out
    assert "leaflet/leaflet.js.map: not in SOURCES.md" in out
    assert "OUT OF DATE" in out


def test_check_fails_when_a_pin_moves_without_a_new_run(monkeypatch, capsys):
    monkeypatch.setitem(PINS, "leaflet", dataclasses.replace(PINS["leaflet"], version="1.9.5"))
    assert vendor_assets.main(["--check"]) == 1
    assert "leaflet: pinned at 1.9.5, SOURCES.md records 1.9.4" in capsys.readouterr().out


def test_a_tarball_that_is_not_the_pinned_one_stops_the_run():
    with pytest.raises(VendorError, match=r"leaflet@1\.9\.4: the tarball's integrity is sha512-"):
        vendor_assets.verified("leaflet", PINS["leaflet"], b"a different tarball")


# --- the country shapes -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "iso_id"), [("Syria", "760"), ("Iraq", "368")])
def test_syria_and_iraq_lie_inside_their_real_bounds(name, iso_id):
    feature = countries()[name]
    assert feature["id"] == iso_id
    west, east, south, north = BOUNDS[name]
    positions = [p for polygon in polygons(feature) for ring in polygon for p in ring]
    assert len(positions) > 10
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in positions)
    assert max(lon for lon, _ in positions) - min(lon for lon, _ in positions) > 5


def test_every_country_has_a_name_and_rings_wound_as_geojson_says():
    """RFC 7946: outer rings anticlockwise, holes clockwise, and every ring an area."""
    shipped = countries()
    assert len(shipped) > 170
    for name, feature in shipped.items():
        for polygon in polygons(feature):
            assert signed_area(polygon[0]) > 0, name
            assert all(signed_area(hole) < 0 for hole in polygon[1:]), name
            assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in polygon), name


def test_no_ring_jumps_across_the_map_but_antarctica_round_the_pole():
    """A ring crossing the 180th meridian (Fiji, Chukotka) would be drawn by a flat map as
    a band across the whole world; only Antarctica's edge, the map's bottom, may span it."""
    jumping = sorted({
        name for name, feature in countries().items() for polygon in polygons(feature)
        for ring in polygon for (x0, _), (x1, _) in zip(ring, ring[1:], strict=False)
        if abs(x1 - x0) > 180
    })
    assert jumping == ["Antarctica"]
    fiji = [p for polygon in polygons(countries()["Fiji"]) for ring in polygon for p in ring]
    assert any(abs(lon) > 180 for lon, _ in fiji)  # drawn on, past the meridian


# --- the TopoJSON decoder -----------------------------------------------------------------

# Two arcs around the square (10, 20)-(11, 21), quantized in steps of 0.5 and 0.25 degrees
# from (10, 20): arc 0 runs (0,0) (2,0) (2,4), arc 1 runs (2,4) (0,4) (0,0), both delta-coded.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
    "arcs": [[[0, 0], [2, 0], [0, 4]], [[2, 4], [-2, 0], [0, -4]]],
    "objects": {
        "shapes": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "id": "1", "properties": {"name": "Square"}, "arcs": [[0, 1]]},
                {"type": "MultiPolygon", "arcs": [[[~1, ~0]]]},
                {"type": "LineString", "properties": {"name": "Edge"}, "arcs": [~0]},
            ],
        }
    },
}
SQUARE = [[10.0, 20.0], [11.0, 20.0], [11.0, 21.0], [10.0, 21.0], [10.0, 20.0]]


def test_topojson_decoder_on_a_hand_written_topology():
    assert vendor_assets.topology_features(TOPOLOGY, "shapes") == [
        {
            "type": "Feature",
            "id": "1",
            "properties": {"name": "Square"},
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        },
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE[::-1]]]},
        },
        {
            "type": "Feature",
            "properties": {"name": "Edge"},
            "geometry": {
                "type": "LineString",
                "coordinates": [[11.0, 21.0], [11.0, 20.0], [10.0, 20.0]],
            },
        },
    ]


def test_countries_geojson_winds_outer_rings_anticlockwise_and_drops_rings_of_no_area():
    topology = {
        "type": "Topology",
        "transform": TOPOLOGY["transform"],
        "arcs": [*TOPOLOGY["arcs"], [[1, 1], [0, 0], [0, 0], [0, 0]]],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {
                        "type": "MultiPolygon",
                        "id": "9",
                        "properties": {"name": "Squareland"},
                        "arcs": [[[~1, ~0]], [[2]]],
                    },
                ],
            }
        },
    }
    document = json.loads(vendor_assets.countries_geojson(topology))
    assert document == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "9",
                "properties": {"name": "Squareland"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
            }
        ],
    }


def test_a_pin_the_tarball_lacks_is_an_error_that_names_the_file():
    pin = Pin(version="1.0.0", integrity="", licence="MIT", licence_file="LICENSE")
    with pytest.raises(VendorError, match="example: the tarball has no LICENSE"):
        vendor_assets.package_files("example", pin, _tarball({"package/README.md": b"hi"}))


def _tarball(files: dict[str, bytes]) -> bytes:
    """A gzipped tar of `files`, as npm packs one."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_files_come_from_the_tarball_without_their_dist_folder():
    pin = Pin(
        version="1.0.0",
        integrity="",
        licence="MIT",
        licence_file="MIT-LICENCE.txt",
        files=("dist/lib.min.js", "dist/images/icon.png"),
    )
    tarball = _tarball(
        {
            "package/MIT-LICENCE.txt": b"Permission is hereby granted",
            "package/dist/lib.min.js": b"lib()",
            "package/dist/lib.js.map": b"{}",
            "package/dist/images/icon.png": b"png",
        }
    )
    files = vendor_assets.package_files("lib", pin, tarball)
    assert {f.path: f.data for f in files} == {
        "lib/LICENSE": b"Permission is hereby granted",
        "lib/lib.min.js": b"lib()",
        "lib/images/icon.png": b"png",
    }
    assert [f.path for f in files] == vendor_assets.expected_paths("lib", pin)
