"""Moving upload records: the compare-and-set status change and its 409."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.db import outbox
from s3upload.db.models import Upload
from s3upload.db.states import Status
from s3upload.errors import InvalidTransition


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


async def move(
    session: AsyncSession,
    upload: Upload,
    expected: str,
    new: Status,
    *,
    then: Callable[[AsyncSession], Awaitable[None]] | None = None,
    **values: Any,
) -> bool:
    """Compare-and-set the status, so concurrent completes and events cannot both win.

    The winner also writes the change's webhook event, and runs `then` (what the change
    costs), both in the same transaction.
    """
    now = utcnow()
    result = await session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.status == expected)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    moved = bool(getattr(result, "rowcount", 0))
    if moved:
        await outbox.record(session, upload, new, updated_at=now, **values)
    if moved and then is not None:
        await then(session)
    await session.commit()
    await session.refresh(upload)
    return moved


async def settle(
    session: AsyncSession, upload: Upload, expected: str, new: Status, **values: Any
) -> None:
    """Move `expected` -> `new`; losing the race to the same move is success, to another 409.

    A store call of the service (delete, abort, complete) makes the store send its event
    before the call returns, and the event handler may record the very same change first.
    """
    if not await move(session, upload, expected, new, **values) and upload.status != new:
        raise conflict(upload, new)


def claim_deadline(upload: Upload, uploaded_at: datetime) -> datetime | None:
    """When a file just verified must be claimed by, if its profile wants a claim."""
    if upload.claim_within is None or upload.claimed_at is not None:
        return None
    return uploaded_at + timedelta(seconds=upload.claim_within)


def stored_keys(upload: Upload) -> list[str]:
    """Every object the record names: the file and its variants."""
    return [upload.key] + [v["key"] for v in (upload.variants or {}).values()]


def conflict(upload: Upload, wanted: str) -> InvalidTransition:
    """The 409 for a transition the state machine does not allow."""
    details: dict[str, Any] = {"status": upload.status}
    message = f"An upload that is '{upload.status}' cannot become '{wanted}'."
    if upload.status == Status.FAILED and upload.failure_reason:
        # Often the store's event verified (and failed) it first: say why it failed.
        details["reason"] = upload.failure_reason
        message = message[:-1] + f": it failed ({upload.failure_reason})."
    return InvalidTransition(message, details=details)
