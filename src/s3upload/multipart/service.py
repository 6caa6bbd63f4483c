"""Multipart service functions: sign parts, list what is stored, assemble, abort."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.db.models import Upload
from s3upload.db.quotas import remaining_bytes
from s3upload.db.records import conflict, move, utcnow
from s3upload.db.states import Status
from s3upload.errors import (
    InvalidChecksum,
    InvalidParts,
    NotMultipart,
    PartOutsidePlan,
    PartSizeMismatch,
    PartsMissing,
    PartsRejected,
    TooLarge,
)
from s3upload.multipart.planning import MAX_PARTS, part_length
from s3upload.multipart.schemas import PartRef, PartTarget, UploadedPart
from s3upload.policy import profile_of, url_lifetime
from s3upload.services import Services
from s3upload.settings import Profile, Settings
from s3upload.store.client import NoSuchUpload, ObjectStore, PartListRefused, StoredPart
from s3upload.store.signer import Credentials

LIST_LIMIT = 1000  # part numbers named in an error's details, at most


def _parse_md5(number: int, value: str) -> str:
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidChecksum(f"md5s.{number} must be base64.") from exc
    if len(digest) != 16:
        raise InvalidChecksum(f"md5s.{number} must be a 16-byte MD5.")
    return base64.b64encode(digest).decode()


def require_pending_multipart(upload: Upload) -> str:
    """The store's upload id of a pending multipart upload; 409 otherwise."""
    if upload.strategy != "multipart" or not upload.store_upload_id:
        raise NotMultipart(
            "This is a single-part upload; it has no parts.",
            details={"status": upload.status},
        )
    if upload.status != Status.PENDING:
        raise conflict(upload, Status.UPLOADED)
    return upload.store_upload_id


def sign_parts(
    upload: Upload,
    *,
    store: ObjectStore,
    creds: Credentials,
    profile: Profile,
    numbers: list[int],
    now: datetime,
    md5s: dict[int, str] | None = None,
) -> list[PartTarget]:
    """Signed UploadPart URLs, each bound to its part's exact length (and MD5 if given)."""
    upload_id = require_pending_multipart(upload)
    # Without a declared size there is no plan: any part number S3 allows, lengths unbound.
    count = upload.part_count or MAX_PARTS
    wanted = sorted(set(numbers))
    outside = [n for n in wanted if not 1 <= n <= count]
    if outside:
        raise PartOutsidePlan(
            f"This upload has parts 1 to {count}.",
            details={"partNumbers": outside[:LIST_LIMIT], "partCount": count},
        )
    # MD5s of parts not asked for sign nothing: they are left aside, not refused.
    md5s = md5s or {}
    size, part_size = upload.file_size, upload.part_size
    specs: list[tuple[int, int | None, str | None]] = [
        (
            n,
            part_length(size, part_size, n) if size and part_size else None,
            _parse_md5(n, md5s[n]) if n in md5s else None,
        )
        for n in wanted
    ]
    urls = store.signer.presign_parts(
        upload.key,
        creds=creds,
        upload_id=upload_id,
        parts=specs,
        expires_in=url_lifetime(upload, profile, now),
        now=now,
    )
    # Validated as one list (in pydantic's compiled code) rather than part by part.
    return _PART_TARGETS.validate_python(
        [
            {"part_number": n, "url": url, "headers": _part_headers(length, md5)}
            for (n, length, md5), url in zip(specs, urls, strict=True)
        ]
    )


_PART_TARGETS = TypeAdapter(list[PartTarget])


def _part_headers(length: int | None, md5: str | None) -> dict[str, str]:
    """The headers a part's URL was signed with, which its PUT must send."""
    headers = {} if length is None else {"Content-Length": str(length)}
    if md5:
        headers["Content-MD5"] = md5
    return headers


async def sign_part_urls(
    upload: Upload, *, app: Services, numbers: list[int], md5s: dict[int, str] | None = None
) -> tuple[list[PartTarget], datetime]:
    """Fresh part URLs for a pending multipart upload, and when they expire."""
    require_pending_multipart(upload)
    store, settings = app.store, app.settings
    if upload.file_size is None:
        async with app.sessions() as session:
            await _check_room(session=session, store=store, settings=settings, upload=upload)
    now = utcnow()
    profile = profile_of(upload, settings)
    parts = sign_parts(
        upload,
        store=store,
        creds=await store.credentials(),
        profile=profile,
        numbers=numbers,
        md5s=md5s,
        now=now,
    )
    return parts, now + timedelta(seconds=url_lifetime(upload, profile, now))


