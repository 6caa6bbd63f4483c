"""JWT verification: issuer, audience, claims as settings."""

from __future__ import annotations

import time

import jwt
import pytest

from s3upload.auth.tokens import mint, verify
from s3upload.errors import Unauthorized
from s3upload.settings import AuthSettings

SECRET = "unit-secret-0123456789abcdef0123456789"


async def test_issuer_and_audience_checked_when_set():
    settings = AuthSettings(jwt_secret=SECRET, issuer="https://id.example", audience="uploads")
    good = mint(settings, subject="alice", roles=["admin"])
    user = await verify(good, settings)
    assert user.owner == "alice"
    assert user.has("admin")
    wrong_iss = jwt.encode(
        {"sub": "a", "exp": time.time() + 60, "iss": "https://evil", "aud": "uploads"},
        SECRET,
        algorithm="HS256",
    )
    wrong_aud = jwt.encode(
        {"sub": "a", "exp": time.time() + 60, "iss": "https://id.example", "aud": "other"},
        SECRET,
        algorithm="HS256",
    )
    no_aud = jwt.encode(
        {"sub": "a", "exp": time.time() + 60, "iss": "https://id.example"},
        SECRET,
        algorithm="HS256",
    )
    for token in (wrong_iss, wrong_aud, no_aud):
        with pytest.raises(Unauthorized):
            await verify(token, settings)


async def test_owner_and_roles_claims_are_settings():
    settings = AuthSettings(jwt_secret=SECRET, owner_claim="email", roles_claim="groups")
    token = jwt.encode(
        {"email": "a@example.com", "groups": ["processor"], "exp": time.time() + 60},
        SECRET,
        algorithm="HS256",
    )
    user = await verify(token, settings)
    assert user.owner == "a@example.com"
    assert user.has("processor")
    assert not user.has("admin")


async def test_expired_within_leeway_is_accepted():
    settings = AuthSettings(jwt_secret=SECRET, leeway=30)
    token = mint(settings, subject="a", ttl=-10)
    assert (await verify(token, settings)).owner == "a"
    with pytest.raises(Unauthorized, match="expired"):
        await verify(mint(settings, subject="a", ttl=-60), settings)
