"""The whole single-part flow against the real RGW and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib

import httpx

from tests.helpers import assert_error, create, put_bytes

DATA = bytes(range(256)) * 40  # 10,240 bytes


async def test_put_flow_create_upload_complete(client, auth, http):
    up = await create(client, auth, fileName="holiday photo.png", fileSize=len(DATA))
    assert up["status"] == "pending"
    assert up["strategy"] == "single"
    assert up["single"]["method"] == "PUT"
    assert up["single"]["headers"]["Content-Type"] == "image/png"
    assert up["single"]["headers"]["Content-Length"] == str(len(DATA))
    assert "X-Amz-Signature=" in up["single"]["url"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in up["single"]["url"]
    assert up["key"].endswith(f"/{up['id']}/holiday-photo.png")

    resp = await put_bytes(http, up, DATA)
    assert resp.status_code == 200, resp.text

    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "uploaded"
    assert body["uploadedAt"] is not None
    assert body["single"] is None

    again = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert again.status_code == 200
    assert again.json() == body

    got = await client.get(f"/uploads/{up['id']}", headers=auth)
    assert got.json()["status"] == "uploaded"


async def test_post_policy_flow_with_file_status(client, auth, http):
    up = await create(client, auth, route="/presigned-url", method="POST", fileSize=len(DATA))
    assert up["method"] == "POST"
    assert up["fields"]["key"] == up["key"]
    assert up["url"] == up["single"]["url"]
    policy = base64.b64decode(up["fields"]["policy"]).decode()
    assert f'["content-length-range", {len(DATA)}, {len(DATA)}]' in policy

    resp = await put_bytes(http, up, DATA)
    assert resp.status_code == 204, resp.text

    done = await client.put(
        "/file-status", json={"key": up["key"], "status": "uploaded"}, headers=auth
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"


async def test_metadata_and_md5_are_signed_and_stored(client, auth, http, app):
    md5 = base64.b64encode(hashlib.md5(DATA).digest()).decode()  # noqa: S324
    up = await create(
        client,
        auth,
        fileSize=len(DATA),
        metadata={"Title": "Keynote"},
        checksum={"algorithm": "MD5", "value": md5},
        profile="images",
    )
    headers = up["single"]["headers"]
    assert headers["x-amz-meta-title"] == "Keynote"
    assert headers["Content-MD5"] == md5
    assert headers["Cache-Control"] == "max-age=86400"
    assert (await put_bytes(http, up, DATA)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"
    info = await app.state.store.head(up["key"])
    assert info.metadata == {"title": "Keynote"}


async def test_wrong_md5_body_is_refused_by_store(client, auth, http):
    md5 = base64.b64encode(hashlib.md5(b"something else").digest()).decode()  # noqa: S324
    up = await create(client, auth, fileSize=len(DATA), checksum={"algorithm": "MD5", "value": md5})
    resp = await put_bytes(http, up, DATA)
    assert resp.status_code == 400
    assert "BadDigest" in resp.text


async def test_get_pending_upload_resigns_target(client, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["single"]["headers"] == up["single"]["headers"]
    assert (await put_bytes(http, got, DATA)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"
    files = await client.get(f"/files/{up['id']}", headers=auth)
    assert files.json()["status"] == "uploaded"


async def test_complete_before_bytes_is_409_and_stays_pending(client, auth):
    up = await create(client, auth)
    resp = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    body = assert_error(resp, 409, "object_missing")
    assert body["details"]["status"] == "pending"
    got = await client.get(f"/uploads/{up['id']}", headers=auth)
    assert got.json()["status"] == "pending"


async def test_object_of_other_size_out_of_band_fails(client, auth, app):
    up = await create(client, auth, fileSize=len(DATA))
    await app.state.store.client.put_object(
        Bucket=app.state.store.bucket, Key=up["key"], Body=DATA[:100], ContentType="image/png"
    )
    resp = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    body = assert_error(resp, 422, "verification_failed")
    assert body["details"]["status"] == "failed"
    assert "size" in body["details"]["reason"]
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "failed"
    assert "100" in got["failureReason"]
    again = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert_error(again, 409, "invalid_transition")


async def test_object_of_other_type_out_of_band_fails(client, auth, app):
    up = await create(client, auth, fileSize=len(DATA))
    await app.state.store.client.put_object(
        Bucket=app.state.store.bucket, Key=up["key"], Body=DATA, ContentType="text/html"
    )
    resp = await client.put(
        "/file-status", json={"id": up["id"], "status": "uploaded"}, headers=auth
    )
    body = assert_error(resp, 422, "verification_failed")
    assert "type" in body["details"]["reason"]


async def test_cancel_removes_object_and_marks_aborted(client, auth, http, app):
    up = await create(client, auth, fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    resp = await client.delete(f"/uploads/{up['id']}", headers=auth)
    assert resp.status_code == 204
    assert await app.state.store.head(up["key"]) is None
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "aborted"
    assert got["single"] is None
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert_error(done, 409, "invalid_transition")


async def test_cancel_after_upload_is_409(client, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    await put_bytes(http, up, DATA)
    await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    resp = await client.delete(f"/uploads/{up['id']}", headers=auth)
    assert assert_error(resp, 409)["details"]["status"] == "uploaded"


async def test_processor_moves_through_processing_to_completed(client, auth, auth_for, http):
    up = await create(client, auth, fileSize=len(DATA))
    proc = auth_for("worker-1", roles=["processor"])
    early = await client.put(
        "/file-status", json={"id": up["id"], "status": "processing"}, headers=proc
    )
    assert assert_error(early, 409, "invalid_transition")["details"]["status"] == "pending"

    await put_bytes(http, up, DATA)
    await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    own = await client.put(
        "/file-status", json={"id": up["id"], "status": "processing"}, headers=auth
    )
    assert_error(own, 403, "role_required")

    for status in ("processing", "completed"):
        resp = await client.put(
            "/file-status", json={"id": up["id"], "status": status}, headers=proc
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == status
    back = await client.put(
        "/file-status", json={"id": up["id"], "status": "processing"}, headers=proc
    )
    assert assert_error(back, 409)["details"]["status"] == "completed"
    same = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert same.json()["status"] == "completed"


async def test_processor_marks_failed_with_reason(client, auth, auth_for, http):
    up = await create(client, auth, fileSize=len(DATA))
    await put_bytes(http, up, DATA)
    await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    proc = auth_for("worker-2", roles=["processor"])
    resp = await client.put(
        "/file-status",
        json={"id": up["id"], "status": "failed", "reason": "virus found"},
        headers=proc,
    )
    assert resp.json()["status"] == "failed"
    assert resp.json()["failureReason"] == "virus found"


async def test_statuses_not_settable_through_file_status(client, auth):
    up = await create(client, auth)
    for status in ("aborted", "deleted", "expired", "pending"):
        resp = await client.put(
            "/file-status", json={"id": up["id"], "status": status}, headers=auth
        )
        assert_error(resp, 422, "status_not_settable")


async def test_concurrent_completes_agree(client, auth, http):
    import asyncio

    up = await create(client, auth, fileSize=len(DATA))
    await put_bytes(http, up, DATA)
    results = await asyncio.gather(
        *(client.post(f"/uploads/{up['id']}/complete", headers=auth) for _ in range(5))
    )
    assert [r.status_code for r in results] == [200] * 5
    assert {r.json()["status"] for r in results} == {"uploaded"}
    assert len({r.json()["uploadedAt"] for r in results}) == 1


async def test_tampered_method_is_refused(http, client, auth):
    up = await create(client, auth, fileSize=len(DATA))
    resp = await http.post(up["single"]["url"], content=DATA, headers=up["single"]["headers"])
    assert resp.status_code in (403, 405), resp.text
    assert isinstance(resp, httpx.Response)
