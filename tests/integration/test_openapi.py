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
