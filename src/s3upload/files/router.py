"""Routes over finished and unfinished files alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from s3upload.auth.deps import CurrentUser
from s3upload.db.session import SessionDep
from s3upload.docs import responses
from s3upload.files.service import list_uploads
from s3upload.uploads.deps import ReadableUpload
from s3upload.uploads.schemas import UploadOut, UploadPage, to_out
from s3upload.uploads.states import Status

router = APIRouter(tags=["files"])


@router.get("/files", response_model=UploadPage, responses=responses(400, 401, 422, 503))
async def list_files(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[Status | None, Query(description="Only uploads in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`nextCursor` of the previous page.")
    ] = None,
) -> UploadPage:
    """The caller's uploads, newest first, a page at a time."""
    rows, next_cursor = await list_uploads(
        session=session, user=user, status=status, limit=limit, cursor=cursor
    )
    return UploadPage(items=[to_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/files/{id}", response_model=UploadOut, responses=responses(401, 404, 422, 503))
async def get_file(upload: ReadableUpload) -> UploadOut:
    """One upload (no signed target; see `GET /uploads/{id}` for that)."""
    return to_out(upload)
