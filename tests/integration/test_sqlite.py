"""The embedded default: the same flow on SQLite (the local run's database)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from s3upload.app import create_app
from s3upload.db import migrate
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
