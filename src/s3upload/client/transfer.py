"""Upload a local file of any size: one PUT, or parallel parts that resume after a crash."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from s3upload.client.api import ApiClient
from s3upload.client.chunks import FileReader
from s3upload.client.models import Upload
from s3upload.client.parts import send_multipart
from s3upload.client.put import Progress, RangeSender
from s3upload.client.result import UploadResult
from s3upload.client.resume import FINISHED, entry_for, find_resumable
from s3upload.client.retry import Backoff
from s3upload.client.single import send_single
from s3upload.client.state import DEFAULT_STATE_DIR, FileIdentity, StateStore


def guess_type(path: Path) -> str:
    """The MIME type the file's name suggests, else `application/octet-stream`."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


async def upload_file(
    api: ApiClient,
    path: str | os.PathLike[str],
    *,
    file_type: str | None = None,
    profile: str = "default",
    metadata: dict[str, str] | None = None,
    scope: str | None = None,
    concurrency: int = 6,
    state_dir: Path | None = DEFAULT_STATE_DIR,
    progress: Progress | None = None,
    backoff: Backoff = Backoff(),
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
) -> UploadResult:
    """Upload the file at `path` through `api`; resume an earlier attempt if one is recorded.

    `state_dir=None` turns resuming off. `http` is the client used to reach the store (one is
    made, sized to `concurrency`, when not given). `clock` tells when signed URLs lapse.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    source = Path(path)
    ident = FileIdentity.of(source)
    fd = await asyncio.to_thread(os.open, source, os.O_RDONLY)
    own_http = http is None
    if http is None:
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=15.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
    try:
        sender = RangeSender(
            http=http,
            reader=FileReader(fd, ident.path),
            size=ident.size,
            backoff=backoff,
            progress=progress,
        )
        transfer = _Transfer(
            api=api,
            sender=sender,
            ident=ident,
            state=StateStore(state_dir) if state_dir is not None else None,
            concurrency=concurrency,
            clock=clock,
        )
        return await transfer.run(
            file_name=source.name,
            file_type=file_type or guess_type(source),
            profile=profile,
            metadata=metadata,
            scope=scope,
        )
    finally:
        os.close(fd)
        if own_http:
            await http.aclose()


class _Transfer:
    """One file's upload: picks single or multipart, resumes, completes."""

    def __init__(
        self,
        *,
        api: ApiClient,
        sender: RangeSender,
        ident: FileIdentity,
        state: StateStore | None,
        concurrency: int,
        clock: Callable[[], float],
    ) -> None:
        self.api = api
        self.sender = sender
        self.ident = ident
        self.size = ident.size
        self.state = state
        self.concurrency = concurrency
        self.clock = clock

    async def run(
        self,
        *,
        file_name: str,
        file_type: str,
        profile: str,
        metadata: dict[str, str] | None,
        scope: str | None = None,
    ) -> UploadResult:
        """Resume or create the upload, send what the store lacks, complete."""
        started = time.monotonic()
        upload: Upload | None = None
        stored: set[int] = set()
        if self.state is not None:
            upload, stored = await find_resumable(
                self.api, self.state, self.ident, file_type, profile, scope
            )
        resumed = upload is not None
        if upload is None:
            upload = await self.api.create_upload(
                file_name=file_name,
                file_type=file_type,
                file_size=self.size,
                profile=profile,
                metadata=metadata,
                scope=scope,
            )
            stored = set()
            if upload.strategy == "multipart" and self.state is not None:
                self.state.save(entry_for(self.ident, self.api.base_url, upload))
        if upload.status in FINISHED:
            # An earlier run finished but died before forgetting its state.
            count = upload.part_count or 1
            self._forget()
            self.sender.advance(self.size)
            return self._result(upload, count, 0, count, started, resumed)
        if upload.strategy == "single":
            await send_single(self.api, self.sender, upload, self.clock)
            final = await self.api.complete(upload.id)
            return self._result(final, 1, 1, 0, started, resumed)
        final, count, skipped = await send_multipart(
            self.api, self.sender, upload, stored, concurrency=self.concurrency, clock=self.clock
        )
        self._forget()
        return self._result(final, count, self.sender.sent, skipped, started, resumed)

    def _result(
        self, upload: Upload, count: int, sent: int, skipped: int, started: float, resumed: bool
    ) -> UploadResult:
        return UploadResult(
            upload=upload,
            path=self.ident.path,
            size=self.size,
            parts_sent=sent,
            parts_skipped=skipped,
            part_count=count,
            seconds=time.monotonic() - started,
            resumed=resumed,
        )

    def _forget(self) -> None:
        if self.state is not None:
            self.state.remove(self.ident, self.api.base_url)
