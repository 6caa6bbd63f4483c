"""Scopes: the application's things that files belong to (`event/1234`), and who may act in one.

A profile's `access` says who decides: `owner` (nobody but the uploader sees a file),
`claims` (grants carried in the caller's token) or `hook` (the application, asked over HTTP).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from s3upload.access.decision import OWNER_ONLY, Decision
from s3upload.access.hook import AuthzHook
from s3upload.auth.tokens import User
from s3upload.errors import AuthorizationUnavailable
from s3upload.settings import SCOPE_ID, SCOPE_TYPE, Settings

SCOPE_PATTERN = f"^{SCOPE_TYPE}/{SCOPE_ID}$"
_SCOPE = re.compile(SCOPE_PATTERN)


class ScopeAction(StrEnum):
    """What a caller wants to do in a scope."""

    UPLOAD = "upload"
    READ = "read"
    DELETE = "delete"


def scope_type(scope: str) -> str:
    """`event/1234` -> `event`."""
    return scope.partition("/")[0]


def is_scope(value: str) -> bool:
    """Whether `value` follows the scope grammar."""
    return bool(_SCOPE.match(value))


def granted(grants: frozenset[str], scope: str, action: ScopeAction) -> bool:
    """Whether the token's grants name this scope (or every scope of its type) and action."""
    kind = scope_type(scope)
    return f"{scope}:{action}" in grants or f"{kind}/*:{action}" in grants


class ScopeGate:
    """The one place a scope decision is made, whichever way the profile asks for."""

    def __init__(self, settings: Settings, hook: AuthzHook | None) -> None:
        self.settings = settings
        self.hook = hook

    def access(self, scope: str, profile: str | None) -> str:
        """How this scope is decided: by its profile, else by the profiles that take its type."""
        named = self.settings.profiles.get(profile) if profile else None
        if named is not None:
            return named.access
        return self.settings.scope_access(scope_type(scope))

    async def decide(
        self,
        user: User,
        scope: str,
        action: ScopeAction,
        *,
        profile: str | None,
        file: dict[str, Any] | None = None,
    ) -> Decision:
        """May `user` do `action` in `scope`? `owner` access never lets anyone else in."""
        how = self.access(scope, profile)
        if how == "claims":
            if granted(user.grants, scope, action):
                return Decision(allow=True)
            return Decision(allow=False, message=f"Your token grants no '{action}' on {scope}.")
        if how == "hook":
            if self.hook is None:  # settings refuse this; kept as a closed door
                raise AuthorizationUnavailable("No authorization hook is configured.")
            return await self.hook.ask(
                user=user, scope=scope, action=action, profile=profile, file=file
            )
        return OWNER_ONLY
