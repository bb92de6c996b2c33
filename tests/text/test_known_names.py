"""`~Name` and the gazetteer: known names of the place match, known names of other places,
people's names and English words do not (issue 18, item 2; docs/variants.md)."""

from __future__ import annotations

import pytest

from tests.reference import Reference
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.places import load
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.text import known_names as known_names_module
from watcher.text.analysis import Analyzer
from watcher.text.known_names import (
    PLACE_WORD_KEYS_FILE,
    place_word_keys_bytes,
    read_place_word_keys,
    region_name_index,
)

# Another known name of the same place, however many words (sentences after FA-KES's).
ALTERNATE_NAMES = [
    ("Abu Kamal", "Airstrikes hit Al-Bukamal near the Iraqi border on Sunday."),
    ("Abu Kamal", "Government forces entered Albukamal after heavy fighting."),
    ("Abu Kamal", "Residents fled Abukamal as the offensive began."),
    ("Kobani", "Kurdish fighters held Ayn al-Arab against the siege."),
    ("Kobani", "Shelling resumed on Ain al-Arab at dawn."),
    ("Kobani", "Refugees from Ain el-Arab crossed into Turkey."),
    ("Tal Tamr", "Assyrian villages near Tal Tamer were attacked."),
    ("Ain Issa", "The camp at Ein Issa was shelled on Monday."),
    ("Tabqa", "The dam at Tabaqa was captured by the SDF."),
    ("Jarablus", "Turkish tanks crossed into Jarabulus on Wednesday."),
    ("Ain al-Arab", "Airstrikes on Kobane killed ten fighters."),
    # Kobani is also a GeoNames name of Mkoani, Tanzania: smaller, abroad, so still Kobani's.
    ("Ain al-Arab", "Airstrikes on Kobani killed ten fighters."),
    # SANA's spellings of Aleppo districts, and other spellings news prints (curated names)
    ("Hamdaniyeh", "Shells hit al-Hamadaniyeh neighborhood in Aleppo city."),
    ("Hamdaniyeh", "A child was killed in an attack on al-Hamadaniye neighborhood."),
    ("Hamdaniyeh", "Rocket shells fell on the neighborhoods of al-Hamadanyia."),
    ("Hamdaniyeh", "State media said attacks on Hamadaniyah killed four."),
    ("Bustan al-Qasr", "Terrorists positioned in Bustan al-Qaser neighborhood fired shells."),
    ("Bustan al-Qasr", "Groups positioned in Bustan al-Qasser fired a mortar shell."),
    ("Ras al-Ain", "Terrorists were killed in Ras al-Ein of al-Hasakah province."),
    ("Deir Hafer", "Aerial bombardments were focused on areas of Der Hafir."),
]
# A known name of a different place is not a variant, nor is a word in another place's
# longer name; nor a person's name.
LOOK_ALIKES = [
    ("Kobani", "Clashes were reported near Kabani in the Latakia countryside."),
    ("Mayadin", "Shells fell on the Midan neighbourhood of Damascus."),
    ("Mayadin", "The road to Maadan in Raqqa province was cut."),
    ("Sweida", "A rally was held in Saida in southern Lebanon."),
    ("Sweida", "Israeli jets flew over Sayda on Tuesday."),
    ("Sweida", "Villagers in Sawda near Tartus were evacuated."),
    ("al-Bab", "Trucks queued at Bab al-Hawa on the Turkish border."),
    ("al-Bab", "A mortar hit Bab Touma in the old city of Damascus."),
    ("Daraa", "Barrel bombs fell on Daraya near Damascus."),
    ("al-Hol", "Hywel Williams said the talks would resume."),
    ("Maskanah", "A car bomb exploded in Masaken Barzeh in Damascus."),
    ("Azaz", "Spokesman Diaa Aziz said the convoy had left."),
    # districts of Aleppo and Homs named with "bab" (gate)
    ("al-Bab", "Airstrikes hit the neighborhood of Tareeq al-Bab in Aleppo."),
    ("al-Bab", "Airstrikes hit the neighborhood of Tareeq Albab in Aleppo."),
    ("al-Bab", "Four children were killed in the Bab al-Nasr area of Old Aleppo."),
    ("al-Bab", "Shells fell on Bab Qensrin and al-Kallaseh in the old city."),
    ("al-Bab", "The Information Office of the Bab Saba neighborhood reported deaths."),
    # a known name of Palmyra (Tadmor) inside another place's longer name
    ("Palmyra", "The damage at the site of an explosion in Bab Tadmor in Homs."),
    # a word alone that only heads names (Masaken, "housing")
    ("Maskanah", "Air strikes left several hideouts destroyed in Masaken 48."),
    # names of people: a surname, the caliphs
    ("Daraa", "Army units struck positions in the villages of Droushan al-Durra."),
    ("Rashidin", "He was a commander during the Rashidun conquest of the Levant."),
    # runs that are no place's name (NOT_PLACE_RUNS): media, a hotel, a mosque, a market
    ("Sweida", "Egypt's pro-government Sada al-Balad reported on Sunday."),
    ("al-Shahba", "Terrorists fired three shells on Shahba Hotel in Aleppo."),
    ("Rashidin", "A bomb went off near al-Khulafaa al-Rashideen Mosque in Latakia."),
    ("al-Hol", "Airstrikes targeted al-Haal market and the only bakery of the town."),
    ("Mayadin", "Fighting continued, Al Mayadeen TV channel reported on Sunday."),
    ("Mayadin", "According to the Al Mayadeen broadcaster the clashes are underway."),
    ("Mayadin", "He said so in a phone interview with Lebanese TV station al-Mayadeen."),
    ("Mayadin", "Lebanese TV channel Al-Mayadin reported eighteen deaths."),
    # al-Sham (the Levant) in names of groups and media, spelled the French way: GeoNames
    # lists Cham for Damascus (FA-KES; bench/data/places/fresh.jsonl)
    ("Damascus", 'Clashes in the area of Rahibeh according to the opposition "Cham" TV network.'),
    ("Damascus", "The Air Force destroyed a base in which a meeting for leaders of Ahrar al-Cham "
                 "and Jabhat al-Nusra terrorist groups was being held."),
    ("Damascus", "Shaam News Network put the number at 60 in addition to six civilians."),
    # gates and districts named "Bab ..." that the gazetteer does not list (FA-KES)
    ("al-Bab", "Terrorist attacks with rocket shells and sniper shots on Bab al-Faraj al-Neel "
               "street and al-Assad suburb in al-Hamadaniyeh."),
    ("al-Bab", "Regime airstrikes killed 20 civilians on Monday in the Bab al-Maqam "
               "neighborhood of Aleppo."),
    ("al-Bab", "Artillery fire killed two people and wounded nine others in the Bab Sharqi "
               "area of Old Damascus."),
    ("al-Bab", "A mosque in the Arab Sunni village of Bab Alfaraj Syria had called on people."),
    # Hamas, the Palestinian group, is no stripped possessive of Hama's without a place noun
    ("Hama", "Amid the Israel-Hamas war in Gaza, Iraq, an ally to both Tehran and Washington."),
    ("Hama", "Hamas said the strike on its northern command killed 12."),
]
# The place itself, under its own spellings, still matches beside each look-alike.
OWN_SPELLINGS = {
    "Kobani": "Fighting in Kobani and Kobane continued.",
    "Mayadin": "Airstrikes hit al-Mayadin and Mayadeen overnight.",
    "Sweida": "Protests spread in Sweida and Suwayda.",
    "al-Bab": "Turkish-backed rebels entered al-Bab on Thursday.",
    "Daraa": "Rebels in Daraa and Deraa agreed to a truce.",
    "al-Hol": "Families were moved to the al-Hol camp.",
    "Maskanah": "IS withdrew from Maskana on Friday.",
    "Azaz": "A car bomb exploded in Azaz on Friday.",
    "Palmyra": "IS blew up temples in Palmyra and the prison of Tadmor.",
    "Rashidin": "Rebels advanced in the Rashideen area west of Aleppo.",
    "al-Shahba": "Kurdish fighters held al-Shahba north of Aleppo.",
    "Damascus": "Shells fell on Damascus and Dimashq.",
    "Hama": "Rebels advanced in Hama and in Hamas northern countryside.",
}


