"""Routes that create uploads and move them along."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from s3upload.auth.deps import CurrentUser
from s3upload.db.session import SessionDep
from s3upload.docs import responses
from s3upload.uploads import service
from s3upload.uploads.deps import OwnedUpload, ReadableUpload, SettingsDep, Store
from s3upload.uploads.schemas import (
    CreateUpload,
    PresignOut,
    PresignRequest,
    StatusUpdate,
    UploadOut,
    to_out,
)

router = APIRouter(tags=["uploads"])


@router.post(
    "/presigned-url",
    status_code=status.HTTP_201_CREATED,
    response_model=PresignOut,
    responses=responses(400, 401, 403, 413, 415, 422, 502, 503),
)
async def presigned_url(
    body: PresignRequest,
    request: Request,
    session: SessionDep,
    store: Store,
    settings: SettingsDep,
    user: CurrentUser,
) -> PresignOut:
    """Sign a single-part upload (PUT, or POST with a size-limiting policy) for one file."""
    create = CreateUpload(**body.model_dump())
    upload, target = await service.create_upload(
        session=session,
        store=store,
        settings=settings,
        user=user,
        body=create,
        single_only_route="POST /uploads",
    )
    request.state.upload_id = str(upload.id)
    out = to_out(upload, target).model_dump()
    return PresignOut(
        **out, url=target.url, method=target.method, headers=target.headers, fields=target.fields
    )


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses=responses(400, 401, 403, 413, 415, 422, 502, 503),
)
async def create_upload(
    body: CreateUpload,
    request: Request,
    session: SessionDep,
    store: Store,
    settings: SettingsDep,
    user: CurrentUser,
) -> UploadOut:
    """Create an upload: check the file against its profile, record it, sign the target."""
    upload, target = await service.create_upload(
        session=session, store=store, settings=settings, user=user, body=body
    )
    request.state.upload_id = str(upload.id)
    return to_out(upload, target)


@router.get("/uploads/{id}", response_model=UploadOut, responses=responses(401, 404, 422, 502, 503))
async def get_upload(upload: ReadableUpload, store: Store, settings: SettingsDep) -> UploadOut:
    """One upload; while a single upload is pending, with a freshly signed target."""
    target = await service.pending_target(upload, store=store, settings=settings)
    return to_out(upload, target)


@router.post(
    "/uploads/{id}/complete",
    response_model=UploadOut,
    responses=responses(401, 404, 409, 422, 502, 503),
)
async def complete_upload(upload: OwnedUpload, session: SessionDep, store: Store) -> UploadOut:
    """The client is done: verify the object in the store and mark the upload `uploaded`."""
    return to_out(await service.verify_and_mark(session=session, store=store, upload=upload))


@router.delete(
    "/uploads/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 404, 409, 502, 503),
)
async def cancel_upload(upload: OwnedUpload, session: SessionDep, store: Store) -> Response:
    """Cancel a pending upload: remove what reached the store and mark it `aborted`."""
    await service.cancel(session=session, store=store, upload=upload)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/file-status",
    response_model=UploadOut,
    responses=responses(400, 401, 403, 404, 409, 422, 502, 503),
)
async def file_status(
    body: StatusUpdate, request: Request, session: SessionDep, store: Store, user: CurrentUser
) -> UploadOut:
    """Report an upload done (`uploaded`, verified first); processors set the later statuses."""
    upload = await service.change_status(session=session, store=store, user=user, body=body)
    request.state.upload_id = str(upload.id)
    return to_out(upload)
