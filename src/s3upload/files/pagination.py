"""Keyset cursors: (created_at, id) of the last item seen, in a fixed-width token.

A cursor is 24 bytes (microseconds since 1970 as a signed 64-bit number, then the id's 16
bytes) in unpadded base64url: always 32 characters of `[A-Za-z0-9_-]`. Every such string
decodes to a position in the listing, so the document can state the whole format and any
cursor that fits it is answered (one the service did not issue merely starts elsewhere).
"""

from __future__ import annotations

import base64
import re
import struct
import uuid
from datetime import UTC, datetime, timedelta

CURSOR_LENGTH = 32
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{{CURSOR_LENGTH}}}$"
_FORMAT = struct.Struct(">q16s")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_EARLIEST = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICRO
_LATEST = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICRO


def encode_cursor(created_at: datetime, upload_id: uuid.UUID) -> str:
    """The cursor pointing just after this item."""
    raw = _FORMAT.pack((created_at - _EPOCH) // _MICRO, upload_id.bytes)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Read a cursor back (the route's query check has refused any other form, with 422)."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValueError(f"a cursor is {CURSOR_LENGTH} characters of base64url")
    micros, ident = _FORMAT.unpack(base64.urlsafe_b64decode(cursor))
    # Outside the calendar's range only if made by hand: clamp to its first or last moment.
    micros = min(max(micros, _EARLIEST), _LATEST)
    return _EPOCH + micros * _MICRO, uuid.UUID(bytes=ident)
