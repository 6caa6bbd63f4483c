"""PUT a byte range of the file to a signed URL: retries, re-signing, progress, store errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import httpx

from s3upload.client.chunks import FileReader
from s3upload.client.errors import ClientError
from s3upload.client.models import Target
from s3upload.client.retry import RETRY_STATUSES, Backoff, retry_after
from s3upload.client.urls import may_have_expired

# Times a URL is signed again because the store refused it as possibly lapsed.
MAX_RESIGN = 2

Progress = Callable[[int, int], None]


class RangeSender:
    """Sends byte ranges of one file to the store and counts what landed."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        reader: FileReader,
        size: int,
        backoff: Backoff,
        progress: Progress | None,
    ) -> None:
        self.http = http
        self.reader = reader
        self.size = size
        self.backoff = backoff
        self.progress = progress
        self.done = 0  # bytes stored (or known to be), as reported to `progress`
        self.sent = 0  # PUTs that succeeded

    def advance(self, n: int) -> None:
        """Count `n` more bytes as stored (negative: take back) and report progress."""
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.size)

    async def put(
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

            def on_sent(n: int, counted: list[int] = counted) -> None:
                counted[0] += n
                self.advance(n)

            wait: float | None = None
            resp: httpx.Response | None = None
            try:
                body = self.reader.chunks(offset, length, on_sent)
                resp = await self.http.put(t.url, content=body, headers=t.headers)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                error = ClientError(f"{what}: network error ({reason})", code="network_error")
            if resp is not None and resp.is_success:
                self.sent += 1
                return resp
            self.advance(-counted[0])  # those bytes did not land; they go again or never
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

    def tag(name: str) -> str:
        found = re.search(rf"<{name}>(.*?)</{name}>", body, re.S)
        return found.group(1).strip()[:200] if found else ""

    return tag("Code"), tag("Message")
