"""The one exception the client raises: the service's error, or why it could not be reached."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """A failed call: HTTP status (None when nothing answered), error code and message."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "error", details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    def __str__(self) -> str:
        where = f"{self.status} {self.code}" if self.status is not None else self.code
        return f"{self.message} ({where})"

    @classmethod
    def from_response(cls, resp: httpx.Response) -> ClientError:
        """The service's `{"error", "message", "details"}` body, or what else came back."""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return cls(
                body["message"],
                status=resp.status_code,
                code=str(body.get("error") or "error"),
                details=body.get("details"),
            )
        # Not the service talking (a proxy, a wrong URL): keep a short, printable excerpt.
        excerpt = " ".join(resp.text.split())[:200]
        message = f"HTTP {resp.status_code} from {resp.request.url.copy_with(query=None)}"
        return cls(
            f"{message}: {excerpt}" if excerpt else message,
            status=resp.status_code,
            code="http_error",
        )

    @classmethod
    def from_transport(cls, exc: httpx.TransportError, url: str) -> ClientError:
        """A network failure: no status, code `network_error`."""
        reason = str(exc) or type(exc).__name__
        return cls(f"cannot reach {url}: {reason}", code="network_error")
