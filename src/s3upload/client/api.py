"""A small async client for the service's HTTP API (bearer token, JSON, one error type)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx

from s3upload import __version__
from s3upload.client.errors import ClientError
from s3upload.client.models import Download, Page, Target, Upload
from s3upload.client.retry import Backoff, retry_after

# The service asks to be tried again later with these; everything else is an answer.
RETRY_STATUSES = frozenset({429, 503, 504})
# Completing a big upload lists every part and assembles the object in the store: slow.
COMPLETE_TIMEOUT = 600.0


class ApiClient:
    """The s3upload API at `base_url`, called with `token`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        backoff: Backoff = Backoff(attempts=4),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.backoff = backoff
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"s3upload-client/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        time_limit: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One API call with retries; any non-2xx answer becomes a ClientError."""
        if time_limit is not None:
            kwargs["timeout"] = time_limit
        failures = 0
        while True:
            wait: float | None = None
            try:
                resp = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # A request that was never sent can always be sent again; others only if
                # sending them twice does no harm.
                retryable = idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                failures += 1
                if not retryable or failures >= self.backoff.attempts:
                    raise ClientError.from_transport(exc, self.base_url) from exc
            else:
                if resp.is_success:
                    return resp
                failures += 1
                if resp.status_code not in RETRY_STATUSES or failures >= self.backoff.attempts:
                    raise ClientError.from_response(resp)
                wait = retry_after(resp.headers.get("Retry-After"))
            await asyncio.sleep(self.backoff.delay(failures, wait))

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        resp = await self._call(method, path, **kwargs)
        try:
            body = resp.json()
        except ValueError as exc:
            raise ClientError(
                f"{method} {path} answered something that is not JSON",
                status=resp.status_code,
                code="bad_response",
            ) from exc
        if not isinstance(body, dict):
            raise ClientError(
                f"{method} {path} answered {type(body).__name__}, not an object",
                status=resp.status_code,
                code="bad_response",
            )
        return body

    async def create_upload(
        self,
        *,
        file_name: str,
        file_type: str,
        file_size: int,
        profile: str = "default",
        metadata: dict[str, str] | None = None,
        scope: str | None = None,
    ) -> Upload:
        """`POST /uploads`: a single PUT target or a multipart plan with its first URLs."""
        body: dict[str, Any] = {
            "fileName": file_name,
            "fileType": file_type,
            "fileSize": file_size,
            "profile": profile,
            "method": "PUT",
        }
        if metadata:
            body["metadata"] = metadata
        if scope:
            body["scope"] = scope
        # Not idempotent: a blind retry after a lost answer would leave a second pending upload.
        return Upload.from_json(await self._json("POST", "/uploads", json=body, idempotent=False))

    async def sign_parts(self, upload_id: str, part_numbers: list[int]) -> list[Target]:
        """`POST /uploads/{id}/parts`: fresh signed URLs for these parts."""
        body = await self._json(
            "POST", f"/uploads/{upload_id}/parts", json={"partNumbers": part_numbers}
        )
        return [Target.from_json(p) for p in body["parts"]]

    async def complete(self, upload_id: str) -> Upload:
        """`POST /uploads/{id}/complete`: assemble (multipart), verify, `uploaded`. Idempotent."""
        path = f"/uploads/{upload_id}/complete"
        return Upload.from_json(await self._json("POST", path, time_limit=COMPLETE_TIMEOUT))

    async def get_upload(self, upload_id: str) -> Upload:
        """`GET /uploads/{id}`: with `uploaded_parts` while a multipart upload is pending."""
        return Upload.from_json(await self._json("GET", f"/uploads/{upload_id}"))

    async def get_file(self, file_id: str) -> Upload:
        """`GET /files/{id}`: the record, without signed targets."""
        return Upload.from_json(await self._json("GET", f"/files/{file_id}"))

    async def list_files(
        self,
        *,
        status: str | None = None,
        scope: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """`GET /files`: one page of the caller's uploads (or a scope's files), newest first."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if scope:
            params["scope"] = scope
        if cursor:
            params["cursor"] = cursor
        body = await self._json("GET", "/files", params=params)
        return Page(
            items=[Upload.from_json(item) for item in body["items"]],
            next_cursor=body.get("nextCursor"),
        )

    async def iter_files(
        self,
        *,
        status: str | None = None,
        scope: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Upload]:
        """Every upload (or the first `limit`), following the keyset cursor page by page."""
        cursor: str | None = None
        seen = 0
        while limit is None or seen < limit:
            size = page_size if limit is None else min(page_size, limit - seen)
            page = await self.list_files(status=status, scope=scope, limit=size, cursor=cursor)
            for item in page.items:
                yield item
            seen += len(page.items)
            cursor = page.next_cursor
            if not cursor:
                return

    async def download_url(self, file_id: str, *, inline: bool = False) -> Download:
        """`GET /files/{id}/download`: a signed GET naming the file as it was uploaded."""
        params = {"disposition": "inline"} if inline else {}
        body = await self._json("GET", f"/files/{file_id}/download", params=params)
        return Download(url=str(body["url"]), expires_at=str(body["expiresAt"]))

    async def claim(self, file_id: str) -> Upload:
        """`POST /files/{id}/claim`: the application keeps the file. Idempotent."""
        return Upload.from_json(await self._json("POST", f"/files/{file_id}/claim"))

    async def delete_file(self, file_id: str) -> None:
        """`DELETE /files/{id}`: remove the object (or abort a pending upload), `deleted`."""
        await self._call("DELETE", f"/files/{file_id}")

    async def cancel(self, upload_id: str) -> None:
        """`DELETE /uploads/{id}`: cancel a pending upload, `aborted`."""
        await self._call("DELETE", f"/uploads/{upload_id}")
