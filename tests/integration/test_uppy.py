"""The Uppy-compatible routes, driven with the exact requests `@uppy/aws-s3` 4.x sends."""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest

from tests.helpers import assert_error, multipart_etag

MiB = 1024 * 1024


def uppy_chunk(size: int) -> int:
    """Uppy's default part size: max(5 MiB, size / 10,000)."""
    return max(5 * MiB, -(-size // 10_000))


async def uppy_multipart(
    client, auth, http, data, *, filename="movie.mov", mime="video/quicktime", metadata=None
):
    """Create, sign part by part, PUT reading ETag headers, list: as the plugin does."""
    meta = {"name": filename, "type": mime, **(metadata or {})}
    created = await client.post(
        "/s3/multipart", headers=auth, json={"filename": filename, "type": mime, "metadata": meta}
    )
    assert created.status_code == 200, created.text
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    chunk = uppy_chunk(len(data))
    parts = []
    for n, start in enumerate(range(0, len(data), chunk), start=1):
        signed = await client.get(
            f"/s3/multipart/{quote(upload_id, safe='')}/{n}?key={quote(key, safe='')}",
            headers=auth,
        )
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert body["expires"] > 0
        put = await http.put(
            body["url"], content=data[start : start + chunk], headers=body.get("headers") or {}
        )
        assert put.status_code == 200, put.text
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    return key, upload_id, parts


async def test_multipart_end_to_end(client, auth, http, app):
    data = os.urandom(12 * MiB)
    key, upload_id, parts = await uppy_multipart(
        client, auth, http, data, metadata={"caption": "Demo"}
    )
    listed = await client.get(f"/s3/multipart/{upload_id}?key={quote(key, safe='')}", headers=auth)
    assert listed.status_code == 200
    assert [(p["PartNumber"], p["Size"]) for p in listed.json()] == [
        (1, 5 * MiB),
        (2, 5 * MiB),
        (3, 2 * MiB),
    ]
    done = await client.post(
        f"/s3/multipart/{upload_id}/complete?key={quote(key, safe='')}",
        headers=auth,
        json={"parts": parts},
    )
    assert done.status_code == 200, done.text
    assert done.json()["location"].endswith(key)
    assert done.json()["status"] == "uploaded"
    record = (await client.get(f"/uploads/{upload_id}", headers=auth)).json()
    assert record["status"] == "uploaded"
    assert record["fileSize"] == len(data)  # learnt from the store
    assert record["fileName"] == "movie.mov"
    assert record["metadata"] == {"caption": "Demo"}
    info = await app.state.store.head(key)
    assert info.etag == multipart_etag(data, 5 * MiB)
    assert info.content_type == "video/quicktime"


async def test_declared_size_binds_part_lengths(client, auth, http):
    data = os.urandom(7 * MiB)
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={
            "filename": "a.bin",
            "type": "application/octet-stream",
            "metadata": {"size": str(len(data))},
        },
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    signed = (
        await client.get(f"/s3/multipart/{upload_id}/1?key={quote(key, safe='')}", headers=auth)
    ).json()
    assert signed["headers"] == {}  # Content-Length is bound, but browsers set it themselves
    short = await http.put(signed["url"], content=data[: 5 * MiB - 1])
    assert short.status_code == 403
    assert (await http.put(signed["url"], content=data[: 5 * MiB])).status_code == 200
    outside = await client.get(
        f"/s3/multipart/{upload_id}/3?key={quote(key, safe='')}", headers=auth
    )
    assert_error(outside, 409, "part_outside_plan")


async def test_batch_signing(client, auth):
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "b.bin", "type": "application/octet-stream"},
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    resp = await client.get(
        f"/s3/multipart/{upload_id}/batch?key={quote(key, safe='')}&partNumbers=1,2,3",
        headers=auth,
    )
    assert resp.status_code == 200, resp.text
    assert sorted(resp.json()["presignedUrls"]) == ["1", "2", "3"]
    bad = await client.get(
        f"/s3/multipart/{upload_id}/batch?key={quote(key, safe='')}&partNumbers=1,x",
        headers=auth,
    )
    assert_error(bad, 422)


async def test_abort(client, auth, http, app):
    data = os.urandom(6 * MiB)
    key, upload_id, _ = await uppy_multipart(client, auth, http, data)
    resp = await client.delete(f"/s3/multipart/{upload_id}?key={quote(key, safe='')}", headers=auth)
    assert resp.status_code == 200
    assert resp.json() == {}
    store = app.state.store
    listed = await store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=key)
    assert listed.get("Uploads", []) == []
    record = (await client.get(f"/uploads/{upload_id}", headers=auth)).json()
    assert record["status"] == "aborted"


