"""Helpers of the browser tests."""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page

MiB = 1024 * 1024


@dataclass
class PageLog:
    """What the page said: uncaught errors and console messages."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No uncaught exception and no Content-Security-Policy violation."""
        assert not self.errors, self.errors
        assert not [m for m in self.console if "Content Security Policy" in m], self.console


@dataclass(frozen=True)
class BigFile:
    """A file on disk and the digest of its bytes."""

    path: Path
    size: int
    sha256: str


async def stored_sha256(api: httpx.AsyncClient, upload_id: str) -> str:
    """The digest of the object the service lets its owner download."""
    resp = await api.get(f"/files/{upload_id}/download")
    assert resp.status_code == 200, resp.text
    digest = hashlib.sha256()
    async with httpx.AsyncClient(timeout=60) as http, http.stream("GET", resp.json()["url"]) as r:
        assert r.status_code == 200
        async for chunk in r.aiter_bytes():
            digest.update(chunk)
    return digest.hexdigest()


async def open_demo(page: Page, base_url: str, token: str, path: str = "/demo") -> None:
    """Open a demo page and give it the token, as a user pasting one would."""
    await page.goto(base_url + path)
    await page.fill("#token", token)


def part_number(url: str) -> int | None:
    """The part number of a signed part URL (None for anything else)."""
    values = parse_qs(urlsplit(url).query).get("partNumber")
    return int(values[0]) if values else None


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The newest upload of that file name."""
    return next(i for i in items if i["fileName"] == name)


def png(width: int, height: int) -> bytes:
    """A real PNG (a colour gradient), so Uppy can show a thumbnail of it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((80 + x * 2, 70 + y, 230)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
