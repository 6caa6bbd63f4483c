"""The single-PUT path: the whole file in one request to a URL the service signed."""

from __future__ import annotations

from collections.abc import Callable

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError
from s3upload.client.models import Target, Upload
from s3upload.client.put import RangeSender
from s3upload.client.urls import is_stale

# A single PUT is signed with `If-None-Match: *`: the store refuses a second write with 412.
PRECONDITION_FAILED = 412


class SingleUrl:
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


async def send_single(
    api: ApiClient, sender: RangeSender, upload: Upload, clock: Callable[[], float]
) -> None:
    """One PUT of the whole file with exactly the signed headers."""
    if upload.single is None or upload.single_method != "PUT":
        raise ClientError("the service offered no PUT target", code="bad_response")
    url = SingleUrl(api, upload.id, upload.single, clock)
    try:
        await sender.put(f"{upload.file_name}: PUT", url.get, 0, sender.size, url.forget)
    except ClientError as exc:
        if exc.status != PRECONDITION_FAILED:
            raise
        # The URL writes once and the object is there: an earlier attempt whose answer was
        # lost. Completing verifies that it holds this file.
        sender.advance(sender.size - sender.done)
