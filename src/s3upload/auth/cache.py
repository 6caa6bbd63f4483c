"""Tokens already verified, kept until they expire: a repeat caller skips the signature check.

Only successes are kept, under the whole token string, so a token that differs in any byte is
verified afresh. Entries live at most `max_age` seconds (the JWKS cache lifetime), so a key
withdrawn from the JWKS stops working as soon as it would without this cache.
"""

from __future__ import annotations

import time

from cachetools import TLRUCache

from s3upload.auth.tokens import User


class VerifiedTokens:
    """A bounded map of token → caller, each entry expiring with its token."""

    def __init__(self, *, max_age: float, size: int = 4096) -> None:
        self.max_age = max_age
        self._cache: TLRUCache[str, User] = TLRUCache(
            maxsize=size, ttu=self._until, timer=time.time
        )

    def _until(self, _token: str, user: User, now: float) -> float:
        return min(user.expires, now + self.max_age)

    def get(self, token: str) -> User | None:
        """The caller for a token verified before and not yet expired."""
        return self._cache.get(token)

    def put(self, token: str, user: User) -> None:
        """Remember a token that just passed verification."""
        self._cache[token] = user
