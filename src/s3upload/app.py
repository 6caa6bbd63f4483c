"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from s3upload import __version__
from s3upload.access.hook import AuthzHook
from s3upload.access.pending import PendingUploads
from s3upload.access.scopes import ScopeGate
from s3upload.auth.cache import VerifiedTokens
from s3upload.auth.jwks import JwksCache
from s3upload.auth.ratelimit import RateLimiter
from s3upload.body_guard import BodyGuard
from s3upload.compat.router import router as uppy_router
from s3upload.db.session import make_engine, make_sessionmaker
from s3upload.db.writer import RecordWriter
from s3upload.deps import PublicUrls
from s3upload.docs import describe_settings
from s3upload.error_handlers import install_error_handlers
from s3upload.events.router import router as events_router
from s3upload.events.sns import SnsVerifier
from s3upload.events.sweeper import sweep_forever
from s3upload.files.router import router as files_router
from s3upload.health import router as health_router
from s3upload.logs import AccessLogMiddleware, setup_logging
from s3upload.multipart.router import router as multipart_router
from s3upload.processing.worker import Processor
from s3upload.services import Services
from s3upload.settings import Settings
from s3upload.store.client import ObjectStore
from s3upload.uploads.router import router as uploads_router
from s3upload.web import install as install_demo
from s3upload.webhooks.delivery import Deliverer

DESCRIPTION = """
Direct-to-S3 uploads through signed URLs. The service never carries file bytes: it checks
each file against a profile, signs where to send it, and records the upload's status,
setting `uploaded` only after it has verified the object in the store.

Every route except the health checks needs `Authorization: Bearer <JWT>`. Errors have the
shape `{"error": "<code>", "message": "<sentence>", "details": ...}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app around one validated settings object."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database)
        store = ObjectStore(settings.s3)
        await store.start()
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.store = store
        app.state.public_urls = PublicUrls(settings, store)
        app.state.sns = SnsVerifier(settings.events.sns_origin_pattern, settings.events.sns_topics)
        app.state.limiter = RateLimiter(settings.limits, settings.redis_url)
        app.state.writer = RecordWriter(engine, settings.limits, settings.database.write_batch)
        app.state.jwks = (
            JwksCache(settings.auth.jwks_url, ttl=settings.auth.jwks_ttl)
            if settings.auth.jwks_url
            else None
        )
        hook = AuthzHook(settings.authz) if settings.authz.hook_url else None
        app.state.gate = ScopeGate(settings, hook)
        app.state.services = Services(
            settings=settings,
            store=store,
            writer=app.state.writer,
            gate=app.state.gate,
            sessions=app.state.sessionmaker,
            pending=app.state.pending,
        )
        deliverer = None
        tasks: list[asyncio.Task[None]] = []
        if settings.webhooks and settings.delivery.in_app:
            deliverer = Deliverer(app.state.sessionmaker, settings.webhooks, settings.delivery)
            tasks.append(asyncio.create_task(deliverer.run_forever()))
        if settings.process.in_app and any(p.variants for p in settings.profiles.values()):
            processor = Processor(app.state.sessionmaker, store, settings)
            tasks.append(asyncio.create_task(processor.run_forever()))
        if settings.sweep.interval > 0:
            tasks.append(
                asyncio.create_task(
                    sweep_forever(
                        sessionmaker=app.state.sessionmaker, store=store, settings=settings.sweep
                    )
                )
            )
        # What start-up loaded (botocore's service models, schemas, routes: some 200,000
        # objects) lives as long as the process. Frozen out of the cycle collector, a full
        # collection stops walking it all: about 140 ms each, every few seconds under load,
        # stalling every request in flight (the p99 of creates) and halving the rate of
        # large part batches. Only cycles among these objects would never be freed.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if deliverer is not None:
                await deliverer.close()
            if hook is not None:
                await hook.close()
            await store.close()
            await engine.dispose()

    app = FastAPI(
        title="s3upload",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tokens = VerifiedTokens(max_age=settings.auth.jwks_ttl)
    app.state.pending = PendingUploads()
    install_error_handlers(app)
    # Routes are matched in this order: the ones asked most often come first.
    app.include_router(uploads_router)
    app.include_router(uppy_router)
    app.include_router(multipart_router)
    app.include_router(files_router)
    app.include_router(events_router)
    app.include_router(health_router)
    install_demo(app)
    # Innermost of the three: its refusals still get CORS headers and an access-log line.
    app.add_middleware(BodyGuard, max_body=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=3600,
        )
    app.add_middleware(AccessLogMiddleware)

    def openapi() -> dict[str, Any]:
        return describe_settings(FastAPI.openapi(app), settings)

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="s3upload API")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="s3upload API")

    return app


def app_from_env() -> FastAPI:
    """Entry point for ASGI servers: settings from the environment, JSON logs."""
    settings = Settings()
    setup_logging(settings.log_level)
    return create_app(settings)
