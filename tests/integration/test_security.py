"""Security suite: every route that names an upload refuses other owners; no injection."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.helpers import assert_error, create, put_bytes

MiB = 1024 * 1024


def _owned_routes(app):
    """(method, path template) of every documented route that takes an upload id."""
    for path, operations in app.openapi()["paths"].items():
        if re.search(r"\{(id|uploadId)\}", path):
            for method in operations:
                yield method.upper(), path


async def test_every_route_with_an_id_hides_other_owners_uploads(client, app, auth, auth_for):
    single = await create(client, auth)
    multi = await create(client, auth, fileType="application/zip", fileSize=12 * MiB)
    intruder = auth_for("intruder")
    routes = sorted(set(_owned_routes(app)))
    assert len(routes) >= 12, routes
    for method, template in routes:
        for up in (single, multi):
            path = (
                template.replace("{id}", up["id"])
                .replace("{uploadId}", up["id"])
                .replace("{partNumber}", "1")
            )
            params = {"key": up["key"]} if template.startswith("/s3/") else {}
            if template.endswith("/batch"):
                params["partNumbers"] = "1"
            body = {"partNumbers": [1]} if template.endswith("/parts") else None
            if template.endswith("/complete") and template.startswith("/s3/"):
                body = {"parts": []}
            resp = await client.request(method, path, params=params, json=body, headers=intruder)
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
    assert set(headers) == {"Content-Type", "Content-Length", "x-amz-meta-note"}
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
