"""Writes new upload records: concurrent creates share one transaction (group commit).

While one batch is being written, creates that arrive queue up; when it commits, the queue
goes out as the next batch. A lone create is written at once, so batching adds no wait at
low load, and under load the cost of a transaction is shared by every create in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from s3upload.db.models import Upload
from s3upload.db.quotas import charge, current_use, decide, hour_of
from s3upload.errors import QuotaExceeded
from s3upload.metrics import WRITE_BATCH
from s3upload.settings import LimitsSettings

log = logging.getLogger("s3upload.uploads")

# Batches written at once, each on its own connection. More than one keeps the database busy
# while a batch waits on its round trips; few enough that batches stay large under load.
WRITERS = 2

# (column name, attribute name) of every column, for writing ORM objects with Core.
_COLUMNS = [(prop.columns[0].key, prop.key) for prop in Upload.__mapper__.column_attrs]
_INSERT_UPLOAD = insert(Upload)
# Plain column defaults (flags, counters), which Core does not apply to an explicit None.
_DEFAULTS = {
    column.key: column.default.arg
    for column in Upload.__table__.columns
    if column.default is not None and not callable(column.default.arg)
}


@dataclass
class _Waiting:
    upload: Upload
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class RecordWriter:
    """Inserts new uploads after the owner's quotas, batching concurrent calls."""

    def __init__(self, engine: AsyncEngine, limits: LimitsSettings, max_batch: int) -> None:
        self.engine = engine
        self.limits = limits
        self.max_batch = max(1, max_batch)
        self._queue: list[_Waiting] = []
        self._running = 0  # writers draining the queue; counted here, not by their tasks
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until they finish

    async def add(self, upload: Upload) -> None:
        """Record `upload`; returns once committed, raises QuotaExceeded or the write's error."""
        waiting = _Waiting(upload)
        self._queue.append(waiting)
        if self._running < WRITERS:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a client that disconnects must not cancel the batch it shares with others.
        await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                WRITE_BATCH.observe(len(batch))
                verdicts: list[Exception | None]
                try:
                    verdicts = list(await self._write([w.upload for w in batch]))
                except Exception as exc:  # every create in the batch fails with it
                    verdicts = [exc] * len(batch)
                for waiting, verdict in zip(batch, verdicts, strict=True):
                    if verdict is None:
                        waiting.done.set_result(None)
                    else:
                        waiting.done.set_exception(verdict)
                batch = []
        except BaseException:  # cancelled at shutdown: nobody is left to write these
            for waiting in [*batch, *self._queue]:
                waiting.done.cancel()
            self._queue.clear()
            raise
        finally:
            # In the same step as the empty-queue check above: a create queued after it
            # sees this writer gone and starts another, so none is left waiting.
            self._running -= 1

    async def _write(self, uploads: Sequence[Upload]) -> list[QuotaExceeded | None]:
        now = max(u.created_at for u in uploads)
        async with self.engine.begin() as conn:
            pending, used = await current_use(conn, self.limits, {u.owner for u in uploads}, now)
            verdicts = decide(self.limits, uploads, pending, used)
            accepted = [u for u, v in zip(uploads, verdicts, strict=True) if v is None]
            if accepted:
                await conn.execute(_INSERT_UPLOAD, [_row(u) for u in accepted])
                await _count_usage(conn, accepted)
        return verdicts


def _row(upload: Upload) -> dict[str, Any]:
    # A new object's values are in its __dict__; reading them there skips the ORM's
    # instrumented getter, some 40 calls per record.
    values = upload.__dict__
    row = {column: values.get(attr) for column, attr in _COLUMNS}
    for column, default in _DEFAULTS.items():
        if row[column] is None:
            row[column] = default
    return row


async def _count_usage(conn: AsyncConnection, uploads: Sequence[Upload]) -> None:
    """Add the declared bytes to each owner's hourly usage row."""
    totals: Counter[tuple[str, Any]] = Counter()
    for upload in uploads:
        if upload.file_size:
            totals[upload.owner, hour_of(upload.created_at)] += upload.file_size
    await charge(conn, totals)
