"""Bad input always gets the documented 4xx, never a 500, and never reaches a key."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error, create

OK = {"fileName": "a.png", "fileType": "image/png", "fileSize": 10}


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\system32",
        "/abs/path.png",
        "a/../../b.png",
        "..",
        "....",
        "名前 ファイル.png",
        "x" * 255,
        " spaced name .png ",
    ],
)
async def test_hostile_names_never_reach_the_key(client, auth, name):
    up = await create(client, auth, fileName=name)
    prefix = f"uploads/{up['createdAt'][:4]}/{up['createdAt'][5:7]}/{up['id']}/"
    assert up["key"].startswith(prefix)
    tail = up["key"][len(prefix) :]
    assert "/" not in tail
    assert "\\" not in tail
    assert ".." not in tail
    assert tail
    assert len(tail) <= 120
    assert all(c.isalnum() or c in "._-" for c in tail)
    assert up["fileName"] == name.strip()


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"fileName": "x" * 10_000}, 422, "validation_error"),
        ({"fileName": "x" * 256}, 422, "validation_error"),
        ({"fileName": "   "}, 422, "validation_error"),
        ({"fileName": ""}, 422, "validation_error"),
        ({"fileName": "evil\nname.png"}, 422, "validation_error"),
        ({"fileName": "nul\x00.png"}, 422, "validation_error"),
        ({"fileName": "gpj\u202eexe.png"}, 422, "validation_error"),
        ({"fileName": 12}, 422, "validation_error"),
        ({"fileSize": -1}, 422, "validation_error"),
        ({"fileSize": 0}, 422, "validation_error"),
        ({"fileSize": 1.5}, 422, "validation_error"),
        ({"fileSize": "10"}, 422, "validation_error"),
        ({"fileSize": True}, 422, "validation_error"),
        ({"fileSize": 10**30}, 413, "file_too_large"),
        ({"fileSize": 6 * 1024**4}, 413, "file_too_large"),
        ({"fileType": "not a mime"}, 422, "validation_error"),
        ({"fileType": "image/png\r\nX-Evil: 1"}, 422, "validation_error"),
        ({"fileType": ""}, 422, "validation_error"),
        ({"method": "GET"}, 422, "validation_error"),
        ({"profile": "nope"}, 422, "unknown_profile"),
        ({"profile": "../x"}, 422, "validation_error"),
        ({"extra": 1}, 422, "validation_error"),
        ({"metadata": {"bad key": "v"}}, 422, "invalid_metadata"),
        ({"metadata": {"k": "line\nbreak"}}, 422, "invalid_metadata"),
        ({"metadata": {"k": "é"}}, 422, "invalid_metadata"),
        ({"metadata": {"k": "v" * 3000}}, 422, "invalid_metadata"),
        ({"metadata": {"k": 1}}, 422, "validation_error"),
        ({"checksum": {"algorithm": "SHA256", "value": "AAAA"}}, 422, "unsupported_checksum"),
        ({"checksum": {"algorithm": "MD5", "value": "not base64!"}}, 422, "invalid_checksum"),
        ({"checksum": {"algorithm": "MD5", "value": "AAAA"}}, 422, "invalid_checksum"),
        ({"checksum": {"algorithm": "MD4", "value": "AAAA"}}, 422, "validation_error"),
    ],
)
async def test_bad_fields(client, auth, patch, status, code):
    resp = await client.post("/uploads", json={**OK, **patch}, headers=auth)
    assert_error(resp, status, code)


@pytest.mark.parametrize("missing", ["fileName", "fileType", "fileSize"])
async def test_missing_fields(client, auth, missing):
    body = {k: v for k, v in OK.items() if k != missing}
    resp = await client.post("/presigned-url", json=body, headers=auth)
    err = assert_error(resp, 422, "validation_error")
    assert missing in err["message"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"a string"', b"{", b"", b"null"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_non_json_bodies_are_400(client, auth, raw, content_type):
    headers = {**auth, "Content-Type": content_type}
    resp = await client.post("/uploads", content=raw, headers=headers)
    assert_error(resp, 400, "invalid_json")


async def test_html_where_only_images_are_allowed_is_415(client, auth):
    resp = await client.post(
        "/uploads", json={**OK, "fileType": "text/html", "profile": "images"}, headers=auth
    )
    body = assert_error(resp, 415, "unsupported_file_type")
    assert body["details"]["allowedTypes"] == ["image/*"]


async def test_image_over_profile_limit_is_413(client, auth):
    resp = await client.post(
        "/uploads", json={**OK, "fileSize": 11 * 1024 * 1024, "profile": "images"}, headers=auth
    )
    assert assert_error(resp, 413, "file_too_large")["details"]["maxSize"] == 10 * 1024 * 1024


async def test_presigned_url_over_single_part_limit_names_uploads_route(client, auth):
    resp = await client.post(
        "/presigned-url", json={**OK, "fileSize": 5 * 1024**3 + 1}, headers=auth
    )
    assert "POST /uploads" in assert_error(resp, 413, "file_too_large")["message"]


async def test_metadata_key_not_in_profile(client, auth):
    resp = await client.post(
        "/uploads", json={**OK, "profile": "images", "metadata": {"author": "x"}}, headers=auth
    )
    assert_error(resp, 422, "invalid_metadata")


async def test_checksum_with_post_is_refused(client, auth):
    body = {**OK, "method": "POST", "checksum": {"algorithm": "MD5", "value": "A" * 22 + "=="}}
    resp = await client.post("/uploads", json=body, headers=auth)
    assert_error(resp, 422, "invalid_checksum")


async def test_mime_with_parameters_and_case(client, auth):
    up = await create(client, auth, fileType="Text/Plain; charset=utf-8", profile="default")
    assert up["single"]["headers"]["Content-Type"] == "Text/Plain; charset=utf-8"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "uploaded"},
        {"id": "00000000-0000-0000-0000-000000000000", "key": "k", "status": "uploaded"},
        {"id": "x", "status": "uploaded"},
        {"key": "k", "status": "bogus"},
        {"key": "a\x00b", "status": "uploaded"},
        {"key": "k", "status": "failed", "reason": "nul\x00"},
    ],
)
async def test_file_status_bad_bodies(client, auth, body):
    assert_error(await client.put("/file-status", json=body, headers=auth), 422)


@pytest.mark.parametrize(
    "patch",
    [
        {"fileType": "image/png\x00"},
        {"fileName": "a\x00.png"},
        {"metadata": {"note": "x\x00y"}},
        {"metadata": {"no\x00te": "x"}},
    ],
)
async def test_nul_characters_are_422(client, auth, patch):
    resp = await client.post("/uploads", json={**OK, **patch}, headers=auth)
    assert_error(resp, 422)


async def test_unknown_route_and_method(client, auth):
    assert_error(await client.get("/nope", headers=auth), 404, "not_found")
    assert_error(await client.patch("/uploads", headers=auth), 405, "method_not_allowed")
