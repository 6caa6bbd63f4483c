"""Listing the caller's uploads."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.files.pagination import decode_cursor, encode_cursor
from s3upload.uploads.states import Status


async def list_uploads(
    *,
    session: AsyncSession,
    user: User,
    status: Status | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Upload], str | None]:
    """One page of the caller's uploads, newest first, and the cursor of the next page."""
    stmt = select(Upload).where(Upload.owner == user.owner)
    if status is not None:
        stmt = stmt.where(Upload.status == status)
    if cursor:
        created_at, upload_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(Upload.created_at, Upload.id) < (created_at, upload_id))
    stmt = stmt.order_by(Upload.created_at.desc(), Upload.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at, last.id)
