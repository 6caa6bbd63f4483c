"""The served OpenAPI document covers every route, schema and error."""

from __future__ import annotations


async def test_openapi_documents_routes_and_errors(client):
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path, method in [
        ("/presigned-url", "post"),
        ("/uploads", "post"),
        ("/uploads/{id}", "get"),
        ("/uploads/{id}/complete", "post"),
        ("/uploads/{id}", "delete"),
        ("/file-status", "put"),
        ("/files", "get"),
        ("/files/{id}", "get"),
    ]:
        op = paths[path][method]
        assert op["summary"], (path, method)
        assert op.get("description"), (path, method)
        assert "401" in op["responses"], (path, method)
        assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorBody"
        )
        assert op["security"] == [{"HTTPBearer": []}]
    assert "413" in paths["/uploads"]["post"]["responses"]
    assert "415" in paths["/uploads"]["post"]["responses"]
    assert "409" in paths["/uploads/{id}/complete"]["post"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"fileName", "fileType", "fileSize"} <= set(schemas["CreateUpload"]["properties"])
    assert "uploadedAt" in schemas["UploadOut"]["properties"]


async def test_swagger_ui_at_root(client):
    for path in ("/", "/docs"):
        resp = await client.get(path)
        assert resp.status_code == 200
        assert "swagger-ui" in resp.text
        assert "/openapi.json" in resp.text


# What the document states is what the service refuses: each case below is a request the
# document once allowed and the service refused, or an answer that contradicted it.

import re  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

import jsonschema_rs  # noqa: E402


