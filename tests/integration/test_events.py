"""Store events keep records true: RGW's own pushes, bare S3 events, duplicates, disorder."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from s3upload.app import create_app
from tests.conftest import BUCKET, EVENTS_SECRET, events_wired, make_settings
from tests.helpers import assert_error, create, put_bytes

DATA = b"event body " * 200
SECRET = {"X-Events-Secret": EVENTS_SECRET}


def record(name: str, key: str, bucket_name: str = BUCKET) -> dict:
    """An S3 event record as RGW, MinIO and AWS send it (key URL-encoded, `+` for spaces)."""
    return {
        "eventVersion": "2.2",
        "eventSource": "ceph:s3",
        "eventName": name,
        "s3": {"bucket": {"name": bucket_name}, "object": {"key": key.replace(" ", "+")}},
    }


async def send(client, *records, headers=SECRET):
    return await client.post("/events/s3", json={"Records": list(records)}, headers=headers)


@pytest.fixture(scope="module")
async def pushed(services, migrated):
    """An app served on a real port, whose bucket's RGW notifications push to it."""
    async with events_wired(services, "test-events") as wired:
        yield wired


async def _status(client, auth, upload_id, want, seconds=5.0):
    for _ in range(int(seconds / 0.05)):
        got = (await client.get(f"/uploads/{upload_id}", headers=auth)).json()
        if got["status"] == want:
            return got
        await asyncio.sleep(0.05)
    return got


async def test_rgw_push_marks_uploaded_without_complete(pushed, auth, http):
    _, client = pushed
    up = await create(client, auth, fileName="no complete.png", fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    got = await _status(client, auth, up["id"], "uploaded")
    assert got["status"] == "uploaded"
    assert got["uploadedAt"]


async def test_rgw_push_of_removal_marks_deleted(pushed, auth, http):
    app, client = pushed
    up = await create(client, auth, fileSize=len(DATA))
    await put_bytes(http, up, DATA)
    assert (await _status(client, auth, up["id"], "uploaded"))["status"] == "uploaded"
    store = app.state.store
    await store.client.delete_object(Bucket=store.bucket, Key=up["key"])
    assert (await _status(client, auth, up["id"], "deleted"))["status"] == "deleted"


async def test_rgw_push_for_wrong_size_marks_failed(pushed, auth):
    app, client = pushed
    up = await create(client, auth, fileSize=len(DATA))
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=b"short", ContentType="image/png"
    )
    got = await _status(client, auth, up["id"], "failed")
    assert got["status"] == "failed"
    assert "size" in got["failureReason"]


async def test_same_event_three_times(client, auth, app):
    up = await create(client, auth, fileName="dup licate.png", fileSize=len(DATA))
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=DATA, ContentType="image/png"
    )
    answers = [await send(client, record("ObjectCreated:Put", up["key"])) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json() for a in answers] == [{"processed": 1, "ignored": 0}] + [
        {"processed": 0, "ignored": 1}
    ] * 2
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "uploaded"


async def test_removed_before_created(client, auth, app):
    up = await create(client, auth, fileSize=len(DATA))
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=DATA, ContentType="image/png"
    )
    # a stale removal (say, of an earlier attempt) arrives first: the object is there
    late = await send(client, record("ObjectRemoved:Delete", up["key"]))
    assert late.json() == {"processed": 0, "ignored": 1}
    await send(client, record("s3:ObjectCreated:Put", up["key"]))
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "uploaded"

    # now the object really goes; the creation event comes again after the removal one
    await store.client.delete_object(Bucket=store.bucket, Key=up["key"])
    await send(client, record("ObjectRemoved:Delete", up["key"]))
    await send(client, record("ObjectCreated:Put", up["key"]))
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "deleted"


async def test_created_for_aborted_upload_removes_the_late_object(client, auth, app, http):
    up = await create(client, auth, fileSize=len(DATA))
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    # the signed URL outlived the cancel
    assert (await put_bytes(http, up, DATA)).status_code == 200
    answer = await send(client, record("ObjectCreated:Put", up["key"]))
    assert answer.json()["processed"] == 1
    assert await app.state.store.head(up["key"]) is None
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "aborted"


async def test_unknown_keys_other_buckets_and_test_events_are_ignored(client):
    resp = await send(
        client,
        record("ObjectCreated:Put", "uploads/none/such.png"),
        record("ObjectCreated:Put", "x", bucket_name="elsewhere"),
        record("ReducedRedundancyLostObject", "y"),
    )
    assert resp.json() == {"processed": 0, "ignored": 3}
    test_event = await client.post("/events/s3", json={"Event": "s3:TestEvent"}, headers=SECRET)
    assert test_event.json() == {"processed": 0, "ignored": 0}


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, {"Records": []}, 403, "invalid_event_secret"),
        ({"X-Events-Secret": "wrong"}, {"Records": []}, 403, "invalid_event_secret"),
        (SECRET, "not json", 400, "invalid_event"),
        (SECRET, [1, 2], 400, "invalid_event"),
        (SECRET, {"Records": "x"}, 400, "invalid_event"),
        (SECRET, {"Records": [{"eventName": "ObjectCreated:Put"}]}, 400, "invalid_event"),
    ],
)
async def test_bad_deliveries(client, headers, body, status, code):
    content = body if isinstance(body, str) else None
    kwargs = {"content": content} if content else {"json": body}
    resp = await client.post("/events/s3", headers=headers, **kwargs)
    assert_error(resp, status, code)


async def test_secret_in_query(client):
    resp = await client.post(f"/events/s3?secret={EVENTS_SECRET}", json={"Records": []})
    assert resp.json() == {"processed": 0, "ignored": 0}


async def test_events_disabled_without_secret(services, migrated):
    settings = make_settings(services, events={"secret": None})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            resp = await c.post("/events/s3", json={"Records": []}, headers=SECRET)
            assert_error(resp, 403, "events_disabled")