@pytest.fixture(scope="module")
def fires(matches):
    """Whether `~"Name"` matches the text (`matches`)."""

    def run(name: str, text: str) -> bool:
        return matches(f'~"{name}"', text)

    return run


@pytest.fixture(scope="module")
def matches(analyzer: Analyzer):
    """Whether a query matches the text, in both of the engine's scan modes (which must
    agree), and the brute-force reference agrees with them."""

    def run(query_text: str, text: str) -> bool:
        query = parse_query(query_text)
        rule = Rule(id="r", title="test", query_text=query_text, query=query)
        analysed = analyzer.analyse(Article(id="a", title="", body=text))
        found = {
            scan: bool(Engine(Compiler(analyzer).compile([rule]), analyzer, scan=scan)
                       .match(analysed))
            for scan in ("full", "lookups")
        }
        reference = Reference(analyzer, analysed).truth(query) is not None
        assert found["full"] == found["lookups"] == reference, (found, reference)
        return found["full"]

    return run


@pytest.mark.parametrize(("name", "text"), ALTERNATE_NAMES)
def test_a_known_name_of_the_place_matches(fires, name: str, text: str) -> None:
    assert fires(name, text)


@pytest.mark.parametrize(("name", "text"), LOOK_ALIKES)
def test_a_known_name_of_another_place_does_not_match(fires, name: str, text: str) -> None:
    assert not fires(name, text)
    assert fires(name, OWN_SPELLINGS[name])


