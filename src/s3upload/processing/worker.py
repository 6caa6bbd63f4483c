"""Processing workers: each file of a profile with variants, made once, by any process.

Work is the uploads table itself: a file `uploaded` (or `processing` whose lease ran out,
its worker having died) is claimed with `SELECT … FOR UPDATE SKIP LOCKED` and a lease, so
any number of processes on any number of machines share it and a killed worker's file is
taken over. Store errors are retried (`PROCESS_ATTEMPTS`); a broken image fails at once,
the original kept.

The lease's end time is the worker's token: every later write is a compare-and-set on it
(SQLite ignores `FOR UPDATE`, and a slow worker may outlive its lease), so a worker that lost
its file changes nothing, not the record and not the variants its successor wrote.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.db import outbox
from s3upload.db.models import Upload
from s3upload.db.records import utcnow
from s3upload.db.states import Status
from s3upload.errors import AppError
from s3upload.metrics import PROCESS_SECONDS, PROCESSED
from s3upload.processing.images import FORMATS, BadImage, StoreSource, check_header, render
from s3upload.settings import Profile, Settings
from s3upload.store.client import ObjectStore

log = logging.getLogger("s3upload.processing")


class Processor:
    """Claims files that need variants and makes them, `concurrency` at a time."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: ObjectStore,
        settings: Settings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.store = store
        self.settings = settings
        self.config = settings.process

    async def claim(self) -> Upload | None:
        """The next file to process, leased to this worker; `upload.processing` on first claim."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            upload = (
                await session.execute(
                    select(Upload)
                    .where(
                        Upload.wants_variants.is_(True),
                        Upload.status.in_([Status.UPLOADED.value, Status.PROCESSING.value]),
                        or_(Upload.lease_until.is_(None), Upload.lease_until < now),
                    )
                    .order_by(Upload.lease_until.nulls_first(), Upload.updated_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if upload is None:
                return None
            first = upload.status == Status.UPLOADED
            values: dict[str, Any] = {"lease_until": now + timedelta(seconds=self.config.lease)}
            if first:
                values |= {"status": Status.PROCESSING.value, "updated_at": now}
            result = await session.execute(
                update(Upload)
                .where(
                    Upload.id == upload.id,
                    Upload.status == upload.status,
                    _same(Upload.lease_until, upload.lease_until),
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not getattr(result, "rowcount", 0):
                return None  # another worker claimed it between our read and our write
            if first:
                await outbox.record(session, upload, Status.PROCESSING, updated_at=now)
            else:
                log.info("taking over a file whose lease ran out", extra=_about(upload))
        for name, value in values.items():
            setattr(upload, name, value)
        return upload

    async def process(self, upload: Upload) -> str:
        """Make every variant of one claimed file; `completed`, `failed` or `retried`."""
        started = time.perf_counter()
        profile = self.settings.profiles.get(upload.profile)
        written: dict[str, dict[str, Any]] = {}
        try:
            if profile is None or not profile.variants:
                raise BadImage(f"profile '{upload.profile}' no longer names any variants")
            await self._make(upload, profile, written)
        except _Lost:
            outcome = "abandoned"  # its new holder writes the same keys: leave them
        except BadImage as exc:
            outcome = await self._fail(upload, str(exc), written)
        except (AppError, OSError, TimeoutError) as exc:
            outcome = await self._retry(upload, exc, written)
        else:
            outcome = await self._finish(upload, written)
        PROCESSED.labels(outcome=outcome).inc()
        PROCESS_SECONDS.observe(time.perf_counter() - started)
        log.info("processed", extra={**_about(upload), "outcome": outcome})
        return outcome

    async def _make(self, upload: Upload, profile: Profile, written: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        reader = StoreSource(self.store, upload.key, upload.file_size or 0, loop)
        try:
            await asyncio.to_thread(
                check_header,
                reader,
                max_pixels=self.config.max_pixels,
                svg_ok=profile.rasterize_svg,
            )
            for name, variant in profile.variants.items():
                done = await asyncio.to_thread(render, reader, variant)
                key = f"{self.settings.derived_prefix(profile)}/{upload.id}/{name}"
                key += FORMATS[variant.format][1]
                with done.file:
                    await self.store.put(
                        key,
                        done.file,
                        content_type=done.content_type,
                        cache_control=profile.cache_control,
                    )
                written[name] = {
                    "width": done.width,
                    "height": done.height,
                    "size": done.size,
                    "contentType": done.content_type,
                    "key": key,
                }
                await self._renew(upload)
        finally:
            await asyncio.to_thread(reader.close)

    async def _renew(self, upload: Upload) -> None:
        """Hold the lease while a file with many variants is being made."""
        until = utcnow() + timedelta(seconds=self.config.lease)
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Upload).where(*_held(upload)).values(lease_until=until)
            )
        if not getattr(result, "rowcount", 0):
            raise _Lost()
        upload.lease_until = until

    async def _end(self, upload: Upload, new: Status, **values: Any) -> bool:
        """`processing` -> `new` with its webhook event, if this worker still holds the file."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Upload)
                .where(*_held(upload))
                .values(status=new.value, updated_at=now, lease_until=None, **values)
            )
            moved = bool(getattr(result, "rowcount", 0))
            if moved:
                await outbox.record(session, upload, new, updated_at=now, **values)
        return moved

    async def _finish(self, upload: Upload, written: dict[str, Any]) -> str:
        if await self._end(upload, Status.COMPLETED, variants=written):
            return "completed"
        # Deleted meanwhile (the delete removed the keys it knew), or taken over by a worker
        # that writes the same keys: either way these are not ours to remove.
        return "abandoned"

    async def _fail(self, upload: Upload, reason: str, written: dict[str, Any]) -> str:
        if not await self._end(upload, Status.FAILED, failure_reason=reason):
            return "abandoned"
        await self._discard(written)
        return "failed"

    async def _retry(self, upload: Upload, exc: Exception, written: dict[str, Any]) -> str:
        """A store or network error: try again later, until the attempts are spent."""
        attempts = upload.attempts + 1
        why = getattr(exc, "message", None) or type(exc).__name__
        if attempts >= self.config.attempts:
            reason = f"processing failed {attempts} times; last: {why}"
            return await self._fail(upload, reason, written)
        later = utcnow() + timedelta(seconds=self.config.retry_after)
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Upload).where(*_held(upload)).values(lease_until=later, attempts=attempts)
            )
        if not getattr(result, "rowcount", 0):
            return "abandoned"
        log.warning("processing will be retried", extra={**_about(upload), "reason": why})
        return "retried"

    async def _discard(self, written: dict[str, Any]) -> None:
        for item in written.values():
            try:
                await self.store.delete(item["key"])
            except AppError:  # left for the bucket's owner; the record never names it
                log.warning("a variant could not be removed", extra={"key": item["key"]})

    async def run_once(self) -> int:
        """Process claimable files until none is left; how many were processed."""
        count = 0
        while (upload := await self.claim()) is not None:
            await self.process(upload)
            count += 1
        return count

    async def run_forever(self) -> None:
        """`concurrency` loops, each claiming and processing one file at a time."""
        await asyncio.gather(*(self._loop() for _ in range(self.config.concurrency)))

    async def _loop(self) -> None:
        while True:
            try:
                upload = await self.claim()
            except Exception:  # the database away: look again later
                log.exception("claiming work failed")
                upload = None
            if upload is None:
                await asyncio.sleep(self.config.poll)
                continue
            try:
                await self.process(upload)
            except Exception:  # a bug: the lease runs out and the file is taken again
                log.exception("processing crashed", extra=_about(upload))


class _Lost(Exception):
    """This worker's lease on the file was taken over (or the file left `processing`)."""


def _same(column: Any, value: Any) -> Any:
    """`column = value`, where a null equals a null."""
    return column.is_(None) if value is None else column == value


def _held(upload: Upload) -> tuple[Any, ...]:
    """The file is still `processing` under the lease this worker holds."""
    return (
        Upload.id == upload.id,
        Upload.status == Status.PROCESSING,
        _same(Upload.lease_until, upload.lease_until),
    )


def _about(upload: Upload) -> dict[str, str]:
    return {"upload_id": str(upload.id), "profile": upload.profile}
