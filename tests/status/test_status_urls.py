"""status.urls: URLs compared as one resource (RFC 3986 §6.2.2, §6.2.3)."""

from __future__ import annotations

import pytest

from status.urls import normalize_url, same_url


@pytest.mark.parametrize("url, normal", [
    ("HTTP://LOCALHOST:8443/status/default/revocation/1", "http://localhost:8443/status/default/revocation/1"),
    ("https://Uni.EU:443/Status/1?Q=A#Frag", "https://uni.eu/Status/1?Q=A#Frag"),  # path, query, fragment keep their case
    ("http://uni.eu:80/x", "http://uni.eu/x"),
    ("http://uni.eu:443/x", "http://uni.eu:443/x"),  # not http's default port
    ("https://user:secret@uni.eu/x", "https://uni.eu/x"),
    ("http://[::1]:80/x", "http://[::1]/x"),
    ("urn:uuid:1234", "urn:uuid:1234"),
    # RFC 3986 §6.2.2.2-3: unreserved characters decoded, other escapes kept (upper case), dot segments removed.
    ("http://uni.eu/%73tatus/./default/../default/1", "http://uni.eu/status/default/1"),
    ("http://uni.eu/a%2fb/%7euser", "http://uni.eu/a%2Fb/~user"),
    ("http://uni.eu/a/b/..", "http://uni.eu/a/"),
])
def test_urls_are_compared_by_scheme_and_host_without_case_and_without_a_default_port(url, normal):
    assert normalize_url(url) == normal
    assert same_url(url, normal)


def test_same_url_is_false_for_what_is_not_one_url():
    assert not same_url("https://uni.eu/a", "https://uni.eu/A")
    assert not same_url(None, "https://uni.eu/a") and not same_url(5, 5)
    assert not same_url("http://uni.eu:99999/a", "http://uni.eu/a")  # a port out of range parses to nothing
