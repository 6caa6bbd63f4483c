"""Upload a local file of any size: one PUT, or parallel parts that resume after a crash."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError
from s3upload.client.models import Target, Upload
from s3upload.client.retry import RETRY_STATUSES, Backoff, retry_after
from s3upload.client.state import DEFAULT_STATE_DIR, Entry, FileIdentity, StateStore
from s3upload.client.urls import is_stale, may_have_expired

MiB = 1024 * 1024
# Bytes read from the file and handed to the socket at a time: big enough that per-chunk
# overhead vanishes, small enough that memory stays at about concurrency x this.
CHUNK = MiB
# Part URLs asked for at once; one round trip per this many parts.
SIGN_BATCH = 100
# Times a part's URL is signed again because the store refused it as possibly lapsed.
MAX_RESIGN = 2
# Statuses of an upload that is already finished (nothing left to send).
FINISHED = frozenset({"uploaded", "processing", "completed"})

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class UploadResult:
    """What one upload did."""

    upload: Upload
    path: str
    size: int
    parts_sent: int
    parts_skipped: int
    part_count: int
    seconds: float
    resumed: bool

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary printed by `s3upload upload --json`."""
        return {
            "id": self.upload.id,
            "key": self.upload.key,
            "status": self.upload.status,
            "size": self.size,
            "file": self.path,
            "strategy": self.upload.strategy,
            "partCount": self.part_count,
            "partsSent": self.parts_sent,
            "partsSkipped": self.parts_skipped,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
        }


def guess_type(path: Path) -> str:
    """The MIME type the file's name suggests, else `application/octet-stream`."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def part_span(size: int, part_size: int, number: int) -> tuple[int, int]:
    """Offset and length of part `number` (1-based) of a file of `size` bytes."""
    offset = (number - 1) * part_size
    return offset, max(0, min(part_size, size - offset))


async def upload_file(
    api: ApiClient,
    path: str | os.PathLike[str],
    *,
    file_type: str | None = None,
    profile: str = "default",
    metadata: dict[str, str] | None = None,
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
        transfer = _Transfer(
            api=api,
            http=http,
            fd=fd,
            ident=ident,
            state=StateStore(state_dir) if state_dir is not None else None,
            progress=progress,
            backoff=backoff,
            concurrency=concurrency,
            clock=clock,
        )
        return await transfer.run(
            file_name=source.name,
            file_type=file_type or guess_type(source),
            profile=profile,
            metadata=metadata,
        )
    finally:
        os.close(fd)
        if own_http:
            await http.aclose()


class _PartUrls:
    """Signed URLs of one upload's parts, asked for in batches ahead of need."""

    def __init__(
        self, api: ApiClient, upload_id: str, order: list[int], clock: Callable[[], float]
    ) -> None:
        self._api = api
        self._upload_id = upload_id
        self._order = order
        self._index = {n: i for i, n in enumerate(order)}
        self._clock = clock
        self._urls: dict[int, Target] = {}
        self._sent: set[int] = set()
        self._lock = asyncio.Lock()

    def add(self, targets: Iterable[Target]) -> None:
        """Keep these (the create answer's first batch)."""
        for t in targets:
            if t.part_number in self._index:
                self._urls[t.part_number] = t

    def _fresh(self, number: int) -> Target | None:
        target = self._urls.get(number)
        if target is None or is_stale(target.url, self._clock()):
            return None
        return target

    async def get(self, number: int) -> Target:
        """A URL for `number` that is not about to lapse; signs the next batch if needed."""
        target = self._fresh(number)
        if target is not None:
            return target
        async with self._lock:  # one signing call at a time; the others wait for its batch
            target = self._fresh(number)
            if target is not None:
                return target
            # This part and the next ones in line that still need a URL, in one call.
            start = self._index.get(number, 0)
            ahead = [
                n
                for n in self._order[start : start + SIGN_BATCH]
                if n not in self._sent and self._fresh(n) is None
            ]
            self.add(await self._api.sign_parts(self._upload_id, sorted({number, *ahead})))
            return self._urls[number]

    def sent(self, number: int) -> None:
        """The part is stored: its URL is no longer needed."""
        self._sent.add(number)
        self._urls.pop(number, None)

    def forget(self, number: int) -> None:
        """The store refused the URL (perhaps lapsed): sign it again next time."""
        self._urls.pop(number, None)


