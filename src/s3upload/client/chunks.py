"""Byte ranges of a local file: where each part lies, read in chunks as they are sent."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

from s3upload.client.errors import ClientError

MiB = 1024 * 1024
# Bytes read from the file and handed to the socket at a time: big enough that per-chunk
# overhead vanishes, small enough that memory stays at about concurrency x this.
CHUNK = MiB


def part_span(size: int, part_size: int, number: int) -> tuple[int, int]:
    """Offset and length of part `number` (1-based) of a file of `size` bytes."""
    offset = (number - 1) * part_size
    return offset, max(0, min(part_size, size - offset))


class FileReader:
    """An open file read by offset; a short read means it changed under the upload."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path

    async def read(self, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at `offset`, or a `file_changed` error."""
        # pread in a worker thread: a cold disk must not stall the other parts' sockets.
        data = await asyncio.to_thread(os.pread, self.fd, length, offset)
        if len(data) != length:
            raise ClientError(
                f"{self.path} changed while it was being uploaded", code="file_changed"
            )
        return data

    async def chunks(
        self, offset: int, length: int, on_sent: Callable[[int], None]
    ) -> AsyncIterator[bytes]:
        """The bytes of [offset, offset+length), read as they are sent; never all at once.

        `on_sent(n)` is called once a chunk of `n` bytes was handed on.
        """
        end = offset + length
        pos = offset
        while pos < end:
            n = min(CHUNK, end - pos)
            yield await self.read(pos, n)
            # Resumed once the chunk was written: count it as sent.
            pos += n
            on_sent(n)
