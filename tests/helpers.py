"""Small helpers shared by the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


async def put_parts(
    http: httpx.AsyncClient,
    parts: list[dict[str, Any]],
    data: bytes,
    part_size: int,
    concurrency: int = 8,
) -> list[httpx.Response]:
    """PUT each part's slice of `data` to its signed URL, several at once."""
    import asyncio

    gate = asyncio.Semaphore(concurrency)

    async def one(part: dict[str, Any]) -> httpx.Response:
        start = (part["partNumber"] - 1) * part_size
        async with gate:
            return await http.put(
                part["url"], content=data[start : start + part_size], headers=part["headers"]
            )

    return list(await asyncio.gather(*(one(p) for p in parts)))


def multipart_etag(data: bytes, part_size: int) -> str:
    """The ETag S3 gives an object assembled from parts of `part_size`."""
    import hashlib

    digests = [
        hashlib.md5(data[i : i + part_size]).digest()  # noqa: S324 - S3's ETag scheme
        for i in range(0, len(data), part_size)
    ]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"  # noqa: S324


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1:`port` from this event loop (its lifespan is not run)."""
    import asyncio

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def wait_for_status(
    client: httpx.AsyncClient, auth: dict[str, str], upload_id: str, want: str, seconds: float = 5
) -> dict[str, Any]:
    """The upload once it reaches `want` (events arrive on their own), or as it is after."""
    import asyncio

    got: dict[str, Any] = {}
    for _ in range(int(seconds / 0.05)):
        got = dict((await client.get(f"/files/{upload_id}", headers=auth)).json())
        if got["status"] == want:
            break
        await asyncio.sleep(0.05)
    return got


def id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every documented route that takes an upload id."""
    import re

    found: set[tuple[str, str]] = set()
    for path, operations in app.openapi()["paths"].items():
        if re.search(r"\{(id|uploadId)\}", path):
            found |= {(method.upper(), path) for method in operations}
    return sorted(found)


async def call_id_route(
    client: httpx.AsyncClient,
    method: str,
    template: str,
    upload: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    """Call an id route for `upload` with the least a well-formed request needs."""
    path = (
        template.replace("{id}", upload["id"])
        .replace("{uploadId}", upload["id"])
        .replace("{partNumber}", "1")
        .replace("{name}", "thumb")
    )
    params = {"key": upload["key"]} if template.startswith("/s3/") else {}
    if template.endswith("/batch"):
        params["partNumbers"] = "1"
    body: Any = {"partNumbers": [1]} if template.endswith("/parts") else None
    if template.endswith("/complete") and template.startswith("/s3/"):
        body = {"parts": []}
    return await client.request(method, path, params=params, json=body, headers=headers)


def wait_answering(proc: Any, url: str, what: str) -> None:
    """Wait until the process answers at `url`; kill it and fail if it never does."""
    import time

    for _ in range(100):
        try:
            httpx.get(url, timeout=0.2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{what} did not start at {url}")
