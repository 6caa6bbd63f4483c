"""Rendering every error, the service's and the framework's, in the contract's shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from s3upload import errors
from s3upload.errors import AppError, DatabaseUnavailable

log = logging.getLogger("s3upload.errors")


# asyncpg's names for a connection that is gone, refused, or broken by a server shutdown.
_CONNECTION_ERRORS = frozenset(
    {
        "AdminShutdownError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "InternalClientError",  # "cannot switch to state": a connection cut mid-operation
        "PostgresConnectionError",
        "TooManyConnectionsError",
    }
)


def database_down(exc: BaseException) -> bool:
    """Whether a database error means "unreachable" (503) rather than a bug (500)."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is short: SQLAlchemy -> adapter -> asyncpg
        if seen is None:
            break
        if isinstance(seen, OSError) or type(seen).__name__ in _CONNECTION_ERRORS:
            return True
        seen = seen.__cause__ or (seen.orig if isinstance(seen, sa_exc.DBAPIError) else None)
    return False


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Render one error in the contract's shape."""
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors without the echoed input (it may be huge or hold secrets)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


# The framework's own refusals, named by the catalogue's codes.
_HTTP_ERRORS: dict[int, type[AppError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.BodyTooLarge,
    415: errors.UnsupportedMediaType,
}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path accepts.

    Starlette answers 405 from the first route whose path matches, naming only that route's
    methods; a path served by several routes (`GET` and `DELETE /uploads/{id}`) takes them all.
    """
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(root) if root and path.startswith(f"{root}/") else path
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        template, route_methods = getattr(route, "path", None), getattr(route, "methods", None)
        if template and route_methods and compile_path(template)[0].match(path):
            methods.update(route_methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, ours or the framework's, answer in the contract's shape."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("%s: %s", exc.code, exc.message, exc_info=exc.__cause__ is not None)
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        if any(
            d["type"] in ("json_invalid", "model_attributes_type")
            or (d["loc"] == ["body"] and d["type"] == "missing")
            for d in details
        ):
            return error_response(
                400,
                errors.InvalidJson.code,
                "The request body is not the JSON object expected.",
                details,
            )
        first = details[0] if details else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return error_response(422, errors.Invalid.code, f"{where}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        known = _HTTP_ERRORS.get(exc.status_code)
        code = known.code if known else "http_error"
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not database_down(exc):
            log.error("database error", exc_info=exc)
            return error_response(500, AppError.code, "An internal error occurred.")
        log.warning("database unavailable: %s", type(exc).__name__)
        err = DatabaseUnavailable("The database is unavailable; try again shortly.")
        return error_response(err.status, err.code, err.message, headers=err.headers)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        # Raised by asyncpg when PostgreSQL refuses the connection, before SQLAlchemy wraps it.
        log.warning("connection failure: %s", type(exc).__name__)
        err = DatabaseUnavailable("The database is unavailable; try again shortly.")
        return error_response(err.status, err.code, err.message, headers=err.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return error_response(500, AppError.code, "An internal error occurred.")
