"""Signing keys published as a JWKS (Cognito, Auth0, Keycloak), fetched async and cached.

PyJWT parses the keys; its own `PyJWKClient` fetches with blocking urllib, which would stall
the event loop, so the fetching and caching are done here with httpx.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from s3upload.errors import InvalidToken, JwksUnavailable


class JwksCache:
    """Keys by `kid`, refreshed after `ttl` seconds or when an unknown `kid` shows up (rotation),
    but never more often than every `min_interval` seconds."""

    def __init__(self, url: str, *, ttl: float = 300, min_interval: float = 10) -> None:
        self.url = url
        self.ttl = ttl
        self.min_interval = min_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self.min_interval:
                return  # another request just refreshed
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.get(self.url)
                    resp.raise_for_status()
                data: Any = resp.json()
                keyset = jwt.PyJWKSet.from_dict(data)
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
                if not self._keys:
                    raise JwksUnavailable("The token's signing keys cannot be fetched.") from exc
                return  # keep serving the keys we have
            self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
            self._fetched_at = time.monotonic()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key named `kid`; refetches once when it is unknown or the cache is old."""
        stale = time.monotonic() - self._fetched_at > self.ttl
        if stale or kid not in self._keys:
            await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        found = self._keys.get(kid or "")
        if found is None:
            raise InvalidToken("The token's signing key is unknown.")
        return found
