"""libmagic (python-magic) against puremagic on the files the byte check meets.

Usage: python bench/sniffers.py

Every sample is made here (tests/images.py and a few more), so the comparison can be rerun
anywhere. For each: the MIME type each library names from the first 8 KiB, and the time per
call. Writes docs/bench/sniffers.md.
"""

from __future__ import annotations

import sys
import time
from importlib import metadata
from pathlib import Path

import magic
import puremagic
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import images

HEAD = 8192


def _samples() -> dict[str, tuple[str, bytes]]:
    """name -> (what it really is, its bytes)."""
    small = pyvips.Image.new_from_buffer(images.photo(320, 240), "")
    return {
        "JPEG photo": ("image/jpeg", images.photo(320, 240)),
        "CMYK JPEG": ("image/jpeg", images.cmyk_photo()),
        "truncated JPEG": ("image/jpeg", images.truncated_photo()),
        "PNG": ("image/png", images.png()),
        "animated GIF": ("image/gif", images.animated_gif()),
        "WebP": ("image/webp", bytes(small.webpsave_buffer())),
        "AVIF": ("image/avif", bytes(small.heifsave_buffer(compression="av1"))),
        "TIFF": ("image/tiff", bytes(small.tiffsave_buffer())),
        "SVG": ("image/svg+xml", images.SVG),
        "PDF": ("application/pdf", images.PDF),
        "Windows executable": ("application/x-dosexec", images.EXE),
        # This machine's own Python: a real program (PIE binaries are shared objects to ELF).
        "ELF executable": ("application/x-sharedlib", Path(sys.executable).resolve().read_bytes()),
        "HTML": ("text/html", b"<!DOCTYPE html><html><body><script>1</script></body></html>"),
        "ZIP": ("application/zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\0" * 100),
        "empty": ("application/x-empty", b""),
    }


def _libmagic(data: bytes) -> str:
    return "application/x-empty" if not data else str(magic.from_buffer(data, mime=True))


def _puremagic(data: bytes) -> str:
    try:
        found = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return "(nothing)"
    typed = [m for m in found if m.mime_type]
    return typed[0].mime_type if typed else (found[0].extension if found else "(nothing)")


def _timed(fn, data: bytes, rounds: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn(data)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    rows = []
    for name, (truth, data) in _samples().items():
        head = data[:HEAD]
        lm, pm = _libmagic(head), _puremagic(head)
        rows.append((name, truth, lm, pm, _timed(_libmagic, head), _timed(_puremagic, head)))
    right = {
        "libmagic": sum(r[2] == r[1] for r in rows),
        "puremagic": sum(r[3] == r[1] for r in rows),
    }
    lines = [
        "# The byte check: libmagic against puremagic",
        "",
        "`python bench/sniffers.py` on generated samples (the first 8 KiB of each, as the "
        "service reads them). Versions: python-magic "
        f"{metadata.version('python-magic')} over libmagic {magic.version()}, puremagic "
        f"{puremagic.__version__}.",
        "",
        "| sample | really | libmagic | puremagic | libmagic µs | puremagic µs |",
        "|---|---|---|---|---|---|",
    ]
    for name, truth, lm, pm, tl, tp in rows:
        lm_, pm_ = (got if got == truth else f"**{got}**" for got in (lm, pm))
        lines.append(f"| {name} | `{truth}` | {lm_} | {pm_} | {tl:.0f} | {tp:.0f} |")
    lines += [
        "",
        f"Named exactly: libmagic {right['libmagic']} of {len(rows)}, puremagic "
        f"{right['puremagic']} of {len(rows)} (bold: a different name).",
        "",
        "The service uses libmagic (python-magic). It names the types as MIME does "
        "(`application/x-dosexec`, which the failure reasons quote), and it was as fast or "
        "faster on every sample (up to 100 times). puremagic named a genuine AVIF "
        "`video/mp4`, so a profile of images would fail every AVIF upload, and it picks among "
        "candidate extensions by a confidence score where libmagic follows the file's "
        "structure. puremagic needs no system library, which is its one advantage; "
        "`libmagic1` is a Debian package (installed by scripts/install-deps.sh and the "
        "Dockerfile).",
        "",
    ]
    out = ROOT / "docs" / "bench" / "sniffers.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
