"""Bodies are bounded, and read only for callers who proved who they are.

FastAPI reads and parses a request's whole body before any dependency runs, token checks
included, so without this a stranger could make every worker hold 100 MB bodies. This pure
ASGI middleware runs first: it authenticates requests that carry a body (except the store's
event receiver, which has its own secret) and caps every body at `MAX_BODY_BYTES`, refusing
a declared length at once and a chunked one as soon as it passes the cap.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s3upload.auth.deps import authenticate
from s3upload.error_handlers import error_response
from s3upload.errors import AppError, BodyTooLarge

# Routes that take a body without a bearer token: they carry their own proof.
OPEN_PATHS = frozenset({"/events/s3"})


class BodyTooLargeError(HTTPException):
    """Raised from `receive` when a body without a declared length passes the cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(BodyTooLarge.status, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


class BodyGuard:
    """Authenticate before reading a body; cap every body."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        has_body = (length not in (None, "0")) or "chunked" in headers.get(
            "transfer-encoding", ""
        ).lower()
        if not has_body:
            await self.app(scope, receive, send)
            return
        try:
            if scope["path"] not in OPEN_PATHS:
                user = await authenticate(scope["app"].state, headers.get("authorization"))
                scope.setdefault("state", {})["user"] = user
            if length is not None and length.isdigit() and int(length) > self.max_body:
                raise BodyTooLarge(_too_large(self.max_body), details={"limit": self.max_body})
        except AppError as exc:
            # Answered without reading the body; the server drops what the client still sends.
            response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
            await response(scope, receive, send)
            return
        await self.app(scope, self._capped(receive), send)

    def _capped(self, receive: Receive) -> Receive:
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLargeError(self.max_body)
            return message

        return capped
