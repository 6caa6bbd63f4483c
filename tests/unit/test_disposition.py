"""Content-Disposition survives hostile names without letting them inject headers."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from s3upload.files.disposition import ascii_fallback, content_disposition


@pytest.mark.parametrize(
    ("name", "fallback", "original"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ('say "hi".txt', "say _hi_.txt", 'say "hi".txt'),
        ("a;b=c.txt", "a_b=c.txt", "a;b=c.txt"),
        ("résumé 2026.pdf", "resume 2026.pdf", "résumé 2026.pdf"),
        ("日本語.png", "_.png".replace("_", "") or "png", "日本語.png"),
        ("evil\r\nSet-Cookie: x=1.txt", "evilSet-Cookie: x=1.txt", "evilSet-Cookie: x=1.txt"),
        ("back\\slash%20.txt", "back_slash_20.txt", "back\\slash%20.txt"),
    ],
)
def test_content_disposition(name, fallback, original):
    value = content_disposition(name)
    assert "\r" not in value
    assert "\n" not in value
    assert value.startswith('attachment; filename="')
    plain, _, star = value.partition("; filename*=UTF-8''")
    assert unquote(star) == original
    assert all(0x20 <= ord(c) < 0x7F for c in value)
    assert plain.count('"') == 2
    if not name.startswith("日本語"):
        assert plain == f'attachment; filename="{fallback}"'


def test_inline_and_empty():
    assert content_disposition("a.png", "inline").startswith("inline; ")
    assert ascii_fallback("\n\t") == "download"
    assert 'filename="download"' in content_disposition("\x00")
