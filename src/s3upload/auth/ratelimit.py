"""Rate limits per owner and per client IP (the `limits` library): memory, or Redis if set."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from s3upload.auth.deps import CurrentUser
from s3upload.auth.tokens import User
from s3upload.errors import RateLimited
from s3upload.metrics import RATE_LIMITED
from s3upload.settings import LimitsSettings

log = logging.getLogger("s3upload.ratelimit")


class RateLimiter:
    """Moving-window limits keyed by (action, owner) and (action, IP)."""

    def __init__(self, settings: LimitsSettings, redis_url: str | None) -> None:
        self.enabled = settings.enabled
        storage = storage_from_string(f"async+{redis_url}") if redis_url else MemoryStorage()
        if not isinstance(storage, Storage):  # pragma: no cover - async+ always gives async
            raise TypeError("an async storage is needed")
        self._limiter = MovingWindowRateLimiter(storage)
        self._rules: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
            "create": (parse(settings.create_per_owner), parse(settings.create_per_ip)),
            "sign": (parse(settings.sign_per_owner), parse(settings.sign_per_ip)),
        }

    async def check(self, action: str, *, owner: str, ip: str) -> None:
        """Count one `action`; 429 with Retry-After when a limit is reached."""
        if not self.enabled:
            return
        per_owner, per_ip = self._rules[action]
        for item, who, key in ((per_owner, "owner", owner), (per_ip, "ip", ip)):
            try:
                allowed = await self._limiter.hit(item, action, who, key)
            except Exception:  # the shared store is down: serve rather than refuse everyone
                log.warning("rate-limit store unavailable; not limiting", exc_info=True)
                return
            if not allowed:
                stats = await self._limiter.get_window_stats(item, action, who, key)
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                RATE_LIMITED.labels(limit=f"{action}_per_{who}").inc()
                raise RateLimited(
                    f"Too many requests ({item}) for this {who}; retry in {retry} s.",
                    details={"retryAfter": retry},
                    retry_after=retry,
                )


def limit(action: str) -> Callable[..., Awaitable[User]]:
    """A dependency that counts `action` for the caller and its IP, then yields the caller."""

    async def dependency(request: Request, user: CurrentUser) -> User:
        ip = request.client.host if request.client else "unknown"
        await request.app.state.limiter.check(action, owner=user.owner, ip=ip)
        return user

    return dependency


CreateLimited = Annotated[User, Depends(limit("create"))]
SignLimited = Annotated[User, Depends(limit("sign"))]