def test_the_name_beside_another_places_name_still_matches(fires) -> None:
    """Only the longer name of another place is refused, not the name next to other words."""
    assert fires("al-Bab", "Rebels advanced on al-Bab from the west.")
    assert not fires("al-Bab", "Rebels held Bab al-Hawa from the west.")


def test_the_town_beside_another_name_still_matches(fires) -> None:
    """*Bab* heads other names only written bare, with a name after it (Bab al-Faraj): with
    its article it is the town, whatever follows (FA-KES prints lists without commas)."""
    assert fires("al-Bab", "The fall of Al Bab to Turkey-backed rebels would threaten them.")
    assert fires("al-Bab", "Operation to clear the towns of Jarablus al Rai and al Bab from Daesh.")
    assert fires("al-Bab", "Thalthana lies near the key IS stronghold of Al-Bab and Dabiq.")
    assert fires("al-Bab", "Clashes went on near Al Bab al-Rai and Jarablus.")


def test_the_levant_spelled_as_a_rule_writes_it_still_matches(matches) -> None:
    """*Sham* and *Cham* are no names of Damascus for `~Damascus`; a rule that writes them
    still matches them as written."""
    assert matches("~Sham", "The pro-regime Sham FM radio reported citing a regime official.")
    assert matches("~Cham", 'According to the opposition "Cham" TV network.')
    assert matches("Cham", 'According to the opposition "Cham" TV network.')


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Aleppo", "An airstrike on Aleppos opposition held Kadi Askar district."),
        ("Idlib", "Raids on Idlibs countryside killed six."),
        ("Raqqa", "The Raqqas military court was hit."),
        # *Hamas* (a NOT_PLACE_NAME) is Hama's before a place noun (FA-KES)
        ("Hama", "People had been freed in Al-Saan in Hamas eastern countryside."),
        ("Hama", "Operations targeting terrorist hideouts in Kafr Zita in Hamas countryside "
                 "near Idlebs southern countryside."),
        ("Hama", "Terrorist gatherings in al-Latamneh in Hamas northwestern countryside."),
        ("Hama", "Army units advanced on the outskirts of Hamas north-western province."),
    ],
)
def test_a_possessive_with_the_apostrophe_stripped_matches(fires, name: str, text: str) -> None:
    assert fires(name, text)


def test_the_place_beside_a_non_place_name_still_matches(fires) -> None:
    """A media name spelled as the town is refused only beside a media word; a word that
    heads names is refused only for a one-word name."""
    assert fires("Mayadin", "Government forces entered Al Mayadeen on Saturday.")
    assert fires("Mayadin", "Airstrikes hit al-Mayadeen and its TV tower.")
    assert fires("Masaken Barzeh", "A car bomb exploded in Masakin Barzeh.")


def test_a_possessive_of_another_place_does_not_match(fires) -> None:
    """*Daraas* is Daraa's: a possessive of a known name of a different place than Daraya."""
    assert fires("Daraa", "Shelling on Daraas southern districts continued.")
    assert not fires("Daraya", "Shelling on Daraas southern districts continued.")


def test_a_name_not_in_the_gazetteer_keeps_the_spelling_keys(fires) -> None:
    """`~Kabanu` names no known place: spelling keys alone decide, so it still meets the
    known place *Kobani*, and a stripped possessive is not looked for; `~Kabani`, a known
    village, does not meet Kobani."""
    assert fires("Kabanu", "Clashes near Kobani on Monday.")
    assert not fires("Kabanu", "Clashes near Kabanus gate on Monday.")
    assert not fires("Kabani", "Clashes near Kobani on Monday.")