class _SingleUrl:
    """The signed PUT of a single upload; the service signs a fresh one on `GET /uploads/{id}`."""

    def __init__(
        self, api: ApiClient, upload_id: str, target: Target, clock: Callable[[], float]
    ) -> None:
        self._api = api
        self._upload_id = upload_id
        self._target: Target | None = target
        self._clock = clock

    async def get(self) -> Target:
        """The target, signed again if it lapsed or the store said so."""
        if self._target is None or is_stale(self._target.url, self._clock()):
            renewed = (await self._api.get_upload(self._upload_id)).single
            if renewed is None:
                raise ClientError("the upload is no longer pending", code="not_pending")
            self._target = renewed
        return self._target

    def forget(self) -> None:
        """The store said the URL had lapsed."""
        self._target = None


class _Transfer:
    """The state of one file's upload."""

    def __init__(
        self,
        *,
        api: ApiClient,
        http: httpx.AsyncClient,
        fd: int,
        ident: FileIdentity,
        state: StateStore | None,
        progress: Progress | None,
        backoff: Backoff,
        concurrency: int,
        clock: Callable[[], float],
    ) -> None:
        self.api = api
        self.http = http
        self.fd = fd
        self.ident = ident
        self.size = ident.size
        self.state = state
        self.progress = progress
        self.backoff = backoff
        self.concurrency = concurrency
        self.clock = clock
        self.done = 0
        self.sent = 0

    def _advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.size)

    async def _read(self, offset: int, length: int) -> bytes:
        # pread in a worker thread: a cold disk must not stall the other parts' sockets.
        data = await asyncio.to_thread(os.pread, self.fd, length, offset)
        if len(data) != length:
            raise ClientError(
                f"{self.ident.path} changed while it was being uploaded", code="file_changed"
            )
        return data

    async def _body(self, offset: int, length: int, counted: list[int]) -> AsyncIterator[bytes]:
        """The bytes of [offset, offset+length), read as they are sent; never all at once."""
        end = offset + length
        pos = offset
        while pos < end:
            n = min(CHUNK, end - pos)
            yield await self._read(pos, n)
            # Resumed once the chunk was written: count it as sent.
            pos += n
            counted[0] += n
            self._advance(n)

    async def _put(
        self,
        what: str,
        target: Callable[[], Awaitable[Target]],
        offset: int,
        length: int,
        on_expired: Callable[[], None],
    ) -> httpx.Response:
        """PUT a byte range to a signed URL, with retries; `target()` gives a fresh URL."""
        failures = 0
        resigned = 0
        while True:
            t = await target()
            counted = [0]
            wait: float | None = None
            resp: httpx.Response | None = None
            try:
                resp = await self.http.put(
                    t.url, content=self._body(offset, length, counted), headers=t.headers
                )
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                error = ClientError(f"{what}: network error ({reason})", code="network_error")
            if resp is not None and resp.is_success:
                return resp
            self._advance(-counted[0])  # those bytes did not land; they go again or never
            if resp is not None:
                if may_have_expired(resp.status_code, resp.text) and resigned < MAX_RESIGN:
                    # Perhaps a lapsed URL (RGW does not say so): sign again and resend at once.
                    resigned += 1
                    on_expired()
                    continue
                error = _store_error(what, resp)
                if resp.status_code not in RETRY_STATUSES:
                    raise error
                wait = retry_after(resp.headers.get("Retry-After"))
            failures += 1
            if failures >= self.backoff.attempts:
                raise error
            await asyncio.sleep(self.backoff.delay(failures, wait))

    async def run(
        self, *, file_name: str, file_type: str, profile: str, metadata: dict[str, str] | None
    ) -> UploadResult:
        """Resume or create the upload, send what the store lacks, complete."""
        started = time.monotonic()
        upload, stored = await self._resume(file_type, profile)
        resumed = upload is not None
        if upload is None:
            upload = await self.api.create_upload(
                file_name=file_name,
                file_type=file_type,
                file_size=self.size,
                profile=profile,
                metadata=metadata,
            )
            stored = set()
            if upload.strategy == "multipart" and self.state is not None:
                self.state.save(self._entry(upload))
        if upload.status in FINISHED:
            # An earlier run finished but died before forgetting its state.
            count = upload.part_count or 1
            self._forget()
            self._advance(self.size)
            return self._result(upload, count, 0, count, started, resumed)
        if upload.strategy == "single":
            await self._single(upload)
            final = await self.api.complete(upload.id)
            return self._result(final, 1, 1, 0, started, resumed)
        final, count, skipped = await self._multipart(upload, stored)
        self._forget()
        return self._result(final, count, self.sent, skipped, started, resumed)

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

    def _entry(self, upload: Upload) -> Entry:
        return Entry(
            path=self.ident.path,
            size=self.ident.size,
            mtime_ns=self.ident.mtime_ns,
            server=self.api.base_url,
            upload_id=upload.id,
            key=upload.key,
            part_size=upload.part_size or 0,
            part_count=upload.part_count or 0,
        )

    def _forget(self) -> None:
        if self.state is not None:
            self.state.remove(self.ident, self.api.base_url)

    async def _resume(self, file_type: str, profile: str) -> tuple[Upload | None, set[int]]:
        """The recorded upload of this file if it can go on, and the parts already stored."""
        if self.state is None:
            return None, set()
        entry = self.state.load(self.ident, self.api.base_url)
        if entry is None:
            return None, set()
        try:
            upload = await self.api.get_upload(entry.upload_id)
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
            or upload.file_size != self.size
            or not upload.part_size
            or (upload.file_type, upload.raw.get("profile")) != (file_type, profile)
        ):
            # Cancelled, expired, failed, unknown to this token, or asked for with another type
            # or profile this time: a fresh upload it is.
            self._forget()
            return None, set()
        part_size = upload.part_size
        stored = {
            p.part_number
            for p in upload.uploaded_parts or []
            if p.size == part_span(self.size, part_size, p.part_number)[1]
        }
        return upload, stored

    async def _single(self, upload: Upload) -> None:
        """One PUT of the whole file with exactly the signed headers."""
        if upload.single is None or upload.single_method != "PUT":
            raise ClientError("the service offered no PUT target", code="bad_response")
        url = _SingleUrl(self.api, upload.id, upload.single, self.clock)
        await self._put(f"{upload.file_name}: PUT", url.get, 0, self.size, url.forget)
        self.sent = 1

    async def _multipart(self, upload: Upload, stored: set[int]) -> tuple[Upload, int, int]:
        """Send every part the store lacks, `concurrency` at a time, then complete."""
        part_size, count = upload.part_size, upload.part_count
        if not part_size or not count:
            raise ClientError("the service sent no part plan", code="bad_response")
        skipped = len(stored)
        self._advance(sum(part_span(self.size, part_size, n)[1] for n in stored))
        todo = [n for n in range(1, count + 1) if n not in stored]
        urls = _PartUrls(self.api, upload.id, todo, self.clock)
        urls.add(upload.parts)
        await self._send_parts(upload, urls, todo, part_size)
        try:
            return await self.api.complete(upload.id), count, skipped
        except ClientError as exc:
            # The store lost or refused a part (rare): send the ones it names, once more.
            again = _named_parts(exc)
            if not again:
                raise
        retry = _PartUrls(self.api, upload.id, again, self.clock)
        await self._send_parts(upload, retry, again, part_size)
        return await self.api.complete(upload.id), count, skipped

    async def _send_parts(
        self, upload: Upload, urls: _PartUrls, numbers: list[int], part_size: int
    ) -> None:
        queue = iter(numbers)

        async def worker() -> None:
            # Workers share one iterator, so parts go out in order, `concurrency` at a time.
            for n in queue:
                offset, length = part_span(self.size, part_size, n)
                what = f"{upload.file_name}: part {n}"
                await self._put(what, partial(urls.get, n), offset, length, partial(urls.forget, n))
                urls.sent(n)
                self.sent += 1

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(numbers))):
                    group.create_task(worker())
        except BaseExceptionGroup as eg:
            raise _first(eg) from None


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first real error in a task group's failure (ours before cancellations)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]


def _named_parts(exc: ClientError) -> list[int]:
    """Parts a failed complete says must be sent again (missing, or of the wrong size)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if exc.code == "parts_missing":
        numbers = details.get("missing") or []
    elif exc.code == "part_size_mismatch":
        numbers = details.get("partNumbers") or []
    else:
        return []
    return sorted(int(n) for n in numbers)


def _store_error(what: str, resp: httpx.Response) -> ClientError:
    """The store's refusal as one line: status, S3 error code and message."""
    code, message = _s3_error(resp.text)
    return ClientError(
        f"{what}: the store answered {resp.status_code} {code}: {message}".rstrip(": "),
        status=resp.status_code,
        code="store_error",
        details={"storeCode": code},
    )


def _s3_error(body: str) -> tuple[str, str]:
    """`Code` and `Message` of an S3 XML error body (empty strings if absent)."""
    import re

    def tag(name: str) -> str:
        found = re.search(rf"<{name}>(.*?)</{name}>", body, re.S)
        return found.group(1).strip()[:200] if found else ""

    return tag("Code"), tag("Message")
