"""What the running app holds for its routes and services, gathered in one object."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.access.pending import PendingUploads
from s3upload.access.scopes import ScopeGate
from s3upload.db.writer import RecordWriter
from s3upload.settings import Settings
from s3upload.store.client import ObjectStore


@dataclass(frozen=True, slots=True)
class Services:
    """What the running app holds for its routes."""

    settings: Settings
    store: ObjectStore
    writer: RecordWriter
    gate: ScopeGate
    sessions: async_sessionmaker[AsyncSession]
    pending: PendingUploads
