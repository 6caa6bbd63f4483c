"""Abuse limits: rate limits per owner and IP (memory and shared Redis), per-owner quotas."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import asynccontextmanager

import httpx
import pytest

from s3upload.app import create_app
from tests.conftest import make_settings
from tests.helpers import assert_error, create, free_port

BODY = {"fileName": "a.png", "fileType": "image/png", "fileSize": 10}


@asynccontextmanager
async def limited_client(services, **limits):
    redis_url = limits.pop("redis_url", None)
    settings = make_settings(services, limits={"enabled": True, **limits}, redis_url=redis_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_create_rate_limit_per_owner(services, migrated, app, auth, auth_for):
    async with limited_client(services, create_per_owner="3/minute") as c:
        for _ in range(3):
            assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201
        resp = await c.post("/presigned-url", json=BODY, headers=auth)
        err = assert_error(resp, 429, "rate_limited")
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        assert err["details"]["retryAfter"] == int(resp.headers["Retry-After"])
        # another owner from the same address is not affected
        other = await c.post("/uploads", json=BODY, headers=auth_for("someone-else"))
        assert other.status_code == 201


async def test_create_rate_limit_per_ip(services, migrated, app, auth_for):
    async with limited_client(services, create_per_ip="4/minute") as c:
        codes = [
            (await c.post("/uploads", json=BODY, headers=auth_for(f"u{i}"))).status_code
            for i in range(5)
        ]
        assert codes == [201, 201, 201, 201, 429]


async def test_sign_rate_limit(services, migrated, app, auth):
    async with limited_client(services, sign_per_owner="2/minute") as c:
        up = (
            await c.post(
                "/uploads",
                json={**BODY, "fileType": "application/zip", "fileSize": 12 * 1024 * 1024},
                headers=auth,
            )
        ).json()
        path = f"/uploads/{up['id']}/parts"
        codes = [
            (await c.post(path, json={"partNumbers": [1]}, headers=auth)).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]


async def test_rate_limit_does_not_count_unauthenticated(services, migrated, app, auth):
    async with limited_client(services, create_per_ip="2/minute") as c:
        for _ in range(5):
            assert (await c.post("/uploads", json=BODY)).status_code == 401
        assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201


async def test_max_pending_quota(services, migrated, app, auth):
    async with limited_client(services, max_pending=2) as c:
        first = await c.post("/uploads", json=BODY, headers=auth)
        await c.post("/uploads", json=BODY, headers=auth)
        resp = await c.post("/uploads", json=BODY, headers=auth)
        err = assert_error(resp, 429, "quota_exceeded")
        assert err["details"]["maxPending"] == 2
        assert resp.headers["Retry-After"]
        # cancelling one frees a slot
        assert (await c.delete(f"/uploads/{first.json()['id']}", headers=auth)).status_code == 204
        assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201


async def test_daily_bytes_quota(services, migrated, app, auth):
    async with limited_client(services, bytes_per_day=25) as c:
        assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201
        assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201
        over = await c.post("/uploads", json=BODY, headers=auth)
        assert assert_error(over, 429, "quota_exceeded")["details"]["usedBytes"] == 20
        huge = await c.post("/uploads", json={**BODY, "fileSize": 26}, headers=auth)
        assert_error(huge, 413, "over_daily_quota")


@pytest.fixture(scope="module")
def redis_url():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/install-deps.sh installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


async def test_two_instances_share_limits_through_redis(services, migrated, app, auth, redis_url):
    rules = {"create_per_owner": "3/minute", "redis_url": redis_url}
    async with (
        limited_client(services, **dict(rules)) as a,
        limited_client(services, **dict(rules)) as b,
    ):
        codes = []
        for c in (a, b, a, b):
            codes.append((await c.post("/uploads", json=BODY, headers=auth)).status_code)
        assert codes == [201, 201, 201, 429]


async def test_redis_down_fails_open(services, migrated, app, auth):
    dead = f"redis://127.0.0.1:{free_port()}"
    async with limited_client(services, create_per_owner="1/minute", redis_url=dead) as c:
        for _ in range(2):
            assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201


async def test_metrics_are_exposed(client, auth):
    await create(client, auth)
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    text = resp.text
    assert 's3upload_http_requests_total{method="POST",route="/uploads",status="201"}' in text
    assert 's3upload_uploads_created_total{profile="default",strategy="single"}' in text
    assert "s3upload_http_request_duration_seconds_bucket" in text
    # labels carry templates, not ids
    assert "/uploads/{id}" in text or 'route="/uploads"' in text
    assert auth["Authorization"].split()[1][:20] not in text


async def test_metrics_token(services, migrated, app):
    settings = make_settings(services, metrics_token="scrape-me")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert_error(await c.get("/metrics"), 401)
            ok = await c.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
            assert ok.status_code == 200


async def test_metrics_are_off_in_production_without_a_token(services, migrated, app):
    for token, status in ((None, 404), ("scrape-me", 200)):
        settings = make_settings(services, metrics_token=token).model_copy(
            update={"environment": "production"}
        )
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                resp = await c.get("/metrics", headers=headers)
                assert resp.status_code == status, resp.text
                if token:
                    assert_error(await c.get("/metrics"), 401)
