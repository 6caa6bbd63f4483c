"""Uppy-compatible routes, backed by the same records, policy, ownership and verification.

Point `@uppy/aws-s3` at this service with `endpoint: "<service url>"` and the bearer token in
its `headers` option. `uploadId` in these routes is the service's upload id; the `key` query
parameter Uppy sends must be that upload's key.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from s3upload.access.deps import (
    UppyCancellable,
    UppyCompletable,
    UppyPartsReadable,
    UppySignable,
)
from s3upload.auth.ratelimit import CreateLimited
from s3upload.compat.schemas import (
    UppyBatch,
    UppyComplete,
    UppyCompleted,
    UppyCreate,
    UppyCreated,
    UppyParams,
    UppyPart,
    UppySignedPart,
)
from s3upload.db.models import Upload
from s3upload.db.records import utcnow
from s3upload.db.session import SessionDep
from s3upload.deps import App, Store
from s3upload.docs import responses
from s3upload.multipart import service as multipart
from s3upload.multipart.schemas import PartRef
from s3upload.services import Services
from s3upload.settings import Settings
from s3upload.uploads import service
from s3upload.uploads.schemas import (
    FILE_NAME_MAX,
    FILE_NAME_SCHEMA,
    FILE_TYPE_MAX,
    FILE_TYPE_NOT,
    FILE_TYPE_PATTERN,
    UploadFields,
)

router = APIRouter(prefix="/s3", tags=["uppy"])

# Uppy copies every file.meta field into `metadata`; these repeat what the record holds.
_UPPY_OWN_META = {"name", "type", "relativepath", "size", "profile", "scope"}
_METADATA_PARAM = re.compile(r"^metadata\[(.+)\]$")
# The HTTP server refuses a request line over 64 KiB before the app sees it (in plain text).
# Percent-encoded, a character takes up to 12 bytes: 4,096 of them and a 1,024-character key
# stay under that. About 800 part numbers a batch; Uppy asks for a few at a time.
BATCH_QUERY_MAX = 4_096


def _fields(
    settings: Settings,
    *,
    filename: str,
    mime: str,
    metadata: dict[str, str],
    size: int | None,
    method: str = "PUT",
) -> UploadFields:
    """Uppy's request as the service's own upload fields (validated the same way)."""
    profile = metadata.get("profile", "default")
    allowed = settings.profiles[profile].metadata_keys if profile in settings.profiles else None
    meta = {
        k: v
        for k, v in metadata.items()
        if k.lower() not in _UPPY_OWN_META and (allowed is None or k.lower() in allowed)
    }
    if size is None and metadata.get("size", "").isdigit():
        size = int(metadata["size"])
    try:
        return UploadFields(
            file_name=filename,
            file_type=mime,
            file_size=size,
            # Without a size only a POST policy can cap the bytes; with one, PUT binds it.
            method=method if size is not None else "POST",
            metadata=meta,
            profile=profile,
            scope=metadata.get("scope") or None,
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@router.get(
    "/params", response_model=UppyParams, responses=responses(401, 403, 413, 415, 422, 429, 503)
)
async def params(
    request: Request,
    app: App,
    user: CreateLimited,
    filename: Annotated[
        str,
        Query(
            max_length=FILE_NAME_MAX,
            description="Original name: not blank, no control characters.",
            json_schema_extra=FILE_NAME_SCHEMA,
        ),
    ],
    type: Annotated[
        str,
        Query(
            max_length=FILE_TYPE_MAX,
            description="MIME type, e.g. `image/png`.",
            json_schema_extra={"pattern": FILE_TYPE_PATTERN, "not": FILE_TYPE_NOT},
        ),
    ],
    size: Annotated[int | None, Query(gt=0, description="Optional: binds the exact size.")] = None,
) -> UppyParams:
    """Single-part upload for Uppy.

    With the size known (`size`, or a `size` metadata field) a PUT bound to it; without, an
    HTML-form POST whose policy caps the size at the profile's maximum (note: Ceph RGW's POST
    answer carries no ETag header, which Uppy waits for, so send the size there).
    Query `metadata[<name>]=<value>` pairs become object metadata. Uppy does not report
    single uploads done: the store's event notification or `PUT /file-status` verifies them.
    """
    metadata = {
        m.group(1): v
        for k, v in request.query_params.multi_items()
        if (m := _METADATA_PARAM.match(k))
    }
    body = _fields(app.settings, filename=filename, mime=type, metadata=metadata, size=size)
    upload, target, _ = await service.create_upload(
        app,
        user=user,
        body=body,
        single_only=True,
    )
    request.state.upload_id = str(upload.id)
    if target is None:  # pragma: no cover - single_only always signs a single target
        raise RuntimeError("a single upload was created without a target")
    expires = int((upload.expires_at - upload.created_at).total_seconds())
    headers = {k: v for k, v in (target.headers or {}).items() if k != "Content-Length"}
    return UppyParams(
        method=target.method,
        url=target.url,
        fields=target.fields or {},
        headers=headers,
        expires=expires,
    )


@router.post(
    "/multipart", response_model=UppyCreated, responses=responses(401, 403, 413, 415, 429, 503)
)
async def create_multipart(
    body: UppyCreate,
    request: Request,
    app: App,
    user: CreateLimited,
) -> UppyCreated:
    """Start a multipart upload for Uppy; parts are planned the way Uppy cuts them."""
    fields = _fields(
        app.settings, filename=body.filename, mime=body.type, metadata=body.metadata, size=body.size
    )
    upload, _, _ = await service.create_upload(
        app,
        user=user,
        body=fields,
        strategy="multipart",
        uppy_parts=True,
    )
    request.state.upload_id = str(upload.id)
    return UppyCreated(key=upload.key, uploadId=str(upload.id))


async def _sign(
    upload: Upload, app: Services, numbers: list[int]
) -> tuple[list[tuple[int, str, dict[str, str]]], int]:
    """(part number, URL, headers a browser may set) for each part, and the URLs' lifetime."""
    parts, expires_at = await multipart.sign_part_urls(upload, app=app, numbers=numbers)
    # Browsers set Content-Length themselves and refuse a script that tries to.
    out = [
        (p.part_number, p.url, {k: v for k, v in p.headers.items() if k != "Content-Length"})
        for p in parts
    ]
    return out, max(1, round((expires_at - utcnow()).total_seconds()))


