"""The application's authorization hook: asked over HTTP, signed like webhooks, never trusted
when it fails.

Modelled on tusd's pre-create hook: the service POSTs what a caller wants to do and the
application answers allow or refuse. Anything else (a timeout, a non-200, a redirect, a body
that is not the expected JSON) refuses with 503 `authorization_unavailable`: a broken hook
never lets anyone through. Allows are cached per (subject, scope, action); refusals never are,
so a grant given takes effect at once and a grant taken away within the cache's lifetime.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from cachetools import TTLCache

from s3upload.access.decision import Decision
from s3upload.auth.tokens import User
from s3upload.errors import AuthorizationUnavailable
from s3upload.metrics import AUTHZ_CACHE, AUTHZ_HOOK, AUTHZ_HOOK_SECONDS
from s3upload.settings import AuthzSettings
from s3upload.signatures import headers as signed_headers

log = logging.getLogger("s3upload.authz")

MESSAGE_MAX = 500


@dataclass(frozen=True)
class _Nonsense(Exception):
    """The hook answered, but not with a decision."""

    reason: str


def _decision(resp: httpx.Response) -> Decision:
    """The hook's answer as a decision; `_Nonsense` for anything but the documented shape."""
    if resp.status_code != 200:
        raise _Nonsense(f"answered {resp.status_code}")
    try:
        body = resp.json()
    except ValueError as exc:
        raise _Nonsense("answered something that is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("allow"), bool):
        raise _Nonsense('answered JSON without a true or false "allow"')
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise _Nonsense('answered a "message" that is not a string')
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise _Nonsense('answered "metadata" that is not an object of strings')
    if not body["allow"]:
        text = (message or "").strip()[:MESSAGE_MAX] or "The application refused this."
        return Decision(allow=False, message=text)
    return Decision(allow=True, metadata=metadata)


class AuthzHook:
    """Asks the application whether a caller may act in a scope."""

    def __init__(self, settings: AuthzSettings, http: httpx.AsyncClient | None = None) -> None:
        if not (settings.hook_url and settings.hook_secret):
            raise ValueError("the authorization hook needs AUTHZ_HOOK_URL and AUTHZ_HOOK_SECRET")
        self.url = settings.hook_url
        self.secret = settings.hook_secret
        # Redirects are refused, not followed: the question is only ever sent to this URL.
        self.http = http or httpx.AsyncClient(
            timeout=settings.hook_timeout, follow_redirects=False, trust_env=False
        )
        self.cache: TTLCache[tuple[str, str, str], Decision] | None = (
            TTLCache(maxsize=100_000, ttl=settings.cache_ttl, timer=time.monotonic)
            if settings.cache_ttl > 0
            else None
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def ask(
        self,
        *,
        user: User,
        scope: str,
        action: str,
        profile: str | None,
        file: dict[str, Any] | None,
    ) -> Decision:
        """The application's decision (an allow from the cache if one is fresh)."""
        key = (user.owner, scope, str(action))
        if self.cache is not None:
            cached = self.cache.get(key)
            AUTHZ_CACHE.labels(result="hit" if cached else "miss").inc()
            if cached is not None:
                return cached
        body = json.dumps(
            {
                "action": str(action),
                "subject": user.owner,
                "roles": sorted(user.roles),
                "scope": scope,
                "profile": profile,
                "file": file,
            },
            separators=(",", ":"),
        )
        question_id = f"authz_{uuid.uuid4().hex}"
        sent = signed_headers(
            event_id=question_id, body=body, secrets=[self.secret], at=datetime.now(UTC)
        )
        sent["user-agent"] = "s3upload-authz"
        where = {"scope": scope, "action": str(action), "subject": user.owner, "id": question_id}
        started = time.perf_counter()
        try:
            resp = await self.http.post(self.url, content=body, headers=sent)
            decision = _decision(resp)
        except (httpx.HTTPError, _Nonsense) as exc:
            AUTHZ_HOOK_SECONDS.observe(time.perf_counter() - started)
            AUTHZ_HOOK.labels(outcome="error").inc()
            reason = exc.reason if isinstance(exc, _Nonsense) else type(exc).__name__
            log.warning("authorization hook failed", extra={**where, "reason": reason})
            raise AuthorizationUnavailable(
                "The application's authorization check is unavailable; try again shortly.",
            ) from exc
        AUTHZ_HOOK_SECONDS.observe(time.perf_counter() - started)
        AUTHZ_HOOK.labels(outcome="allow" if decision.allow else "deny").inc()
        log.info("authorization hook answered", extra={**where, "allow": decision.allow})
        if decision.allow and self.cache is not None:
            self.cache[key] = decision
        return decision
