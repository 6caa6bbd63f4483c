"""Routes that create uploads and move them along."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response, status

from s3upload.access.deps import CancellableUpload, CompletableUpload, Gate, ReadableUpload
from s3upload.access.rules import Action, allowed, load
from s3upload.auth.deps import CurrentUser
from s3upload.auth.ratelimit import CreateLimited
from s3upload.db.session import SessionDep
from s3upload.deps import App, PublicLinks, SettingsDep, Store
from s3upload.docs import responses
from s3upload.multipart import service as multipart
from s3upload.multipart.schemas import CompleteRequest, MultipartOut
from s3upload.uploads import service
from s3upload.uploads.schemas import (
    CreateUpload,
    PresignOut,
    PresignUpload,
    StatusUpdate,
    UploadOut,
    to_out,
)
from s3upload.uploads.signing import pending_target

router = APIRouter(tags=["uploads"])


@router.post(
    "/presigned-url",
    status_code=status.HTTP_201_CREATED,
    response_model=PresignOut,
    responses=responses(400, 401, 403, 413, 415, 422, 429, 502, 503),
)
async def presigned_url(
    body: PresignUpload,
    request: Request,
    app: App,
    user: CreateLimited,
) -> PresignOut:
    """Sign a single-part upload (PUT, or POST with a size-limiting policy) for one file."""
    upload, target, _ = await service.create_upload(
        app,
        user=user,
        body=body,
        single_only=True,
    )
    request.state.upload_id = str(upload.id)
    if target is None:  # pragma: no cover - single_only always signs a single target
        raise RuntimeError("a single upload was created without a target")
    out = to_out(upload, target).model_dump()
    return PresignOut(
        **out, url=target.url, method=target.method, headers=target.headers, fields=target.fields
    )


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses=responses(400, 401, 403, 413, 415, 422, 429, 502, 503),
)
async def create_upload(
    body: CreateUpload,
    request: Request,
    app: App,
    user: CreateLimited,
) -> UploadOut:
    """Create an upload: single-part or multipart by size, recorded `pending`, with signed URLs.

    Multipart answers carry the part plan and the first batch of part URLs; ask
    `POST /uploads/{id}/parts` for the rest.
    """
    upload, single, plan = await service.create_upload(app, user=user, body=body)
    request.state.upload_id = str(upload.id)
    return to_out(upload, single, plan)


@router.get("/uploads/{id}", response_model=UploadOut, responses=responses(401, 404, 422, 502, 503))
async def get_upload(
    upload: ReadableUpload,
    store: Store,
    settings: SettingsDep,
    user: CurrentUser,
    urls: PublicLinks,
) -> UploadOut:
    """One upload. While pending: a fresh single target, or the parts already stored (resume).

    The target is signed only for whoever may send the bytes (the owner); admins and
    processors read the record alone.
    """
    if not allowed(user, upload, Action.SIGN):
        return to_out(upload, urls=urls)
    if upload.strategy == "multipart":
        plan = None
        if upload.part_size and upload.part_count:
            plan = MultipartOut(part_size=upload.part_size, part_count=upload.part_count, parts=[])
        stored = await multipart.uploaded_parts(upload, store=store)
        return to_out(upload, multipart=plan, uploaded_parts=stored, urls=urls)
    target = await pending_target(upload, store=store, settings=settings)
    return to_out(upload, target, urls=urls)


@router.post(
    "/uploads/{id}/complete",
    response_model=UploadOut,
    responses=responses(400, 401, 404, 409, 413, 422, 502, 503),
)
async def complete_upload(
    upload: CompletableUpload,
    session: SessionDep,
    store: Store,
    urls: PublicLinks,
    body: Annotated[CompleteRequest | None, Body()] = None,
) -> UploadOut:
    """The client is done: assemble the parts (if multipart), verify, mark `uploaded`.

    Without a body the service reads the parts from the store, so clients never need to read
    ETags. Completing an upload that is already `uploaded` answers it unchanged.
    """
    parts = body.parts if body else None
    done = await service.complete(session=session, store=store, upload=upload, parts=parts)
    return to_out(done, urls=urls)


@router.delete(
    "/uploads/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 404, 409, 502, 503),
)
async def cancel_upload(upload: CancellableUpload, session: SessionDep, store: Store) -> Response:
    """Cancel a pending upload: abort it in the store, remove any object, mark it `aborted`."""
    await service.cancel(session=session, store=store, upload=upload)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/file-status",
    response_model=UploadOut,
    responses=responses(400, 401, 403, 404, 409, 413, 422, 502, 503),
)
async def file_status(
    body: StatusUpdate,
    request: Request,
    session: SessionDep,
    store: Store,
    user: CurrentUser,
    gate: Gate,
    urls: PublicLinks,
) -> UploadOut:
    """Report an upload done (`uploaded`, verified first); processors set the later statuses."""
    action = service.status_action(body.status)
    upload = await load(session, user, action, gate, upload_id=body.id, key=body.key)
    request.app.state.pending.drop(upload.id)  # its status may change: sign from the record
    request.state.upload_id = str(upload.id)
    changed = await service.change_status(session=session, store=store, upload=upload, body=body)
    return to_out(changed, urls=urls)
