"""Applying S3 event records to uploads, by what the store holds now.

Events can arrive twice, late, or out of order, so none is trusted as it stands: each one
only names a key, and the service HEADs that key and moves the record to match the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.db.models import Upload
from s3upload.db.records import move
from s3upload.db.states import READABLE, Status, can_move
from s3upload.errors import Conflict, Invalid, InvalidEvent
from s3upload.metrics import EVENTS
from s3upload.store.client import ObjectStore
from s3upload.uploads.verify import changed_since_verified, verify_and_mark

log = logging.getLogger("s3upload.events")

# Records that may no longer hold an object: one arriving for them came through a signed URL
# that outlived the cancellation, and is removed.
_CLOSED = frozenset({Status.ABORTED, Status.EXPIRED, Status.DELETED})


@dataclass
class Outcome:
    """What a batch of records did."""

    processed: int = 0
    ignored: int = 0


def parse_records(payload: Any) -> list[tuple[str, str, str]]:
    """(event name without `s3:`, bucket, key) of each record; 400 if the shape is wrong."""
    if not isinstance(payload, dict):
        raise InvalidEvent("An S3 event is a JSON object with `Records`.")
    if payload.get("Event") == "s3:TestEvent":
        return []
    records = payload.get("Records")
    if not isinstance(records, list):
        raise InvalidEvent("An S3 event is a JSON object with `Records`.")
    out = []
    for record in records:
        try:
            name = str(record["eventName"]).removeprefix("s3:")
            bucket = str(record["s3"]["bucket"]["name"])
            key = unquote_plus(str(record["s3"]["object"]["key"]))
        except (KeyError, TypeError) as exc:
            raise InvalidEvent(
                "An event record lacks eventName, s3.bucket.name or s3.object.key.",
            ) from exc
        out.append((name, bucket, key))
    return out


async def _created(session: AsyncSession, store: ObjectStore, upload: Upload) -> bool:
    if upload.status == Status.PENDING:
        try:
            await verify_and_mark(session=session, store=store, upload=upload)
        except Conflict:
            return False  # the object is gone again: a later event or the sweeper decides
        except Invalid:
            pass  # verification failed and the record now says so
        return True
    if upload.status in READABLE:
        return await _check_unchanged(session, store, upload)
    if upload.status in _CLOSED and await store.head(upload.key) is not None:
        log.warning(
            "object arrived for a closed upload; removing it",
            extra={"upload_id": str(upload.id), "status": upload.status},
        )
        await store.delete(upload.key)
        return True
    return False


async def _check_unchanged(session: AsyncSession, store: ObjectStore, upload: Upload) -> bool:
    """A verified file written again (where the store cannot refuse it, as with POST forms):
    the record no longer tells the truth, so the upload fails and is never downloaded."""
    reason = changed_since_verified(upload, await store.head(upload.key))
    if reason is None:
        return False  # a duplicate of the event that verified it, or gone (its removal decides)
    log.warning("verified object changed", extra={"upload_id": str(upload.id)})
    if not can_move(Status(upload.status), Status.FAILED):
        return False  # completed is final; the change is logged for the operator
    return await move(session, upload, upload.status, Status.FAILED, failure_reason=reason)


async def _removed(session: AsyncSession, store: ObjectStore, upload: Upload) -> bool:
    if upload.status not in READABLE | {Status.FAILED}:
        return False
    if upload.status == Status.FAILED and upload.public:
        return False  # the service removed it itself when it failed: it stays `failed`
    if await store.head(upload.key) is not None:
        return False  # stale: the object is there (written again after the removal)
    return await move(session, upload, upload.status, Status.DELETED)


async def apply_records(
    records: list[tuple[str, str, str]],
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: ObjectStore,
) -> Outcome:
    """Bring each named upload in line with the store; unknown keys are logged and skipped."""
    outcome = Outcome()
    for name, bucket, key in records:
        if bucket != store.bucket:
            log.info("event for another bucket ignored", extra={"bucket": bucket})
            outcome.ignored += 1
            continue
        async with sessionmaker() as session:
            upload = (
                await session.execute(select(Upload).where(Upload.key == key))
            ).scalar_one_or_none()
            if upload is None:
                log.info("event for an unknown key ignored", extra={"event": name, "key": key})
                EVENTS.labels(outcome="unknown_key").inc()
                outcome.ignored += 1
                continue
            if name.startswith("ObjectCreated"):
                changed = await _created(session, store, upload)
            elif name.startswith("ObjectRemoved"):
                changed = await _removed(session, store, upload)
            else:
                changed = False
            log.info(
                "event applied" if changed else "event changed nothing",
                extra={"event": name, "upload_id": str(upload.id), "status": upload.status},
            )
            if changed:
                outcome.processed += 1
            else:
                outcome.ignored += 1
            EVENTS.labels(outcome="processed" if changed else "ignored").inc()
    return outcome
