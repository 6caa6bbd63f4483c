"""Engine, session factory and the per-request session dependency."""

from __future__ import annotations

import logging
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
    if settings.url.startswith("postgresql+asyncpg"):
        # Fail fast when PostgreSQL is gone instead of hanging the request.
        kwargs["connect_args"] = {"timeout": settings.pool_timeout, "command_timeout": 30}
    return create_async_engine(settings.url, **kwargs)


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
