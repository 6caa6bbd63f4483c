"""Structured JSON logs, with signatures and credentials redacted, and the access log."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s3upload.metrics import LATENCY, REQUESTS

_SECRET_PARAMS = re.compile(
    r"(?i)(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|"
    r"AWSAccessKeyId|x-amz-signature|policy|secret|token)=([^&\s\"']+)"
)
_SECRET_FIELDS = re.compile(
    r"(?i)(\"(?:x-amz-signature|x-amz-credential|x-amz-security-token|policy|"
    r"aws_secret_access_key|authorization)\"\s*:\s*\")([^\"]*)"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")

access_log = logging.getLogger("s3upload.access")


# Every pattern above needs one of these words. Most lines (access lines among them) hold
# none: looking for them in the lower-cased line takes about 1 µs, where the three
# case-insensitive patterns took about 50 (and one alternation of the words, 17).
_SECRET_WORDS = (
    "signature",
    "credential",
    "token",
    "policy",
    "secret",
    "awsaccesskeyid",
    "authorization",
    "bearer",
)


def redact(text: str) -> str:
    """Blank out signatures, credentials, policies and bearer tokens."""
    lowered = text.lower()
    if not any(word in lowered for word in _SECRET_WORDS):
        return text
    text = _SECRET_PARAMS.sub(r"\1=REDACTED", text)
    text = _SECRET_FIELDS.sub(r"\1REDACTED", text)
    return _BEARER.sub(r"\1REDACTED", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra` fields kept; secrets redacted."""

    _SKIP = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._SKIP})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


def setup_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # The JSON lines carry neither the caller's file and line nor thread and process ids:
    # not gathering them saves a stack walk per record (the logging HOWTO's "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The access log is ours; uvicorn's would repeat it without the owner and upload id.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request it makes (webhook deliveries, JWKS) at INFO: a line per
    # delivery would cost more than the delivery; failures are logged by their callers.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # libvips reports every thread pool it finishes at INFO; its warnings still come through.
    logging.getLogger("pyvips").setLevel(max(logging.WARNING, root.level))


class AccessLogMiddleware:
    """One line per request: method, route, status, latency, owner, upload id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"  # never the raw path
            elapsed = time.perf_counter() - start
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            access_log.info(
                "%s %s %s",
                scope["method"],
                getattr(route, "path", scope["path"]),
                status,
                extra={
                    "method": scope["method"],
                    "route": getattr(route, "path", None),
                    "path": scope["path"],
                    "status": status,
                    "latency_ms": round(elapsed * 1000, 2),
                    "owner": state.get("owner"),
                    "upload_id": state.get("upload_id"),
                },
            )
