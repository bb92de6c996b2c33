"""Transliteration variants for `~Name` terms: is a text word another spelling of a rule word?

Words fold to plain lower-case ASCII, then to keys: a consonant skeleton plus a vowel-group count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache

# Turkish letters that NFKD would fold to the wrong sound (ş -> s), mapped before it.
_TURKISH = str.maketrans({"ş": "sh", "ç": "ch", "ğ": "g", "ı": "i"})
_APOSTROPHES = str.maketrans("", "", "'’‘ʿʾʻʼ`")

_VOWELS = frozenset("aeiou")
_SEMIVOWELS = frozenset("yw")
# Letters and digraphs that spell one Arabic/Kurdish/Turkish sound, longest first.
_CLASSES = (
    ("sch", "S"), ("sh", "S"), ("ch", "S"), ("kh", "k"), ("ck", "k"), ("ph", "f"),
    ("th", "t"), ("dh", "d"), ("gh", "g"), ("zh", "j"), ("dj", "j"),
    ("q", "k"), ("c", "k"), ("x", "ks"),
)  # fmt: skip
_VOWEL = "V"
_DIGRAPH = re.compile("|".join(spelling for spelling, _ in _CLASSES if len(spelling) > 1))
_DIGRAPH_SOUNDS = {spelling: sound for spelling, sound in _CLASSES if len(spelling) > 1}
_SINGLE_SOUNDS = str.maketrans(
    {spelling: sound for spelling, sound in _CLASSES if len(spelling) == 1}
    | dict.fromkeys(_VOWELS | _SEMIVOWELS, _VOWEL)
)
_REPEATS = re.compile(r"(.)\1+")

# Sun letters: `al` assimilates to them, fused `Ezzor` = `ez-Zor`, `Arraqqa` = `ar-Raqqa`.
_SUN_LETTERS = frozenset("tdrszln")
_MIN_STEM = 3

_ARTICLES = frozenset(
    {"al", "el", "il", "ul"}
    | {v + c for v in "aeu" for c in ("d", "dh", "n", "r", "s", "sh", "t", "th", "z")}
)

# Name elements that spaCy's English tables list (`sheiks`, `tals`, `tell`) but that
# news spells interchangeably inside names: `Sheik/Sheikh Maqsoud`, `Tal/Tell Abyad`.
NAME_ELEMENTS = frozenset({"sheik", "sheikh", "shaykh", "tal", "tel", "tell"})
# Of those, the ones that are everyday English words: a name of this one word alone
# (`~Tal`) does not match them (*they tell us*); inside a longer name (`~"Tal Abyad"`)
# they do (*Tell Abyad*).
EVERYDAY_NAME_ELEMENTS = frozenset({"tell"})
# Arabic common nouns that news leaves untranslated at the head of names: *Masaken*
# ("housing") of *Masaken Hanano*, *Masaken Barzeh*, *Masaken 48*. Inside a longer name
# they are its words; alone they name no place, so a one-word name (`~Maskanah`, which
# has their spelling key) does not match them. Source: bench/data/places, reason other-place.
NAME_HEAD_NOUNS = frozenset({"masaken", "masakin"})
# Names of people (and one organisation) in conflict news that share a spelling key with a
# place name, so that `~Name` took them for the place: never variants, like English words.
# Source: the person names among the wrong matches of `~` on FA-KES and the seeds
# (bench/data/places, reason `person`; issue 18's *Hywel* for al-Hol), the honorific
# *Sayyida* (of *Sayyida Zeinab*, taken for Sweida), *Hamas* (taken for Hama's), the
# surname *Durra* (Muhammad al-Durrah; *Dorra* already, taken for Daraa) and the
# *Rashidun* caliphs (*the Rashidun conquest*, taken for Aleppo's Rashidin).
# These apply only to a `~Name` the gazetteer knows (known_names.py) and to the names
# `place:` terms take: a name the gazetteer does not know keeps the spelling keys alone
# (`~Durra` matches *al-Dorra*, `~Azeez` *Aziz*).
NOT_PLACE_NAMES = frozenset({
    "aziz", "dahik", "diri", "dorra", "durra", "durrah", "hamas", "hamawi", "hamwi", "hywel",
    "rashidun", "ruqayya", "sayeda", "sayyeda", "sayyida",
}) | frozenset({
    # Given names, surnames and media names in news that GeoNames lists as one-word
    # alternate names of places in Syria, so that `place:` terms and `~Name` aliases took
    # them for the place. Source: the one-word names of the shipped rules' `place:`
    # expansions (issue 18 review): *Derek* (Derek Chollet; a name of al-Malikiyah),
    # *Thawra* (the daily al-Thawra; of Tabqa), *Safir* (the daily As-Safir; of
    # as-Safira), *Ansari* (the surname; an Aleppo district), *Beria* (Lavrentiy Beria; an
    # old name of Aleppo), *Sharra*, *Charra* (Ahmed al-Sharaa; of al-Sharra, Deir ez-Zor);
    # and the surnames *al-Raju* (the village Rājū near Afrin) and *al-Khalidi* (taken for
    # Khalidiyeh), which `place:"Aleppo Governorate"` took on FA-KES (bench/data/quality).
    "ansari", "beria", "charra", "derek", "khalidi", "raju", "safir", "sharra", "thawra",
    "thawrah",
}) | frozenset({
    # The given name and surname Abdo (Abdu, Abdou: short for the names in Abd-), which
    # shares Abyad's spelling key ("white", of *Tal Abyad*): FA-KES prints it in the *Shahid
    # Ahmad Abdo brigade* and in *Tal Abdo* (an area of the Homs countryside, named after
    # it), which `~"Tal Abyad"` took for the town (bench/data/places, other-place).
    "abdo", "abdou", "abdu",
})  # fmt: skip
# Spellings of al-Sham, the Levant, which GeoNames lists as one-word names of Damascus
# (Syrians call the city so too) and news prints in names of groups and media: *Ahrar
# al-Cham*, the opposition *Cham* TV network, *Shaam News Network* (FA-KES;
# bench/data/places/fresh.jsonl, reason `other`). Alone they are no known name of a place
# (`is_not_place_name`): `~Damascus` took *Cham* for the city. Unlike NOT_PLACE_NAMES they
# stay variants: inside a longer name they are its words (*Busra al-Shaam*), and `~Sham`
# means them.
LEVANT_NAMES = frozenset({"chaam", "cham", "shaam", "sham"})
# Arabic nouns that head names in the construct state (*Bab al-Faraj*, "the gate of
# al-Faraj", a district of Aleppo; *Bab Sharqi*, a gate of Damascus; the *Bab al-Salameh*
# crossing) and, with the article, name a place alone (*al-Bab*, the town). A one-word
# `~Name` of such a noun (`~"al-Bab"`) does not match it written bare with a name word
# after it: that heads another name, known to the gazetteer or not (known_names.py).
# Source: bench/data/places/fresh.jsonl (*Bab al-Faraj* for al-Bab) and FA-KES's gates
# the gazetteer lacks (*Bab al-Maqam*, *Bab Sharqi*, *Bab al-Saghir*).
CONSTRUCT_HEADS = frozenset({"bab"})
# Media outlets that conflict news quotes whose names are spelled as a place's though not
# named after it (*Al Mayadeen*, the Lebanese channel: "the squares"), and the words that
# say a name is the outlet's: before it (*TV station al-Mayadeen*) or after it (*Al
# Mayadeen TV*). The bare name stays the place's: the town is spelled so too.
MEDIA_NAMES = ("al-Mayadeen",)
_MEDIA_WORDS_BEFORE = ("tv", "television", "channel", "station", "broadcaster")
_MEDIA_WORDS_AFTER = ("tv", "television", "channel", "broadcaster")
# Names of several words that are no place's name, though a word of them is spelled like
# one, so that `~Name` took the word for the place (bench/data/places, wrong matches): a
# `~Name` of a known place does not match a word of them where the whole run stands, as it
# does not match the words of other places' longer names (known_names.py). An
# Egyptian news site; a hotel named with Aleppo's epithet *al-Shahba* ("the grey"); the
# Rightly Guided Caliphs, whose name mosques and brigades carry (*al-Khulafaa
# al-Rashideen Mosque*, Latakia); *souq al-hal*, the wholesale market many Syrian towns
# have (*al-Haal market*, Manbij, taken for al-Hol); and the media names above.
NOT_PLACE_RUNS = (
    "Sada al-Balad", "Shahba Hotel", "al-Khulafaa al-Rashideen", "al-Hal market",
    "Souq al-Hal",
    *(f"{word} {name}" for name in MEDIA_NAMES for word in _MEDIA_WORDS_BEFORE),
    *(f"{name} {word}" for name in MEDIA_NAMES for word in _MEDIA_WORDS_AFTER),
)  # fmt: skip
_NAME_SPLIT = re.compile(r"[\W_]+")
# A known place's name word whose skeleton has this many consonant sounds or more also
# meets spellings with one vowel group more or fewer between two consonants (*Damscus*,
# *Jarabulus*, *Hamadaniyeh*): so long a skeleton is the name's whatever the vowels; a
# shorter one is not (*Qobni*, one vowel group fewer than Kobani's `k b n`, would be any
# short `k b n` word's; *Homs*'s *homes*). Not at either end: a vowel there makes another
# word (*Kirkuki*, the nisba of Kirkuk, a surname; *Masqan*, a village, against
# *Maskanah*).
MIN_LOOSE_SKELETON = 4
_KEY_PARTS = re.compile(r"(V?)(\D+)(\d+)")
# A known place's name word this long or longer, where the rule spells the place's own or
# curated name (known_names.py), also meets that spelling with one vowel letter left out
# inside it (*Kobni* for Kobani): a typo of the name as the rule writes it, whatever its
# skeleton (`dropped_vowel_forms`). Only that letter: another spelling with a vowel group
# fewer (*Qobni*) stays apart. Shorter words left out a vowel into other words as often as
# into the place (*Draa*, Morocco's Draa, for Daraa; *wast* for Wasit).
MIN_DROPPED_VOWEL_WORD = 6
# A stripped possessive (`Aleppos`, FA-KES drops apostrophes) keeps a stem this long.
_MIN_POSSESSIVE_STEM = 3


def fold(word: str) -> str:
    """Lower-case ASCII-ish form, so `Qamişlo` = `qamishlo` and `Türkiye` = `turkiye`."""
    if word.isascii():  # most words: nothing to normalise
        return word.lower().translate(_APOSTROPHES)
    text = unicodedata.normalize("NFC", word).lower().translate(_TURKISH)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES)


def is_article(word: str) -> bool:
    """Arabic article standing as its own word (`al`, `el`, `ez` in `Deir ez-Zor`)."""
    return fold(word) in _ARTICLES


def is_not_place_name(name: str) -> bool:
    """Whether a gazetteer name is one news uses for something else: one word (articles
    aside) of NOT_PLACE_NAMES (*Derek*, *al-Thawra*) or LEVANT_NAMES (*Cham*), or a run of
    NOT_PLACE_RUNS. GeoNames lists such names as places' alternate names; as a place's they
    matched people, newspapers and groups."""
    words = _folded_words(name)
    if len(words) == 1 and (words[0] in NOT_PLACE_NAMES or words[0] in LEVANT_NAMES):
        return True
    return words in _not_place_runs()


def _folded_words(name: str) -> tuple[str, ...]:
    """The folded words of a name, articles dropped (kept when nothing else remains)."""
    words = [fold(w) for w in _NAME_SPLIT.split(name) if w]
    return tuple(w for w in words if not is_article(w)) or tuple(words)


@cache
def _not_place_runs() -> frozenset[tuple[str, ...]]:
    return frozenset(_folded_words(run) for run in NOT_PLACE_RUNS)


def _letters(word: str) -> str:
    """The folded word if it is plain ASCII letters; other words only match exactly."""
    folded = fold(word)
    return folded if folded.isascii() and folded.isalpha() else ""


def _strip_fused_article(letters: str) -> str | None:
    """`alhasakah` -> `hasakah`, `ezzor` -> `zor`; None when no article or stem too short.

    The stem must keep at least three letters (`Ezzor` -> `zor` must work), so `Assad`
    also yields `sad`: `~Assad` then matches non-English `Saad`. Accepted: rare in rules.
    """
    if len(letters) - 2 < _MIN_STEM:
        return None
    if letters[:2] in ("al", "el") and letters[2] not in _VOWELS | _SEMIVOWELS:
        return letters[2:]
    if letters[0] in "aeu" and letters[1] in _SUN_LETTERS and letters[2] == letters[1]:
        return letters[2:]
    return None


def _sound_classes(letters: str) -> str:
    """Letters to sound classes, one character each; vowels, and `y`/`w` other than
    word-initial, become V. `sch` before `sh`: the digraphs in `_CLASSES` order, as
    regular-expression alternatives (start-up keys every name of the gazetteer's region)."""
    head, rest = (letters[0], letters[1:]) if letters[:1] in _SEMIVOWELS else ("", letters)
    rest = _DIGRAPH.sub(_digraph_sound, rest)
    return head + rest.translate(_SINGLE_SOUNDS)


def _digraph_sound(match: re.Match[str]) -> str:
    return _DIGRAPH_SOUNDS[match[0]]


def _key(letters: str) -> str | None:
    """Skeleton + vowel groups: `hasakah` -> `hsk3`, `homs` -> `hms1`, `homes` -> `hms2`.

    A leading vowel is kept as `V` (`iraq` -> `Vrk2`), so *Iraq* never meets *Raqqa*.
    """
    initial = _VOWEL if letters[0] in _VOWELS else ""
    collapsed = _collapsed(letters)
    skeleton = collapsed.replace(_VOWEL, "")
    if not skeleton:
        return None  # all vowels: too little to go on, exact match only
    return f"{initial}{skeleton}{collapsed.count(_VOWEL)}"


@lru_cache(maxsize=4096)  # the shipped rules ask of ~1,000 words; a full cache is ~1.5 MB
def variant_keys(word: str) -> frozenset[str]:
    """Keys of one word; two words are variants when their key sets intersect.

    A pure function of the string, so the engine computes it once per word type, and it
    is kept: compiling the rules asks it of the same name words again and again.
    """
    letters = _letters(word)
    if not letters:
        return frozenset()
    stems = [letters]
    stripped = _strip_fused_article(letters)
    if stripped is not None:
        stems.append(stripped)
    return frozenset(key for stem in stems if (key := _key(stem)) is not None)


@lru_cache(maxsize=4096)
def loose_keys(word: str) -> frozenset[str]:
    """Keys of a known place's name word with one vowel group more or fewer, when its
    skeleton is long (MIN_LOOSE_SKELETON): `damascus` (`dmsks3`) -> `dmsks2`, `dmsks4`."""
    found = set()
    for key in variant_keys(word):
        parts = _KEY_PARTS.fullmatch(key)
        if parts is None or len(parts[2]) < MIN_LOOSE_SKELETON:
            continue
        initial, skeleton, groups = parts[1], parts[2], int(parts[3])
        found.update(f"{initial}{skeleton}{n}" for n in (groups - 1, groups + 1) if n > 0)
    return frozenset(found)


@lru_cache(maxsize=4096)
def dropped_vowel_forms(word: str) -> frozenset[str]:
    """The word's folded spellings with one vowel letter left out, neither the first letter
    nor the last, where that leaves one vowel group fewer between two consonants and the
    consonants as they were: `kobani` -> `kobni`, `kbani`. Not `kalash` from `kalaseh` (s
    and h become sh) nor `malla` from `malula` (two l's become a double). None for a word
    of fewer than MIN_DROPPED_VOWEL_WORD letters."""
    letters = _letters(word)
    if len(letters) < MIN_DROPPED_VOWEL_WORD:
        return frozenset()
    shape = _collapsed(letters)
    forms = (letters[:at] + letters[at + 1 :] for at in range(1, len(letters) - 1)
             if letters[at] in _VOWELS)
    return frozenset(form for form in forms if _without_one_inner_vowel(shape, _collapsed(form)))


def is_variant(
    rule_word: str,
    text_word: str,
    *,
    is_english: Callable[[str], bool],
    alone: bool = False,
    possessive: bool = False,
    known_place: bool = False,
    loose: bool = False,
    dropped_vowel: bool = False,
) -> bool:
    """Same folded spelling, or a shared key and the text word is not ordinary English.

    The English check is what keeps `~Homs` off *hums* and `~Deir` off *dear*/*door*.
    `known_place`: the rule word is of a name the gazetteer knows, so NOT_PLACE_NAMES count
    as English too (a name it does not know keeps today's algorithm: `~Durra`, *Dorra*).
    `alone`: the rule word is a whole one-word name, so name elements that are everyday
    English (*tell*) count as English too. `possessive`: the text word may also be a
    variant with a stripped possessive `s` (*Aleppos*). `loose` (a known place's name the
    rule spells itself): a long name word also meets one vowel group more or fewer
    (`loose_keys`: *Damscus*). `dropped_vowel` (the rule spells a known place's own or
    curated name): the rule's spelling with one inner vowel letter left out
    (`dropped_vowel_forms`: *Kobni*), also as a stripped possessive with `possessive`.
    """
    folded = fold(text_word)
    if folded == fold(rule_word):
        return True
    if (
        is_english(folded)
        or (known_place and folded in NOT_PLACE_NAMES)
        or (alone and (folded in EVERYDAY_NAME_ELEMENTS or folded in NAME_HEAD_NOUNS))
    ):
        return False
    keys = variant_keys(rule_word)
    text_keys = variant_keys(text_word)
    if not keys.isdisjoint(text_keys):
        return True
    if (
        loose
        and not loose_keys(rule_word).isdisjoint(text_keys)
        and _one_inner_vowel_apart(rule_word, text_word)
    ):
        return True
    if dropped_vowel and _is_dropped_vowel_form(rule_word, folded, possessive=possessive):
        return True
    return possessive and _is_possessive_of(rule_word, keys, folded)


def _is_dropped_vowel_form(rule_word: str, folded: str, *, possessive: bool) -> bool:
    """Whether `folded` is the rule word with a vowel letter left out (*kobni*), or, with
    `possessive`, that spelling's possessive stripped of its apostrophe (*kobnis*)."""
    forms = dropped_vowel_forms(rule_word)
    return folded in forms or (possessive and folded.endswith("s") and folded[:-1] in forms)


def _one_inner_vowel_apart(rule_word: str, text_word: str) -> bool:
    """Whether the two words' sound shapes differ by one vowel group between consonants."""
    return any(
        _without_one_inner_vowel(longer, shorter)
        for a in _shapes(rule_word)
        for b in _shapes(text_word)
        for longer, shorter in ((a, b), (b, a))
    )


def _without_one_inner_vowel(longer: str, shorter: str) -> bool:
    if len(longer) != len(shorter) + 1:
        return False
    return any(
        longer[at] == _VOWEL and longer[:at] + longer[at + 1 :] == shorter
        for at in range(1, len(longer) - 1)
    )


@lru_cache(maxsize=4096)
def _shapes(word: str) -> tuple[str, ...]:
    """Sound shapes of a word and of its stem without a fused article: sound classes with
    doubles and vowel runs counted once (`damascus` -> `dVmVskVs`), as `_key` reads them."""
    letters = _letters(word)
    if not letters:
        return ()
    stems = [letters]
    stripped = _strip_fused_article(letters)
    if stripped is not None:
        stems.append(stripped)
    return tuple(_collapsed(stem) for stem in stems)


def _collapsed(letters: str) -> str:
    """The letters as sound classes, a final ta marbuta dropped (Hasakah = Hasaka,
    Ashrafieh = Ashrafie) and doubled letters and vowel runs counted once: what `_key`
    reads its skeleton and vowel groups from, and `_shapes` compares."""
    if len(letters) > 2 and letters[-1] == "h" and letters[-2] in _VOWELS:
        letters = letters[:-1]
    return _REPEATS.sub(r"\1", _sound_classes(letters))



def refused_possessives(rule_word: str) -> frozenset[str]:
    """The NOT_PLACE_NAMES that are also the rule word's possessive with the apostrophe
    stripped (*Hamas*, Hama's): never variants as words; known_names.py lets them match
    where a place noun follows (*Hamas eastern countryside*)."""
    own, keys = fold(rule_word), variant_keys(rule_word)
    return frozenset(
        name for name in NOT_PLACE_NAMES if name != own and _is_possessive_of(rule_word, keys, name)
    )


def _is_possessive_of(rule_word: str, rule_keys: frozenset[str], folded: str) -> bool:
    """`aleppos` is `Aleppo's` with the apostrophe stripped: the stem is the rule word."""
    if not folded.endswith("s") or len(folded) <= _MIN_POSSESSIVE_STEM:
        return False
    stem = folded[:-1]
    return stem == fold(rule_word) or not rule_keys.isdisjoint(variant_keys(stem))


def _content(words: Iterable[str]) -> list[str]:
    """Words with a letter or digit, articles dropped (kept if nothing else remains)."""
    real = [w for w in words if any(ch.isalnum() for ch in w)]
    return [w for w in real if not is_article(w)] or real


def variant_phrase_matches(
    rule_words: Sequence[str], text_words: Sequence[str], *, is_english: Callable[[str], bool]
) -> bool:
    """Reference definition of `~"A B"`: articles optional on both sides, then word by word."""
    rule, text = _content(rule_words), _content(text_words)
    alone = len(rule) == 1  # a one-word name never matches an everyday name element
    return (
        bool(rule)
        and len(rule) == len(text)
        and all(is_variant(r, t, is_english=is_english, alone=alone)
                for r, t in zip(rule, text, strict=True))
    )
