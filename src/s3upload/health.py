"""Liveness and readiness."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from s3upload import metrics
from s3upload.errors import AppError, InvalidToken, NotFound

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is down."}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and the object store both answer."""
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # any failure means not ready; the reason is logged, not shown
        checks["database"] = "unavailable"
    try:
        await request.app.state.store.check(force=True)
        checks["objectStore"] = "ok"
    except AppError:
        checks["objectStore"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
        headers=None if ok else {"Retry-After": "5"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics; needs `Authorization: Bearer <METRICS_TOKEN>` when that is set.

    In production metrics are never open: without `METRICS_TOKEN` this answers 404.
    """
    settings = request.app.state.settings
    token = settings.metrics_token
    if not token and settings.environment == "production":
        raise NotFound("Metrics are off: set METRICS_TOKEN to serve them.")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise InvalidToken("The metrics token is missing or wrong.")
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)
