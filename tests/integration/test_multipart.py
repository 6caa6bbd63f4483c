"""Multipart uploads through signed part URLs, against the real RGW."""

from __future__ import annotations

import base64
import hashlib
import os

import httpx
import pytest

from s3upload.app import create_app
from tests.conftest import make_settings
from tests.helpers import assert_error, create, multipart_etag, put_parts

MiB = 1024 * 1024
PART = 5 * MiB  # the test app's part size


def blob(size: int) -> bytes:
    """Incompressible bytes, so nothing downstream can shortcut."""
    return os.urandom(size)


async def parts_for(client, auth, upload_id, numbers, **extra):
    resp = await client.post(
        f"/uploads/{upload_id}/parts", json={"partNumbers": numbers, **extra}, headers=auth
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["parts"]


@pytest.fixture
async def default_client(services, migrated, app):
    """An app with the shipped upload defaults (100 MiB threshold, 64 MiB parts)."""
    settings = make_settings(services, upload={})
    settings.upload = type(settings.upload)()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_200_mib_in_parallel_parts(default_client, auth, http, app):
    data = blob(200 * MiB)
    up = await create(
        default_client, auth, fileName="talk.mp4", fileType="video/mp4", fileSize=len(data)
    )
    assert up["strategy"] == "multipart"
    assert up["single"] is None
    plan = up["multipart"]
    assert plan["partSize"] == 64 * MiB
    assert plan["partCount"] == 4
    assert [p["partNumber"] for p in plan["parts"]] == [1, 2, 3, 4]
    assert plan["parts"][3]["headers"] == {"Content-Length": str(200 * MiB - 3 * 64 * MiB)}

    results = await put_parts(http, plan["parts"], data, plan["partSize"], concurrency=4)
    assert [r.status_code for r in results] == [200] * 4

    done = await default_client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"
    assert done.json()["multipart"] is None
    info = await app.state.store.head(up["key"])
    assert info.size == len(data)
    assert info.content_type == "video/mp4"
    assert info.etag == multipart_etag(data, plan["partSize"])


async def test_resume_after_losing_client_state(client, auth, http, app):
    data = blob(23 * MiB)  # parts of 5, 5, 5, 5, 3 MiB
    up = await create(client, auth, fileType="application/octet-stream", fileSize=len(data))
    assert up["multipart"]["partCount"] == 5
    first = [p for p in up["multipart"]["parts"] if p["partNumber"] in (1, 3)]
    assert all(r.status_code == 200 for r in await put_parts(http, first, data, PART))

    # The client crashed: all it kept is the upload id.
    state = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert state["status"] == "pending"
    assert state["multipart"]["partCount"] == 5
    assert state["multipart"]["parts"] == []
    stored = {p["partNumber"]: p for p in state["uploadedParts"]}
    assert set(stored) == {1, 3}
    assert stored[1]["size"] == PART
    assert stored[1]["etag"].strip('"') == hashlib.md5(data[:PART]).hexdigest()  # noqa: S324

    missing = [n for n in range(1, 6) if n not in stored]
    parts = await parts_for(client, auth, up["id"], missing)
    assert [p["partNumber"] for p in parts] == [2, 4, 5]
    assert all(r.status_code == 200 for r in await put_parts(http, parts, data, PART))

    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"
    assert (await app.state.store.head(up["key"])).etag == multipart_etag(data, PART)
    after = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert after["uploadedParts"] is None


async def test_complete_with_missing_part_is_409(client, auth, http):
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    parts = [p for p in up["multipart"]["parts"] if p["partNumber"] != 2]
    await put_parts(http, parts, data, PART)
    resp = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    body = assert_error(resp, 409, "parts_missing")
    assert body["details"]["missing"] == [2]
    assert body["details"]["status"] == "pending"
    assert (await client.get(f"/uploads/{up['id']}", headers=auth)).json()["status"] == "pending"


async def test_part_of_wrong_size_is_refused_by_store(client, auth, http):
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    part = up["multipart"]["parts"][0]
    resp = await http.put(part["url"], content=data[: PART - 1])
    assert resp.status_code == 403
    resp = await http.put(part["url"], content=data[: PART + 1])
    assert resp.status_code == 403
    state = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert state["uploadedParts"] == []


async def test_abort_leaves_nothing_in_store(client, auth, http, app):
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    await put_parts(http, up["multipart"]["parts"][:2], data, PART)
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    store = app.state.store
    listed = await store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=up["key"])
    assert listed.get("Uploads", []) == []
    assert await store.head(up["key"]) is None
    state = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert state["status"] == "aborted"
    assert state["uploadedParts"] is None
    resp = await client.post(f"/uploads/{up['id']}/parts", json={"partNumbers": [1]}, headers=auth)
    assert_error(resp, 409, "invalid_transition")
    # a part URL signed before the abort no longer works
    late = await http.put(up["multipart"]["parts"][2]["url"], content=data[2 * PART :])
    assert late.status_code == 404
    assert "NoSuchUpload" in late.text


