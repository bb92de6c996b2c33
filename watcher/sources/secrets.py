"""Feed URLs as logs and `watcher sources` show them: a password or token in a feed's URL
(`https://user:pw@host/feed`, `?apikey=…`, `?accessToken=…`) never leaves the configuration
and the database.

Unlike a channel URL, a feed URL's path is no secret (`/world/rss.xml`): only the userinfo
password and the values of query and fragment parameters named like a credential
(watcher/masking.py) are masked, in every URL a message quotes (a redirect's target too),
and the configured URL's secrets wherever else they appear.
"""

from __future__ import annotations

import re

from watcher.masking import MIN_SECRET_CHARS, forms, mask, masked_url, secrets_in_url

# A URL a message quotes ends before punctuation that follows it (`URL: HTTP 500`).
_URL = re.compile(r"https?://[^\s'\"<>()]+(?<![.,:;!?])", re.IGNORECASE)


def redact(text: str, *urls: str | None) -> str:
    """`text` with the secrets of every URL it quotes masked as ****, and those of `urls`
    (as written, decoded and percent-encoded) wherever they appear."""
    text = _URL.sub(lambda found: masked_url(found.group()), text)
    return mask(text, (secret for url in urls if url for secret in _secrets_of(url)))


def _secrets_of(url: str) -> set[str]:
    return {form for secret in secrets_in_url(url) for form in forms(secret)
            if len(form) >= MIN_SECRET_CHARS}
