"""Reading and moving upload records: lookups scoped by owner, compare-and-set status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.errors import Conflict, InvalidTransition, NotFound
from s3upload.uploads.states import Status

PROCESSOR_ROLE = "processor"
ADMIN_ROLE = "admin"


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


async def find_upload(
    session: AsyncSession, user: User, *, upload_id: uuid.UUID | None = None, key: str | None = None
) -> Upload:
    """The caller's upload by id or key; 404 for anyone else's (admins and processors see all)."""
    stmt = select(Upload)
    stmt = stmt.where(Upload.id == upload_id) if upload_id else stmt.where(Upload.key == key)
    if not (user.has(ADMIN_ROLE) or user.has(PROCESSOR_ROLE)):
        stmt = stmt.where(Upload.owner == user.owner)
    upload = (await session.execute(stmt)).scalar_one_or_none()
    # End the read's transaction: the connection goes back to the pool instead of waiting
    # through store calls and the answer (status changes are compare-and-set, not locks).
    await session.commit()
    if upload is None:
        raise NotFound("No such upload.")
    return upload


async def move(
    session: AsyncSession, upload: Upload, expected: str, new: Status, **values: Any
) -> bool:
    """Compare-and-set the status, so concurrent completes and events cannot both win."""
    result = await session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.status == expected)
        .values(status=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await session.refresh(upload)
    return bool(getattr(result, "rowcount", 0))


def conflict(upload: Upload, wanted: str) -> Conflict:
    """The 409 for a transition the state machine does not allow."""
    return InvalidTransition(
        f"An upload that is '{upload.status}' cannot become '{wanted}'.",
        details={"status": upload.status},
    )
