"""Per-owner quotas: uploads pending at once, and bytes per rolling 24 hours.

Bytes count when they are declared (at create) or, for an upload that declared no size, when
the store has verified what it holds; such an upload is also capped at what is left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    String,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.dml import Insert

from s3upload.db.models import Upload, UploadUsage
from s3upload.db.states import Status
from s3upload.errors import OverDailyQuota, QuotaExceeded
from s3upload.settings import LimitsSettings

_IS_PENDING = Upload.status == literal_column(f"'{Status.PENDING.value}'")


def hour_of(moment: datetime) -> datetime:
    """The usage bucket a moment falls in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def check_size(limits: LimitsSettings, size: int | None) -> None:
    """413 for one file larger than the whole daily quota (no database needed)."""
    if limits.bytes_per_day and size and size > limits.bytes_per_day:
        raise OverDailyQuota(
            f"The file is larger than the daily quota of {limits.bytes_per_day} bytes.",
            details={"bytesPerDay": limits.bytes_per_day},
        )


def _owner_in(
    column: ColumnElement[str] | InstrumentedAttribute[str], owners: set[str], dialect: str
) -> ColumnElement[bool]:
    """`column` is one of `owners`: one array parameter on PostgreSQL, so the statement text
    (and its prepared plan) is the same for every batch size; an IN list elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam("owners", sorted(owners), type_=ARRAY(String)))
    return column.in_(owners)


async def current_use(
    conn: AsyncConnection, limits: LimitsSettings, owners: set[str], now: datetime
) -> tuple[Counter[str], Counter[str]]:
    """Each owner's pending uploads and bytes declared in the last 24 hours, in one query."""
    pending: Counter[str] = Counter()
    used: Counter[str] = Counter()
    dialect = conn.dialect.name
    parts = []
    if limits.max_pending:
        # The status is written into the SQL, not bound, so that even a generic prepared plan
        # can use the partial index of pending uploads; the quota keeps each count small.
        parts.append(
            select(literal("pending"), Upload.owner, func.count().cast(BigInteger))
            .where(_owner_in(Upload.owner, owners, dialect), _IS_PENDING)
            .group_by(Upload.owner)
        )
    if limits.bytes_per_day:
        # At most 24 hourly rows per owner, however many uploads they made.
        parts.append(
            select(
                literal("bytes"), UploadUsage.owner, func.sum(UploadUsage.bytes).cast(BigInteger)
            )
            .where(
                _owner_in(UploadUsage.owner, owners, dialect),
                UploadUsage.hour > hour_of(now) - timedelta(days=1),
            )
            .group_by(UploadUsage.owner)
        )
    if parts:
        for kind, owner, n in await conn.execute(union_all(*parts)):
            (pending if kind == "pending" else used)[owner] = int(n)
    return pending, used


async def remaining_bytes(
    conn: AsyncConnection | AsyncSession, limits: LimitsSettings, owner: str, now: datetime
) -> int | None:
    """Bytes `owner` may still add today (None: no daily quota); 429 if none are left."""
    if not limits.bytes_per_day:
        return None
    bind = conn if isinstance(conn, AsyncConnection) else await conn.connection()
    _, used = await current_use(bind, limits.model_copy(update={"max_pending": 0}), {owner}, now)
    left = limits.bytes_per_day - used[owner]
    if left <= 0:
        raise _over_bytes(limits, used[owner])
    return left


def _over_bytes(limits: LimitsSettings, used: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"This upload would pass your quota of {limits.bytes_per_day} bytes a day.",
        retry_after=3600,
        details={"usedBytes": used, "bytesPerDay": limits.bytes_per_day, "retryAfter": 3600},
    )


def decide(
    limits: LimitsSettings,
    uploads: Sequence[Upload],
    pending: Counter[str],
    used: Counter[str],
) -> list[QuotaExceeded | None]:
    """For each upload in order, the quota it would pass, or None; accepted ones count, and
    an accepted upload that declared no size is capped at what is left of its owner's day."""
    verdicts: list[QuotaExceeded | None] = []
    for upload in uploads:
        owner, size = upload.owner, upload.file_size or 0
        left = limits.bytes_per_day - used[owner] if limits.bytes_per_day else None
        verdict = None
        if limits.max_pending and pending[owner] >= limits.max_pending:
            verdict = QuotaExceeded(
                f"You have {pending[owner]} uploads pending; finish or cancel some first.",
                retry_after=60,
                details={
                    "pending": pending[owner],
                    "maxPending": limits.max_pending,
                    "retryAfter": 60,
                },
            )
        elif left is not None and (size > left or (upload.file_size is None and left <= 0)):
            verdict = _over_bytes(limits, used[owner])
        else:
            if left is not None and upload.file_size is None:
                # Declared nothing: it may hold no more than what is left of the day.
                upload.size_limit = min(upload.size_limit, left)
            pending[owner] += 1
            used[owner] += size
        verdicts.append(verdict)
    return verdicts


async def charge(
    conn: AsyncConnection | AsyncSession, usage: Counter[tuple[str, datetime]]
) -> None:
    """Add bytes to owners' hourly usage rows ((owner, hour) -> bytes), in the caller's
    transaction."""
    if not usage:
        return
    bind = conn if isinstance(conn, AsyncConnection) else await conn.connection()
    # Sorted, so concurrent writers lock usage rows in the same order (no deadlocks).
    rows = [{"owner": o, "hour": h, "bytes": b} for (o, h), b in sorted(usage.items())]
    await bind.execute(_ADD_USAGE[bind.dialect.name], rows)


def _add_usage(dialect: Any) -> Insert:
    """`INSERT … ON CONFLICT DO UPDATE` adding to an hour's bytes, in `dialect`'s words."""
    stmt = dialect.insert(UploadUsage)
    table = UploadUsage.__table__
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[table.c.owner, table.c.hour],
        set_={"bytes": table.c.bytes + stmt.excluded.bytes},
    )
    return upsert


# Built once: the same statement object lets SQLAlchemy reuse its compiled form.
_ADD_USAGE = {"postgresql": _add_usage(postgresql), "sqlite": _add_usage(sqlite)}
