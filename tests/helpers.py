"""Small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import httpx


async def create(
    client: httpx.AsyncClient, auth: dict[str, str], route: str = "/uploads", **body: Any
) -> dict[str, Any]:
    """Create an upload and return its JSON, asserting 201."""
    payload = {"fileName": "photo.png", "fileType": "image/png", "fileSize": 1024, **body}
    resp = await client.post(route, json=payload, headers=auth)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def put_bytes(http: httpx.AsyncClient, upload: dict[str, Any], data: bytes) -> httpx.Response:
    """Send bytes the way the service told the client to."""
    target = upload["single"]
    if target["method"] == "PUT":
        return await http.put(target["url"], content=data, headers=target["headers"])
    files = {"file": ("blob", data, upload["fileType"])}
    return await http.post(target["url"], data=target["fields"], files=files)


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error in the contract's shape, with this status (and code)."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) <= {"error", "message", "details"}
    assert isinstance(body["message"], str)
    assert body["message"]
    if code is not None:
        assert body["error"] == code, body
    return dict(body)
