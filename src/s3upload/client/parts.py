"""Multipart sending: part URLs signed in batches, parts sent `concurrency` at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import partial

from s3upload.client.api import ApiClient
from s3upload.client.chunks import part_span
from s3upload.client.errors import ClientError
from s3upload.client.models import Target, Upload
from s3upload.client.put import RangeSender
from s3upload.client.urls import is_stale

# Part URLs asked for at once; one round trip per this many parts.
SIGN_BATCH = 100


class PartUrls:
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


async def send_multipart(
    api: ApiClient,
    sender: RangeSender,
    upload: Upload,
    stored: set[int],
    *,
    concurrency: int,
    clock: Callable[[], float],
) -> tuple[Upload, int, int]:
    """Send every part the store lacks, `concurrency` at a time, then complete.

    Returns the completed upload, the part count and how many parts were already stored.
    """
    part_size, count = upload.part_size, upload.part_count
    if not part_size or not count:
        raise ClientError("the service sent no part plan", code="bad_response")
    skipped = len(stored)
    sender.advance(sum(part_span(sender.size, part_size, n)[1] for n in stored))
    todo = [n for n in range(1, count + 1) if n not in stored]
    urls = PartUrls(api, upload.id, todo, clock)
    urls.add(upload.parts)
    await send_parts(sender, upload, urls, todo, part_size, concurrency)
    try:
        return await api.complete(upload.id), count, skipped
    except ClientError as exc:
        # The store lost or refused a part (rare): send the ones it names, once more.
        again = _named_parts(exc)
        if not again:
            raise
    retry = PartUrls(api, upload.id, again, clock)
    await send_parts(sender, upload, retry, again, part_size, concurrency)
    return await api.complete(upload.id), count, skipped


async def send_parts(
    sender: RangeSender,
    upload: Upload,
    urls: PartUrls,
    numbers: list[int],
    part_size: int,
    concurrency: int,
) -> None:
    """PUT these parts in order, `concurrency` at a time; the first failure stops them all."""
    queue = iter(numbers)

    async def worker() -> None:
        # Workers share one iterator, so parts go out in order, `concurrency` at a time.
        for n in queue:
            offset, length = part_span(sender.size, part_size, n)
            what = f"{upload.file_name}: part {n}"
            await sender.put(what, partial(urls.get, n), offset, length, partial(urls.forget, n))
            urls.sent(n)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(numbers))):
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
