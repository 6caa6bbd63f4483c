"""Upload service functions: create, complete, change status, cancel."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from s3upload import policy
from s3upload.access.rules import Action
from s3upload.access.scopes import ScopeAction, ScopeGate
from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.db.quotas import check_size
from s3upload.db.records import conflict, settle, utcnow
from s3upload.db.states import PROCESSOR_STATUSES, Status, can_move
from s3upload.errors import (
    AuthorizationUnavailable,
    Forbidden,
    InvalidChecksum,
    InvalidMetadata,
    NotMultipart,
    SizeRequired,
    StatusNotSettable,
    TooLarge,
    UnsupportedChecksum,
)
from s3upload.metrics import UPLOADS_CREATED
from s3upload.multipart import service as multipart
from s3upload.multipart.planning import MAX_OBJECT, plan, plan_like_uppy
from s3upload.multipart.schemas import MultipartOut, PartRef
from s3upload.services import Services
from s3upload.settings import Profile
from s3upload.store.client import ObjectStore
from s3upload.uploads.schemas import SingleTarget, StatusUpdate, UploadFields
from s3upload.uploads.signing import sign_single
from s3upload.uploads.verify import DONE, verify_and_mark

log = logging.getLogger("s3upload.uploads")


async def _ask_scope(
    gate: ScopeGate, user: User, body: UploadFields, profile: Profile, metadata: dict[str, str]
) -> dict[str, str]:
    """May `user` upload into the body's scope? The metadata, with what the application adds."""
    assert body.scope is not None
    decision = await gate.decide(
        user,
        body.scope,
        ScopeAction.UPLOAD,
        profile=body.profile,
        file={
            "fileName": body.file_name,
            "fileType": body.file_type,
            "fileSize": body.file_size,
            "metadata": metadata,
        },
    )
    if not decision.allow:
        raise Forbidden(decision.message or "Not allowed.")
    if not decision.metadata:
        return metadata
    try:
        return policy.check_metadata(profile, {**metadata, **decision.metadata})
    except InvalidMetadata as exc:
        raise AuthorizationUnavailable(
            f"The authorization hook added metadata the profile refuses: {exc.message}"
        ) from exc


async def create_upload(
    app: Services,
    *,
    user: User,
    body: UploadFields,
    single_only: bool = False,
    strategy: str | None = None,
    uppy_parts: bool = False,
) -> tuple[Upload, SingleTarget | None, MultipartOut | None]:
    """Check the file against its profile, record it `pending`, and sign where to send it.

    The strategy follows the size unless given; `single_only` (the one-request route) refuses
    files that need multipart. `uppy_parts` plans parts the way Uppy cuts them.
    """
    writer, store, settings = app.writer, app.store, app.settings
    profile = policy.pick_profile(settings, body.profile, user)
    policy.check_file(profile, body.profile, file_type=body.file_type, file_size=body.file_size)
    single_max = settings.s3.single_part_max
    size = body.file_size
    if strategy is None:
        big = size is not None and size > settings.upload.multipart_threshold
        strategy = "multipart" if (big and not single_only) else "single"
    if strategy == "single" and size is None and body.method != "POST":
        raise SizeRequired(
            "A PUT upload needs fileSize; without it only a POST form can limit the size.",
        )
    if strategy == "single" and size is not None and size > single_max:
        hint = "use POST /uploads, which uploads in parts" if single_only else "use multipart"
        raise TooLarge(
            f"Files over {single_max} bytes cannot be sent in one request; {hint}.",
            details={"singlePartMax": single_max},
        )
    policy.check_scope(profile, body.profile, body.scope)
    metadata = policy.check_metadata(profile, body.metadata)
    if body.scope is not None and profile.access != "owner":
        metadata = await _ask_scope(app.gate, user, body, profile, metadata)
    policy.check_required(profile, metadata)
    checksum_algorithm = checksum_value = None
    if body.checksum is not None:
        if strategy == "multipart":
            raise UnsupportedChecksum(
                "Whole-file checksums are verified for single-part uploads; for multipart, "
                "send per-part MD5s to POST /uploads/{id}/parts.",
            )
        if body.method == "POST":
            raise InvalidChecksum("Checksums are signed into PUT uploads; use method PUT.")
        checksum_algorithm = body.checksum.algorithm
        checksum_value = policy.check_checksum(settings, checksum_algorithm, body.checksum.value)

    check_size(settings.limits, size)
    now = utcnow()
    size_limit = min(profile.max_size, single_max if strategy == "single" else MAX_OBJECT)
    # Without a size nothing is counted now (the store's bytes count at verification); the
    # record writer caps size_limit at what is left of the owner's day, in the same query as
    # the quotas, so anything signed from it is signed after the write.
    upload_id = uuid.uuid4()
    window = profile.url_expires if strategy == "single" else settings.upload.window
    upload = Upload(
        id=upload_id,
        owner=user.owner,
        key=policy.object_key(profile, upload_id, body.file_name, now, body.scope),
        file_name=body.file_name,
        file_type=body.file_type,
        file_size=size,
        size_limit=size_limit,
        status=Status.PENDING,
        strategy=strategy,
        method=body.method if strategy == "single" else "PUT",
        profile=body.profile,
        metadata_=metadata,
        checksum_algorithm=checksum_algorithm,
        checksum_value=checksum_value,
        scope=body.scope,
        claim_within=profile.claim_within,
        sniff=profile.sniffs,
        public=profile.public,
        wants_variants=bool(profile.variants),
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=window),
    )
    if strategy == "single":
        # Fail before writing anything if the store is down or misconfigured.
        await store.check()
        creds = await store.credentials()
        await writer.add(upload)
        target = sign_single(upload, store=store, creds=creds, profile=profile, now=now)
        UPLOADS_CREATED.labels(strategy="single", profile=body.profile).inc()
        return upload, target, None

    if size is not None:
        upload.part_size, upload.part_count = (
            plan_like_uppy(size) if uppy_parts else plan(size, settings.upload.part_size)
        )
    upload.store_upload_id = await store.create_multipart(
        upload.key,
        content_type=body.file_type,
        metadata=metadata,
        cache_control=profile.cache_control,
    )
    try:
        creds = await store.credentials()
        first = list(range(1, min(settings.upload.first_batch, upload.part_count or 0) + 1))
        parts = (
            multipart.sign_parts(
                upload, store=store, creds=creds, profile=profile, numbers=first, now=now
            )
            if first
            else []
        )
        await writer.add(upload)
    except BaseException:
        # No record means nobody would ever abort it: free the store's upload now.
        log.warning("create failed after the store upload was started; aborting it")
        await store.abort_multipart(upload.key, upload.store_upload_id)
        raise
    UPLOADS_CREATED.labels(strategy="multipart", profile=body.profile).inc()
    plan_out = None
    if upload.part_size and upload.part_count:
        plan_out = MultipartOut(
            part_size=upload.part_size, part_count=upload.part_count, parts=parts
        )
    return upload, None, plan_out


