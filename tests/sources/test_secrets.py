"""What logs and `watcher sources` show of a feed URL with credentials in it."""

from __future__ import annotations

import pytest

from watcher.sources.secrets import redact

FEED = ("https://reader:s3cr%40t@news.example.org/syria/rss.xml?apikey=ABC123&lang=en"
        "&access_token=ab+cd/ef==&author=syria&keyword=siege")


def test_the_password_and_credential_values_are_masked_and_the_rest_kept():
    assert redact(f"{FEED}: HTTP 500", FEED) == (
        "https://reader:****@news.example.org/syria/rss.xml?apikey=****&lang=en"
        "&access_token=****&author=syria&keyword=siege: HTTP 500")


@pytest.mark.parametrize("written", ["ab+cd/ef==", "ab cd/ef==", "ab%2Bcd%2Fef%3D%3D"])
def test_a_secret_is_masked_as_written_decoded_or_encoded(written):
    """A client's message may quote the token in any of its forms (base64 has + and /)."""
    assert "ef==" not in redact(f"refused token {written}", FEED).replace("%3D", "=")


def test_a_url_the_message_quotes_is_masked_by_its_shape_too():
    """A redirect's signed target is no configured URL, but its signature is a secret."""
    message = "https://x.org/f: HTTP 403 (redirected to https://cdn.x.org/f?sig=XYZ123&e=1)"
    assert redact(message, "https://x.org/f") == (
        "https://x.org/f: HTTP 403 (redirected to https://cdn.x.org/f?sig=****&e=1)")


def test_names_that_only_contain_a_credential_word_and_short_values_elsewhere_are_left():
    """`author` holds `auth`, `design` holds `sig`: no credentials. A short `sid` is masked
    in the URL, but its value is not hunted through the rest of the message."""
    url = "https://x.org/f?sid=1&author=syria&design=a"
    assert redact(f"{url} answered 429 at 10:01", url) == (
        "https://x.org/f?sid=****&author=syria&design=a answered 429 at 10:01")


SECRET_NAMES = ["accessToken", "access_token", "ACCESS_TOKEN", "accesstoken", "clientSecret",
                "client_secret", "privateKey", "jwt", "JWT", "code", "apiKey", "apikey", "sig",
                "token", "password", "passwd", "secret", "auth", "X-Auth-Key", "refreshToken",
                "privatekey", "PRIVATEKEY", "secretkey", "SECRET_KEY", "accesskey", "authkey",
                "APIKEY", "clientkey", "signingkey", "sessionid", "JSESSIONID", "PHPSESSID"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_credential_name_in_any_case_or_camelcase_hump_is_masked(name):
    url = f"https://x.org/f?{name}=Zq9sEcReT&author=syria&keyword=siege&design=a&side=b"
    shown = redact(f"{url}: HTTP 500 (token Zq9sEcReT refused)", url)
    assert shown == (f"https://x.org/f?{name}=****&author=syria&keyword=siege&design=a&side=b"
                     ": HTTP 500 (token **** refused)")


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_credential_name_in_a_redirect_target_is_masked(name):
    message = f"https://x.org/f: HTTP 403 (redirected to https://cdn.x.org/f?{name}=Zq9&e=1)"
    assert redact(message, "https://x.org/f") == (
        f"https://x.org/f: HTTP 403 (redirected to https://cdn.x.org/f?{name}=****&e=1)")


@pytest.mark.parametrize("name", ["monkey", "turkey", "keyword", "hockey", "author", "design",
                                  "side", "possession", "passage"])
def test_an_everyday_word_ending_in_key_or_holding_a_credential_word_is_shown(name):
    url = f"https://x.org/f?{name}=Zq9sEcReT"
    assert redact(f"{url}: HTTP 500", url) == f"{url}: HTTP 500"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://h.org/feed?x=1#access_token=abcdef&state=s1",
     "https://h.org/feed?x=1#access_token=****&state=s1"),
    ("https://h.org/feed#token=abcdef", "https://h.org/feed#token=****"),
    ("https://h.org/feed#/callback?code=abcdef&tab=2", "https://h.org/feed#/callback?code=****&tab=2"),
    ("https://h.org/feed?apikey=abcdef#top", "https://h.org/feed?apikey=****#top"),
])
def test_a_credential_in_the_fragment_is_masked_like_one_in_the_query(url, shown):
    """An OAuth implicit grant hands its token in `#access_token=…`."""
    assert redact(f"{url}: HTTP 500 (token abcdef refused)", url) == (
        f"{shown}: HTTP 500 (token **** refused)")
