"""Two service instances over one database and store behave as one service."""

from __future__ import annotations

import asyncio

import httpx

from s3upload.app import create_app
from tests.conftest import make_settings
from tests.helpers import put_bytes


async def test_two_instances_share_records(services, migrated, app, auth, http):
    settings = make_settings(services)
    a, b = create_app(settings), create_app(settings)
    async with a.router.lifespan_context(a), b.router.lifespan_context(b):
        ca = httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://a")
        cb = httpx.AsyncClient(transport=httpx.ASGITransport(app=b), base_url="http://b")
        async with ca, cb:
            body = {"fileName": "x.png", "fileType": "image/png", "fileSize": 4}
            up = (await ca.post("/uploads", json=body, headers=auth)).json()
            assert (await put_bytes(http, up, b"abcd")).status_code == 200
            # both complete at once, one through each instance: one wins, both agree
            done = await asyncio.gather(
                ca.post(f"/uploads/{up['id']}/complete", headers=auth),
                cb.post(f"/uploads/{up['id']}/complete", headers=auth),
            )
            assert [r.status_code for r in done] == [200, 200]
            assert done[0].json() == done[1].json()
            listed = (await cb.get("/files", headers=auth)).json()["items"]
            assert [i["id"] for i in listed] == [up["id"]]
