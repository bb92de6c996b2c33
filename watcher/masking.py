"""Secrets shown as ****: which URL parts are secret, the forms a secret takes in a message,
and masking them there.

Channel URLs (watcher/notify/channels.py) differ from feed and database URLs in what of a
URL is secret; how a secret is then found in a message and masked is one rule. Feed URLs
(watcher/sources/secrets.py) and the database URL (watcher/store/db.py) share the rest: the
userinfo password and the values of query and fragment parameters named like a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

MASK = "****"
# Shorter values (`sid=1`) are no credential, and masking them elsewhere in a message
# would garble it ("answered 429" with every 1 masked); inside their URL they still are.
MIN_SECRET_CHARS = 4

# A parameter names a credential when one of its parts is one of these words: parts are
# split at `_`, `-`, `.` and camelCase humps, so `accessToken`, `access_token`,
# `X-Auth-Key`, `clientSecret`, `privateKey`, `jwt` and `code` do, and `author`,
# `keyword`, `design` and `side` (which only contain `auth`, `key`, `sig`) do not.
CREDENTIAL_WORDS = frozenset({
    "apikey", "key", "token", "secret", "pass", "passwd", "password", "passphrase", "pwd",
    "auth", "authorization", "bearer", "sig", "signature", "session", "sid", "credential",
    "credentials", "jwt", "code",
})
# Names written as one word (`accesstoken`, `clientsecret`, `sslpassword`, `PRIVATEKEY`,
# `PHPSESSID`) name a credential when they end in one of these; no everyday word does.
# A bare `-key` ending would mask `monkey` and `turkey`: only a credential-like word before
# it (`privatekey`, `secretkey`, `accesskey`, `authkey`, `apikey`) counts.
KEY_PREFIXES = ("private", "secret", "access", "auth", "api", "client", "signing", "master",
                "session", "encryption")
CREDENTIAL_ENDINGS = ("token", "secret", "password", "passwd", "passphrase", "signature",
                      "credential", "credentials", "sessionid", "sessid",
                      *(f"{prefix}key" for prefix in KEY_PREFIXES))
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def names_a_secret(name: str) -> bool:
    """Whether a query parameter called `name` (percent-encoded or not) holds a credential."""
    parts = [part.lower() for part in _NAME_PARTS.findall(unquote(name))]
    return (any(part in CREDENTIAL_WORDS for part in parts)
            or "".join(parts).endswith(CREDENTIAL_ENDINGS))


def masked_url(url: str) -> str:
    """The URL with its password and credential-named query and fragment values replaced by
    ****; the rest as written (a feed's path is no secret: `/world/rss.xml`)."""
    before_fragment, hash_sign, fragment = url.partition("#")
    head, question, query = before_fragment.partition("?")
    scheme, double_slash, rest = head.partition("://")
    if not double_slash:  # no scheme: all of it is what follows one
        scheme, rest = "", head
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if ":" in userinfo:
        userinfo = f"{userinfo.partition(':')[0]}:{MASK}"
    return (f"{scheme}{double_slash}{userinfo}{at}{host}{slash}{path}"
            f"{question}{_masked_fields(query)}{hash_sign}{_masked_fields(fragment)}")


def _masked_fields(fields: str) -> str:
    """`a=1&token=x` as `a=1&token=****`. A fragment is read the same way: an OAuth server
    hands its `#access_token=…` there, and a single-page app its `#/cb?token=…` (the name
    `/cb?token` still has `token` as a part)."""
    return "&".join(_masked_field(field) for field in fields.split("&")) if fields else ""


def _masked_field(field: str) -> str:
    name, equals, value = field.partition("=")
    return f"{name}={MASK}" if equals and value and names_a_secret(name) else field


def secrets_in_url(url: str) -> list[str]:
    """The password and credential-named query and fragment values of `url`, as written."""
    try:
        password = urlsplit(url).password
    except ValueError:  # not a URL after all: nothing of it to recognise
        return []
    before_fragment, _, fragment = url.partition("#")
    fields = [*before_fragment.partition("?")[2].split("&"), *fragment.split("&")]
    values = [value for name, _, value in (field.partition("=") for field in fields)
              if names_a_secret(name)]
    return [secret for secret in (password, *values) if secret]


def forms(secret: str) -> set[str]:
    """How a URL's secret may be quoted: as written, percent-decoded (a `+` kept, or read
    as a space) and fully percent-encoded."""
    decoded = unquote(secret)
    return {secret, decoded, unquote(secret.replace("+", " ")), quote(decoded, safe="")}


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret replaced by ****, the longest first (one may hold another)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
