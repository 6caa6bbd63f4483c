"""Pending multipart uploads kept for signing their parts without the database.

Everything a part URL needs (key, store upload id, plan, profile, owner, window) is fixed
while an upload is pending, so once one is loaded for signing, later parts are signed from
memory: no session, no pre-ping, no query. An entry lives at most `ttl` seconds and never
past the upload's window; this worker drops it as soon as it completes, cancels or deletes
the upload, and a URL another worker signs for an upload already finished is refused by the
store (its multipart upload no longer exists).
"""

from __future__ import annotations

import time
import uuid

from cachetools import TLRUCache

from s3upload.db.models import Upload
from s3upload.db.states import Status


class PendingUploads:
    """A bounded map of upload id -> a loaded pending multipart upload (read-only)."""

    def __init__(self, *, ttl: float = 60.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self._cache: TLRUCache[uuid.UUID, Upload] = TLRUCache(
            maxsize=size, ttu=self._until, timer=time.time
        )

    def _until(self, _id: uuid.UUID, upload: Upload, now: float) -> float:
        return min(now + self.ttl, upload.expires_at.timestamp())

    def get(self, upload_id: uuid.UUID) -> Upload | None:
        """The upload if it was loaded for signing lately."""
        return self._cache.get(upload_id)

    def keep(self, upload: Upload) -> None:
        """Remember an upload just loaded for signing, if its parts can be signed from memory
        (pending, multipart, its size declared: size-less ones check the store per batch)."""
        if (
            self.ttl > 0
            and upload.status == Status.PENDING
            and upload.strategy == "multipart"
            and upload.file_size is not None
        ):
            self._cache[upload.id] = upload

    def drop(self, upload_id: uuid.UUID) -> None:
        """Forget an upload whose status this worker is about to change."""
        self._cache.pop(upload_id, None)
