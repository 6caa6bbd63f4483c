"""The one abstraction over the object store: an async S3 client that speaks in our errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore import exceptions as bc

from s3upload.errors import StoreRejected, StoreUnavailable
from s3upload.metrics import STORE_ERRORS
from s3upload.settings import S3Settings
from s3upload.store.signer import Credentials, Signer

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_CHECKSUM_FIELDS = {
    "ChecksumSHA256": "SHA256",
    "ChecksumSHA1": "SHA1",
    "ChecksumCRC32": "CRC32",
    "ChecksumCRC32C": "CRC32C",
}
_UNAVAILABLE_CODES = {"ServiceUnavailable", "SlowDown", "InternalError", "503", "500"}
_GONE_CODES = {"NoSuchUpload", "NoSuchKey", "404"}
_PART_CODES = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall"}
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"}


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells about a stored object."""

    size: int
    content_type: str
    etag: str
    checksums: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredPart:
    """A part the store already holds."""

    number: int
    size: int
    etag: str


class NoSuchUpload(Exception):
    """The store no longer knows this multipart upload (completed or aborted)."""


class PartListRefused(Exception):
    """The store refused to assemble the parts (an ETag that does not match, a part too small)."""


def _code(exc: bc.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: Exception, bucket: str, *, bucket_call: bool = False) -> Exception:
    """Turn a botocore failure into the error the client should see.

    `bucket_call`: the request addressed the bucket itself, so a bare 404 means it is missing.
    """
    if isinstance(exc, bc.NoCredentialsError | bc.PartialCredentialsError):
        return StoreRejected("The object store credentials are missing on the server.")
    if isinstance(exc, bc.ClientError):
        code = _code(exc)
        if code == "NoSuchBucket" or (bucket_call and code in ("404", "NotFound")):
            return StoreRejected(f"The object store bucket '{bucket}' does not exist.")
        if code in _CREDENTIAL_CODES:
            return StoreRejected("The object store refused the service's credentials.")
        if code in _UNAVAILABLE_CODES:
            return StoreUnavailable("The object store is unavailable; try again shortly.")
        return StoreRejected(f"The object store answered with an error ({code or 'unknown'}).")
    return StoreUnavailable("The object store is unreachable; try again shortly.")


