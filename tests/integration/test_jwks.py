"""RS256/ES256 tokens verified against a JWKS served locally: caching, rotation, attacks."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from s3upload.app import create_app
from tests.conftest import TEST_SECRET, make_settings
from tests.helpers import assert_error, free_port, serving

ISSUER = "https://id.example.test/"
AUDIENCE = "s3upload"


def jwk(key, kid: str, alg: str) -> dict:
    algo = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    data = json.loads(algo.to_jwk(key.public_key()))
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="module")
async def issuer():
    """A local identity provider: keys, a JWKS endpoint that counts fetches."""
    keys = {
        "rsa-1": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        "ec-1": (ec.generate_private_key(ec.SECP256R1()), "ES256"),
    }
    published = {"rsa-1", "ec-1"}
    fetches: list[float] = []

    async def jwks(request):
        fetches.append(time.monotonic())
        return JSONResponse({"keys": [jwk(keys[k][0], k, keys[k][1]) for k in sorted(published)]})

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    async with serving(app, free_port()) as origin:
        yield {
            "keys": keys,
            "published": published,
            "fetches": fetches,
            "url": f"{origin}/.well-known/jwks.json",
        }


@pytest.fixture(scope="module")
async def jwks_client(services, migrated, issuer, app):
    settings = make_settings(services)
    settings.auth.jwks_url = issuer["url"]
    settings.auth.jwt_algorithms = ["RS256", "ES256", "HS256"]
    settings.auth.issuer = ISSUER
    settings.auth.audience = AUDIENCE
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        application.state.jwks.min_interval = 0.2  # refetch limit, shortened for the test
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


def token(issuer, kid, *, alg=None, **claims):
    key, key_alg = issuer["keys"][kid]
    now = int(time.time())
    body = {
        "sub": "jwks-user",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode(body, key, algorithm=alg or key_alg, headers={"kid": kid})


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
async def test_asymmetric_tokens_accepted(jwks_client, issuer, kid):
    resp = await jwks_client.get("/files", headers=bearer(token(issuer, kid)))
    assert resp.status_code == 200, resp.text


async def test_keys_are_cached(jwks_client, issuer):
    before = len(issuer["fetches"])
    for _ in range(5):
        assert (
            await jwks_client.get("/files", headers=bearer(token(issuer, "rsa-1")))
        ).status_code == 200
    assert len(issuer["fetches"]) == before


async def test_rotation_picks_up_a_new_key(jwks_client, issuer):
    issuer["keys"]["rsa-2"] = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "RS256",
    )
    issuer["published"].add("rsa-2")
    # the cache was filled without rsa-2; an unknown kid makes it refetch (rate-limited)
    import asyncio

    await asyncio.sleep(0.3)
    resp = await jwks_client.get("/files", headers=bearer(token(issuer, "rsa-2")))
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda i: token(i, "rsa-1", exp=int(time.time()) - 3600), "token_expired"),
        (lambda i: token(i, "rsa-1", nbf=int(time.time()) + 3600), "invalid_token"),
        (lambda i: token(i, "rsa-1", iss="https://evil.example/"), "invalid_token"),
        (lambda i: token(i, "rsa-1", aud="someone-else"), "invalid_token"),
        (
            lambda i: jwt.encode({"sub": "x", "exp": time.time() + 60}, None, algorithm="none"),
            "invalid_token",
        ),
        (
            lambda i: jwt.encode(
                {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 60},
                i["keys"]["rsa-1"][0],
                algorithm="RS384",
                headers={"kid": "rsa-1"},
            ),
            "invalid_token",
        ),
        (lambda i: token(i, "rsa-1") + "x", "invalid_token"),
    ],
)
async def test_bad_asymmetric_tokens(jwks_client, issuer, make, code):
    assert_error(await jwks_client.get("/files", headers=bearer(make(issuer))), 401, code)


async def test_kid_of_another_algorithm_is_refused(jwks_client, issuer):
    # signed with the EC key, but naming the RSA key's kid and ES256
    key, _ = issuer["keys"]["ec-1"]
    forged = jwt.encode(
        {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 60},
        key,
        algorithm="ES256",
        headers={"kid": "rsa-1"},
    )
    assert_error(await jwks_client.get("/files", headers=bearer(forged)), 401, "invalid_token")


async def test_algorithm_confusion_public_key_as_hmac_secret(jwks_client, issuer):
    public_pem = (
        issuer["keys"]["rsa-1"][0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64(
        json.dumps(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}
        ).encode()
    )
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"
    assert_error(await jwks_client.get("/files", headers=bearer(forged)), 401, "invalid_token")


async def test_hs256_still_works_alongside(jwks_client):
    now = int(time.time())
    hs = jwt.encode(
        {"sub": "hs-user", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60},
        TEST_SECRET,
        algorithm="HS256",
    )
    assert (await jwks_client.get("/files", headers=bearer(hs))).status_code == 200


async def test_jwks_unreachable_is_401(services, migrated, app):
    settings = make_settings(services)
    settings.auth.jwks_url = f"http://127.0.0.1:{free_port()}/jwks.json"
    settings.auth.jwt_algorithms = ["RS256"]
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            t = jwt.encode(
                {"sub": "x", "exp": time.time() + 60}, key, algorithm="RS256", headers={"kid": "k"}
            )
            assert_error(await c.get("/files", headers=bearer(t)), 401, "jwks_unavailable")