async def test_ten_thousand_part_urls_in_one_request(client, auth, http):
    size = 10_000 * PART  # 48.8 GiB, exactly 10,000 parts of 5 MiB
    up = await create(client, auth, fileType="video/mp4", fileSize=size)
    assert up["multipart"]["partCount"] == 10_000
    assert len(up["multipart"]["parts"]) == 100  # the first batch
    numbers = list(range(1, 10_001))
    # How fast is measured in bench/multipart.py; here only that one request signs them all.
    resp = await client.post(
        f"/uploads/{up['id']}/parts", json={"partNumbers": numbers}, headers=auth
    )
    assert resp.status_code == 200
    parts = resp.json()["parts"]
    assert [p["partNumber"] for p in parts] == numbers
    assert len({p["url"] for p in parts}) == 10_000
    # the last one really works
    last = await http.put(parts[-1]["url"], content=b"z" * PART, headers=parts[-1]["headers"])
    assert last.status_code == 200, last.text
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"partNumbers": [0]}, "validation_error"),
        ({"partNumbers": [1, -1]}, "validation_error"),
        ({"partNumbers": []}, "validation_error"),
        ({"partNumbers": list(range(1, 10_002))}, "validation_error"),
        ({"partNumbers": ["a"]}, "validation_error"),
        ({"partNumbers": [1], "md5s": {"1": "short"}}, "invalid_checksum"),
    ],
)
async def test_bad_part_requests(client, auth, body, code):
    up = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    resp = await client.post(f"/uploads/{up['id']}/parts", json=body, headers=auth)
    assert_error(resp, 422, code)


async def test_parts_outside_the_plan_conflict_with_it(client, auth):
    up = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    resp = await client.post(f"/uploads/{up['id']}/parts", json={"partNumbers": [4]}, headers=auth)
    err = assert_error(resp, 409, "part_outside_plan")
    assert err["details"] == {"partNumbers": [4], "partCount": 3}
    # An MD5 of a part not asked for signs nothing and refuses nothing.
    body = {"partNumbers": [1], "md5s": {"2": "1B2M2Y8AsgTpgAmY7PhCfg=="}}
    resp = await client.post(f"/uploads/{up['id']}/parts", json=body, headers=auth)
    assert resp.status_code == 200, resp.text
    assert "Content-MD5" not in resp.json()["parts"][0]["headers"]


async def test_parts_of_single_upload_or_other_owner(client, auth, auth_for):
    single = await create(client, auth)
    resp = await client.post(
        f"/uploads/{single['id']}/parts", json={"partNumbers": [1]}, headers=auth
    )
    assert_error(resp, 409, "not_multipart")
    big = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    other = auth_for("intruder")
    for method, path, body in [
        ("POST", f"/uploads/{big['id']}/parts", {"partNumbers": [1]}),
        ("POST", f"/uploads/{big['id']}/complete", None),
        ("DELETE", f"/uploads/{big['id']}", None),
        ("GET", f"/uploads/{big['id']}", None),
    ]:
        assert_error(await client.request(method, path, json=body, headers=other), 404)


async def test_part_md5_is_enforced_by_store(client, auth, http):
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    good = base64.b64encode(hashlib.md5(data[:PART]).digest()).decode()  # noqa: S324
    parts = await parts_for(client, auth, up["id"], [1, 2], md5s={"1": good, "2": good})
    assert parts[0]["headers"]["Content-MD5"] == good
    ok, bad = await put_parts(http, parts, data, PART)
    assert ok.status_code == 200
    assert bad.status_code == 400
    assert "BadDigest" in bad.text


async def test_client_part_list_with_wrong_etag_is_409(client, auth, http):
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    await put_parts(http, up["multipart"]["parts"], data, PART)
    wrong = [{"partNumber": n, "etag": '"0123456789abcdef0123456789abcdef"'} for n in (1, 2, 3)]
    resp = await client.post(f"/uploads/{up['id']}/complete", json={"parts": wrong}, headers=auth)
    assert_error(resp, 409, "parts_rejected")
    partial = [{"partNumber": 1, "etag": "x"}]
    resp = await client.post(f"/uploads/{up['id']}/complete", json={"parts": partial}, headers=auth)
    assert_error(resp, 422, "invalid_parts")
    listed = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()["uploadedParts"]
    right = [{"partNumber": p["partNumber"], "etag": p["etag"]} for p in listed]
    resp = await client.post(f"/uploads/{up['id']}/complete", json={"parts": right}, headers=auth)
    assert resp.json()["status"] == "uploaded"


async def test_complete_after_store_already_assembled(client, auth, http, app):
    """A complete whose answer was lost: the store has the object, the record is pending."""
    data = blob(12 * MiB)
    up = await create(client, auth, fileType="application/zip", fileSize=len(data))
    await put_parts(http, up["multipart"]["parts"], data, PART)
    store = app.state.store
    record = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    parts = sorted((p["partNumber"], p["etag"]) for p in record["uploadedParts"])
    upload_id = await _store_upload_id(app, up["id"])
    await store.complete_multipart(up["key"], upload_id, parts)
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"
    again = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert again.json() == done.json()


async def _store_upload_id(app, upload_id):
    import uuid

    from s3upload.db.models import Upload

    async with app.state.sessionmaker() as session:
        row = await session.get(Upload, uuid.UUID(upload_id))
        return row.store_upload_id


async def test_whole_file_checksum_on_multipart_is_refused(client, auth):
    body = {
        "fileName": "a.zip",
        "fileType": "application/zip",
        "fileSize": 12 * MiB,
        "checksum": {"algorithm": "MD5", "value": "1B2M2Y8AsgTpgAmY7PhCfg=="},
    }
    assert_error(
        await client.post("/uploads", json=body, headers=auth), 422, "unsupported_checksum"
    )


async def test_presigned_url_stays_single_above_threshold(client, auth):
    up = await create(
        client, auth, route="/presigned-url", fileType="application/zip", fileSize=12 * MiB
    )
    assert up["strategy"] == "single"


async def test_parts_body_on_single_complete_is_refused(client, auth):
    up = await create(client, auth)
    resp = await client.post(
        f"/uploads/{up['id']}/complete",
        json={"parts": [{"partNumber": 1, "etag": "x"}]},
        headers=auth,
    )
    assert_error(resp, 409, "not_multipart")
