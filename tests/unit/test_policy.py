"""Profiles, names, types and keys (pure functions, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from s3upload import policy
from s3upload.db.states import Status, can_move
from s3upload.settings import Profile


@pytest.mark.parametrize(
    ("mime", "patterns", "ok"),
    [
        ("image/png", ["image/*"], True),
        ("IMAGE/PNG", ["image/*"], True),
        ("image/png; charset=x", ["image/png"], True),
        ("text/html", ["image/*"], False),
        ("text/html", ["*/*"], True),
        ("video/mp4", ["image/*", "video/mp4"], True),
        ("video/webm", ["image/*", "video/mp4"], False),
    ],
)
def test_type_allowed(mime, patterns, ok):
    assert policy.type_allowed(mime, patterns) is ok


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("holiday.mp4", "holiday.mp4"),
        ("../../etc/passwd", "etc-passwd"),
        ("Ünïcödé name.PNG", "Unicode-name.PNG"),
        ("日本語.png", "png"),
        ("....", "file"),
        ("a\\b\\c.txt", "a-b-c.txt"),
        (".hidden", "hidden"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
        ("y" * 300, "y" * 120),
    ],
)
def test_safe_name(name, safe):
    assert policy.safe_name(name) == safe


def test_object_key_shape():
    uid = uuid.UUID("6f1c0000-0000-4000-8000-000000000000")
    key = policy.object_key(
        Profile(key_prefix="media/in"), uid, "a b.png", datetime(2026, 3, 9, tzinfo=UTC)
    )
    assert key == f"media/in/2026/03/{uid}/a-b.png"


@pytest.mark.parametrize(
    "bad", ["", "   ", "a\x00b", "a\nb", "a\x7fb", "x\u202egnp.exe", "z" * 256]
)
def test_clean_file_name_rejects(bad):
    with pytest.raises(ValueError, match="must"):
        policy.clean_file_name(bad)


def test_clean_file_name_trims_and_normalises():
    assert policy.clean_file_name("  e\u0301t\u00e9.png ") == "\u00e9t\u00e9.png"


def test_profile_prefix_cannot_escape():
    with pytest.raises(ValueError, match="key_prefix"):
        Profile(key_prefix="a/../b")


def test_state_machine():
    assert can_move(Status.PENDING, Status.UPLOADED)
    assert can_move(Status.UPLOADED, Status.PROCESSING)
    assert can_move(Status.PROCESSING, Status.COMPLETED)
    assert can_move(Status.PROCESSING, Status.FAILED)
    assert not can_move(Status.PENDING, Status.COMPLETED)
    assert not can_move(Status.COMPLETED, Status.FAILED)
    assert not any(can_move(Status.ABORTED, s) for s in Status)
    assert not any(can_move(Status.DELETED, s) for s in Status)
