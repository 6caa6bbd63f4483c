"""Verified tokens are reused until they expire, and never past the cache's age limit."""

from __future__ import annotations

import time

from s3upload.auth.cache import VerifiedTokens
from s3upload.auth.tokens import User


def test_hit_until_the_token_expires():
    cache = VerifiedTokens(max_age=60)
    alice = User(owner="alice", expires=time.time() + 0.2)
    cache.put("token-a", alice)
    assert cache.get("token-a") is alice
    assert cache.get("token-a-tampered") is None
    time.sleep(0.3)
    assert cache.get("token-a") is None


def test_entries_age_out_before_long_lived_tokens():
    cache = VerifiedTokens(max_age=0.2)
    cache.put("token-b", User(owner="bob", expires=time.time() + 3600))
    assert cache.get("token-b") is not None
    time.sleep(0.3)
    assert cache.get("token-b") is None


def test_bounded_size():
    cache = VerifiedTokens(max_age=60, size=2)
    for n in range(3):
        cache.put(f"t{n}", User(owner=f"u{n}", expires=time.time() + 60))
    assert cache.get("t0") is None
    assert cache.get("t2") is not None