def test_a_known_name_wins_over_the_english_word_list(fires) -> None:
    """*ein* is an English-table word, which keeps it from being a variant of *Ain*; *Ein
    Issa* is a known name of Ain Issa."""
    assert fires("Ain Issa", "Displaced families reached Ein Issa.")


def test_english_words_and_names_of_people_are_not_variants(fires) -> None:
    """The English check stays, also for a known place's alternate names: GeoNames lists
    *Revolution City* for Tabqa, and *damask* for Damascus."""
    assert not fires("Tabqa", "The revolution city council met on Monday.")
    assert not fires("Damascus", "A damask cloth covered the table.")
    assert not fires("Raqqa", "Ruqayya said her brother was detained.")
    assert not fires("Homs", "Shelling destroyed homes in the area.")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # Masaken Hanano, a neighbourhood of its own beside Hanano, is named after it.
        ("Hanano", "A barrel bomb hit Masaken Hanano in eastern Aleppo."),
        # Al-Hamdaniya in Iraq has Aleppo's Hamdaniyeh's Arabic name: the same name.
        ("Hamdaniyeh", "Rebels shelled al-Hamdaniya in western Aleppo."),
        # The camp is al-Hol's camp, not another place's name around al-Hol.
        ("al-Hol", "Thousands were taken to al-Hol camp in Hasakah."),
    ],
)
def test_places_named_after_or_alike_the_place_do_not_hide_it(
    fires, name: str, text: str
) -> None:
    """Guards the look-alike check against refusing the place's own name: a place beside
    it named after it, a namesake, a feature of the place."""
    assert fires(name, text)


def test_the_shipped_place_word_keys_are_what_the_build_makes() -> None:
    """Nobody edits the file by hand, and it follows the spelling keys: after changing
    variants.py, the fold, REGION or the gazetteer, `python -m scripts.build_gazetteer`."""
    assert place_word_keys_bytes() == PLACE_WORD_KEYS_FILE.read_bytes()


def test_the_shipped_place_word_keys_are_read_and_say_what_keying_the_names_says() -> None:
    """Start-up reads the region's name index instead of keying ~18,000 name words; the
    index read is the one computed, so no `~Name` matches differently."""
    index = read_place_word_keys()
    assert index is not None
    assert index == region_name_index(load())


def test_place_word_keys_of_another_gazetteer_or_none_are_not_used(tmp_path) -> None:
    """A gazetteer rebuilt without the keys (or a missing file): the keys are computed."""
    other_gazetteer = tmp_path / "gazetteer.jsonl.gz"
    other_gazetteer.write_bytes(b"another gazetteer")
    assert read_place_word_keys(gazetteer_file=other_gazetteer) is None
    assert read_place_word_keys(tmp_path / "missing.json.gz") is None


@pytest.mark.parametrize(
    ("name", "text", "own"),
    [
        ("Malikiyah", "US envoy Derek Chollet said the talks resumed.",
         "Shells fell on Dayrik and Malkieh."),
        ("Tabqa", "The state newspaper al-Thawra reported clashes in Raqqa.",
         "The dam at Tabaqa was captured by the SDF."),
        ("Tabqa", "Thawra reported clashes in Raqqa.", "Fighting went on in al-Tabqa."),
        ("Khalidiyeh", "Spokesman Omar al-Khalidi said the talks resumed.",
         "Shells fell on Khalidiyeh."),
        # the given name Abdo (Abdu), Abyad's spelling key, in a place named after a person
        ("Tal Abyad", "Troops shelled positions on Tal Abdo hill west of the city.",
         "Kurdish forces entered Tell Abyad and Tal Abiad."),
        ("Tal Abyad", "Tal Abdu was shelled.", "Tal Abyad was shelled."),
    ],
)
def test_a_persons_or_newspapers_name_is_no_known_name_of_the_place(
    fires, name: str, text: str, own: str
) -> None:
    """GeoNames lists *Derek* for al-Malikiyah and *al-Thawrah* for Tabqa; news means Derek
    Chollet and the daily al-Thawra (NOT_PLACE_NAMES). The place's other names still match."""
    assert not fires(name, text)
    assert fires(name, own)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Sayyidah Ruqayyah", "Pilgrims visited the shrine of Sayyida Ruqayya."),
        ("Azeez", "Spokesman Diaa Aziz said the convoy had left."),
        ("Durra", "The boy al-Dorra was killed in Gaza in 2000."),
    ],
)
def test_a_name_not_in_the_gazetteer_still_matches_the_names_of_people(
    fires, name: str, text: str
) -> None:
    """NOT_PLACE_NAMES keeps a known place's `~Name` off people's names; a name the gazetteer
    does not know keeps the spelling keys alone (docs/variants.md)."""
    assert fires(name, text)


