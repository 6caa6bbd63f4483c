"""Dependencies that load the caller's upload, authorised, from the path."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from s3upload.auth.deps import CurrentUser
from s3upload.db.models import Upload
from s3upload.db.session import SessionDep
from s3upload.errors import NotFound
from s3upload.settings import Settings
from s3upload.store.client import ObjectStore
from s3upload.uploads.records import ADMIN_ROLE, find_upload
from s3upload.uploads.writer import RecordWriter


async def get_store(request: Request) -> ObjectStore:
    """The application's object store client (async: sync dependencies cost a thread hop)."""
    store: ObjectStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_writer(request: Request) -> RecordWriter:
    """The application's writer of new upload records."""
    writer: RecordWriter = request.app.state.writer
    return writer


Store = Annotated[ObjectStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Writer = Annotated[RecordWriter, Depends(get_writer)]


async def owned_upload(
    id: uuid.UUID, request: Request, session: SessionDep, user: CurrentUser
) -> Upload:
    """The caller's own upload; anyone else's answers 404 so ids cannot be probed."""
    request.state.upload_id = str(id)
    upload = await find_upload(session, user, upload_id=id)
    if upload.owner != user.owner:
        raise NotFound("No such upload.")
    return upload


async def readable_upload(
    id: uuid.UUID, request: Request, session: SessionDep, user: CurrentUser
) -> Upload:
    """The caller's upload, or any upload for an admin."""
    request.state.upload_id = str(id)
    upload = await find_upload(session, user, upload_id=id)
    if upload.owner != user.owner and not user.has(ADMIN_ROLE):
        raise NotFound("No such upload.")
    return upload


OwnedUpload = Annotated[Upload, Depends(owned_upload)]
ReadableUpload = Annotated[Upload, Depends(readable_upload)]
