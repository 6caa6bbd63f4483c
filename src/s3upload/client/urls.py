"""Signed part URLs: when they lapse, and when the store says one did."""

from __future__ import annotations

import calendar
import time
from urllib.parse import parse_qs, urlsplit

# Re-sign this long before a URL lapses, so a part is not refused after it was sent in full.
MAX_MARGIN = 30.0


def expires_at(url: str) -> float | None:
    """When a SigV4 presigned URL stops working (epoch seconds), if it says."""
    query = parse_qs(urlsplit(url).query)
    try:
        signed = time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
        lifetime = int(query["X-Amz-Expires"][0])
    except (KeyError, IndexError, ValueError):
        return None
    return calendar.timegm(signed) + lifetime


def is_stale(url: str, now: float) -> bool:
    """True if the URL has lapsed or lapses within a margin (a quarter of its life, <= 30 s)."""
    query = parse_qs(urlsplit(url).query)
    end = expires_at(url)
    if end is None:
        return False
    lifetime = float(query["X-Amz-Expires"][0])
    return now >= end - min(MAX_MARGIN, lifetime / 4)


def may_have_expired(status: int, body: str) -> bool:
    """Whether a store's refusal could be a lapsed presigned URL (worth one fresh signature).

    AWS answers 403 `AccessDenied` "Request has expired"; Ceph RGW answers 403 `AccessDenied`
    with an empty message, so any `AccessDenied` counts. A fresh URL refused again is a real
    refusal.
    """
    if status != 403:
        return False
    return "<Code>AccessDenied</Code>" in body or "expired" in body.lower()
