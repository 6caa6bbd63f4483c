"""Opaque keyset cursors: (created_at, id) of the last item seen."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from s3upload.errors import InvalidCursor


def encode_cursor(created_at: datetime, upload_id: uuid.UUID) -> str:
    """An opaque cursor pointing just after this item."""
    raw = json.dumps([created_at.isoformat(), str(upload_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Read a cursor back; 400 if it was not made here."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ident = json.loads(raw)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not valid.") from exc
