"""RGW enforces what the signed URLs promise; the record stays pending after each refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from s3upload.uploads.service import utcnow
from tests.helpers import assert_error, create, put_bytes

DATA = b"\x89PNG" + b"0" * 2044  # 2,048 bytes


async def _still_pending(client, auth, up):
    got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
    assert got["status"] == "pending"
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert_error(done, 409, "object_missing")


async def test_other_content_type_refused(client, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    headers = {**up["single"]["headers"], "Content-Type": "text/html"}
    resp = await http.put(up["single"]["url"], content=DATA, headers=headers)
    assert resp.status_code == 403
    assert "SignatureDoesNotMatch" in resp.text
    await _still_pending(client, auth, up)


@pytest.mark.parametrize("size", [len(DATA) - 1, len(DATA) + 1])
async def test_body_of_other_length_refused(client, auth, http, size):
    up = await create(client, auth, fileSize=len(DATA))
    headers = {k: v for k, v in up["single"]["headers"].items() if k != "Content-Length"}
    resp = await http.put(up["single"]["url"], content=b"x" * size, headers=headers)
    assert resp.status_code == 403
    await _still_pending(client, auth, up)


async def test_expired_url_refused(client, auth, http, app):
    up = await create(client, auth, fileSize=len(DATA))
    store = app.state.store
    url = store.signer.presign(
        up["key"],
        creds=await store.credentials(),
        method="PUT",
        headers=up["single"]["headers"],
        expires_in=60,
        now=utcnow() - timedelta(minutes=5),
    )
    resp = await http.put(url, content=DATA, headers=up["single"]["headers"])
    assert resp.status_code == 403
    assert "AccessDenied" in resp.text or "Expired" in resp.text
    await _still_pending(client, auth, up)


async def test_url_with_changed_key_refused(client, auth, http, app):
    up = await create(client, auth, fileSize=len(DATA))
    url = up["single"]["url"].replace(
        up["id"], up["id"][:-1] + "0" if up["id"][-1] != "0" else up["id"][:-1] + "1"
    )
    assert url != up["single"]["url"]
    resp = await http.put(url, content=DATA, headers=up["single"]["headers"])
    assert resp.status_code == 403
    await _still_pending(client, auth, up)


async def test_url_with_tampered_signature_refused(client, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    url = up["single"]["url"]
    flipped = url[:-1] + ("0" if url[-1] != "0" else "1")
    resp = await http.put(flipped, content=DATA, headers=up["single"]["headers"])
    assert resp.status_code == 403
    await _still_pending(client, auth, up)


@pytest.mark.parametrize(
    ("size", "code"), [(len(DATA) + 1, "EntityTooLarge"), (len(DATA) - 1, "EntityTooSmall")]
)
async def test_post_body_outside_policy_refused(client, auth, http, size, code):
    up = await create(client, auth, method="POST", fileSize=len(DATA))
    resp = await put_bytes(http, up, b"y" * size)
    assert resp.status_code == 400
    assert code in resp.text
    await _still_pending(client, auth, up)


async def test_post_with_other_content_type_refused(client, auth, http):
    up = await create(client, auth, method="POST", fileSize=len(DATA))
    fields = {**up["single"]["fields"], "Content-Type": "text/html"}
    resp = await http.post(
        up["single"]["url"], data=fields, files={"file": ("x", DATA, "text/html")}
    )
    assert resp.status_code == 403
    await _still_pending(client, auth, up)