async def _check_room(
    *, session: AsyncSession, store: ObjectStore, settings: Settings, upload: Upload
) -> None:
    """Parts of an upload that declared no size are bound to no length: sign no more once
    its owner's day is spent (429) or its parts already hold its limit (413)."""
    await remaining_bytes(session, settings.limits, upload.owner, utcnow())
    try:
        stored = await store.list_parts(upload.key, upload.store_upload_id or "")
    except NoSuchUpload:
        return  # assembled or aborted meanwhile: signing will not help, complete decides
    total = sum(p.size for p in stored)
    if total >= upload.size_limit:
        raise TooLarge(
            f"The parts already hold {total} bytes; this upload allows at most "
            f"{upload.size_limit}. Complete it.",
            details={"status": upload.status, "maxSize": upload.size_limit, "stored": total},
        )


async def uploaded_parts(upload: Upload, *, store: ObjectStore) -> list[UploadedPart] | None:
    """The parts the store holds for a pending multipart upload (for resuming)."""
    if upload.strategy != "multipart" or upload.status != Status.PENDING:
        return None
    if not upload.store_upload_id:
        return None
    try:
        stored = await store.list_parts(upload.key, upload.store_upload_id)
    except NoSuchUpload:
        return []
    return [UploadedPart(part_number=p.number, size=p.size, etag=p.etag) for p in stored]


async def assemble(
    *,
    session: AsyncSession,
    store: ObjectStore,
    upload: Upload,
    parts: list[PartRef] | None = None,
) -> None:
    """Check every planned part is stored with its size, then have the store assemble them.

    The caller verifies the object afterwards; if the store no longer knows the multipart
    upload (an earlier complete whose answer was lost), verification alone decides.
    """
    upload_id = require_pending_multipart(upload)
    try:
        stored = {p.number: p for p in await store.list_parts(upload.key, upload_id)}
    except NoSuchUpload:
        return
    if upload.file_size is None or upload.part_size is None:
        await _check_unplanned(session=session, store=store, upload=upload, stored=stored)
        count = max(stored)
        expected = {n: stored[n].size for n in stored}
    else:
        count = upload.part_count or 0
        expected = {
            n: part_length(upload.file_size, upload.part_size, n) for n in range(1, count + 1)
        }
    missing = [n for n in range(1, count + 1) if n not in stored]
    if missing:
        raise PartsMissing(
            f"{len(missing)} of {count} parts are not in the store yet.",
            details={
                "status": upload.status,
                "missing": missing[:LIST_LIMIT],
                "missingCount": len(missing),
            },
        )
    wrong = [n for n in range(1, count + 1) if stored[n].size != expected[n]]
    if wrong:
        raise PartSizeMismatch(
            "Some parts have the wrong size; upload them again.",
            details={"partNumbers": wrong[:LIST_LIMIT]},
        )
    etags = {n: stored[n].etag for n in range(1, count + 1)}
    if parts is not None:
        named = {p.part_number: p.etag for p in parts}
        if set(named) != set(etags):
            raise InvalidParts(
                f"parts must name each of the {count} parts exactly once.",
            )
        etags = named
    try:
        await store.complete_multipart(upload.key, upload_id, sorted(etags.items()))
    except NoSuchUpload:
        pass  # a concurrent complete assembled it first; verification decides
    except PartListRefused as exc:
        raise PartsRejected(
            "The store refused the part list (an ETag does not match a stored part).",
            details={"status": upload.status, "storeError": str(exc)},
        ) from exc


async def _check_unplanned(
    *, session: AsyncSession, store: ObjectStore, upload: Upload, stored: dict[int, StoredPart]
) -> None:
    """For an upload without a declared size: some parts, and no more bytes than allowed."""
    if not stored:
        raise PartsMissing(
            "No parts are in the store yet.",
            details={"status": upload.status, "missing": [1], "missingCount": 1},
        )
    total = sum(p.size for p in stored.values())
    if total > upload.size_limit:
        # Nobody may assemble it: free the store and record why.
        await abort(store=store, upload=upload)
        reason = f"parts hold {total} bytes, more than the limit of {upload.size_limit}"
        await move(session, upload, Status.PENDING, Status.FAILED, failure_reason=reason)
        raise TooLarge(
            f"The parts hold {total} bytes; this upload allows at most {upload.size_limit}.",
            details={"status": upload.status, "maxSize": upload.size_limit},
        )


async def abort(*, store: ObjectStore, upload: Upload) -> None:
    """Free the parts in the store and remove the object if it was already assembled."""
    if upload.store_upload_id:
        await store.abort_multipart(upload.key, upload.store_upload_id)
    await store.delete(upload.key)
