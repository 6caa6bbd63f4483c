"""Download a finished file through the signed GET the service hands out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError
from s3upload.client.models import Upload

Progress = Callable[[int, int], None]


def local_name(file_name: str) -> str:
    """A safe name in the current directory for a file named `file_name` by its uploader."""
    # The uploader chose the name: keep only its last component and no leading dots.
    name = file_name.replace("\\", "/").rsplit("/", 1)[-1].lstrip(".").strip()
    return "".join(c for c in name if c.isprintable()) or "download"


async def download_to(
    api: ApiClient,
    record: Upload,
    out: BinaryIO,
    *,
    progress: Progress | None = None,
    http: httpx.AsyncClient | None = None,
) -> int:
    """Write the file's bytes to `out`; the number of bytes written, checked against its size."""
    link = await api.download_url(record.id)
    own = http is None
    client = http or httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0))
    written = 0
    try:
        async with client.stream("GET", link.url) as resp:
            if resp.status_code != 200:
                await resp.aread()
                raise ClientError(
                    f"the store answered {resp.status_code} to the download",
                    status=resp.status_code,
                    code="store_error",
                )
            total = int(resp.headers.get("Content-Length") or record.file_size or 0)
            async for chunk in resp.aiter_bytes(1024 * 1024):
                await asyncio.to_thread(out.write, chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written, total)
    except httpx.TransportError as exc:
        raise ClientError.from_transport(exc, "the object store") from exc
    finally:
        if own:
            await client.aclose()
    if record.file_size is not None and written != record.file_size:
        raise ClientError(
            f"got {written} bytes of {record.file_size}; the download was cut short",
            code="short_download",
        )
    return written


async def download_file(
    api: ApiClient,
    file_id: str,
    dest: Path | None = None,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> tuple[Path, int]:
    """Save the file at `dest` (a file or a directory; default: its own name here).

    An existing file is replaced only with `replace`.
    Bytes go to a temporary file next to the target, renamed into place only when complete,
    so a failed download never leaves a truncated file under the real name.
    """
    record = await api.get_file(file_id)
    if dest is None or await asyncio.to_thread(dest.is_dir):
        dest = (dest or Path.cwd()) / local_name(record.file_name)
    if not replace and await asyncio.to_thread(dest.exists):
        raise ClientError(f"{dest} exists; name it with -o to replace it", code="exists")
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            size = await download_to(api, record, out, progress=progress)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return dest, size
