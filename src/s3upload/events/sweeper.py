"""The sweeper: uploads still pending past their window are verified or expired, and
finished files nobody claimed in time are removed.

Safe to run on several machines at once: each upload is claimed with
`SELECT ... FOR UPDATE SKIP LOCKED` in its own transaction (PostgreSQL), and every status
change is a compare-and-set, so an upload is acted on once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.db import outbox
from s3upload.db.models import Upload, UploadUsage
from s3upload.db.records import claim_deadline, stored_keys, utcnow
from s3upload.db.states import READABLE, Status, can_move
from s3upload.metrics import SWEEPER
from s3upload.settings import SweepSettings
from s3upload.store.client import ObjectStore
from s3upload.uploads.verify import changed_since_verified, charge_verified, problem

log = logging.getLogger("s3upload.sweeper")


@dataclass(frozen=True)
class SweepAction:
    """What the sweeper did (or would do) to one upload."""

    upload_id: str
    key: str
    # "uploaded" or "expired"; for verified POST uploads "sealed" or "failed"; for unclaimed
    # files "expired", then "removed" once the object is gone.
    action: str
    reason: str


async def _decide(store: ObjectStore, upload: Upload) -> tuple[str, str, dict[str, object]]:
    """The action for one stale upload, from what the store holds."""
    checksums = bool(upload.checksum_algorithm and upload.checksum_algorithm != "MD5")
    info = await store.head(upload.key, checksums=checksums)
    if info is None:
        return "expired", "not finished within its window", {}
    wrong = await problem(store, upload, info)
    if wrong is None:
        now = utcnow()
        return (
            "uploaded",
            "found in the store; its completion was never reported",
            {
                "uploaded_at": now,
                "etag": info.etag,
                "file_size": info.size,
                "claim_deadline": claim_deadline(upload, now),
            },
        )
    return "expired", f"not finished within its window ({wrong})", {}


async def _claim(
    session: AsyncSession, stmt: Select[Upload], dry_run: bool, seen: set[uuid.UUID]
) -> Upload | None:
    """The next upload `stmt` finds, locked for this transaction (SKIP LOCKED: several
    sweepers share the work); a dry run locks nothing and skips what it already reported."""
    if dry_run:
        stmt = stmt.where(Upload.id.not_in(seen)) if seen else stmt
    else:
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _sweep_one(
    session: AsyncSession,
    store: ObjectStore,
    cutoff: datetime,
    dry_run: bool,
    seen: set[uuid.UUID],
) -> SweepAction | None:
    stmt = (
        select(Upload)
        .where(Upload.status == Status.PENDING, Upload.expires_at < cutoff)
        .order_by(Upload.expires_at)
        .limit(1)
    )
    upload = await _claim(session, stmt, dry_run, seen)
    if upload is None:
        return None
    action, reason, values = await _decide(store, upload)
    if not dry_run:
        if action == "expired":
            # Free the store before the record says so; a failure leaves it pending for later.
            if upload.strategy == "multipart" and upload.store_upload_id:
                await store.abort_multipart(upload.key, upload.store_upload_id)
            await store.delete(upload.key)
            values = {"failure_reason": reason}
        now = utcnow()
        result = await session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.status == Status.PENDING)
            .values(status=action, updated_at=now, **values)
        )
        size = values.get("file_size")
        won = bool(getattr(result, "rowcount", 0))
        if won:
            await outbox.record(session, upload, Status(action), updated_at=now, **values)
        if won and upload.file_size is None and isinstance(size, int):
            # Bytes never declared count once the store holds them, as in verification.
            await charge_verified(upload, size, utcnow())(session)
    return SweepAction(str(upload.id), upload.key, action, reason)


async def _seal_one(
    session: AsyncSession,
    store: ObjectStore,
    cutoff: datetime,
    dry_run: bool,
    seen: set[uuid.UUID],
) -> SweepAction | None:
    """A verified POST upload whose form has expired: unchanged since verification, it is
    sealed (never looked at again); written again meanwhile, it fails and is not served."""
    stmt = (
        select(Upload)
        .where(
            Upload.method == "POST",
            Upload.sealed_at.is_(None),
            Upload.status.in_([s.value for s in READABLE]),
            Upload.expires_at < cutoff,
        )
        .order_by(Upload.expires_at)
        .limit(1)
    )
    upload = await _claim(session, stmt, dry_run, seen)
    if upload is None:
        return None
    changed = changed_since_verified(upload, await store.head(upload.key))
    if changed is not None:
        action, reason = "failed", changed
        values: dict[str, object] = {"status": Status.FAILED, "failure_reason": reason}
        if not can_move(Status(upload.status), Status.FAILED):
            action, values = "sealed", {}  # completed is final: logged for the operator
            log.warning("completed object changed", extra={"upload_id": str(upload.id)})
    else:
        action, reason, values = "sealed", "unchanged since verification", {}
    if not dry_run:
        now = utcnow()
        result = await session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.status == upload.status)
            .values(sealed_at=now, updated_at=now, **values)
        )
        if action == "failed" and bool(getattr(result, "rowcount", 0)):
            await outbox.record(session, upload, Status.FAILED, updated_at=now, **values)
    return SweepAction(str(upload.id), upload.key, action, reason)


async def _unclaimed_one(
    session: AsyncSession,
    store: ObjectStore,
    cutoff: datetime,
    dry_run: bool,
    seen: set[uuid.UUID],
) -> SweepAction | None:
    """A finished file nobody claimed by its deadline: first the record says `expired`
    (committed), then, on the next look, its object is removed and the deadline cleared.

    Two steps because removing the object makes the store push ObjectRemoved to this service
    before the removal returns; a row lock held meanwhile would keep that event waiting.
    """
    stmt = (
        select(Upload)
        .where(
            Upload.claimed_at.is_(None),
            Upload.claim_deadline.is_not(None),
            Upload.claim_deadline < cutoff,
            Upload.status.in_([s.value for s in READABLE | {Status.EXPIRED}]),
        )
        .order_by(Upload.claim_deadline)
        .limit(1)
    )
    upload = await _claim(session, stmt, dry_run, seen)
    if upload is None:
        return None
    done = SweepAction(str(upload.id), upload.key, "expired", "unclaimed")
    if dry_run:
        return done
    now = utcnow()
    if upload.status == Status.EXPIRED:
        for key in stored_keys(upload):
            await store.delete(key)
        await session.execute(
            update(Upload).where(Upload.id == upload.id).values(claim_deadline=None)
        )
        return SweepAction(str(upload.id), upload.key, "removed", "unclaimed")
    values: dict[str, object] = {"failure_reason": "unclaimed"}
    result = await session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.status == upload.status, Upload.claimed_at.is_(None))
        .values(status=Status.EXPIRED, updated_at=now, **values)
    )
    if bool(getattr(result, "rowcount", 0)):
        await outbox.record(session, upload, Status.EXPIRED, updated_at=now, **values)
    return done


# Forms are refused past their expiry by the store's clock: this much skew is allowed for.
_CLOCK_SKEW = timedelta(minutes=5)


async def sweep(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: ObjectStore,
    settings: SweepSettings,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[SweepAction]:
    """Reconcile up to `settings.batch` stale pending uploads, seal as many verified POST
    uploads whose forms expired, and expire as many files nobody claimed in time; with
    `dry_run`, only report."""
    now = now or utcnow()
    actions = await _each(
        _sweep_one, sessionmaker, store, now - timedelta(seconds=settings.grace), settings, dry_run
    )
    actions += await _each(_seal_one, sessionmaker, store, now - _CLOCK_SKEW, settings, dry_run)
    actions += await _each(_unclaimed_one, sessionmaker, store, now, settings, dry_run)
    if not dry_run:
        await prune_usage(sessionmaker, now)
    return actions


async def _each(
    step: Callable[
        [AsyncSession, ObjectStore, datetime, bool, set[uuid.UUID]],
        Awaitable[SweepAction | None],
    ],
    sessionmaker: async_sessionmaker[AsyncSession],
    store: ObjectStore,
    cutoff: datetime,
    settings: SweepSettings,
    dry_run: bool,
) -> list[SweepAction]:
    """`step` on one upload at a time, each in its own transaction, up to `settings.batch`."""
    actions: list[SweepAction] = []
    seen: set[uuid.UUID] = set()
    for _ in range(settings.batch):
        async with sessionmaker() as session, session.begin():
            done = await step(session, store, cutoff, dry_run, seen)
        if done is None:
            break
        seen.add(uuid.UUID(done.upload_id))
        if not dry_run:
            SWEEPER.labels(action=done.action).inc()
        actions.append(done)
        log.info(
            "would sweep" if dry_run else "swept",
            extra={"upload_id": done.upload_id, "action": done.action, "reason": done.reason},
        )
    return actions


async def prune_usage(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Drop hourly usage rows the daily quota no longer reads (older than 25 hours)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            delete(UploadUsage).where(UploadUsage.hour < now - timedelta(hours=25))
        )


async def sweep_forever(
    *, sessionmaker: async_sessionmaker[AsyncSession], store: ObjectStore, settings: SweepSettings
) -> None:
    """The in-app periodic sweep (`SWEEP_INTERVAL` > 0); errors are logged, never fatal."""
    while True:
        await asyncio.sleep(settings.interval)
        try:
            await sweep(sessionmaker=sessionmaker, store=store, settings=settings)
        except Exception:  # a sweep that fails is retried at the next interval
            log.exception("sweep failed")
