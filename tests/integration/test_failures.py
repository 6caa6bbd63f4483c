"""When the object store or the database fails: 502/503 with a clear message, no record."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from s3upload.app import create_app
from s3upload.db import session as session_module
from tests.conftest import make_settings
from tests.helpers import assert_error

BODY = {"fileName": "a.png", "fileType": "image/png", "fileSize": 10}


@asynccontextmanager
async def app_client(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def _no_records(client, auth):
    listed = await client.get("/files", headers=auth)
    assert listed.status_code == 200
    assert listed.json()["items"] == []


@pytest.mark.parametrize("route", ["/uploads", "/presigned-url"])
async def test_store_down_is_503_and_no_record(services, migrated, client, auth, route):
    settings = make_settings(
        services, s3={"endpoint_url": "http://127.0.0.1:9", "max_attempts": 1, "connect_timeout": 1}
    )
    async with app_client(settings) as down:
        resp = await down.post(route, json=BODY, headers=auth)
        err = assert_error(resp, 503, "object_store_unavailable")
        assert "object store" in err["message"]
        assert resp.headers["Retry-After"]
        ready = await down.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "objectStore": "unavailable"}
    await _no_records(client, auth)


async def test_missing_bucket_is_502_and_no_record(services, migrated, client, auth):
    settings = make_settings(services, s3={"bucket": "test-no-such-bucket"})
    async with app_client(settings) as broken:
        resp = await broken.post("/uploads", json=BODY, headers=auth)
        err = assert_error(resp, 502, "object_store_error")
        assert "test-no-such-bucket" in err["message"]
    await _no_records(client, auth)


async def test_bad_credentials_are_502_and_no_record(services, migrated, client, auth, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret-wrong-secret00")
    settings = make_settings(services)
    async with app_client(settings) as broken:
        resp = await broken.post("/uploads", json=BODY, headers=auth)
        err = assert_error(resp, 502, "object_store_error")
        assert "credentials" in err["message"]
    await _no_records(client, auth)


async def test_store_down_during_complete_is_503_and_stays_pending(
    services, migrated, client, auth
):
    created = await client.post("/uploads", json=BODY, headers=auth)
    uid = created.json()["id"]
    settings = make_settings(
        services, s3={"endpoint_url": "http://127.0.0.1:9", "max_attempts": 1, "connect_timeout": 1}
    )
    async with app_client(settings) as down:
        resp = await down.post(f"/uploads/{uid}/complete", headers=auth)
        assert_error(resp, 503, "object_store_unavailable")
        cancel = await down.delete(f"/uploads/{uid}", headers=auth)
        assert_error(cancel, 503, "object_store_unavailable")
    got = await client.get(f"/uploads/{uid}", headers=auth)
    assert got.json()["status"] == "pending"


async def test_database_down_is_503(services, auth):
    settings = make_settings(
        services,
        database={"url": "postgresql+asyncpg://postgres@127.0.0.1:9/x", "pool_timeout": 1},
    )
    async with app_client(settings) as down:
        resp = await down.post("/uploads", json=BODY, headers=auth)
        err = assert_error(resp, 503, "database_unavailable")
        assert "database" in err["message"]
        assert resp.headers["Retry-After"]
        listed = await down.get("/files", headers=auth)
        assert_error(listed, 503, "database_unavailable")
        ready = await down.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        assert (await down.get("/healthz")).json() == {"status": "ok"}


async def test_connections_the_database_dropped_are_replaced_unseen(services, app, auth):
    """Pooled connections whose backends were terminated (as by a restart) are noticed at
    checkout and replaced: no request fails."""
    # `app` (the session's) has put the bucket in place; this app has a pool of its own.
    mine = create_app(make_settings(services, database={"pool_size": 2}))
    transport = httpx.ASGITransport(app=mine)
    async with (
        mine.router.lifespan_context(mine),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        engine = mine.state.engine
        # Both pooled connections open at once, so they are two; then back in the pool.
        async with engine.connect() as one, engine.connect() as two:
            pids = [
                (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
                for conn in (one, two)
            ]
        killer = create_async_engine(services.database_url, poolclass=NullPool)
        async with killer.connect() as conn:
            for pid in pids:
                stopped = await conn.exec_driver_sql("SELECT pg_terminate_backend($1)", (pid,))
                assert stopped.scalar() is True
        await killer.dispose()
        await asyncio.sleep(0.2)  # the terminations reach the pool's sockets
        for _ in range(3):
            resp = await c.post("/uploads", json=BODY, headers=auth)
            assert resp.status_code == 201, resp.text
            assert (await c.get("/files", headers=auth)).status_code == 200


async def test_connections_idle_for_long_are_pinged_before_use(services, app, auth, monkeypatch):
    """A connection idle past PING_AFTER_IDLE is pinged at checkout (inside the pool's
    greenlet, as SQLAlchemy's own pre-ping runs) and, healthy, handed out."""
    monkeypatch.setattr(session_module, "PING_AFTER_IDLE", 0.0)
    pings = 0
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        nonlocal pings
        pings += 1
        real_ping(self)  # the real round trip, counted

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    mine = create_app(make_settings(services, database={"pool_size": 1}))
    transport = httpx.ASGITransport(app=mine)
    async with (
        mine.router.lifespan_context(mine),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        for _ in range(3):
            assert (await c.post("/uploads", json=BODY, headers=auth)).status_code == 201
            assert (await c.get("/files", headers=auth)).status_code == 200
    assert pings >= 6  # every checkout, the writer's and the sessions'
