"""Every migration upgrades and downgrades, on PostgreSQL and SQLite, and matches the models."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from s3upload.db import migrate
from s3upload.db.models import Base


def _tables_and_diff(url: str) -> tuple[set[str], list[object]]:
    async def run() -> tuple[set[str], list[object]]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        await engine.dispose()
        return tables, diff

    return asyncio.run(run())


def _walk(url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = [r.revision for r in script.walk_revisions()][::-1]
    assert revisions, "no migrations found"
    for rev in revisions:
        migrate.upgrade(url, rev)
    tables, diff = _tables_and_diff(url)
    assert "uploads" in tables
    assert diff == [], f"models and migrations differ: {diff}"
    for rev in reversed(revisions):
        migrate.downgrade(url, f"{rev}-1" if rev != revisions[0] else "base")
    tables, _ = _tables_and_diff(url)
    assert tables <= {"alembic_version"}
    migrate.upgrade(url)


@pytest.fixture
def fresh_pg(services):
    import asyncpg

    name = f"mig_{uuid.uuid4().hex[:8]}"
    dsn = services.database_url.replace("postgresql+asyncpg", "postgresql")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield services.database_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'DROP DATABASE "{name}"'))


def test_migrations_postgresql(fresh_pg):
    _walk(fresh_pg)


def test_migrations_sqlite(tmp_path):
    _walk(f"sqlite+aiosqlite:///{tmp_path}/m.db")


def test_usage_backfilled_from_the_last_day(fresh_pg):
    """Upgrading to hourly usage carries the last 24 hours' declared bytes over."""
    import asyncpg

    migrate.upgrade(fresh_pg, "0001")
    dsn = fresh_pg.replace("postgresql+asyncpg", "postgresql")

    async def run() -> list[tuple[str, int]]:
        conn = await asyncpg.connect(dsn)
        try:
            for owner, size, age in (
                ("ann", 10, "1 hour"),
                ("ann", 5, "2 hours"),
                ("ann", 7, "3 days"),
                ("bo", None, "1 hour"),
            ):
                await conn.execute(
                    "INSERT INTO uploads (id, owner, key, file_name, file_type, file_size,"
                    " size_limit, status, strategy, method, profile, metadata, created_at,"
                    " updated_at, expires_at) VALUES ($1, $2, $3, 'f', 't', $4, 100, 'pending',"
                    " 'single', 'PUT', 'default', '{}', now() - $5::text::interval, now(), now())",
                    uuid.uuid4(),
                    owner,
                    uuid.uuid4().hex,
                    size,
                    age,
                )
            await asyncio.to_thread(migrate.upgrade, fresh_pg)
            found = await conn.fetch("SELECT owner, sum(bytes) FROM upload_usage GROUP BY owner")
            return [(r[0], int(r[1])) for r in found]
        finally:
            await conn.close()

    assert asyncio.run(run()) == [("ann", 15)]
