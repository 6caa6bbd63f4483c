"""Images made by the tests themselves (no binary fixtures): each returns the file's bytes."""

from __future__ import annotations

import struct
import zlib

import pyvips


def photo(width: int = 600, height: int = 400, *, orientation: int = 1, gps: bool = False) -> bytes:
    """An sRGB JPEG of noise, with an EXIF orientation and, if asked, a GPS position."""
    bands = [pyvips.Image.gaussnoise(width, height, mean=128, sigma=40).cast("uchar")] * 3
    image = bands[0].bandjoin(bands[1:]).copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "TestCam")
    if gps:
        image.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitudeRef", "N")
        image.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitude", "51/1 30/1 0/1")
    return bytes(image.jpegsave_buffer(Q=90))


def cmyk_photo() -> bytes:
    """A CMYK JPEG (as print workflows make them)."""
    rgb = pyvips.Image.new_from_buffer(photo(300, 200), "")
    return bytes(rgb.colourspace("cmyk").jpegsave_buffer())


def truncated_photo() -> bytes:
    """A JPEG cut off halfway, as an interrupted copy leaves it."""
    data = photo()
    return data[: len(data) // 2]


def png(width: int = 64, height: int = 48) -> bytes:
    """A small PNG."""
    return bytes(pyvips.Image.black(width, height).invert().pngsave_buffer())


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims `width` x `height` pixels (a decompression bomb's
    header: decoding it would take width x height x 3 bytes)."""
    data = bytearray(png())
    # IHDR follows the 8-byte signature: length (4), type (4), width (4), height (4), ...
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def animated_gif(frames: int = 3) -> bytes:
    """An animated GIF of `frames` 120 x 80 frames."""
    frame = pyvips.Image.gaussnoise(120, 80).cast("uchar")
    stack = pyvips.Image.arrayjoin([frame, frame.invert()] * frames, across=1).copy()
    stack = stack.crop(0, 0, 120, 80 * frames).copy()
    stack.set_type(pyvips.GValue.gint_type, "page-height", 80)
    stack.set_type(pyvips.GValue.array_int_type, "delay", [100] * frames)
    return bytes(stack.gifsave_buffer())


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<rect width="100" height="100" fill="red"/></svg>'
)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# The start of a Windows executable: the "MZ" header and the DOS stub's message.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + (b"\x80\x00\x00\x00" + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 400)
)
