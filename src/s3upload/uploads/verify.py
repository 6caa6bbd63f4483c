"""Verification: the store must hold exactly what was declared before `uploaded` is set."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.db.models import Upload
from s3upload.db.quotas import charge, hour_of
from s3upload.db.records import claim_deadline, conflict, move, utcnow
from s3upload.db.states import Status
from s3upload.errors import ObjectMissing, VerificationFailed
from s3upload.metrics import VERIFICATIONS
from s3upload.processing import sniff
from s3upload.processing.sniff import SNIFF_BYTES
from s3upload.store.client import ObjectInfo, ObjectStore

DONE = (Status.UPLOADED, Status.PROCESSING, Status.COMPLETED)


def mismatch(upload: Upload, info: ObjectInfo) -> str | None:
    """Why the stored object is not what was declared, or None when it is."""
    if upload.file_size is None:
        if info.size > upload.size_limit:
            return f"stored size {info.size} exceeds the limit of {upload.size_limit}"
    elif info.size != upload.file_size:
        return f"stored size {info.size} differs from declared size {upload.file_size}"
    if info.content_type.strip().lower() != upload.file_type.strip().lower():
        return f"stored type '{info.content_type}' differs from declared '{upload.file_type}'"
    alg, value = upload.checksum_algorithm, upload.checksum_value
    if alg and value:
        if alg == "MD5":
            stored = info.etag.lower()  # a single PUT's ETag is the hex MD5 of its bytes
            value = base64.b64decode(value).hex()
        else:
            stored = info.checksums.get(alg, "")
        if not stored:
            return f"the store reported no {alg} checksum to compare"
        if stored != value:
            return f"stored {alg} checksum differs from the declared one"
    return None


async def problem(store: ObjectStore, upload: Upload, info: ObjectInfo) -> str | None:
    """Why the stored object is not what was declared: its size, type and checksum, and, for
    profiles that check bytes, what its first bytes really are."""
    reason = mismatch(upload, info)
    if reason is None and upload.sniff:
        reason = sniff.mismatch(upload.file_type, await store.read_start(upload.key, SNIFF_BYTES))
    return reason


async def remove_if_public(store: ObjectStore, upload: Upload) -> None:
    """A public profile's file that failed its checks leaves the store at once: nothing
    unverified is ever served from a public prefix."""
    if upload.public:
        await store.delete(upload.key)


def changed_since_verified(upload: Upload, info: ObjectInfo | None) -> str | None:
    """Why a verified object is no longer the one verified (written again), or None."""
    if info is None or not upload.etag or info.etag == upload.etag:
        return None
    return f"the object changed after verification (ETag {info.etag}, verified {upload.etag})"


def charge_verified(
    upload: Upload, size: int, now: datetime
) -> Callable[[AsyncSession], Awaitable[None]]:
    """Count a verified upload that declared no size against its owner's daily bytes."""

    async def run(session: AsyncSession) -> None:
        await charge(session, Counter({(upload.owner, hour_of(now)): size}))

    return run


async def verify_and_mark(*, session: AsyncSession, store: ObjectStore, upload: Upload) -> Upload:
    """HEAD the object; mark `uploaded` if it is what was declared, `failed` if not."""
    if upload.status in DONE:
        return upload  # completing twice answers the same object
    if upload.status != Status.PENDING:
        raise conflict(upload, Status.UPLOADED)
    checksums = bool(upload.checksum_algorithm and upload.checksum_algorithm != "MD5")
    info = await store.head(upload.key, checksums=checksums)
    if info is None:
        VERIFICATIONS.labels(outcome="missing").inc()
        raise ObjectMissing(
            "The object is not in the store yet; upload the bytes first.",
            details={"status": upload.status},
        )
    reason = await problem(store, upload, info)
    if reason is not None:
        VERIFICATIONS.labels(outcome="failed").inc()
        await move(session, upload, Status.PENDING, Status.FAILED, failure_reason=reason)
        if upload.status != Status.FAILED:  # someone else moved it first
            return await verify_and_mark(session=session, store=store, upload=upload)
        await remove_if_public(store, upload)
        raise VerificationFailed(
            f"Verification failed: {reason}.",
            details={"status": upload.status, "reason": reason},
        )
    VERIFICATIONS.labels(outcome="uploaded").inc()
    now = utcnow()
    moved = await move(
        session,
        upload,
        Status.PENDING,
        Status.UPLOADED,
        # Declared bytes counted at create; undeclared ones count now, as the store holds them.
        then=charge_verified(upload, info.size, now) if upload.file_size is None else None,
        uploaded_at=now,
        etag=info.etag,
        file_size=info.size,  # fills in a size that was not declared
        claim_deadline=claim_deadline(upload, now),
    )
    if not moved and upload.status not in DONE:
        raise conflict(upload, Status.UPLOADED)
    return upload
