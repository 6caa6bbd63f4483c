"""The sweeper reconciles abandoned uploads, once each, even with two running at once."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from s3upload.db.records import utcnow
from s3upload.events.sweeper import sweep
from tests.helpers import create, put_bytes, put_parts

MiB = 1024 * 1024
LATER = timedelta(days=3)  # past every window, multipart ones included


async def run(app, settings, **kwargs):
    return await sweep(
        sessionmaker=app.state.sessionmaker,
        store=app.state.store,
        settings=settings.sweep,
        now=utcnow() + LATER,
        **kwargs,
    )


async def test_abandoned_multipart_is_aborted_and_expired(client, auth, http, app, settings):
    data = os.urandom(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    await put_parts(http, up["multipart"]["parts"][:2], data, 5 * MiB)
    actions = {a.upload_id: a for a in await run(app, settings)}
    assert actions[up["id"]].action == "expired"
    store = app.state.store
    listed = await store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=up["key"])
    assert listed.get("Uploads", []) == []
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "expired"
    assert "window" in got["failureReason"]


async def test_upload_whose_event_was_lost_is_reconciled(client, auth, http, app, settings):
    data = b"lost event" * 100
    up = await create(client, auth, fileSize=len(data))
    assert (await put_bytes(http, up, data)).status_code == 200
    actions = {a.upload_id: a for a in await run(app, settings)}
    assert actions[up["id"]].action == "uploaded"
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "uploaded"
    assert got["uploadedAt"]


async def test_wrong_object_is_removed_and_expired(client, auth, app, settings):
    up = await create(client, auth, fileSize=100)
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=b"x" * 5, ContentType="image/png"
    )
    actions = {a.upload_id: a for a in await run(app, settings)}
    assert actions[up["id"]].action == "expired"
    assert "size" in actions[up["id"]].reason
    assert await store.head(up["key"]) is None


async def test_dry_run_changes_nothing(client, auth, app, settings):
    up = await create(client, auth)
    actions = {a.upload_id: a for a in await run(app, settings, dry_run=True)}
    assert actions[up["id"]].action == "expired"
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "pending"


async def test_fresh_uploads_are_left_alone(client, auth, app, settings):
    up = await create(client, auth)
    actions = await sweep(
        sessionmaker=app.state.sessionmaker, store=app.state.store, settings=settings.sweep
    )
    assert up["id"] not in {a.upload_id for a in actions}


async def test_two_sweepers_do_each_upload_once(client, auth, http, app, settings):
    ids = []
    for i in range(12):
        up = await create(client, auth, fileName=f"{i}.png", fileSize=10)
        if i % 2:
            await put_bytes(http, up, b"0123456789")
        ids.append(up["id"])
    first, second = await asyncio.gather(run(app, settings), run(app, settings))
    done_first = [a.upload_id for a in first if a.upload_id in ids]
    done_second = [a.upload_id for a in second if a.upload_id in ids]
    assert not set(done_first) & set(done_second)
    assert sorted(done_first + done_second) == sorted(ids)
    statuses = [(await client.get(f"/uploads/{i}", headers=auth)).json()["status"] for i in ids]
    assert statuses == ["expired", "uploaded"] * 6


async def test_periodic_sweep_in_the_app(services, migrated, auth, app):
    import uuid

    import httpx
    from sqlalchemy import update

    from s3upload.app import create_app
    from s3upload.db.models import Upload
    from tests.conftest import make_settings

    application = create_app(make_settings(services, sweep={"interval": 0.05}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            up = await create(c, auth)
            async with application.state.sessionmaker() as session:
                await session.execute(
                    update(Upload)
                    .where(Upload.id == uuid.UUID(up["id"]))
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )
                await session.commit()
            for _ in range(100):
                got = (await c.get(f"/uploads/{up['id']}", headers=auth)).json()
                if got["status"] != "pending":
                    break
                await asyncio.sleep(0.05)
            assert got["status"] == "expired"


async def test_sweep_prunes_usage_the_quota_no_longer_reads(app, settings):
    from sqlalchemy import select

    from s3upload.db.models import UploadUsage
    from s3upload.db.quotas import hour_of

    now = utcnow()
    owner = f"usage-{os.urandom(4).hex()}"
    async with app.state.sessionmaker() as session, session.begin():
        for age in (0, 24, 26, 48):
            session.add(UploadUsage(owner=owner, hour=hour_of(now) - timedelta(hours=age), bytes=1))
    await sweep(sessionmaker=app.state.sessionmaker, store=app.state.store, settings=settings.sweep)
    async with app.state.sessionmaker() as session:
        hours = (
            await session.scalars(select(UploadUsage.hour).where(UploadUsage.owner == owner))
        ).all()
    assert sorted(now - h for h in hours) == sorted(
        now - (hour_of(now) - timedelta(hours=age)) for age in (0, 24)
    )