@pytest.mark.parametrize(
    ("name", "person", "own"),
    [
        ("Salah al-Din", "Commanders Umar al-Shishani and Salah al-Din al-Shishani were named.",
         "Shells fell on the Salah al-Din district of Aleppo."),
        ("Salah al-Din", "The fighter Salahuddin Al Masri was reported dead.",
         "Rebels advanced on Salahuddin from the south."),
        ("Abu Kamal", "The emir Abu Kamal al-Jazrawi fled towards the border.",
         "Airstrikes hit Abu Kamal near the Iraqi border."),
    ],
)
def test_a_name_before_a_nisba_is_a_persons(fires, name: str, person: str, own: str) -> None:
    """A place's name followed by an article and a nisba (*al-Shishani*, "the Chechen") is a
    person's name (docs/variants.md); the place, written alone, still matches."""
    assert not fires(name, person)
    assert fires(name, own)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # a full stop between: the next sentence begins with a surname
        ("Aleppo", "Rebels want to lift the siege of Aleppo. Al-Zanki agrees with them."),
        # a place's own word after the name, in a list without commas
        ("Damascus", "Raids hit the Ghouta of Damascus al-Sukkari and Bustan al-Qasr."),
        ("Deir ez-Zor", "Shells fell on Deir ez-Zor al-Sharqi and its villages."),
        # an English word
        ("Homs", "Troops left Homs al-Qaeda said."),
        # a comma, a semicolon, a bracket: the name ends there, a speaker follows
        ("Mosul", "Iraqi forces retook Mosul, al-Abadi said on Sunday."),
        ("Damascus", "The talks must include Damascus, al-Jaafari told reporters."),
        ("Aleppo", "Civilians fled Aleppo, al-Hariri said."),
        ("Aleppo", "Civilians fled Aleppo; al-Hariri said so."),
        ("Aleppo", "Civilians fled Aleppo (al-Hariri said)."),
    ],
)
def test_a_place_before_other_words_in_i_still_matches(fires, name: str, text: str) -> None:
    """Only a nisba in the name's sentence, after white space, makes a person's name: not a
    surname after a full stop, a comma or a bracket, nor a word of a place's name in the
    region, nor an English word."""
    assert fires(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("al-Hol", "Jets struck the al-Hal market at noon. Nine people died in al-Hal and two "
                   "near the bakery."),
        ("Mayadin", "He spoke to the TV channel al-Mayadeen on Sunday. Later he told "
                    "al-Mayadeen the talks had failed."),
    ],
)
def test_a_non_place_name_keeps_its_short_form_in_the_text(fires, name: str, text: str) -> None:
    """A text that names a market or a channel in full (NOT_PLACE_RUNS) goes on meaning it
    by its short form (one sense per discourse); in another text the short form is the
    place's (OWN_SPELLINGS; `test_the_place_beside_a_non_place_name_still_matches`)."""
    assert not fires(name, text)
    assert fires(name, OWN_SPELLINGS[name])


