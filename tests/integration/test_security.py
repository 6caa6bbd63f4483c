"""Security suite: every route that names an upload refuses other owners; no injection."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from s3upload.app import create_app
from s3upload.events.sweeper import sweep
from tests.conftest import events_wired, make_settings
from tests.helpers import (
    assert_error,
    call_id_route,
    create,
    free_port,
    id_routes,
    put_bytes,
    serving,
    wait_for_status,
)

MiB = 1024 * 1024


async def test_every_route_with_an_id_hides_other_owners_uploads(client, app, auth, auth_for):
    single = await create(client, auth)
    multi = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    intruder = auth_for("intruder")
    routes = id_routes(app)
    assert len(routes) >= 12, routes
    for method, template in routes:
        for up in (single, multi):
            resp = await call_id_route(client, method, template, up, intruder)
            assert_error(resp, 404, "not_found")
    # nothing was changed by the attempts
    for up in (single, multi):
        got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
        assert got["status"] == "pending"


@pytest.mark.parametrize(
    "metadata",
    [{"title": "a\r\nX-Injected: 1"}, {"x\r\ny": "v"}, {"title": "\x00"}, {"a b": "c"}],
)
async def test_metadata_cannot_inject_headers(client, auth, metadata):
    resp = await client.post(
        "/uploads",
        json={"fileName": "a.png", "fileType": "image/png", "fileSize": 5, "metadata": metadata},
        headers=auth,
    )
    assert_error(resp, 422)


async def test_signed_headers_carry_no_client_text_but_declared_fields(client, auth):
    up = await create(client, auth, fileName='x"; filename="evil.exe', metadata={"note": "ok"})
    headers = up["single"]["headers"]
    assert set(headers) == {
        "Content-Type",
        "Content-Length",
        "x-amz-meta-note",
        "x-amz-acl",
        "If-None-Match",
    }
    assert "evil" not in up["key"].rsplit("/", 1)[0]
    assert '"' not in up["key"]


async def test_key_query_of_uppy_routes_cannot_point_elsewhere(client, auth, auth_for):
    mine = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    theirs = await create(client, auth_for("victim"), fileType="application/zip", fileSize=12 * MiB)
    # my upload id with the victim's key, and the other way round
    for upload_id, key in ((mine["id"], theirs["key"]), (theirs["id"], mine["key"])):
        resp = await client.get(
            f"/s3/multipart/{upload_id}/1?key={quote(key, safe='')}", headers=auth
        )
        assert_error(resp, 404)


async def test_tokens_never_appear_in_responses_or_errors(client, auth):
    resp = await client.post("/uploads", json={"fileName": "a.png"}, headers=auth)
    assert auth["Authorization"].split()[1] not in resp.text
    up = await create(client, auth)
    assert "TESTACCESSKEY" not in str(up["single"]["headers"])
    assert "Signature=" in up["single"]["url"]  # the URL is signed, the secret is not in it
    assert "testsecretkey" not in up["single"]["url"]


@pytest.mark.parametrize(
    ("profile", "name", "mime"),
    [
        ("images", "logo.svg", "image/svg+xml"),
        ("default", "page.html", "text/html"),
        ("default", "page.xhtml", "application/xhtml+xml"),
        ("default", "app.js", "text/javascript"),
    ],
)
async def test_active_content_is_never_served_inline(client, auth, http, profile, name, mime):
    """Script-capable files come back as attachments even when `inline` is asked for."""
    data = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    up = await create(
        client, auth, profile=profile, fileName=name, fileType=mime, fileSize=len(data)
    )
    assert (await put_bytes(http, up, data)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    link = await client.get(
        f"/files/{up['id']}/download", params={"disposition": "inline"}, headers=auth
    )
    assert link.status_code == 200, link.text
    got = await http.get(link.json()["url"])
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment; ")


# Integrity: no upload can change who reads its object, or swap it once verified.

DATA = b"integrity " * 100


def _anonymous_url(app, key: str) -> str:
    return app.state.store.signer.object_url(key)


async def test_a_put_cannot_make_its_object_public(client, app, auth, http):
    """An extra `x-amz-acl: public-read` breaks the signature; the object stays private."""
    up = await create(client, auth, fileSize=len(DATA))
    headers = up["single"]["headers"]
    assert headers["x-amz-acl"] == "private"
    swapped = {**headers, "x-amz-acl": "public-read"}
    resp = await http.put(up["single"]["url"], content=DATA, headers=swapped)
    assert resp.status_code == 403, resp.text
    doubled = [*headers.items(), ("x-amz-acl", "public-read")]
    resp = await http.put(up["single"]["url"], content=DATA, headers=doubled)
    assert resp.status_code == 403, resp.text
    assert (await put_bytes(http, up, DATA)).status_code == 200
    assert (await http.get(_anonymous_url(app, up["key"]))).status_code == 403


async def test_the_bucket_refuses_public_acls_from_any_url(client, app, auth, http):
    """Even a URL signed without the ACL (an old one, or another tool's) cannot go public:
    `bucket setup` makes the store ignore public ACLs."""
    up = await create(client, auth, fileSize=len(DATA))
    store = app.state.store
    headers = {"Content-Type": "image/png", "Content-Length": str(len(DATA))}
    url = store.signer.presign(
        up["key"], creds=await store.credentials(), method="PUT", headers=headers
    )
    resp = await http.put(url, content=DATA, headers={**headers, "x-amz-acl": "public-read"})
    assert resp.status_code in (200, 403), resp.text  # stored (ACL ignored) or refused
    assert (await http.get(_anonymous_url(app, up["key"]))).status_code in (403, 404)


async def test_a_post_form_cannot_make_its_object_public(client, app, auth, http):
    up = await create(client, auth, fileSize=len(DATA), method="POST")
    fields = up["single"]["fields"]
    assert fields["acl"] == "private"
    files = {"file": ("blob", DATA, "image/png")}
    forged = {**fields, "acl": "public-read"}
    resp = await http.post(up["single"]["url"], data=forged, files=files)
    assert resp.status_code == 403, resp.text
    assert (await http.get(_anonymous_url(app, up["key"]))).status_code in (403, 404)


async def test_a_verified_file_cannot_be_swapped_by_repeating_its_put(client, app, auth, http):
    up = await create(client, auth, fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"
    other = b"X" * len(DATA)  # same length, other bytes
    again = await http.put(up["single"]["url"], content=other, headers=up["single"]["headers"])
    assert again.status_code == 412, again.text
    without = {k: v for k, v in up["single"]["headers"].items() if k != "If-None-Match"}
    resp = await http.put(up["single"]["url"], content=other, headers=without)
    assert resp.status_code == 403, resp.text  # the condition is signed: it cannot be dropped
    store = app.state.store
    body = await (await store.client.get_object(Bucket=store.bucket, Key=up["key"]))["Body"].read()
    assert body == DATA


@pytest.fixture(scope="module")
async def pushed(services, migrated):
    async with events_wired(services, "test-security-events") as wired:
        yield wired


async def test_a_swapped_post_upload_fails_and_is_not_downloadable(pushed, auth, http):
    """POST forms cannot be conditional: the store's event reveals the swap instead."""
    _, client = pushed
    up = await create(client, auth, fileSize=len(DATA), method="POST")
    files = {"file": ("blob", DATA, "image/png")}
    assert (
        await http.post(up["single"]["url"], data=up["single"]["fields"], files=files)
    ).is_success
    got = await wait_for_status(client, auth, up["id"], "uploaded")
    assert got["status"] == "uploaded"
    other = {"file": ("blob", b"Y" * len(DATA), "image/png")}
    resp = await http.post(up["single"]["url"], data=up["single"]["fields"], files=other)
    assert resp.is_success, resp.text  # the store takes it; the service must notice
    got = await wait_for_status(client, auth, up["id"], "failed")
    assert got["status"] == "failed"
    assert got["failureReason"].startswith("the object changed after verification")
    link = await client.get(f"/files/{up['id']}/download", headers=auth)
    assert_error(link, 409, "not_downloadable")


# Bodies: bounded, and read only once the caller is known.


async def _raw_request(base: str, head: str, body: bytes = b"") -> bytes:
    """Send a request's head (and some body) over a socket; the first bytes of the answer."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(3):  # an answer that waits for the body never comes
            return await reader.read(4096)
    finally:
        writer.close()


@pytest.fixture(scope="module")
async def served(app):
    async with serving(app, free_port()) as base:
        yield base


async def test_no_body_is_read_before_the_token(served):
    """A 100 MB body without a token is answered 401 before a byte of it is sent."""
    head = (
        "POST /uploads HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * MiB}\r\n"
    )
    answer = await _raw_request(served, head)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"missing_token"' in answer


async def test_an_oversized_body_is_refused_unread(served, auth):
    head = (
        f"POST /uploads HTTP/1.1\r\nHost: t\r\nAuthorization: {auth['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 * MiB}\r\n"
    )
    answer = await _raw_request(served, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"body_too_large"' in answer


async def test_a_chunked_body_is_cut_at_the_cap(client, auth):
    async def chunks():
        for _ in range(4):
            yield b" " * MiB  # JSON whitespace: valid until the cap is passed

    resp = await client.post(
        "/uploads", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(resp, 413, "body_too_large")


async def test_bodies_under_the_cap_work_and_events_need_no_token(client, auth):
    up = await create(client, auth, fileType="application/zip", fileSize=600 * MiB)
    numbers = list(range(1, up["multipart"]["partCount"] + 1))
    resp = await client.post(
        f"/uploads/{up['id']}/parts", json={"partNumbers": numbers}, headers=auth
    )
    assert resp.status_code == 200, resp.text
    event = await client.post("/events/s3", json={"Records": []})
    assert event.status_code != 401  # its own secret guards it (403 without)


# The daily byte quota holds for uploads that declare no size (Uppy's).


@pytest.fixture
async def quota_client(services, app):
    """The app with a 1,000-byte daily quota."""
    application = create_app(make_settings(services, limits={"bytes_per_day": 1000}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


def _policy_cap(fields: dict) -> int:
    policy = json.loads(base64.b64decode(fields["policy"]))
    (rule,) = [
        c for c in policy["conditions"] if isinstance(c, list) and c[0] == "content-length-range"
    ]
    return int(rule[2])


async def _sizeless_post(client, auth, http, size: int) -> tuple[dict, int]:
    params = await client.get(
        "/s3/params", params={"filename": "a.bin", "type": "application/octet-stream"}, headers=auth
    )
    assert params.status_code == 200, params.text
    target = params.json()
    assert target["method"] == "POST"
    files = {"file": ("a.bin", b"q" * size, "application/octet-stream")}
    sent = await http.post(target["url"], data=target["fields"], files=files)
    return target, sent.status_code


async def test_sizeless_uploads_are_capped_and_charged(quota_client, auth_for, http):
    client, auth = quota_client, auth_for(f"quota-{uuid.uuid4()}")
    target, status = await _sizeless_post(client, auth, http, 5 * MiB)
    assert _policy_cap(target["fields"]) == 1000  # the day's quota, not the profile's 5 TiB
    assert status >= 400  # the store refuses what the policy does not allow
    target, status = await _sizeless_post(client, auth, http, 600)
    assert status < 300
    done = await client.put(
        "/file-status", json={"key": target["fields"]["key"], "status": "uploaded"}, headers=auth
    )
    assert done.status_code == 200, done.text
    assert done.json()["fileSize"] == 600  # charged now, as the store holds it
    target, status = await _sizeless_post(client, auth, http, 500)
    assert _policy_cap(target["fields"]) == 400
    assert status >= 400
    target, status = await _sizeless_post(client, auth, http, 400)
    assert status < 300
    key = target["fields"]["key"]
    done = await client.put("/file-status", json={"key": key, "status": "uploaded"}, headers=auth)
    assert done.json()["status"] == "uploaded"
    over = await client.get(
        "/s3/params", params={"filename": "a.bin", "type": "application/octet-stream"}, headers=auth
    )
    assert_error(over, 429, "quota_exceeded")


async def _uppy_multipart(client, auth) -> tuple[str, str]:
    created = await client.post(
        "/s3/multipart",
        headers=auth,
        json={"filename": "big.bin", "type": "application/octet-stream", "metadata": {}},
    )
    assert created.status_code == 200, created.text
    return created.json()["uploadId"], created.json()["key"]


async def test_sizeless_multipart_stops_at_the_quota(quota_client, auth_for, http):
    client, auth = quota_client, auth_for(f"quota-{uuid.uuid4()}")
    upload_id, key = await _uppy_multipart(client, auth)
    q = f"key={quote(key, safe='')}"
    part = await client.get(f"/s3/multipart/{upload_id}/1?{q}", headers=auth)
    assert part.status_code == 200, part.text
    put = await http.put(part.json()["url"], content=b"p" * (5 * MiB))
    assert put.status_code == 200
    more = await client.get(f"/s3/multipart/{upload_id}/2?{q}", headers=auth)
    assert_error(more, 413, "file_too_large")  # its parts already hold its 1,000-byte limit
    done = await client.post(
        f"/s3/multipart/{upload_id}/complete?{q}",
        headers=auth,
        json={"parts": [{"PartNumber": 1, "ETag": put.headers["ETag"]}]},
    )
    assert_error(done, 413, "file_too_large")
    record = await client.get(f"/files/{upload_id}", headers=auth)
    assert record.json()["status"] == "failed"


async def test_no_parts_are_signed_once_the_day_is_spent(quota_client, auth_for):
    client, auth = quota_client, auth_for(f"quota-{uuid.uuid4()}")
    upload_id, key = await _uppy_multipart(client, auth)
    spend = {"fileName": "a.bin", "fileType": "application/octet-stream", "fileSize": 1000}
    assert (await client.post("/uploads", json=spend, headers=auth)).status_code == 201
    part = await client.get(f"/s3/multipart/{upload_id}/1?key={quote(key, safe='')}", headers=auth)
    assert_error(part, 429, "quota_exceeded")


async def test_the_sweeper_seals_or_fails_verified_post_uploads(client, app, auth, http):
    """Without events, a POST form written again is caught once the form has expired."""
    files = {"file": ("blob", DATA, "image/png")}
    swapped = await create(client, auth, fileSize=len(DATA), method="POST")
    kept = await create(client, auth, fileSize=len(DATA), method="POST")
    for up in (swapped, kept):
        assert (
            await http.post(up["single"]["url"], data=up["single"]["fields"], files=files)
        ).is_success
        done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
        assert done.json()["status"] == "uploaded"
    other = {"file": ("blob", b"Z" * len(DATA), "image/png")}
    resp = await http.post(swapped["single"]["url"], data=swapped["single"]["fields"], files=other)
    assert resp.is_success
    later = datetime.fromisoformat(kept["expiresAt"]) + timedelta(minutes=10)
    run = {"sessionmaker": app.state.sessionmaker, "store": app.state.store}
    actions = await sweep(**run, settings=app.state.settings.sweep, now=later)
    mine = {a.upload_id: a.action for a in actions if a.upload_id in (swapped["id"], kept["id"])}
    assert mine == {swapped["id"]: "failed", kept["id"]: "sealed"}
    got = (await client.get(f"/files/{swapped['id']}", headers=auth)).json()
    assert got["status"] == "failed"
    assert got["failureReason"].startswith("the object changed after verification")
    assert_error(await client.get(f"/files/{swapped['id']}/download", headers=auth), 409)
    assert (await client.get(f"/files/{kept['id']}/download", headers=auth)).status_code == 200
    again = await sweep(**run, settings=app.state.settings.sweep, now=later)
    assert not [a for a in again if a.upload_id in (swapped["id"], kept["id"])]  # once each


async def test_readers_of_other_owners_uploads_get_no_signed_target(client, auth, auth_for):
    """Admins and processors read any record, but only the owner gets URLs to send bytes."""
    single = await create(client, auth)
    multi = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    own = (await client.get(f"/uploads/{single['id']}", headers=auth)).json()
    assert own["single"]["url"]
    for role in ("admin", "processor"):
        reader = auth_for(f"reader-{role}", roles=[role])
        got = await client.get(f"/uploads/{single['id']}", headers=reader)
        assert got.status_code == 200, got.text
        assert got.json()["single"] is None
        got = (await client.get(f"/uploads/{multi['id']}", headers=reader)).json()
        assert got["multipart"] is None
        assert got["uploadedParts"] is None
        signed = await client.post(
            f"/uploads/{multi['id']}/parts", json={"partNumbers": [1]}, headers=reader
        )
        assert_error(signed, 404)
