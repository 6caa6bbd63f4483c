"""Resuming: the recorded upload of a local file, whether it can go on, and what it holds."""

from __future__ import annotations

from s3upload.client.api import ApiClient
from s3upload.client.chunks import part_span
from s3upload.client.errors import ClientError
from s3upload.client.models import Upload
from s3upload.client.state import Entry, FileIdentity, StateStore

# Statuses of an upload that is already finished (nothing left to send).
FINISHED = frozenset({"uploaded", "processing", "completed"})


def entry_for(ident: FileIdentity, server: str, upload: Upload) -> Entry:
    """The state entry that lets a later run resume `upload` of this file."""
    return Entry(
        path=ident.path,
        size=ident.size,
        mtime_ns=ident.mtime_ns,
        server=server,
        upload_id=upload.id,
        key=upload.key,
        part_size=upload.part_size or 0,
        part_count=upload.part_count or 0,
    )


async def find_resumable(
    api: ApiClient,
    state: StateStore,
    ident: FileIdentity,
    file_type: str,
    profile: str,
    scope: str | None = None,
) -> tuple[Upload | None, set[int]]:
    """The recorded upload of this file if it can go on, and the parts already stored.

    A recorded upload that cannot go on is forgotten; a network error or an outage keeps it.
    """
    entry = state.load(ident, api.base_url)
    if entry is None:
        return None, set()
    try:
        upload = await api.get_upload(entry.upload_id)
    except ClientError as exc:
        if exc.status != 404:  # a network error or an outage: keep the state, try later
            raise
        upload = None
    if upload is not None and upload.status in FINISHED:
        return upload, set()
    if (
        upload is None
        or upload.status != "pending"
        or upload.strategy != "multipart"
        or upload.file_size != ident.size
        or not upload.part_size
        or (upload.file_type, upload.raw.get("profile"), upload.raw.get("scope"))
        != (file_type, profile, scope)
    ):
        # Cancelled, expired, failed, unknown to this token, or asked for with another type,
        # profile or scope this time: a fresh upload it is.
        state.remove(ident, api.base_url)
        return None, set()
    part_size = upload.part_size
    stored = {
        p.part_number
        for p in upload.uploaded_parts or []
        if p.size == part_span(ident.size, part_size, p.part_number)[1]
    }
    return upload, stored
