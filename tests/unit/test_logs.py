"""Logs are JSON lines and never carry signatures, credentials or tokens."""

from __future__ import annotations

import json
import logging

from s3upload.logs import JsonFormatter, redact

URL = (
    "http://127.0.0.1:7480/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2026"
    "&X-Amz-Date=20261122T000000Z&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok"
)


def test_redact_url():
    out = redact(URL)
    assert "deadbeef" not in out
    assert "AKID" not in out
    assert "tok" not in out
    assert "X-Amz-Signature=REDACTED" in out
    assert "X-Amz-Date=20261122T000000Z" in out


def test_redact_form_fields_and_bearer():
    text = json.dumps({"x-amz-signature": "abc123", "policy": "eyJwb2xpY3ki"})
    out = redact(text + " Authorization: Bearer eyJhbGciOi.x.y")
    assert "abc123" not in out
    assert "eyJwb2xpY3ki" not in out
    assert "eyJhbGciOi" not in out


def test_json_formatter_keeps_extras_and_redacts():
    record = logging.makeLogRecord(
        {
            "name": "t",
            "levelno": 20,
            "levelname": "INFO",
            "msg": "signed %s",
            "args": (URL,),
            "upload_id": "u1",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "info"
    assert line["upload_id"] == "u1"
    assert "deadbeef" not in line["msg"]


def test_redact_webhook_secret():
    out = redact("POST http://127.0.0.1:8000/events/s3?secret=hunter2&x=1")
    assert "hunter2" not in out
    assert "secret=REDACTED&x=1" in out