@router.get(
    "/multipart/{uploadId}/batch",
    response_model=UppyBatch,
    responses=responses(401, 404, 409, 413, 422, 429),
)
async def sign_batch(
    upload: UppySignable,
    app: App,
    partNumbers: Annotated[
        str,
        Query(
            max_length=BATCH_QUERY_MAX,
            pattern=r"^[0-9]+(,[0-9]+)*$",
            description="Comma-separated part numbers (up to 4,096 characters).",
            json_schema_extra={"not": {"pattern": "\n"}},
        ),
    ],
) -> UppyBatch:
    """Signed URLs for several parts (`partNumbers=1,2,3`)."""
    numbers = [int(n) for n in partNumbers.split(",")]
    signed, _ = await _sign(upload, app, numbers)
    return UppyBatch(
        presignedUrls={str(n): url for n, url, _ in signed},
        headers={str(n): h for n, _, h in signed if h},
    )


@router.get(
    "/multipart/{uploadId}/{partNumber:int}",
    response_model=UppySignedPart,
    responses=responses(401, 404, 409, 413, 422, 429),
)
async def sign_part(upload: UppySignable, app: App, partNumber: int) -> UppySignedPart:
    """A signed URL for one part."""
    signed, expires = await _sign(upload, app, [partNumber])
    _, url, headers = signed[0]
    return UppySignedPart(url=url, expires=expires, headers=headers)


@router.get(
    "/multipart/{uploadId}", response_model=list[UppyPart], responses=responses(401, 404, 409)
)
async def list_parts(upload: UppyPartsReadable, store: Store) -> list[UppyPart]:
    """The parts already in the store (Uppy resumes from these); for the uploader only."""
    multipart.require_pending_multipart(upload)
    stored = await multipart.uploaded_parts(upload, store=store) or []
    return [UppyPart(PartNumber=p.part_number, ETag=p.etag, Size=p.size) for p in stored]


@router.post(
    "/multipart/{uploadId}/complete",
    response_model=UppyCompleted,
    responses=responses(401, 404, 409, 413, 422),
)
async def complete(
    upload: UppyCompletable, body: UppyComplete, session: SessionDep, store: Store
) -> UppyCompleted:
    """Assemble the parts, verify the object, mark the upload `uploaded`."""
    refs = [PartRef(part_number=p.PartNumber, etag=p.ETag) for p in body.parts] or None
    done = await service.complete(session=session, store=store, upload=upload, parts=refs)
    location = store.signer.object_url(done.key)
    return UppyCompleted(location=location, key=done.key, id=str(done.id), status=done.status)


@router.delete("/multipart/{uploadId}", responses=responses(401, 404, 409))
async def abort(upload: UppyCancellable, session: SessionDep, store: Store) -> dict[str, str]:
    """Abort the upload in the store and mark it `aborted`."""
    await service.cancel(session=session, store=store, upload=upload)
    return {}