class ObjectStore:
    """Async S3 operations on one bucket, plus the signer for its public endpoint."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.signer = Signer(
            endpoint_url=settings.signing_endpoint,
            region=settings.region,
            bucket=settings.bucket,
            path_style=settings.use_path_style,
        )
        self._stack = AsyncExitStack()
        self._session = get_session()
        self._client: S3Client | None = None
        self._healthy_until = 0.0
        self._checking: asyncio.Future[None] | None = None

    def _config(self) -> AioConfig:
        return AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path" if self.settings.use_path_style else "virtual"},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            retries={"max_attempts": self.settings.max_attempts, "mode": "standard"},
            # Stores without flexible checksums (RGW before Reef) choke on the new defaults.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    async def start(self) -> None:
        """Open the HTTP connection pool."""
        self._client = await self._stack.enter_async_context(
            self._session.create_client(
                "s3",
                endpoint_url=self.settings.endpoint_url,
                region_name=self.settings.region,
                config=self._config(),
            )
        )

    def other_client(
        self, service: str, endpoint_url: str | None, region: str | None = None
    ) -> Any:
        """An aiobotocore client for another service (SNS, SQS) with the same credentials."""
        session: Any = self._session  # its overloads want a literal service name
        return session.create_client(
            service,
            endpoint_url=endpoint_url,
            region_name=region or self.settings.region,
            config=self._config(),
        )

    @asynccontextmanager
    async def calls(self) -> AsyncIterator[None]:
        """Translate botocore failures of calls made through `client` or `other_client`."""
        async with self._calls(bucket_call=True):
            yield

    async def close(self) -> None:
        """Close the connection pool."""
        await self._stack.aclose()
        self._client = None

    @property
    def client(self) -> S3Client:
        """The underlying aiobotocore client (for store operations not wrapped here)."""
        if self._client is None:
            raise RuntimeError("ObjectStore.start() was not called")
        return self._client

    @asynccontextmanager
    async def _calls(self, *, bucket_call: bool = False) -> AsyncIterator[None]:
        """Translate botocore failures at the boundary."""
        try:
            yield
        except (bc.BotoCoreError, bc.ClientError) as exc:
            error = translate(exc, self.bucket, bucket_call=bucket_call)
            STORE_ERRORS.labels(kind=getattr(error, "code", "unknown")).inc()
            if isinstance(error, StoreUnavailable):
                self._healthy_until = 0.0  # the next create checks the store again
            raise error from exc

    async def credentials(self) -> Credentials:
        """Current credentials from the AWS chain (refreshed when they near expiry)."""
        async with self._calls():
            creds = await self._session.get_credentials()
            if creds is None:
                raise bc.NoCredentialsError()
            frozen = await creds.get_frozen_credentials()
        if not frozen.access_key or not frozen.secret_key:
            raise StoreRejected("The object store credentials are missing on the server.")
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)

    async def check(self, *, force: bool = False) -> None:
        """Make sure the bucket answers; a success is trusted for `health_ttl` seconds.

        Callers arriving while a check is under way wait for it rather than start their own,
        so under load the store sees one HeadBucket per lifetime, not one per request.
        """
        if not force and time.monotonic() < self._healthy_until:
            return
        if self._checking is None or force:
            self._checking = asyncio.ensure_future(self._head_bucket())
            self._checking.add_done_callback(self._check_done)
        await asyncio.shield(self._checking)

    async def _head_bucket(self) -> None:
        now = time.monotonic()
        async with self._calls(bucket_call=True):
            await self.client.head_bucket(Bucket=self.bucket)
        self._healthy_until = now + self.settings.health_ttl

    def _check_done(self, done: asyncio.Future[None]) -> None:
        if self._checking is done:
            self._checking = None
        if not done.cancelled():
            done.exception()  # retrieved here: the waiters raise it themselves

    async def head(self, key: str, *, checksums: bool = False) -> ObjectInfo | None:
        """HEAD an object; None when it does not exist."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if checksums:
            kwargs["ChecksumMode"] = "ENABLED"
        try:
            async with self._calls():
                resp = await self.client.head_object(**kwargs)
        except StoreRejected as exc:
            if isinstance(exc.__cause__, bc.ClientError) and _code(exc.__cause__) in (
                "404",
                "NoSuchKey",
                "NotFound",
            ):
                return None
            raise
        fields: dict[str, Any] = dict(resp)
        return ObjectInfo(
            size=int(resp["ContentLength"]),
            content_type=resp.get("ContentType", ""),
            etag=resp.get("ETag", "").strip('"'),
            checksums={a: str(fields[f]) for f, a in _CHECKSUM_FIELDS.items() if fields.get(f)},
            metadata=dict(resp.get("Metadata", {})),
        )

    async def delete(self, key: str) -> None:
        """Delete an object (no error if it is already gone)."""
        async with self._calls():
            await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def read_start(self, key: str, size: int) -> bytes:
        """The first `size` bytes of an object (fewer if it is shorter; empty if it is empty)."""
        async with self._calls():
            try:
                resp = await self.client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}"
                )
            except bc.ClientError as exc:
                if _code(exc) == "InvalidRange":  # a zero-byte object has no byte 0
                    return b""
                raise
            async with resp["Body"] as body:
                return bytes(await body.read())

    @asynccontextmanager
    async def reading(self, key: str, start: int = 0) -> AsyncIterator[Any]:
        """The object's bytes from `start` on, as a stream (`await body.read(n)`)."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start:
            kwargs["Range"] = f"bytes={start}-"
        async with self._calls():
            resp = await self.client.get_object(**kwargs)
            async with resp["Body"] as body:
                yield body

    async def put(
        self, key: str, body: Any, *, content_type: str, cache_control: str | None = None
    ) -> None:
        """Write an object from bytes or a file object (which is read as it is sent)."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
        }
        if cache_control:
            kwargs["CacheControl"] = cache_control
        if self.settings.signed_acl:
            kwargs["ACL"] = self.settings.signed_acl
        async with self._calls():
            await self.client.put_object(**kwargs)

    async def create_multipart(
        self, key: str, *, content_type: str, metadata: dict[str, str], cache_control: str | None
    ) -> str:
        """Start a multipart upload; returns the store's upload id."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "Metadata": metadata,
        }
        if cache_control:
            kwargs["CacheControl"] = cache_control
        async with self._calls(bucket_call=True):
            resp = await self.client.create_multipart_upload(**kwargs)
        return str(resp["UploadId"])

    @asynccontextmanager
    async def _multipart_calls(self) -> AsyncIterator[None]:
        """Like `_calls`, but a vanished upload raises NoSuchUpload."""
        try:
            async with self._calls():
                yield
        except StoreRejected as exc:
            cause = exc.__cause__
            # RGW answers NoSuchKey for ListParts of an upload that was completed.
            if isinstance(cause, bc.ClientError) and _code(cause) in _GONE_CODES:
                raise NoSuchUpload(str(cause)) from cause
            raise

    async def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        """Every part the store holds for this upload (all pages), by part number."""
        parts: list[StoredPart] = []
        marker = 0
        async with self._multipart_calls():
            while True:
                resp = await self.client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
                parts += [
                    StoredPart(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
                    for p in resp.get("Parts", [])
                ]
                if not resp.get("IsTruncated"):
                    break
                marker = int(resp["NextPartNumberMarker"])
        return sorted(parts, key=lambda p: p.number)

    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> None:
        """Assemble the object from (part number, ETag) pairs."""
        try:
            async with self._multipart_calls():
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
                )
        except StoreRejected as exc:
            cause = exc.__cause__
            if isinstance(cause, bc.ClientError) and _code(cause) in _PART_CODES:
                raise PartListRefused(_code(cause)) from cause
            raise

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload and free its parts (no error if it is already gone)."""
        try:
            async with self._multipart_calls():
                await self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                )
        except NoSuchUpload:
            pass
