"""The one form place names are compared in: `Deir ez-Zor` = `deir ez zor` = `Dayr-az-Zawr`?

Not a transliteration matcher (that is `~Name`'s business): two spellings meet here only
when they differ in case, diacritics, apostrophes, hyphens or spaces, or an Arabic
article. The gazetteer's build and its lookups fold with this same function, so a name
finds its place however the caller typed those details.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Turkish letters that NFKD would fold to the wrong sound (ş -> s), mapped before it.
_TURKISH = str.maketrans({"ş": "sh", "ç": "ch", "ğ": "g", "ı": "i"})
# Apostrophes and the letters that write ayn and hamza (`‘Afrīn`, `Ra’s al ‘Ayn`): dropped.
_APOSTROPHES = str.maketrans("", "", "'’‘ʿʾʻʼ`´ʹ")
# Arabic letters that spellings interchange: hamza seats, ta marbuta, alif maqsura, tatweel.
_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": ""})
_ARABIC_ARTICLE = "ال"
# The Arabic article as its own Latin word, `al`/`el` and the assimilated forms before sun
# letters (`ad Darbasiyah`, `ash Shaddadah`, `Deir ez-Zor`).
LATIN_ARTICLES = frozenset(
    {"al", "el", "il", "ul"}
    | {v + c for v in "aeu" for c in ("d", "dh", "n", "r", "s", "sh", "t", "th", "z")}
)
_SEPARATORS = re.compile(r"[\W_]+")


@lru_cache(maxsize=16_384)
def name_key(name: str) -> str:
    """The folded form two names are compared in; "" for a name with no letter or digit.

    Cached: locating a match folds the same few names (`Aleppo`, `Syria`) article after
    article, and a pure function of a short string is cheap to remember.

    Lower case, no diacritics, no apostrophes, hyphens and punctuation as spaces, and
    articles dropped: `Al-Hasakah` = `Hasakah`, `Ra’s al ‘Ayn` = `Ras Ain`.
    """
    if name.isascii():  # most names: nothing to normalise
        text = name.lower().translate(_APOSTROPHES)
    else:
        text = unicodedata.normalize("NFC", name).lower().translate(_TURKISH)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = text.translate(_APOSTROPHES).translate(_ARABIC)
    words = [_without_arabic_article(w) for w in _SEPARATORS.split(text) if w]
    content = [w for w in words if w not in LATIN_ARTICLES]
    return " ".join(content or words)


def _without_arabic_article(word: str) -> str:
    """`الحسكة` -> `حسكه`: the fused Arabic article, when a stem of two letters remains."""
    if word.startswith(_ARABIC_ARTICLE) and len(word) > len(_ARABIC_ARTICLE) + 1:
        return word[len(_ARABIC_ARTICLE) :]
    return word
