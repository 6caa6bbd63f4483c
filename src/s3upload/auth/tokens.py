"""JWT verification and minting."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from s3upload.auth.jwks import JwksCache
from s3upload.errors import InvalidToken, TokenExpired
from s3upload.settings import AuthSettings


@dataclass(frozen=True)
class User:
    """The caller, as the token says."""

    owner: str
    roles: frozenset[str] = field(default_factory=frozenset)
    expires: float = float("inf")  # the token's `exp`, seconds since the epoch
    # `<type>/<id>:<action>` grants for profiles with `access: claims`.
    grants: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        """Whether the caller holds `role`."""
        return role in self.roles


SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})


async def verify(token: str, settings: AuthSettings, jwks: JwksCache | None = None) -> User:
    """Check signature, expiry, not-before, issuer and audience; return the caller.

    HS* tokens are checked with the shared secret and every other algorithm with the JWKS
    key named by `kid`, so a public key can never be used as an HMAC secret; `none` and
    algorithms outside `AUTH_JWT_ALGORITHMS` are refused before any key is looked at.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("The token is not valid.") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in settings.jwt_algorithms:
        raise InvalidToken("The token's algorithm is not accepted.")
    key: Any
    if alg in SYMMETRIC:
        key = settings.jwt_secret
    elif jwks is not None:
        found = await jwks.key(header.get("kid"))
        if found.algorithm_name != alg:
            raise InvalidToken("The token's algorithm does not fit its key.")
        key = found
    else:
        raise InvalidToken("The token's algorithm is not accepted.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway,
            options={
                "require": ["exp", settings.owner_claim],
                "verify_aud": settings.audience is not None,
            },
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("The token is not valid.") from exc
    owner = claims.get(settings.owner_claim)
    if not isinstance(owner, str) or not owner or len(owner) > 255:
        raise InvalidToken("The token names no owner.")
    roles = claims.get(settings.roles_claim) or []
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, list):
        raise InvalidToken("The token's roles claim is not a list.")
    grants = claims.get(settings.scopes_claim, [])
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise InvalidToken("The token's scopes claim is not a list of strings.")
    return User(
        owner=owner,
        roles=frozenset(str(r) for r in roles),
        expires=float(claims["exp"]),
        grants=frozenset(grants),
    )


def mint(
    settings: AuthSettings,
    *,
    subject: str,
    roles: list[str] | None = None,
    scopes: list[str] | None = None,
    ttl: int = 3600,
    now: float | None = None,
) -> str:
    """Sign an HS256 token for `subject` (development and tests)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        settings.owner_claim: subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    if roles:
        claims[settings.roles_claim] = roles
    if scopes:
        claims[settings.scopes_claim] = scopes
    if settings.issuer:
        claims["iss"] = settings.issuer
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
