"""The embedded default: the same flow on SQLite (the local run's database)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from s3upload.app import create_app
from s3upload.db import migrate
from s3upload.events.sweeper import sweep
from s3upload.settings import Profile
from s3upload.store import bucket
from tests.conftest import make_settings
from tests.helpers import create, put_bytes


@pytest.fixture
async def sqlite_client(services, tmp_path, app):
    url = f"sqlite+aiosqlite:///{tmp_path}/s3upload.db"
    await asyncio.to_thread(migrate.upgrade, url)
    application = create_app(make_settings(services, database={"url": url}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_flow_and_listing_on_sqlite(sqlite_client, auth, http):
    data = b"sqlite" * 100
    ups = [
        await create(sqlite_client, auth, fileName=f"{i}.png", fileSize=len(data)) for i in range(3)
    ]
    assert (await put_bytes(http, ups[0], data)).status_code == 200
    done = await asyncio.gather(
        *(sqlite_client.post(f"/uploads/{ups[0]['id']}/complete", headers=auth) for _ in range(3))
    )
    assert {r.json()["status"] for r in done} == {"uploaded"}
    first = (await sqlite_client.get("/files", params={"limit": 2}, headers=auth)).json()
    assert [i["id"] for i in first["items"]] == [ups[2]["id"], ups[1]["id"]]
    second = (
        await sqlite_client.get(
            "/files", params={"limit": 2, "cursor": first["nextCursor"]}, headers=auth
        )
    ).json()
    assert [i["id"] for i in second["items"]] == [ups[0]["id"]]
    assert second["items"][0]["status"] == "uploaded"
    assert second["items"][0]["uploadedAt"].endswith("Z")
    assert second["nextCursor"] is None


async def test_scopes_and_claims_on_sqlite(services, tmp_path, auth_for, http):
    url = f"sqlite+aiosqlite:///{tmp_path}/scoped.db"
    await asyncio.to_thread(migrate.upgrade, url)
    profiles = {
        "default": Profile(),
        "team": Profile(scope_types=["team"], access="claims", claim_within=1),
    }
    settings = make_settings(services, database={"url": url}, profiles=profiles)
    application = create_app(settings)
    writer = auth_for("w", scopes=["team/t:upload", "team/t:read"])
    reader = auth_for("r", scopes=["team/*:read"])
    body = {"fileName": "a.txt", "fileType": "text/plain", "fileSize": 2, "profile": "team"}
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            kept = await create(c, writer, **body, scope="team/t")
            dropped = await create(c, writer, **body, scope="team/t")
            for up in (kept, dropped):
                assert (await put_bytes(http, up, b"hi")).status_code == 200
                assert (await c.post(f"/uploads/{up['id']}/complete", headers=writer)).is_success
            claimed = await c.post(f"/files/{kept['id']}/claim", headers=writer)
            assert claimed.json()["claimed"] is True
            listed = await c.get("/files", params={"scope": "team/t"}, headers=reader)
            assert [i["id"] for i in listed.json()["items"]] == [dropped["id"], kept["id"]]
            done = (await c.get(f"/files/{dropped['id']}", headers=writer)).json()
            later = datetime.fromisoformat(done["claimDeadline"]) + timedelta(seconds=1)
            await sweep(
                sessionmaker=application.state.sessionmaker,
                store=application.state.store,
                settings=settings.sweep,
                now=later,
            )
            listed = await c.get("/files", params={"scope": "team/t"}, headers=reader)
            assert [i["id"] for i in listed.json()["items"]] == [kept["id"]]
            gone = (await c.get(f"/files/{dropped['id']}", headers=writer)).json()
            assert (gone["status"], gone["failureReason"]) == ("expired", "unclaimed")


async def test_two_processors_on_sqlite_claim_a_file_once(services, tmp_path, auth, http):
    from s3upload.processing.worker import Processor
    from tests import images
    from tests.integration.conftest import processing_settings

    url = f"sqlite+aiosqlite:///{tmp_path}/processing.db"
    await asyncio.to_thread(migrate.upgrade, url)
    settings = processing_settings(services, database={"url": url})
    application = create_app(settings)
    data = images.photo(200, 150)
    async with application.router.lifespan_context(application):
        await bucket.setup(application.state.store, settings)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            up = await create(
                c, auth, fileName="a.jpg", fileType="image/jpeg", fileSize=len(data), profile="pics"
            )
            assert (await put_bytes(http, up, data)).status_code == 200
            assert (await c.post(f"/uploads/{up['id']}/complete", headers=auth)).is_success
            state = application.state
            workers = [Processor(state.sessionmaker, state.store, settings) for _ in range(4)]
            claims = await asyncio.gather(*(w.claim() for w in workers))
            assert len([c for c in claims if c is not None]) == 1
            held = next(c for c in claims if c is not None)
            worker = workers[claims.index(held)]
            assert await worker.process(held) == "completed"
            done = (await c.get(f"/files/{up['id']}", headers=auth)).json()
            assert done["status"] == "completed"
