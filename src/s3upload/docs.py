"""OpenAPI helpers: the documented error responses of each route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: str
    message: str
    details: Any | None = None


_DESCRIPTIONS = {
    400: "Malformed request (not JSON, bad cursor).",
    401: "Missing, invalid or expired bearer token.",
    403: "The caller lacks a role this needs.",
    404: "No such upload for this caller.",
    409: "The upload's status does not allow this; `details.status` says what it is.",
    413: "The file is larger than allowed.",
    415: "The file type is not allowed.",
    422: "Validation failed.",
    429: "Rate limited; see `Retry-After`.",
    502: "The object store refused the service (credentials, bucket).",
    503: "The object store or database is unreachable; see `Retry-After`.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for a route's OpenAPI entry, in the contract's error shape.

    400 and 422 are always listed: any route may meet a malformed request, and listing 422
    keeps FastAPI from documenting its own validation shape, which this service never sends.
    """
    every = sorted({400, 422, *codes})
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in every}
