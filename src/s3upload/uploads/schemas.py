"""Request and response bodies of the upload routes (camelCase on the wire)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.config import JsonDict

from s3upload.access.scopes import SCOPE_PATTERN
from s3upload.db.models import Upload
from s3upload.db.states import READABLE, Status
from s3upload.multipart.schemas import MultipartOut, UploadedPart
from s3upload.policy import DIGEST_BYTES, MIME_RE, clean_file_name
from s3upload.settings import CHECKSUM_ALGORITHMS
from s3upload.wire import Camel, RequestBody, SizeInBytes, WholeNumber, base64_of, name_schema

ChecksumAlgorithm = Literal["MD5", "SHA256", "SHA1", "CRC32", "CRC32C"]
assert set(ChecksumAlgorithm.__args__) == set(CHECKSUM_ALGORITHMS)  # type: ignore[attr-defined]


class Checksum(Camel):
    """A checksum of the whole file, base64 of the raw digest."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"properties": {"algorithm": {"const": name}, "value": base64_of(size)}}
                for name, size in DIGEST_BYTES.items()
            ]
        }
    )

    algorithm: ChecksumAlgorithm
    value: str = Field(
        min_length=4,
        max_length=128,
        description="Standard base64 (padded) of the digest: 16 bytes for MD5, 32 for SHA256, "
        "20 for SHA1, 4 for CRC32 and CRC32C.",
    )


# A content type becomes a header: no control character but tab, even around it.
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
FILE_TYPE_NOT: JsonDict = {"pattern": _HEADER_CONTROL.pattern}
NO_NUL: JsonDict = {"not": {"pattern": r"\x00"}}


def _mime(value: str) -> str:
    if _HEADER_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    value = value.strip()
    if not MIME_RE.match(value):
        raise ValueError("must be a MIME type such as 'image/png'")
    return value


FILE_NAME_MAX = 255
FILE_NAME_SCHEMA = name_schema(FILE_NAME_MAX)
# A MIME type, with the spaces around it that validation trims.
FILE_TYPE_PATTERN = r"^\s*" + MIME_RE.pattern.removeprefix("^").removesuffix("$") + r"\s*$"
FILE_TYPE_MAX = 255

FileName = Annotated[
    str,
    Field(
        max_length=FILE_NAME_MAX,
        description="Original name, 1-255 characters, not blank, no control characters "
        "(leading and trailing spaces are trimmed).",
        examples=["holiday.mp4"],
        json_schema_extra=FILE_NAME_SCHEMA,
    ),
    AfterValidator(clean_file_name),
]
FileType = Annotated[
    str,
    Field(
        max_length=FILE_TYPE_MAX,
        description="MIME type, e.g. `image/png`.",
        examples=["video/mp4"],
        json_schema_extra={
            "pattern": FILE_TYPE_PATTERN,
            "not": FILE_TYPE_NOT,
        },
    ),
    AfterValidator(_mime),
]


MAX_FILE_SIZE = 5 * 1024**4  # S3's largest object: larger answers 413, as a profile's limit does
META_KEY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
METADATA_SCHEMA: JsonDict = {
    "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": META_KEY_PATTERN},
    "additionalProperties": {"type": "string", "not": {"pattern": "[^\\x20-\\x7e]"}},
}


