"""Content-Disposition for downloads, per RFC 6266 with an RFC 5987 UTF-8 name."""

from __future__ import annotations

import unicodedata
from typing import Literal
from urllib.parse import quote

# Types a browser may show inline without running anything in the store's origin. Anything
# script-capable (HTML, SVG, XML, JavaScript, and types we do not know) is always an attachment.
_INLINE_SAFE_PREFIXES = ("image/", "video/", "audio/")
_INLINE_SAFE_TYPES = frozenset({"application/pdf", "text/plain", "text/csv"})
_INLINE_UNSAFE_TYPES = frozenset({"image/svg+xml"})

# RFC 5987 attr-char: what may stand unencoded in `filename*`.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _visible(name: str) -> str:
    """Drop control and format characters (CR, LF, NUL, bidi overrides): no header injection."""
    return "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()


def ascii_fallback(name: str) -> str:
    """A plain-ASCII `filename` for old clients: accents folded, the rest replaced."""
    folded = unicodedata.normalize("NFKD", _visible(name)).encode("ascii", "ignore").decode()
    safe = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\;%' else "_" for c in folded)
    return safe.strip() or "download"


def content_disposition(
    file_name: str, disposition: Literal["attachment", "inline"] = "attachment"
) -> str:
    """`attachment; filename="..."; filename*=UTF-8''...` carrying the original name."""
    visible = _visible(file_name) or "download"
    encoded = quote(visible, safe=_ATTR_CHARS)
    return f"{disposition}; filename=\"{ascii_fallback(visible)}\"; filename*=UTF-8''{encoded}"


def inline_safe(content_type: str) -> bool:
    """Whether a file of this type may be served `inline` (no active content)."""
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in _INLINE_UNSAFE_TYPES:
        return False
    return essence in _INLINE_SAFE_TYPES or essence.startswith(_INLINE_SAFE_PREFIXES)
