"""Files: listing (the caller's own, or a scope's), downloading, claiming and deleting them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.access.scopes import ScopeAction, ScopeGate
from s3upload.auth import roles
from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.db.records import conflict, settle, stored_keys, utcnow
from s3upload.db.states import READABLE, Status, can_move
from s3upload.errors import Forbidden, NotDownloadable, VariantNotFound
from s3upload.files.disposition import content_disposition, inline_safe
from s3upload.files.pagination import decode_cursor, encode_cursor
from s3upload.multipart import service as multipart
from s3upload.store.client import ObjectStore

# A file may be claimed while it is on its way or kept; not once it failed or is gone.
CLAIMABLE = frozenset({Status.PENDING}) | READABLE


async def readers_view(
    user: User, scope: str, status: Status | None, gate: ScopeGate
) -> tuple[list[str], bool]:
    """Which statuses of a scope's files the caller lists, and whether only their own.

    Readers of the scope see its finished files, whoever uploaded them; unfinished and
    ended ones only their own. Processors and admins see every file.
    """
    finished = [s.value for s in READABLE]
    statuses = [status.value] if status is not None else finished
    if user.has(roles.PROCESSOR) or user.has(roles.ADMIN):
        return statuses, False
    if gate.access(scope, None) == "owner":
        return statuses, True
    decision = await gate.decide(user, scope, ScopeAction.READ, profile=None)
    if not decision.allow:
        raise Forbidden(decision.message or f"You may not read {scope}.")
    return statuses, status is not None and status not in READABLE


async def list_uploads(
    *,
    session: AsyncSession,
    user: User,
    gate: ScopeGate,
    status: Status | None,
    scope: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Upload], str | None]:
    """One page of uploads, newest first, and the cursor of the next page.

    Without a scope: the caller's own uploads (processors and admins: every owner's, so a
    processor finds its work by status). With one: that scope's files the caller may read.
    """
    stmt = select(Upload)
    if scope is not None:
        statuses, own_only = await readers_view(user, scope, status, gate)
        stmt = stmt.where(Upload.scope == scope, Upload.status.in_(statuses))
        if own_only:
            stmt = stmt.where(Upload.owner == user.owner)
    else:
        if not (user.has(roles.PROCESSOR) or user.has(roles.ADMIN)):
            stmt = stmt.where(Upload.owner == user.owner)
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


async def download_url(
    *,
    store: ObjectStore,
    upload: Upload,
    disposition: Literal["attachment", "inline"],
    expires_in: int,
) -> tuple[str, datetime]:
    """A signed GET that names the file as it was uploaded; only for finished uploads.

    `inline` is honoured only for passive types: SVG, HTML and other script-capable files
    are always attachments, so they never run in the store's origin.
    """
    if disposition == "inline" and not inline_safe(upload.file_type):
        disposition = "attachment"
    if upload.status not in READABLE:
        raise NotDownloadable(
            f"An upload that is '{upload.status}' has nothing to download.",
            details={"status": upload.status},
        )
    return await _signed_get(store, upload.key, upload.file_name, disposition, expires_in)


async def variant_url(
    *, store: ObjectStore, upload: Upload, name: str, expires_in: int
) -> tuple[str, datetime]:
    """A signed GET of one derived version, named after the file and the variant."""
    variant = (upload.variants or {}).get(name)
    if upload.status not in READABLE or variant is None:
        raise VariantNotFound(
            f"This file has no variant '{name}'"
            + (f" (it is '{upload.status}')." if upload.status != Status.COMPLETED else "."),
            details={"variants": sorted(upload.variants or {}), "status": upload.status},
        )
    stem = upload.file_name.rsplit(".", 1)[0] or "file"
    ext = variant["key"].rsplit(".", 1)[-1]
    # Variants are images the service itself wrote: shown inline.
    return await _signed_get(store, variant["key"], f"{stem}-{name}.{ext}", "inline", expires_in)


async def _signed_get(
    store: ObjectStore,
    key: str,
    file_name: str,
    disposition: Literal["attachment", "inline"],
    expires_in: int,
) -> tuple[str, datetime]:
    now = utcnow()
    creds = await store.credentials()
    url = store.signer.presign(
        key,
        creds=creds,
        method="GET",
        query={"response-content-disposition": content_disposition(file_name, disposition)},
        expires_in=expires_in,
        now=now,
    )
    return url, now + timedelta(seconds=expires_in)


async def claim_file(*, session: AsyncSession, upload: Upload) -> Upload:
    """Mark a file claimed by the application, so the sweeper keeps it; claiming twice is fine."""
    if upload.claimed_at is not None:
        return upload
    if upload.status not in CLAIMABLE:
        raise conflict(upload, "claimed")
    now = utcnow()
    result = await session.execute(
        update(Upload)
        .where(
            Upload.id == upload.id,
            Upload.claimed_at.is_(None),
            Upload.status.in_([s.value for s in CLAIMABLE]),
        )
        .values(claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await session.refresh(upload)
    if not getattr(result, "rowcount", 0) and upload.claimed_at is None:
        raise conflict(upload, "claimed")  # the sweeper expired it meanwhile
    return upload


async def delete_file(*, session: AsyncSession, store: ObjectStore, upload: Upload) -> None:
    """Remove the object (and any unfinished multipart upload) and mark the record `deleted`."""
    if upload.status == Status.DELETED:
        return
    if not can_move(Status(upload.status), Status.DELETED):
        raise conflict(upload, Status.DELETED)
    # Store first: if it fails the record keeps its status and the delete can be retried.
    if upload.strategy == "multipart" and upload.status == Status.PENDING:
        await multipart.abort(store=store, upload=upload)
    else:
        for key in stored_keys(upload):
            await store.delete(key)
    # The store's ObjectRemoved event may have marked it `deleted` already: that is success.
    await settle(session, upload, upload.status, Status.DELETED)
