"""When signed part URLs lapse, and which store refusals may mean they did."""

from __future__ import annotations

import calendar
import time

from s3upload.client.urls import expires_at, is_stale, may_have_expired

URL = (
    "http://127.0.0.1:7480/b/k?partNumber=1&uploadId=x&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Date=20261122T100000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=ab"
)
SIGNED = calendar.timegm(time.strptime("20261122T100000", "%Y%m%dT%H%M%S"))


def test_expiry_is_read_from_the_url():
    assert expires_at(URL) == SIGNED + 3600
    assert expires_at("http://h/b/k?X-Amz-Date=nonsense&X-Amz-Expires=60") is None
    assert expires_at("http://h/b/k") is None


def test_stale_a_margin_before_it_lapses():
    assert not is_stale(URL, SIGNED)
    assert not is_stale(URL, SIGNED + 3600 - 31)
    assert is_stale(URL, SIGNED + 3600 - 30)
    assert is_stale(URL, SIGNED + 7200)
    # A URL of unknown lifetime is never judged stale (the store will say).
    assert not is_stale("http://h/b/k", SIGNED + 10**9)


def test_short_lived_urls_get_a_quarter_of_their_life_as_margin():
    short = URL.replace("X-Amz-Expires=3600", "X-Amz-Expires=60")
    assert not is_stale(short, SIGNED + 44)
    assert is_stale(short, SIGNED + 45)


def test_refusals_that_may_be_a_lapsed_url():
    rgw = "<Error><Code>AccessDenied</Code><Message></Message></Error>"
    aws = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    assert may_have_expired(403, rgw)
    assert may_have_expired(403, aws)
    assert not may_have_expired(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>")
    assert not may_have_expired(400, aws)
    assert not may_have_expired(500, rgw)
