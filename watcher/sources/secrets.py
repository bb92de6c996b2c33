"""Feed URLs as logs and `watcher sources` show them: a password or token in a feed's URL
(`https://user:pw@host/feed`, `?apikey=…`) never leaves the configuration and the database.

Unlike a channel URL, a feed URL's path is no secret (`/world/rss.xml`): only the userinfo
password and the values of query parameters named like a credential are masked.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "****"
# Shorter values (`sid=1`) are no credential, and masking them would garble the message
# ("answered 429" with every 1 masked).
MIN_SECRET_CHARS = 4
# Query parameters whose value is a credential: apikey, api_key, token, access_token, key,
# secret, password, passwd, pwd, auth, signature, sig, session, sid, credential.
_SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|auth|sig|session|sid|credential", re.I)


def redact(text: str, *urls: str | None) -> str:
    """`text` with the secrets of each URL (as written, decoded and percent-encoded)
    replaced by ****."""
    secrets = {found for url in urls if url for found in _secrets_of(url)}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _secrets_of(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL after all: nothing of it to recognise
        return set()
    values = [value for name, value in parse_qsl(parts.query, keep_blank_values=False)
              if _SECRET_PARAM.search(name)]
    found: set[str] = set()
    for secret in filter(None, [password, *values]):
        found |= {secret, unquote(secret), quote(secret, safe=""), quote(secret, safe="+")}
    return {secret for secret in found if len(secret) >= MIN_SECRET_CHARS}
