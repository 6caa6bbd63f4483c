"""Image variants with libvips: streamed from the store, written to a spooled file.

libvips decodes in small regions as the output asks for them and shrinks JPEGs while it
loads them, so memory follows the variant's size, not the original's: a 100-megapixel photo
is never held whole (docs/bench/thumbnails.md). Every call here is blocking: run it in a
thread; the bytes come from the event loop's store client through `StoreSource`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from typing import IO, Any

import pyvips

from s3upload.settings import Variant
from s3upload.store.client import ObjectStore

# libvips's operation cache would keep decoded images, and the sources reading the store,
# alive between files: every file here is new, so nothing is worth keeping.
pyvips.cache_set_max(0)

_CHUNK_TIMEOUT = 60.0  # seconds one read may wait on the store before the variant fails
_READ_AHEAD = 256 * 1024  # libvips asks for 4 KiB at a time: fetch more per hop to the loop
_SPOOL = 1024 * 1024  # output bytes kept in memory before they spill to a temporary file
FORMATS = {
    "webp": ("image/webp", ".webp"),
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "avif": ("image/avif", ".avif"),
}
_HUGE = 10_000_000  # a side that never limits (libvips wants a width even for height-only)


class BadImage(Exception):
    """The bytes cannot become this variant: not an image, corrupt, too big, not allowed."""


@dataclass(frozen=True)
class Rendered:
    """A variant written to a spooled file, ready to be stored."""

    file: IO[bytes]
    size: int
    width: int
    height: int
    content_type: str


class StoreSource:
    """A libvips source that reads an object through the loop's async store client.

    Seeking (some formats need it) starts a new ranged GET from the new position.
    """

    def __init__(self, store: ObjectStore, key: str, size: int, loop: asyncio.AbstractEventLoop):
        self.store, self.key, self.size, self.loop = store, key, size, loop
        self.pos = 0
        self._stream: contextlib.AsyncExitStack | None = None
        self._body: Any = None
        self._current: pyvips.SourceCustom | None = None
        # Bytes fetched ahead, and how far libvips has read into them (slicing the rest off
        # at every 4 KiB read would copy the buffer over and over).
        self._ahead = b""
        self._at = 0
        # What went wrong reaching the store: libvips only sees a failed read, the worker
        # needs to know it was the store (retried), not the image (failed).
        self.error: Exception | None = None

    def source(self) -> pyvips.SourceCustom:
        """A fresh libvips source over the object, from its first byte."""
        self.close()
        self.pos = 0
        self._ahead, self._at = b"", 0
        src = pyvips.SourceCustom()
        src.on_read(self._read)
        src.on_seek(self._seek)
        self._current = src  # kept alive as long as this reader: libvips calls back into it
        return src

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(_CHUNK_TIMEOUT)

    async def _read_async(self, size: int) -> bytes:
        if self.pos >= self.size:
            return b""
        if self._body is None:
            self._stream = contextlib.AsyncExitStack()
            self._body = await self._stream.enter_async_context(
                self.store.reading(self.key, self.pos)
            )
        data = bytes(await self._body.read(size))
        self.pos += len(data)
        return data

    async def _close_async(self) -> None:
        if self._stream is not None:
            await self._stream.aclose()
        self._stream = self._body = None

    def _read(self, size: int) -> bytes:
        if self._at >= len(self._ahead):
            try:
                self._ahead = bytes(self._run(self._read_async(max(size, _READ_AHEAD))))
                self._at = 0
            except Exception as exc:  # raised into libvips it would be lost: kept, read fails
                self.error = exc
                return b""
        chunk = self._ahead[self._at : self._at + size]
        self._at += len(chunk)
        return chunk

    def _seek(self, offset: int, whence: int) -> int:
        # `pos` is where the stream is; libvips is behind it by what it has not read yet.
        current = self.pos - (len(self._ahead) - self._at)
        starts = {os.SEEK_SET: 0, os.SEEK_CUR: current, os.SEEK_END: self.size}
        if whence not in starts or starts[whence] + offset < 0:
            return -1
        target = starts[whence] + offset
        if target != current:
            self._run(self._close_async())
            self._ahead, self._at = b"", 0
            self.pos = target
        return target

    def reraise(self) -> None:
        """Raise the store's error if a read failed because of it."""
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Close the GET still open, if any."""
        self._run(self._close_async())


def check_header(reader: StoreSource, *, max_pixels: int, svg_ok: bool) -> tuple[int, int]:
    """Width and height, read from the header alone; refuse bombs and unwanted SVG."""
    source = reader.source()  # held while `image` is used (libvips calls back into it)
    try:
        image = pyvips.Image.new_from_source(source, "", access="sequential")
    except pyvips.Error as exc:
        reader.reraise()
        raise BadImage(f"not an image libvips can read ({_first_line(exc)})") from exc
    width = image.width
    # Animated images are pages stacked in one tall image: a variant is made of the first.
    height = image.get("page-height") if image.get_typeof("page-height") else image.height
    if width * height > max_pixels:
        raise BadImage(
            f"{width} x {height} is {width * height} pixels, more than the "
            f"{max_pixels} allowed (PROCESS_MAX_PIXELS)"
        )
    loader = str(image.get("vips-loader")) if image.get_typeof("vips-loader") else ""
    if loader.startswith("svgload") and not svg_ok:
        raise BadImage("SVG images are not rasterized in this profile (rasterize_svg)")
    return width, height


def render(reader: StoreSource, variant: Variant) -> Rendered:
    """Make one variant: shrunk on load, orientation applied, sRGB, metadata stripped."""
    content_type, suffix = FORMATS[variant.format]
    options: dict[str, Any] = {
        "height": variant.height or _HUGE,
        "size": "down",  # never enlarged
        "output_profile": "srgb",  # CMYK and wide-gamut images become sRGB
        "option_string": "fail_on=truncated",  # a cut-off file fails, it is not half grey
    }
    if variant.fit == "cover":
        options["crop"] = "attention"
    try:
        # The source must outlive the lazy image: libvips calls back into it while saving.
        source = reader.source()
        thumb = pyvips.Image.thumbnail_source(source, variant.width or _HUGE, **options)
        if thumb.hasalpha() and variant.format == "jpeg":
            thumb = thumb.flatten(background=[255, 255, 255])
        out = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 - returned open
        target = pyvips.TargetCustom()
        target.on_write(out.write)
        save: dict[str, Any] = {"keep": pyvips.enums.ForeignKeep.NONE}  # no EXIF, GPS, XMP
        if variant.format != "png":
            save["Q"] = variant.quality
        thumb.write_to_target(target, suffix, **save)
    except pyvips.Error as exc:
        reader.reraise()
        raise BadImage(f"the image is corrupt or truncated ({_first_line(exc)})") from exc
    size = out.tell()
    out.seek(0)
    return Rendered(out, size, thumb.width, thumb.height, content_type)


def _first_line(exc: pyvips.Error) -> str:
    """libvips's own reason, without its call stack."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:200]
