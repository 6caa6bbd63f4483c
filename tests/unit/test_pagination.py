"""Listing cursors: fixed width, a round trip, any well-formed one is a position."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from s3upload.files.pagination import CURSOR_PATTERN, decode_cursor, encode_cursor


def test_round_trip_to_the_microsecond():
    when, ident = datetime(2026, 12, 2, 20, 31, 5, 123456, tzinfo=UTC), uuid.uuid4()
    cursor = encode_cursor(when, ident)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert decode_cursor(cursor) == (when, ident)


def test_any_well_formed_cursor_is_a_position():
    earliest, _ = decode_cursor("_" * 32)  # -1 µs: just before 1970
    latest, last = decode_cursor("f" + "_" * 31)  # far past the calendar: clamped
    assert earliest < datetime(1970, 1, 1, tzinfo=UTC)
    assert latest.year == 9999
    assert last == uuid.UUID(int=2**128 - 1)


@pytest.mark.parametrize("cursor", ["", "A" * 31, "A" * 33, "!" * 32])
def test_other_forms_are_refused(cursor):
    with pytest.raises(ValueError, match="32 characters"):
        decode_cursor(cursor)