async def complete(
    *,
    session: AsyncSession,
    store: ObjectStore,
    upload: Upload,
    parts: list[PartRef] | None = None,
) -> Upload:
    """The client says it is done: assemble parts if multipart, verify, mark `uploaded`."""
    if upload.status in DONE:
        return upload  # completing twice answers the same object
    if upload.strategy == "multipart":
        await multipart.assemble(session=session, store=store, upload=upload, parts=parts)
    elif parts is not None:
        raise NotMultipart(
            "parts is only for multipart uploads; complete this one without a body.",
            details={"status": upload.status},
        )
    return await verify_and_mark(session=session, store=store, upload=upload)


def status_action(wanted: Status) -> Action:
    """What `PUT /file-status` asks to do: verify (`uploaded`) or set a processing status."""
    if wanted == Status.UPLOADED:
        return Action.COMPLETE
    return Action.PROCESS if wanted in PROCESSOR_STATUSES else Action.READ


async def change_status(
    *, session: AsyncSession, store: ObjectStore, upload: Upload, body: StatusUpdate
) -> Upload:
    """`PUT /file-status`: the owner asks for `uploaded`; a processor sets the rest."""
    wanted = body.status
    if wanted == Status.UPLOADED:
        return await complete(session=session, store=store, upload=upload)
    if wanted not in PROCESSOR_STATUSES:
        raise StatusNotSettable(
            f"Status '{wanted}' is not set here; cancel with DELETE /uploads/{{id}} and "
            "delete with DELETE /files/{id}."
        )
    current = Status(upload.status)
    if current == wanted:
        return upload
    if not can_move(current, wanted):
        raise conflict(upload, wanted)
    reason = body.reason if wanted == Status.FAILED else None
    await settle(session, upload, current, wanted, failure_reason=reason)
    return upload


async def cancel(*, session: AsyncSession, store: ObjectStore, upload: Upload) -> None:
    """Abort a pending upload: remove whatever reached the store, then mark `aborted`."""
    if upload.status == Status.ABORTED:
        return
    if upload.status != Status.PENDING:
        raise conflict(upload, Status.ABORTED)
    # Store first: if it fails the record stays pending and the cancel can be retried.
    if upload.strategy == "multipart":
        await multipart.abort(store=store, upload=upload)
    else:
        await store.delete(upload.key)
    await settle(session, upload, Status.PENDING, Status.ABORTED)
