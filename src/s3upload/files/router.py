"""Routes over finished and unfinished files alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import Field

from s3upload.access.deps import (
    ClaimableUpload,
    DeletableUpload,
    DownloadableUpload,
    Gate,
    ReadableUpload,
)
from s3upload.access.scopes import SCOPE_PATTERN
from s3upload.auth.deps import CurrentUser
from s3upload.db.session import SessionDep
from s3upload.db.states import Status
from s3upload.deps import PublicLinks, SettingsDep, Store
from s3upload.docs import responses
from s3upload.files.pagination import CURSOR_LENGTH, CURSOR_PATTERN
from s3upload.files.service import (
    claim_file,
    delete_file,
    download_url,
    list_uploads,
    variant_url,
)
from s3upload.uploads.schemas import UploadOut, UploadPage, to_out
from s3upload.wire import Camel

router = APIRouter(tags=["files"])


class DownloadOut(Camel):
    """A signed GET for the object, named as it was uploaded."""

    url: str = Field(description="Fetch with a plain GET before `expiresAt`.")
    expires_at: datetime


@router.get("/files", response_model=UploadPage, responses=responses(400, 401, 403, 422, 503))
async def list_files(
    session: SessionDep,
    user: CurrentUser,
    gate: Gate,
    urls: PublicLinks,
    status: Annotated[Status | None, Query(description="Only uploads in this status.")] = None,
    scope: Annotated[
        str | None,
        Query(
            max_length=161,
            pattern=SCOPE_PATTERN,
            description="List this scope's files, whoever uploaded them, if the caller may "
            "read it (403 with the application's message if not). Finished files by default "
            "(`uploaded`, `processing`, `completed`); another `status` lists the caller's own.",
            examples=["event/1234"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            min_length=CURSOR_LENGTH,
            max_length=CURSOR_LENGTH,
            pattern=CURSOR_PATTERN,
            description="`nextCursor` of the previous page, as it was given.",
            json_schema_extra={"not": {"pattern": "\n"}},
        ),
    ] = None,
) -> UploadPage:
    """The caller's uploads, or a scope's files, newest first, a page at a time."""
    rows, next_cursor = await list_uploads(
        session=session,
        user=user,
        gate=gate,
        status=status,
        scope=scope,
        limit=limit,
        cursor=cursor,
    )
    return UploadPage(items=[to_out(r, urls=urls) for r in rows], next_cursor=next_cursor)


@router.get("/files/{id}", response_model=UploadOut, responses=responses(401, 404, 422, 503))
async def get_file(upload: ReadableUpload, urls: PublicLinks) -> UploadOut:
    """One upload (no signed target; see `GET /uploads/{id}` for that)."""
    return to_out(upload, urls=urls)


@router.get(
    "/files/{id}/download",
    response_model=DownloadOut,
    responses=responses(401, 404, 409, 422, 502, 503),
)
async def download(
    upload: DownloadableUpload,
    store: Store,
    settings: SettingsDep,
    disposition: Annotated[
        Literal["attachment", "inline"],
        Query(
            description="`inline` lets a browser show the file instead of saving it; only for "
            "passive types (images but SVG, video, audio, PDF, plain text): others, such as "
            "SVG and HTML, are always attachments."
        ),
    ] = "attachment",
) -> DownloadOut:
    """A signed download URL (uploaded, processing or completed files only).

    The store answers it with `Content-Disposition` carrying the original file name
    (RFC 6266, with the UTF-8 name per RFC 5987).
    """
    url, expires_at = await download_url(
        store=store,
        upload=upload,
        disposition=disposition,
        expires_in=settings.upload.download_expires,
    )
    return DownloadOut(url=url, expires_at=expires_at)


@router.get(
    "/files/{id}/variants/{name}",
    response_model=DownloadOut,
    responses=responses(401, 404, 422, 502, 503),
)
async def variant(
    upload: DownloadableUpload,
    store: Store,
    settings: SettingsDep,
    name: Annotated[
        str,
        Path(
            min_length=1,
            max_length=32,
            pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
            description="A variant the file's profile names (`thumb`).",
        ),
    ],
) -> DownloadOut:
    """A signed GET for one derived version (`404 variant_not_found` until it is written)."""
    url, expires_at = await variant_url(
        store=store, upload=upload, name=name, expires_in=settings.upload.download_expires
    )
    return DownloadOut(url=url, expires_at=expires_at)


@router.post(
    "/files/{id}/claim",
    response_model=UploadOut,
    responses=responses(401, 404, 409, 422, 503),
)
async def claim(upload: ClaimableUpload, session: SessionDep, urls: PublicLinks) -> UploadOut:
    """The application keeps this file: the sweeper will not expire it unclaimed.

    For the owner, a `processor`, or anyone who may upload to the file's scope. Claiming a
    claimed file answers it unchanged; a failed, cancelled, expired or deleted one `409`.
    """
    return to_out(await claim_file(session=session, upload=upload), urls=urls)


@router.delete(
    "/files/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 403, 404, 409, 502, 503),
)
async def delete(upload: DeletableUpload, session: SessionDep, store: Store) -> Response:
    """Delete the object from the store and mark the record `deleted`.

    Deleting a file that is already `deleted` answers `204` too.
    """
    await delete_file(session=session, store=store, upload=upload)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