async def test_single_put_when_size_is_known(client, auth, http):
    data = b"\x89PNG" + os.urandom(3000)
    resp = await client.get(
        "/s3/params?filename=photo.png&type=image%2Fpng&metadata[name]=photo.png"
        f"&metadata[type]=image%2Fpng&metadata[caption]=Hello&metadata[size]={len(data)}",
        headers=auth,
    )
    assert resp.status_code == 200, resp.text
    params = resp.json()
    assert params["method"] == "PUT"
    assert params["headers"] == {
        "Content-Type": "image/png",
        "x-amz-meta-caption": "Hello",
        "x-amz-acl": "private",
        "If-None-Match": "*",
    }
    put = await http.put(params["url"], content=data, headers=params["headers"])
    assert put.status_code == 200, put.text
    assert put.headers.get("ETag")  # Uppy reads it; without it the upload hangs
    wrong = await http.put(params["url"], content=data + b"x", headers=params["headers"])
    assert wrong.status_code == 403
    key = params["url"].split("?")[0].split("/test-uploads/")[1]
    done = await client.put("/file-status", json={"key": key, "status": "uploaded"}, headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["fileSize"] == len(data)


async def test_single_post_when_size_is_unknown(client, auth, http):
    data = b"\x89PNG" + os.urandom(3000)
    resp = await client.get(
        "/s3/params?filename=photo.png&type=image%2Fpng"
        "&metadata[name]=photo.png&metadata[type]=image%2Fpng&metadata[caption]=Hello",
        headers=auth,
    )
    assert resp.status_code == 200, resp.text
    params = resp.json()
    assert params["method"] == "POST"
    assert params["fields"]["x-amz-meta-caption"] == "Hello"
    assert "x-amz-meta-name" not in params["fields"]
    posted = await http.post(
        params["url"], data=params["fields"], files={"file": ("photo.png", data, "image/png")}
    )
    assert posted.status_code == 204, posted.text
    key = params["fields"]["key"]
    pending = await client.get("/files", params={"status": "pending"}, headers=auth)
    assert pending.json()["items"][0]["fileSize"] is None
    done = await client.put("/file-status", json={"key": key, "status": "uploaded"}, headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["fileSize"] == len(data)


async def test_params_policy_caps_size_at_profile_maximum(client, auth, http):
    resp = await client.get(
        "/s3/params?filename=big.png&type=image%2Fpng&metadata[profile]=images", headers=auth
    )
    params = resp.json()
    too_big = await http.post(
        params["url"],
        data=params["fields"],
        files={"file": ("big.png", b"0" * (10 * MiB + 1), "image/png")},
    )
    assert too_big.status_code == 400
    assert "EntityTooLarge" in too_big.text


async def test_params_policy_is_enforced_for_type(client, auth):
    resp = await client.get(
        "/s3/params?filename=page.html&type=text%2Fhtml&metadata[profile]=images", headers=auth
    )
    assert_error(resp, 415, "unsupported_file_type")


async def test_unknown_size_over_limit_fails_at_complete(client, auth, http, app):
    """Parts bound to no length can pass the limit together: complete refuses and frees them."""
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "huge.png", "type": "image/png", "metadata": {"profile": "images"}},
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    q = f"key={quote(key, safe='')}"
    # Both signed while the store holds nothing, then sent: 6 + 5 MiB, over the 10 MiB limit.
    signed = [
        (await client.get(f"/s3/multipart/{upload_id}/{n}?{q}", headers=auth)).json()["url"]
        for n in (1, 2)
    ]
    parts = []
    for n, (url, size) in enumerate(zip(signed, (6 * MiB, 5 * MiB), strict=True), start=1):
        put = await http.put(url, content=os.urandom(size))
        assert put.status_code == 200, put.text
        parts.append({"PartNumber": n, "ETag": put.headers["ETag"]})
    more = await client.get(f"/s3/multipart/{upload_id}/3?{q}", headers=auth)
    assert_error(more, 413, "file_too_large")  # no more parts once they hold the limit
    resp = await client.post(
        f"/s3/multipart/{upload_id}/complete?{q}", headers=auth, json={"parts": parts}
    )
    body = assert_error(resp, 413, "file_too_large")
    assert body["details"]["status"] == "failed"
    store = app.state.store
    listed = await store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=key)
    assert listed.get("Uploads", []) == []


@pytest.mark.parametrize("route", ["{id}/1", "{id}", "{id}/batch"])
async def test_wrong_key_or_owner_is_404(client, auth, auth_for, route):
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "c.bin", "type": "application/octet-stream"},
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    path = "/s3/multipart/" + route.format(id=upload_id)
    extra = "&partNumbers=1" if route.endswith("batch") else ""
    wrong_key = await client.get(f"{path}?key=uploads%2Fother{extra}", headers=auth)
    assert_error(wrong_key, 404)
    other = await client.get(
        f"{path}?key={quote(key, safe='')}{extra}", headers=auth_for("mallory")
    )
    assert_error(other, 404)
    anonymous = await client.get(f"{path}?key={quote(key, safe='')}{extra}")
    assert_error(anonymous, 401)


async def test_complete_with_no_parts_is_409(client, auth):
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "d.bin", "type": "application/octet-stream"},
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    resp = await client.post(
        f"/s3/multipart/{upload_id}/complete?key={quote(key, safe='')}",
        headers=auth,
        json={"parts": []},
    )
    assert_error(resp, 409, "parts_missing")


async def test_bad_uppy_input(client, auth):
    resp = await client.post(
        "/s3/multipart", headers=auth, json={"filename": "../x", "type": "not a type"}
    )
    assert_error(resp, 422)
    resp = await client.get("/s3/params?filename=a.png", headers=auth)
    assert_error(resp, 422)
