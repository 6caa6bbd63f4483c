"""App-wide dependencies: the settings, the object store and the record writer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from s3upload.db.writer import RecordWriter
from s3upload.settings import Settings
from s3upload.store.client import ObjectStore


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
