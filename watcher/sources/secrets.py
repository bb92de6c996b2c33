"""Feed URLs as logs and `watcher sources` show them: a password or token in a feed's URL
(`https://user:pw@host/feed`, `?apikey=…`) never leaves the configuration and the database.

Unlike a channel URL, a feed URL's path is no secret (`/world/rss.xml`): only the userinfo
password and the values of query parameters named like a credential are masked, in every
URL a message quotes (a redirect's target too), and the configured URL's secrets wherever
else they appear.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from watcher.masking import MASK, forms, mask

# Shorter values (`sid=1`) are no credential, and masking them elsewhere in a message
# would garble it ("answered 429" with every 1 masked).
MIN_SECRET_CHARS = 4
# A query parameter whose name, or a `_`/`-` separated part of it, names a credential:
# apikey, api_key, access_token, token, key, secret, password, sig, X-Auth-Key … but not
# author, keyword, design or side.
_SECRET_PARAM = re.compile(
    r"(?:^|[_-])(?:api_?key|apikey|key|token|secret|pass|passwd|password|pwd|auth|sig|"
    r"signature|session|sid|credentials?)(?:$|[_-])",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://[^\s'\"<>()]+", re.IGNORECASE)


def redact(text: str, *urls: str | None) -> str:
    """`text` with the secrets of every URL it quotes masked as ****, and those of `urls`
    (as written, decoded and percent-encoded) wherever they appear."""
    text = _URL.sub(lambda found: _masked_url(found.group()), text)
    return mask(text, (secret for url in urls if url for secret in _secrets_of(url)))


def _masked_url(url: str) -> str:
    """The URL with its password and credential-named query values replaced by ****."""
    head, question, query = url.partition("?")
    scheme, _, rest = head.partition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if ":" in userinfo:
        userinfo = f"{userinfo.partition(':')[0]}:{MASK}"
    fields = []
    for field in query.split("&") if question else ():
        name, equals, value = field.partition("=")
        secret = equals and value and _SECRET_PARAM.search(unquote(name))
        fields.append(f"{name}={MASK}" if secret else field)
    return (f"{scheme}://{userinfo}{at}{host}{slash}{path}{question}" + "&".join(fields))


def _secrets_of(url: str) -> set[str]:
    try:
        password = urlsplit(url).password
    except ValueError:  # not a URL after all: nothing of it to recognise
        return set()
    query = url.partition("?")[2].partition("#")[0]
    values = [value for name, _, value in (field.partition("=") for field in query.split("&"))
              if _SECRET_PARAM.search(unquote(name))]
    return {form for secret in (password, *values) if secret for form in forms(secret)
            if len(form) >= MIN_SECRET_CHARS}
