"""Routes of multipart uploads: signing parts (created and completed through `/uploads`)."""

from __future__ import annotations

from fastapi import APIRouter

from s3upload.access.deps import SignableUpload
from s3upload.deps import App
from s3upload.docs import responses
from s3upload.multipart.schemas import PartsOut, PartsRequest
from s3upload.multipart.service import sign_part_urls

router = APIRouter(tags=["uploads"])


@router.post(
    "/uploads/{id}/parts",
    response_model=PartsOut,
    responses=responses(400, 401, 404, 409, 413, 422, 429, 502, 503),
)
async def sign_parts(body: PartsRequest, upload: SignableUpload, app: App) -> PartsOut:
    """Signed URLs for any parts of a pending multipart upload (later batches, resume, retry)."""
    parts, expires_at = await sign_part_urls(
        upload, app=app, numbers=body.part_numbers, md5s=body.md5s
    )
    return PartsOut(parts=parts, expires_at=expires_at)
