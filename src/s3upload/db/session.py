"""Engine, session factory and the per-request session dependency."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from s3upload.settings import DatabaseSettings

log = logging.getLogger("s3upload.db")

# Seconds a pooled connection may sit unused before it is pinged when next handed out.
PING_AFTER_IDLE = 10.0


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the engine; SQLite gets foreign keys and a busy timeout, PostgreSQL a pool."""
    kwargs: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": settings.pre_ping}
    if settings.url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": settings.pool_timeout}
        engine = create_async_engine(settings.url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    kwargs.update(
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout,
    )
    if not settings.url.startswith("postgresql+asyncpg"):
        return create_async_engine(settings.url, **kwargs)
    # Fail fast when PostgreSQL is gone instead of hanging the request.
    kwargs["connect_args"] = {"timeout": settings.pool_timeout, "command_timeout": 30}
    kwargs["pool_pre_ping"] = False  # replaced by the cheaper check below
    engine = create_async_engine(settings.url, **kwargs)
    if settings.pre_ping:
        _check_on_checkout(engine)
    return engine


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Replace a pooled connection that died before handing it out, cheaper than a ping each
    time: SQLAlchemy's pre-ping costs three round trips per checkout (BEGIN, `;`, ROLLBACK),
    while asyncpg sees at once a socket the server closed (a restart, an idle timeout). Only
    a connection left idle for PING_AFTER_IDLE seconds, which a silent network may have cut,
    is pinged."""

    @event.listens_for(engine.sync_engine, "connect")
    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if dbapi_conn._connection.is_closed():
            raise sa_exc.DisconnectionError("the server closed this connection")
        if time.monotonic() - record.info.get("idle_since", 0.0) > PING_AFTER_IDLE:
            try:
                dbapi_conn.ping()
            except Exception as exc:  # the pool replaces it and tries again
                raise sa_exc.DisconnectionError("the connection failed a ping") from exc


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, rolled back if the request did not commit."""
    session: AsyncSession = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        try:
            await session.close()
        except (sa_exc.DBAPIError, OSError):
            # The connection broke under us (database restarting): there is nothing left to
            # roll back, and the answer may already be on its way; the pool replaces it.
            log.warning("database connection lost while closing a session")


SessionDep = Annotated[AsyncSession, Depends(get_session)]