class UploadFields(RequestBody):
    """What a client wants to upload; the size may be unknown (Uppy's routes)."""

    model_config = ConfigDict(
        json_schema_extra={
            # Checksums are signed into PUT uploads only.
            "if": {"required": ["method"], "properties": {"method": {"const": "POST"}}},
            "then": {"properties": {"checksum": {"type": "null"}}},
        }
    )

    file_name: FileName
    file_type: FileType
    file_size: SizeInBytes | None = None
    method: Literal["PUT", "POST"] = Field(
        default="PUT",
        description="Single-part only: PUT with signed headers, or an HTML-form POST with a "
        "policy. Ignored for multipart uploads. A checksum needs PUT.",
    )
    metadata: dict[str, str] = Field(
        default_factory=dict,
        max_length=32,
        description="Stored as `x-amz-meta-*`: keys of 1-64 letters, digits, `-` or `_` (stored "
        "lower-case), values of printable ASCII, 2 KB in all.",
        json_schema_extra=METADATA_SCHEMA,
    )
    profile: str = Field(default="default", max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    checksum: Checksum | None = None
    scope: str | None = Field(
        default=None,
        max_length=161,
        pattern=SCOPE_PATTERN,
        description="What the file belongs to in the application, `<type>/<id>` (type "
        "`[a-z][a-z0-9_-]{0,31}`, id `[A-Za-z0-9._-]{1,128}`), e.g. `event/1234`. Required by "
        "profiles with `scope_types`; who may read, delete and upload in it is the profile's "
        "`access`.",
        examples=["event/1234"],
    )


class CreateUpload(UploadFields):
    """Body of `POST /uploads`."""

    file_size: WholeNumber = Field(
        gt=0,
        description="Size in bytes.",
        examples=[7340032],
        json_schema_extra={"maximum": MAX_FILE_SIZE},
    )


class PresignUpload(CreateUpload):
    """Body of `POST /presigned-url`: one request, so at most `S3_SINGLE_PART_MAX` bytes."""


SETTABLE_STATUSES = [Status.UPLOADED, Status.PROCESSING, Status.COMPLETED, Status.FAILED]


class StatusUpdate(RequestBody):
    """Body of `PUT /file-status`: exactly one of `id` or `key`, and the wanted status."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["id"],
                    "properties": {"id": {"type": "string"}, "key": {"type": "null"}},
                },
                {
                    "required": ["key"],
                    "properties": {"key": {"type": "string"}, "id": {"type": "null"}},
                },
            ]
        }
    )

    id: uuid.UUID | None = Field(default=None, description="The upload's id, or give `key`.")
    key: str | None = Field(
        default=None, max_length=1024, description="Or the upload's key.", json_schema_extra=NO_NUL
    )
    status: Annotated[
        Status,
        WithJsonSchema(
            {
                "type": "string",
                "enum": [s.value for s in SETTABLE_STATUSES],
                "description": "`uploaded` (the owner; verified in the store first), or, for the "
                "`processor` role, `processing`, `completed` or `failed`.",
            }
        ),
    ]
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Why, when setting `failed`.",
        json_schema_extra=NO_NUL,
    )

    @model_validator(mode="after")
    def _one_target(self) -> StatusUpdate:
        if (self.id is None) == (self.key is None):
            raise ValueError("give exactly one of 'id' or 'key'")
        return self


class SingleTarget(Camel):
    """Where and how to send the bytes in one request."""

    method: Literal["PUT", "POST"]
    url: str
    headers: dict[str, str] | None = Field(
        default=None, description="PUT: send exactly these headers."
    )
    fields: dict[str, str] | None = Field(
        default=None, description="POST: form fields to send before the `file` field."
    )


class VariantOut(Camel):
    """A derived version of the file, as written to the store."""

    width: int
    height: int
    size: int
    content_type: str
    url: str | None = Field(
        default=None,
        description="Public profiles: where anyone fetches it (`Cache-Control` "
        "of the profile). Others: sign one with `GET /files/{id}/variants/{name}`.",
    )


class UploadOut(Camel):
    """An upload as the service knows it."""

    id: uuid.UUID
    key: str
    file_name: str
    file_type: str
    file_size: int | None = Field(description="Null until verified if none was declared.")
    status: Status
    strategy: Literal["single", "multipart"]
    profile: str
    metadata: dict[str, str]
    scope: str | None = Field(default=None, description="What the file belongs to, if anything.")
    owner: str = Field(description="The uploader's subject (the token's `sub`).")
    claimed: bool = Field(
        default=False, description="Whether the application claimed it (`POST /files/{id}/claim`)."
    )
    claim_deadline: datetime | None = Field(
        default=None,
        description="When an unclaimed finished file is removed (status `expired`, reason "
        "`unclaimed`); null when the profile needs no claim or the file is not finished yet.",
    )
    checksum: Checksum | None = None
    failure_reason: str | None = None
    variants: dict[str, VariantOut] | None = Field(
        default=None,
        description="Derived versions, once written (profiles with `variants`, at `completed`).",
    )
    public_url: str | None = Field(
        default=None,
        description="Public profiles, once the file is verified: its URL for anyone "
        "(`PUBLIC_BASE_URL`, a CDN, or the bucket's own).",
    )
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = Field(description="End of the upload window.")
    uploaded_at: datetime | None = None
    single: SingleTarget | None = Field(
        default=None, description="Signed target, while a single upload is pending."
    )
    multipart: MultipartOut | None = Field(
        default=None, description="Part plan and signed part URLs of a multipart upload."
    )
    uploaded_parts: list[UploadedPart] | None = Field(
        default=None,
        description="Parts already in the store, while a multipart upload is pending (resume).",
    )


class PresignOut(UploadOut):
    """`POST /presigned-url`: the upload, with its signed target also at the top level."""

    url: str
    method: Literal["PUT", "POST"]
    headers: dict[str, str] | None = None
    fields: dict[str, str] | None = None


class UploadPage(Camel):
    """One page of uploads, newest first."""

    items: list[UploadOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def to_out(
    upload: Upload,
    single: SingleTarget | None = None,
    multipart: MultipartOut | None = None,
    uploaded_parts: list[UploadedPart] | None = None,
    *,
    urls: Callable[[str], str] | None = None,
) -> UploadOut:
    """The wire shape of an upload record; `urls` makes a public profile's public URLs."""
    public = urls if upload.public and upload.status in READABLE else None
    variants = None
    if upload.variants:
        variants = {
            name: {
                "width": v["width"],
                "height": v["height"],
                "size": v["size"],
                "content_type": v["contentType"],
                "url": public(v["key"]) if public else None,
            }
            for name, v in upload.variants.items()
        }
    checksum = None
    if upload.checksum_algorithm and upload.checksum_value:
        checksum = {"algorithm": upload.checksum_algorithm, "value": upload.checksum_value}
    return UploadOut.model_validate(
        {
            "id": upload.id,
            "key": upload.key,
            "file_name": upload.file_name,
            "file_type": upload.file_type,
            "file_size": upload.file_size,
            "status": upload.status,
            "strategy": upload.strategy,
            "profile": upload.profile,
            "metadata": upload.metadata_,
            "scope": upload.scope,
            "owner": upload.owner,
            "claimed": upload.claimed_at is not None,
            "claim_deadline": None if upload.claimed_at else upload.claim_deadline,
            "checksum": checksum,
            "failure_reason": upload.failure_reason,
            "variants": variants,
            "public_url": public(upload.key) if public else None,
            "created_at": upload.created_at,
            "updated_at": upload.updated_at,
            "expires_at": upload.expires_at,
            "uploaded_at": upload.uploaded_at,
            "single": single,
            "multipart": multipart,
            "uploaded_parts": uploaded_parts,
        }
    )
