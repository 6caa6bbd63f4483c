"""Webhooks out, against a real receiver process that verifies every signature."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest

from s3upload.app import create_app
from s3upload.db.records import utcnow
from s3upload.events.sweeper import sweep
from s3upload.store import bucket
from tests.conftest import make_settings
from tests.helpers import create, free_port, put_bytes, put_parts, serving
from tests.webhook_helpers import SECRET, Receiver, arrived, drain_outbox, start_receiver

DATA = b"webhook body " * 100
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def receiver(tmp_path_factory) -> Iterator[Receiver]:
    rx = start_receiver(tmp_path_factory.mktemp("receiver"), free_port(), SECRET)
    yield rx
    rx.stop()


def webhook_settings(services, receiver_url: str, bucket_name: str, port: int, **delivery):
    return make_settings(
        services,
        s3={"bucket": bucket_name},
        events={"webhook_url": f"http://127.0.0.1:{port}/events/s3"},
        webhooks=[{"url": receiver_url, "secret": SECRET}],
        delivery={"poll": 0.05, "backoff": [0.2] * 8, "timeout": 2, "lease": 5, **delivery},
    )


@pytest.fixture(scope="module")
async def wired(services, app, receiver):
    """The app served on a real port: RGW events in, webhooks out to the receiver."""
    port = free_port()
    settings = webhook_settings(services, receiver.url, "test-webhooks", port)
    await drain_outbox(app.state.sessionmaker)
    application = create_app(settings)
    async with application.router.lifespan_context(application), serving(application, port) as base:
        await bucket.setup(application.state.store, settings)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield application, client


async def test_single_upload_and_delete_reach_the_receiver_once_each(wired, receiver, auth, http):
    _, client = wired
    up = await create(client, auth, fileSize=len(DATA), metadata={"title": "hi"})
    assert (await put_bytes(http, up, DATA)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"
    assert (await client.delete(f"/files/{up['id']}", headers=auth)).status_code == 204
    assert await arrived(receiver, up["id"], ["x", "y"]) == ["upload.uploaded", "upload.deleted"]
    first = next(r for r in receiver.got() if r["body"]["data"]["id"] == up["id"])
    assert first["id"].startswith("msg_")
    data = first["body"]["data"]
    assert data["status"] == "uploaded"
    assert data["fileSize"] == len(DATA)
    assert data["metadata"] == {"title": "hi"}
    assert data["owner"]
    assert set(data) >= {"key", "fileName", "fileType", "createdAt", "uploadedAt"}
    text = json.dumps(first["body"])
    assert "X-Amz-Signature" not in text
    assert "single" not in data
    assert auth["Authorization"].split()[1] not in text


async def test_multipart_uppy_cancel_processing_and_events(wired, receiver, auth, auth_for, http):
    app, client = wired
    data = b"m" * (2 * 5 * MiB + 10)
    multi = await create(client, auth, fileType="video/mp4", fileSize=len(data), fileName="v.mp4")
    await put_parts(http, multi["multipart"]["parts"], data, multi["multipart"]["partSize"])
    assert (await client.post(f"/uploads/{multi['id']}/complete", headers=auth)).status_code == 200
    processor = auth_for("worker-1", roles=["processor"])
    for status in ("processing", "completed"):
        body = {"id": multi["id"], "status": status}
        assert (await client.put("/file-status", json=body, headers=processor)).status_code == 200
    cancelled = await create(client, auth, fileSize=len(DATA))
    assert (await client.delete(f"/uploads/{cancelled['id']}", headers=auth)).status_code == 204
    pushed = await create(client, auth, fileSize=len(DATA))  # no complete: RGW's event verifies
    assert (await put_bytes(http, pushed, DATA)).status_code == 200
    stale = await create(client, auth, fileSize=len(DATA))
    later = utcnow() + timedelta(days=3)
    run = {"sessionmaker": app.state.sessionmaker, "store": app.state.store}
    await sweep(**run, settings=app.state.settings.sweep, now=later)
    want = ["upload.uploaded", "upload.processing", "upload.completed"]
    assert await arrived(receiver, multi["id"], want) == want
    assert await arrived(receiver, cancelled["id"], ["a"]) == ["upload.aborted"]
    assert await arrived(receiver, pushed["id"], ["a"]) == ["upload.uploaded"]
    assert await arrived(receiver, stale["id"], ["a"]) == ["upload.expired"]


async def test_a_failing_receiver_is_retried_and_never_followed(wired, receiver, auth, http):
    _, client = wired
    receiver.mode("500")
    up = await create(client, auth, fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    await asyncio.sleep(0.3)  # attempts every 0.2 s, 9 in all
    receiver.mode("redirect")
    await asyncio.sleep(0.4)
    receiver.mode("ok")
    assert await arrived(receiver, up["id"], ["a"]) == ["upload.uploaded"]
    mine = [r for r in receiver.got() if r["body"]["data"]["id"] == up["id"]]
    assert {r["mode"] for r in mine} == {"500", "redirect", "ok"}
    assert len({r["id"] for r in mine}) == 1  # the same webhook-id on every attempt
    assert not [r for r in receiver.got() if r["path"] == "/elsewhere"]


def test_bad_endpoints_refuse_to_start(services):
    from pydantic import ValidationError

    for endpoint, message in (
        ({"url": "ftp://example.com/h", "secret": SECRET}, "http"),
        ({"url": "http://127.0.0.1/h", "secret": "not-a-secret"}, "whsec_"),
        ({"url": "http://127.0.0.1/h", "secret": SECRET, "events": ["upload.x"]}, "unknown"),
    ):
        with pytest.raises(ValidationError, match=message):
            make_settings(services, webhooks=[endpoint])


async def test_uppy_upload_reaches_the_receiver(wired, receiver, auth, http):
    _, client = wired
    data = b"u" * (5 * MiB + 10)
    created = await client.post(
        "/s3/multipart", headers=auth, json={"filename": "u.mp4", "type": "video/mp4"}
    )
    upload_id, key = created.json()["uploadId"], created.json()["key"]
    q = f"key={quote(key, safe='')}"
    parts = []
    for n, chunk in ((1, data[: 5 * MiB]), (2, data[5 * MiB :])):
        signed = (await client.get(f"/s3/multipart/{upload_id}/{n}?{q}", headers=auth)).json()
        put = await http.put(signed["url"], content=chunk)
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    done = await client.post(
        f"/s3/multipart/{upload_id}/complete?{q}", headers=auth, json={"parts": parts}
    )
    assert done.status_code == 200, done.text
    assert await arrived(receiver, upload_id, ["a"]) == ["upload.uploaded"]


async def test_a_change_that_rolls_back_writes_no_event(app, auth, client):
    """The event is written in the change's own transaction: no change, no event."""
    from sqlalchemy import func, select, update

    from s3upload.db import outbox
    from s3upload.db.models import Upload, WebhookEvent
    from s3upload.db.states import Status

    up = await create(client, auth, fileSize=len(DATA))
    upload_id = uuid.UUID(up["id"])
    count = select(func.count()).where(WebhookEvent.upload_id == upload_id)
    async with app.state.sessionmaker() as session:
        upload = await session.get(Upload, upload_id)
        await session.execute(
            update(Upload).where(Upload.id == upload_id).values(status=Status.ABORTED)
        )
        await outbox.record(session, upload, Status.ABORTED, updated_at=utcnow())
        await session.rollback()
        assert (await session.execute(count)).scalar_one() == 0
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    async with app.state.sessionmaker() as session:
        assert (await session.execute(count)).scalar_one() == 1  # the real change wrote one


async def test_event_data_is_the_upload_object_without_targets(app, auth, client):
    """The outbox builds its own dict (db/ sits below the API's schemas): it must not drift
    from the upload object the API answers, but for the signed targets and the owner."""
    from s3upload.db import outbox
    from s3upload.db.models import Upload

    up = await create(client, auth, fileSize=len(DATA), metadata={"title": "x"})
    async with app.state.sessionmaker() as session:
        upload = await session.get(Upload, uuid.UUID(up["id"]))
        data = outbox.upload_data(upload)
    api = (await client.get(f"/files/{up['id']}", headers=auth)).json()
    # Signed targets, and public URLs (made from PUBLIC_BASE_URL by the API).
    targets = {"single", "multipart", "uploadedParts", "publicUrl"}
    assert set(data) == (set(api) - targets) | {"owner"}
    assert {k: data[k] for k in api if k not in targets} == {
        k: v for k, v in api.items() if k not in targets
    }