def _valid(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Whether a value matches a schema of the served document (its `$ref`s resolved)."""
    return bool(
        jsonschema_rs.validator_for({**schema, "components": spec["components"]}).is_valid(value)
    )


def _body_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return dict(body)


def _param(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    params = spec["paths"][path][method]["parameters"]
    return dict(next(p for p in params if p["name"] == name)["schema"])


async def test_405_allow_lists_every_method_of_the_path(client, auth):
    some = uuid.uuid4()
    for path, allowed in [
        (f"/uploads/{some}", "DELETE, GET"),
        (f"/files/{some}", "DELETE, GET"),
        (f"/s3/multipart/{some}", "DELETE, GET"),
        ("/uploads", "POST"),
    ]:
        resp = await client.request("OPTIONS", path, headers=auth)
        assert resp.status_code == 405, path
        assert resp.headers["allow"] == allowed, path
        assert resp.json()["error"] == "method_not_allowed"


async def test_file_status_documents_exactly_one_of_id_or_key(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/file-status", "put")
    both = {"id": str(uuid.uuid4()), "key": "uploads/x", "status": "uploaded"}
    assert not _valid(spec, schema, both)
    assert not _valid(spec, schema, {"status": "uploaded"})
    assert _valid(spec, schema, {"id": both["id"], "status": "uploaded"})
    assert not _valid(spec, schema, {"id": both["id"], "status": "pending"})
    resp = await client.put("/file-status", headers=auth, json=both)
    assert resp.status_code == 422
    assert resp.json()["error"] == "validation_error"


async def test_checksum_value_is_documented_as_base64_of_the_digest(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/uploads", "post")
    body = {"fileName": "a.bin", "fileType": "application/octet-stream", "fileSize": 10}
    not_base64 = {**body, "checksum": {"algorithm": "MD5", "value": "0" * 127}}
    assert not _valid(spec, schema, not_base64)
    good = {**body, "checksum": {"algorithm": "MD5", "value": "1B2M2Y8AsgTpgAmY7PhCfg=="}}
    assert _valid(spec, schema, good)
    assert not _valid(spec, schema, {**good, "method": "POST"})
    resp = await client.post("/uploads", headers=auth, json=not_base64)
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_checksum"


async def test_uppy_names_are_documented_not_blank(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/s3/multipart", "post")
    assert not _valid(spec, schema, {"filename": "", "type": "text/plain"})
    assert not _valid(spec, schema, {"filename": " \t", "type": "text/plain"})
    assert not _valid(spec, schema, {"filename": "a\nb", "type": "text/plain"})
    assert _valid(spec, schema, {"filename": "a.txt", "type": "text/plain"})
    name = _param(spec, "/s3/params", "get", "filename")
    assert not _valid(spec, name, "")
    assert _valid(spec, name, "a.txt")
    resp = await client.post("/s3/multipart", headers=auth, json={"filename": "", "type": "a/b"})
    assert resp.status_code == 422
    assert resp.json()["details"][0]["loc"] == ["body", "filename"]


async def test_content_type_with_a_line_break_is_refused_as_documented(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/s3/multipart", "post")
    bad = {"filename": "a.txt", "type": "text/plain;\na=b"}
    assert not _valid(spec, schema, bad)
    resp = await client.post("/s3/multipart", headers=auth, json=bad)
    assert resp.status_code == 422  # it once reached the store as a header: 503


async def test_file_size_beyond_s3s_largest_object_is_documented(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/uploads", "post")
    body = {"fileName": "a.bin", "fileType": "application/octet-stream", "fileSize": 5 * 1024**4}
    assert _valid(spec, schema, body)
    assert not _valid(spec, schema, {**body, "fileSize": 5 * 1024**4 + 1})
    resp = await client.post("/uploads", headers=auth, json={**body, "fileSize": 5 * 1024**4 + 1})
    assert resp.status_code == 413


async def test_md5s_is_named_and_keyed_as_documented(client, auth):
    spec = (await client.get("/openapi.json")).json()
    schema = _body_schema(spec, "/uploads/{id}/parts", "post")
    md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="
    assert _valid(spec, schema, {"partNumbers": [1], "md5s": {"1": md5}})
    assert not _valid(spec, schema, {"partNumbers": [1], "md5s": {"x": md5}})
    assert not _valid(spec, schema, {"partNumbers": [1], "md5s": {"1": "short"}})
    assert not _valid(spec, schema, {"partNumbers": [0]})
    created = await client.post(
        "/uploads",
        headers=auth,
        json={"fileName": "m.bin", "fileType": "application/octet-stream", "fileSize": 200 << 20},
    )
    upload_id = created.json()["id"]
    resp = await client.post(
        f"/uploads/{upload_id}/parts", headers=auth, json={"partNumbers": [1], "md5s": {"x": md5}}
    )
    assert resp.status_code == 422
    assert resp.json()["details"][0]["loc"][:2] == ["body", "md5s"]
    resp = await client.post(
        f"/uploads/{upload_id}/parts", headers=auth, json={"partNumbers": [1], "md5s": {"1": md5}}
    )
    assert resp.status_code == 200, resp.text


async def test_cursor_length_is_what_the_service_issues(client, auth):
    spec = (await client.get("/openapi.json")).json()
    cursor = _param(spec, "/files", "get", "cursor")
    assert cursor["anyOf"][0]["maxLength"] == cursor["anyOf"][0]["minLength"] == 32
    page = (await client.get("/files?limit=1", headers=auth)).json()
    if page["nextCursor"]:
        assert re.fullmatch(cursor["anyOf"][0]["pattern"], page["nextCursor"])
    assert re.fullmatch(cursor["anyOf"][0]["pattern"], "eyJh-_" + "A" * 26)
    resp = await client.get(f"/files?cursor={'A' * 33}", headers=auth)
    assert resp.status_code == 422
    assert resp.json()["error"] == "validation_error"


async def test_batch_query_stays_under_the_servers_request_line(client, auth):
    """Each character percent-encoded takes up to 12 bytes; the server stops at 64 KiB."""
    spec = (await client.get("/openapi.json")).json()
    path = "/s3/multipart/{uploadId}/batch"
    longest = sum(
        12 * _param(spec, path, "get", name)["maxLength"] + len(name) + 2
        for name in ("partNumbers", "key")
    )
    assert len(path) + 36 + longest < 65_535
    created = await client.post(
        "/s3/multipart", headers=auth, json={"filename": "b.bin", "type": "a/b"}
    )
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    numbers = ",".join(["1"] * 2049)  # 4,097 characters
    resp = await client.get(
        f"/s3/multipart/{upload_id}/batch?key={quote(key, safe='')}&partNumbers={numbers}",
        headers=auth,
    )
    assert resp.status_code == 422
    assert resp.json()["error"] == "validation_error"
