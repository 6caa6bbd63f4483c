"""Upload service functions: create, sign, verify, complete, change status, cancel."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from s3upload.settings import Profile, Settings
from s3upload.store.client import ObjectInfo, ObjectStore
from s3upload.store.signer import Credentials
from s3upload.uploads import policy
from s3upload.uploads.schemas import CreateUpload, SingleTarget, StatusUpdate
from s3upload.uploads.states import PROCESSOR_STATUSES, Status, can_move

PROCESSOR_ROLE = "processor"
ADMIN_ROLE = "admin"


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


def checksum_header(algorithm: str, value: str) -> tuple[str, str]:
    """The request header that makes the store check a declared checksum."""
    if algorithm == "MD5":
        return "Content-MD5", value
    return f"x-amz-checksum-{algorithm.lower()}", value


def sign_single(
    upload: Upload, *, store: ObjectStore, creds: Credentials, profile: Profile, now: datetime
) -> SingleTarget:
    """A signed PUT URL or POST form for a pending single-part upload."""
    expires_in = max(1, min(profile.url_expires, int((upload.expires_at - now).total_seconds())))
    meta = {f"x-amz-meta-{k}": v for k, v in upload.metadata_.items()}
    if upload.method == "POST":
        fields = {"Content-Type": upload.file_type, **meta}
        if profile.cache_control:
            fields["Cache-Control"] = profile.cache_control
        conditions: list[object] = [
            ["content-length-range", upload.file_size, upload.file_size],
            *({k: v} for k, v in fields.items()),
        ]
        url, form = store.signer.presign_post(
            upload.key,
            creds=creds,
            fields=fields,
            conditions=conditions,
            expires_in=expires_in,
            now=now,
        )
        return SingleTarget(method="POST", url=url, fields=form)
    headers = {
        "Content-Type": upload.file_type,
        "Content-Length": str(upload.file_size),
        **meta,
    }
    if profile.cache_control:
        headers["Cache-Control"] = profile.cache_control
    if upload.checksum_algorithm and upload.checksum_value:
        name, value = checksum_header(upload.checksum_algorithm, upload.checksum_value)
        headers[name] = value
    url = store.signer.presign(
        upload.key, creds=creds, method="PUT", headers=headers, expires_in=expires_in, now=now
    )
    return SingleTarget(method="PUT", url=url, headers=headers)


async def create_upload(
    *,
    session: AsyncSession,
    store: ObjectStore,
    settings: Settings,
    user: User,
    body: CreateUpload,
    single_only_route: str | None = None,
) -> tuple[Upload, SingleTarget]:
    """Check the file against its profile, record it `pending`, and sign where to send it."""
    profile = policy.pick_profile(settings, body.profile, user)
    policy.check_file(profile, body.profile, file_type=body.file_type, file_size=body.file_size)
    if body.file_size > settings.s3.single_part_max:
        hint = "use POST /uploads" if single_only_route else "multipart is not available"
        raise TooLarge(
            f"Files over {settings.s3.single_part_max} bytes cannot be sent in one request; "
            f"{hint}.",
            details={"singlePartMax": settings.s3.single_part_max},
        )
    metadata = policy.check_metadata(profile, body.metadata)
    checksum_algorithm = checksum_value = None
    if body.checksum is not None:
        if body.method == "POST":
            raise Invalid(
                "Checksums are signed into PUT uploads; use method PUT.", code="invalid_checksum"
            )
        checksum_algorithm = body.checksum.algorithm
        checksum_value = policy.check_checksum(settings, checksum_algorithm, body.checksum.value)

    # Fail before writing anything if the store is down or misconfigured.
    await store.check()
    creds = await store.credentials()

    now = utcnow()
    upload_id = uuid.uuid4()
    upload = Upload(
        id=upload_id,
        owner=user.owner,
        key=policy.object_key(profile, upload_id, body.file_name, now),
        file_name=body.file_name,
        file_type=body.file_type,
        file_size=body.file_size,
        status=Status.PENDING,
        strategy="single",
        method=body.method,
        profile=body.profile,
        metadata_=metadata,
        checksum_algorithm=checksum_algorithm,
        checksum_value=checksum_value,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=profile.url_expires),
    )
    target = sign_single(upload, store=store, creds=creds, profile=profile, now=now)
    session.add(upload)
    await session.commit()
    return upload, target


async def pending_target(
    upload: Upload, *, store: ObjectStore, settings: Settings
) -> SingleTarget | None:
    """A fresh signed target for a pending single upload still inside its window."""
    now = utcnow()
    if upload.status != Status.PENDING or upload.strategy != "single" or upload.expires_at <= now:
        return None
    profile = settings.profiles.get(upload.profile, settings.profiles["default"])
    creds = await store.credentials()
    return sign_single(upload, store=store, creds=creds, profile=profile, now=now)


async def find_upload(
    session: AsyncSession, user: User, *, upload_id: uuid.UUID | None = None, key: str | None = None
) -> Upload:
    """The caller's upload by id or key; 404 for anyone else's (admins and processors see all)."""
    stmt = select(Upload)
    stmt = stmt.where(Upload.id == upload_id) if upload_id else stmt.where(Upload.key == key)
    if not (user.has(ADMIN_ROLE) or user.has(PROCESSOR_ROLE)):
        stmt = stmt.where(Upload.owner == user.owner)
    upload = (await session.execute(stmt)).scalar_one_or_none()
    if upload is None:
        raise NotFound("No such upload.")
    return upload


def mismatch(upload: Upload, info: ObjectInfo) -> str | None:
    """Why the stored object is not what was declared, or None when it is."""
    if info.size != upload.file_size:
        return f"stored size {info.size} differs from declared size {upload.file_size}"
    if info.content_type.strip().lower() != upload.file_type.strip().lower():
        return f"stored type '{info.content_type}' differs from declared '{upload.file_type}'"
    alg, value = upload.checksum_algorithm, upload.checksum_value
    if alg and value:
        if alg == "MD5" and upload.strategy == "single":
            stored = info.etag.lower()
            value = base64.b64decode(value).hex()
        else:
            stored = info.checksums.get(alg, "")
        if not stored:
            return f"the store reported no {alg} checksum to compare"
        if stored != value:
            return f"stored {alg} checksum differs from the declared one"
    return None


async def _move(
    session: AsyncSession, upload: Upload, expected: str, new: Status, **values: Any
) -> bool:
    """Compare-and-set the status, so concurrent completes and events cannot both win."""
    now = utcnow()
    result = await session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.status == expected)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await session.refresh(upload)
    return bool(getattr(result, "rowcount", 0))


def _conflict(upload: Upload, wanted: str) -> Conflict:
    return Conflict(
        f"An upload that is '{upload.status}' cannot become '{wanted}'.",
        code="invalid_transition",
        details={"status": upload.status},
    )


async def verify_and_mark(*, session: AsyncSession, store: ObjectStore, upload: Upload) -> Upload:
    """HEAD the object; mark `uploaded` if it is what was declared, `failed` if not."""
    if upload.status in (Status.UPLOADED, Status.PROCESSING, Status.COMPLETED):
        return upload  # completing twice answers the same object
    if upload.status != Status.PENDING:
        raise _conflict(upload, Status.UPLOADED)
    checksums = bool(upload.checksum_algorithm and upload.checksum_algorithm != "MD5")
    info = await store.head(upload.key, checksums=checksums)
    if info is None:
        raise Conflict(
            "The object is not in the store yet; upload the bytes first.",
            code="object_missing",
            details={"status": upload.status},
        )
    reason = mismatch(upload, info)
    if reason is not None:
        await _move(session, upload, Status.PENDING, Status.FAILED, failure_reason=reason)
        if upload.status != Status.FAILED:  # someone else moved it first
            return await verify_and_mark(session=session, store=store, upload=upload)
        raise Invalid(
            f"Verification failed: {reason}.",
            code="verification_failed",
            details={"status": upload.status, "reason": reason},
        )
    moved = await _move(
        session, upload, Status.PENDING, Status.UPLOADED, uploaded_at=utcnow(), etag=info.etag
    )
    if not moved and upload.status not in (Status.UPLOADED, Status.PROCESSING, Status.COMPLETED):
        raise _conflict(upload, Status.UPLOADED)
    return upload


async def change_status(
    *, session: AsyncSession, store: ObjectStore, user: User, body: StatusUpdate
) -> Upload:
    """`PUT /file-status`: the owner asks for `uploaded`; a processor sets the rest."""
    upload = await find_upload(session, user, upload_id=body.id, key=body.key)
    wanted = body.status
    if wanted == Status.UPLOADED:
        if upload.owner != user.owner and not user.has(PROCESSOR_ROLE):
            raise NotFound("No such upload.")
        return await verify_and_mark(session=session, store=store, upload=upload)
    if wanted not in PROCESSOR_STATUSES:
        raise Invalid(
            f"Status '{wanted}' is not set here; cancel with DELETE /uploads/{{id}} and "
            "delete with DELETE /files/{id}.",
            code="status_not_settable",
        )
    if not user.has(PROCESSOR_ROLE):
        if upload.owner != user.owner:
            raise NotFound("No such upload.")
        raise Forbidden(f"Setting '{wanted}' needs the 'processor' role.", code="role_required")
    current = Status(upload.status)
    if current == wanted:
        return upload
    if not can_move(current, wanted):
        raise _conflict(upload, wanted)
    reason = body.reason if wanted == Status.FAILED else None
    if not await _move(session, upload, current, wanted, failure_reason=reason):
        raise _conflict(upload, wanted)
    return upload


async def cancel(*, session: AsyncSession, store: ObjectStore, upload: Upload) -> None:
    """Abort a pending upload: remove whatever reached the store, then mark `aborted`."""
    if upload.status == Status.ABORTED:
        return
    if upload.status != Status.PENDING:
        raise _conflict(upload, Status.ABORTED)
    # Store first: if it fails the record stays pending and the cancel can be retried.
    await store.delete(upload.key)
    if not await _move(session, upload, Status.PENDING, Status.ABORTED):
        raise _conflict(upload, Status.ABORTED)
