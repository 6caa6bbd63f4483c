"""Bodies of the multipart routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from s3upload.wire import Camel, RequestBody, base64_of

MAX_PARTS = 10_000


class PartTarget(Camel):
    """A signed URL for one part; send exactly `headers` with the part's bytes."""

    part_number: int
    url: str
    headers: dict[str, str]


class MultipartOut(Camel):
    """The plan of a multipart upload and a batch of signed part URLs."""

    part_size: int = Field(description="Every part but the last has exactly this size.")
    part_count: int
    parts: list[PartTarget] = Field(description="Signed URLs; ask `/parts` for the rest.")


class UploadedPart(Camel):
    """A part the store already holds."""

    part_number: int
    size: int
    etag: str


class PartsRequest(RequestBody):
    """Body of `POST /uploads/{id}/parts`."""

    part_numbers: list[Annotated[int, Field(ge=1, le=MAX_PARTS)]] = Field(
        min_length=1,
        max_length=MAX_PARTS,
        description="Part numbers of the upload's plan (1 to its `partCount`; beyond it `409 "
        "part_outside_plan`).",
    )
    md5s: dict[Annotated[int, Field(ge=1, le=MAX_PARTS)], str] | None = Field(
        default=None,
        alias="md5s",
        title="Md5s",
        max_length=MAX_PARTS,
        description="Optional base64 MD5 per part number, signed into that part's URL so the "
        "store refuses corrupted bytes; MD5s of parts not in `partNumbers` are left aside.",
        json_schema_extra={
            "propertyNames": {
                "minLength": 1,
                "maxLength": 5,
                "pattern": "^([1-9][0-9]{0,3}|10000)$",
            },
            "additionalProperties": base64_of(16),
        },
    )


class PartsOut(Camel):
    """Signed part URLs."""

    parts: list[PartTarget]
    expires_at: datetime


class PartRef(RequestBody):
    """A part named by number and ETag."""

    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=128, json_schema_extra={"not": {"pattern": r"\x00"}})


class CompleteRequest(RequestBody):
    """Optional body of `POST /uploads/{id}/complete` for multipart uploads."""

    parts: list[PartRef] | None = Field(
        default=None,
        max_length=10_000,
        description="Omit to let the service read the parts from the store.",
    )
