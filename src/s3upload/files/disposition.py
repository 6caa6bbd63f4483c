"""Content-Disposition for downloads, per RFC 6266 with an RFC 5987 UTF-8 name."""

from __future__ import annotations

import unicodedata
from typing import Literal
from urllib.parse import quote

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
