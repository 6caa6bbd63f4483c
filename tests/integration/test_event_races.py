"""The service's own store calls make the store send events back, before the call returns.

With RGW pushing to the served app, the event handler often records a change before the
route that caused it does; the route must still answer as if it alone had made it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import quote

import pytest

from s3upload.db.records import utcnow
from s3upload.events.sweeper import sweep
from tests.conftest import events_wired
from tests.helpers import create, put_bytes, put_parts

DATA = b"race body " * 300
PART = 5 * 1024 * 1024
BIG = 2 * PART + 10  # over the tests' multipart threshold (8 MiB)


@pytest.fixture(scope="module")
async def pushed(services, migrated):
    """An app served on a real port, whose bucket's RGW notifications push to it."""
    async with events_wired(services, "test-event-races") as wired:
        yield wired


async def _status(client, auth, upload_id, want, seconds=5.0):
    got = {}
    for _ in range(int(seconds / 0.05)):
        got = (await client.get(f"/files/{upload_id}", headers=auth)).json()
        if got["status"] == want:
            break
        await asyncio.sleep(0.05)
    return got


async def _uploaded(client, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    assert (await _status(client, auth, up["id"], "uploaded"))["status"] == "uploaded"
    return up


async def test_delete_of_an_uploaded_file_answers_204_whoever_marks_it(pushed, auth, http):
    app, client = pushed
    for _ in range(5):  # the event wins most of these races; any loss would be a 409
        up = await _uploaded(client, auth, http)
        resp = await client.delete(f"/files/{up['id']}", headers=auth)
        assert resp.status_code == 204, resp.text
        assert (await _status(client, auth, up["id"], "deleted"))["status"] == "deleted"
        store = app.state.store
        assert await store.head(up["key"]) is None
        again = await client.delete(f"/files/{up['id']}", headers=auth)
        assert again.status_code == 204, again.text


async def test_delete_of_a_failed_file_answers_204(pushed, auth, http):
    app, client = pushed
    up = await create(client, auth, fileSize=len(DATA))
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=b"short", ContentType="image/png"
    )
    assert (await _status(client, auth, up["id"], "failed"))["status"] == "failed"
    resp = await client.delete(f"/files/{up['id']}", headers=auth)
    assert resp.status_code == 204, resp.text
    assert (await client.get(f"/files/{up['id']}", headers=auth)).json()["status"] == "deleted"


async def test_complete_of_multipart_answers_uploaded(pushed, auth, http):
    _, client = pushed
    data = b"m" * BIG
    up = await create(client, auth, fileType="video/mp4", fileSize=len(data), fileName="v.mp4")
    assert up["strategy"] == "multipart"
    responses = await put_parts(http, up["multipart"]["parts"], data, up["multipart"]["partSize"])
    assert all(r.status_code == 200 for r in responses)
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"
    again = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert again.status_code == 200, again.text


async def test_uppy_complete_answers_uploaded(pushed, auth, http):
    _, client = pushed
    data = b"u" * (PART + 10)
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "u.mp4", "type": "video/mp4", "metadata": {}},
    )
    assert created.status_code == 200, created.text
    upload_id, key = created.json()["uploadId"], created.json()["key"]
    q = f"key={quote(key, safe='')}"
    etags = []
    for n, chunk in ((1, data[:PART]), (2, data[PART:])):
        signed = await client.get(f"/s3/multipart/{upload_id}/{n}?{q}", headers=auth)
        assert signed.status_code == 200, signed.text
        put = await http.put(signed.json()["url"], content=chunk)
        assert put.status_code == 200, put.text
        etags.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    done = await client.post(
        f"/s3/multipart/{upload_id}/complete?{q}", headers=auth, json={"parts": etags}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"


async def test_cancel_of_a_multipart_upload_with_parts_answers_204(pushed, auth, http):
    _, client = pushed
    data = b"c" * BIG
    up = await create(client, auth, fileType="video/mp4", fileSize=len(data), fileName="c.mp4")
    await put_parts(http, up["multipart"]["parts"][:1], data, up["multipart"]["partSize"])
    resp = await client.delete(f"/uploads/{up['id']}", headers=auth)
    assert resp.status_code == 204, resp.text
    assert (await client.get(f"/files/{up['id']}", headers=auth)).json()["status"] == "aborted"


async def test_sweeper_with_events_wired(pushed, auth, http):
    app, client = pushed
    data = b"s" * BIG
    stale = await create(client, auth, fileType="video/mp4", fileSize=len(data), fileName="s.mp4")
    await put_parts(http, stale["multipart"]["parts"][:1], data, stale["multipart"]["partSize"])
    actions = await sweep(
        sessionmaker=app.state.sessionmaker,
        store=app.state.store,
        settings=app.state.settings.sweep,
        now=utcnow() + timedelta(days=2),
    )
    mine = [a for a in actions if a.upload_id == stale["id"]]
    assert [a.action for a in mine] == ["expired"]
    got = await _status(client, auth, stale["id"], "expired")
    assert got["status"] == "expired"