def test_a_short_form_alone_in_its_text_stays_the_place(fires) -> None:
    """Only the text that names the market in full means it by *al-Hal*."""
    assert fires("al-Hol", "Nine people died in al-Hal on Monday.")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Damascus", "Mortars fell north of the capital Damscus on Monday."),
        ("Qamishli", "Clashes broke out in Qamshli overnight."),
        ("Hamdaniyeh", "Shells hit the al-Hamadaniya neighbourhood of Aleppo."),
    ],
)
def test_a_long_name_meets_one_vowel_group_more_or_fewer(fires, name: str, text: str) -> None:
    """A known place's name word of 4 consonant sounds or more keeps its skeleton whatever
    its vowels: one vowel group dropped or added between consonants is the place."""
    assert fires(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # FA-KES's title "Hundreds killed as Street Battles Rages in Kobni"
        ("Kobani", "Hundreds killed as Street Battles Rages in Kobni"),
        # a curated spelling (Kobane), not only the gazetteer's display name (Kobani)
        ("Kobane", "Street battles raged in Kobne on Tuesday."),
        # FA-KES strips apostrophes: Kobni's
        ("Kobani", "Kobnis defenders held the eastern districts."),
    ],
)
def test_the_rule_spelling_with_one_vowel_left_out_is_the_place(
    fires, name: str, text: str
) -> None:
    """A typo that leaves out one vowel letter inside the name as the rule spells it is the
    place, however short its skeleton (docs/variants.md)."""
    assert fires(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # leaving out the u of Malula makes a double l: Hussein Malla, an AP photographer
        ("Malula", "AP Photo Hussein Malla Over 20 Daesh Terrorists Killed"),
        # leaving out the e of Kallaseh makes s and h one sound: Yazan Kalash, a photographer
        ("Kalaseh", "Sputnik Yazan Kalash Explosion in Damascus"),
        # the last letter: Salam (a given name, "peace") for Salama (a village in Israel)
        ("Salama", "Former prime minister Salam Fayyad said the talks had failed."),
        # a name word of 5 letters: Morocco's Draa (Drâa) for Daraa
        ("Daraa", "Floods swept the Draa valley in southern Morocco."),
        # a known name of another place: al-Hadhr (Hatra, Iraq) for al-Hadher south of Aleppo
        ("Hadher", "Islamic State destroyed the ruins of al-Hadhr in Iraq."),
        # as much another place's name with a vowel left out: Kabani, a village in Latakia
        ("Kobani", "Clashes were reported near Kbani in the Latakia countryside."),
        # an English word, whatever the vowel left out
        ("Tartus", "Lemon tarts were sold."),
        # one of GeoNames' alternate names (Sabura for Şabbūrah): Sabra, a surname
        ("Sabura", "Mohamad Sabra told reporters the road was open."),
    ],
)
def test_a_vowel_left_out_that_changes_more_is_not_the_place(
    fires, name: str, text: str
) -> None:
    """A vowel letter left out counts only where it leaves the consonants as they were,
    inside the word, in a name word of 6 letters or more that the rule spells as the
    place's own or curated name, and not where it spells an English word or another
    place's known name, or may be another place's name with a vowel left out."""
    assert not fires(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # a vowel at the end makes another word: a nisba (a surname), another village
        ("Kirkuk", "Peshmerga commander Kamal Kirkuki told reporters the attack failed."),
        ("Maskanah", "The villages of Masqan and Ehras in the northern countryside."),
        # a short skeleton (k b n) with a vowel group fewer, not Kobani with a letter left out
        ("Kobani", "Street battles raged in Qobni on Tuesday."),
        # a name the gazetteer does not know keeps the spelling keys alone
        ("Damscus", "Mortars fell on Damascus on Monday."),
    ],
)
def test_a_vowel_group_more_or_fewer_is_not_the_place_elsewhere(
    fires, name: str, text: str
) -> None:
    """One vowel group more or fewer counts only between consonants, in a long name word of
    a known place (docs/variants.md)."""
    assert not fires(name, text)


@pytest.mark.parametrize(
    ("tail", "matched"),
    [("", True), ("He told Al Mayadeen TV so.", False)],
)
def test_the_short_form_check_reads_the_text_once(
    analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch, tail: str, matched: bool
) -> None:
    """One sense per discourse costs one reading of the field, not one per occurrence: a
    text repeating a name with a non-place run (~Mayadin: *Al Mayadeen TV*) compares the
    words around a name a bounded number of times per word, whatever the repeats."""
    compared = [0]

    def counted(compare):
        def compare_counted(*args):
            compared[0] += 1
            return compare(*args)

        return compare_counted

    for name in ("_words_before", "_words_after"):
        monkeypatch.setattr(known_names_module, name, counted(getattr(known_names_module, name)))
    query = parse_query('~"Mayadin"')
    rule = Rule(id="r", title="test", query_text='~"Mayadin"', query=query)
    analysed = analyzer.analyse(
        Article(id="a", title="", body="Fighting in Mayadeen. " * 100 + tail)
    )
    for scan in ("full", "lookups"):
        compared[0] = 0
        engine = Engine(Compiler(analyzer).compile([rule]), analyzer, scan=scan)
        assert bool(engine.match(analysed)) is matched
        assert compared[0] <= len(analysed.body.types)
