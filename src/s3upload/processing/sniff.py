"""The real type of a file, from its first bytes (libmagic, through python-magic).

libmagic is the database behind `file(1)`: maintained for decades, it names far more types
than the pure-Python alternatives and names them as MIME does (`application/x-dosexec` for a
Windows executable). puremagic needs no system library but guesses from fewer signatures and
leans on file extensions; for a security check on bytes a client chose, the broader and
stricter database wins.
"""

from __future__ import annotations

import magic

SNIFF_BYTES = 8192  # enough for every image signature, and for libmagic's text heuristics

# Names libmagic gives that a client may declare differently for the same type.
_ALIASES: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"image/jpg", "image/pjpeg"}),
    "image/png": frozenset({"image/x-png", "image/apng"}),
    "image/svg+xml": frozenset({"image/svg"}),
    "image/x-ms-bmp": frozenset({"image/bmp"}),
    "image/bmp": frozenset({"image/x-ms-bmp"}),
    "image/x-icon": frozenset({"image/vnd.microsoft.icon"}),
    "image/vnd.microsoft.icon": frozenset({"image/x-icon"}),
    "image/heic": frozenset({"image/heif"}),
    "application/pdf": frozenset({"application/x-pdf"}),
}
# Declared types whose bytes libmagic may name more generally: a match, not a mismatch.
_GENERAL: dict[str, frozenset[str]] = {
    "image/svg+xml": frozenset({"text/xml", "application/xml"}),
    "text/csv": frozenset({"text/plain"}),
    "application/json": frozenset({"text/plain"}),
}


def real_type(head: bytes) -> str:
    """The MIME type the bytes are (`application/x-empty` for none)."""
    if not head:
        return "application/x-empty"
    return str(magic.from_buffer(head, mime=True)).lower()


def mismatch(declared: str, head: bytes) -> str | None:
    """`type_mismatch: declared X, found Y` when the bytes are not the declared type."""
    want = declared.split(";", 1)[0].strip().lower()
    found = real_type(head)
    if found == want or want in _ALIASES.get(found, ()) or found in _GENERAL.get(want, ()):
        return None
    return f"type_mismatch: declared {want}, found {found}"
