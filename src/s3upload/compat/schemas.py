"""Request and response shapes of Uppy's `@uppy/aws-s3` plugin (PascalCase where S3's are)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from s3upload.uploads.schemas import METADATA_SCHEMA, FileName, FileType
from s3upload.wire import SizeInBytes


class UppyBody(BaseModel):
    """Uppy may add fields in later versions; unknown ones are ignored here."""

    model_config = ConfigDict(extra="ignore")


class UppyCreate(UppyBody):
    """Body of `POST /s3/multipart`."""

    filename: FileName
    type: FileType
    metadata: dict[str, str] = Field(
        default_factory=dict,
        max_length=64,
        description="Uppy's file meta: `name`, `type`, `size` and `relativePath` repeat what is "
        "known; `profile` picks the profile; the rest is stored as object metadata.",
        # Uppy's own keys do not count against the service's 32.
        json_schema_extra={**METADATA_SCHEMA, "maxProperties": 32},
    )
    size: SizeInBytes | None = Field(default=None, description="Optional; see docs.")


class UppyCreated(BaseModel):
    """Answer of `POST /s3/multipart`."""

    key: str
    uploadId: str


class UppyParams(BaseModel):
    """Answer of `GET /s3/params`: a PUT with headers, or an HTML-form POST with fields."""

    method: str
    url: str
    fields: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    expires: int = Field(description="Seconds the form stays valid.")


class UppySignedPart(BaseModel):
    """Answer of `GET /s3/multipart/{uploadId}/{partNumber}`."""

    url: str
    expires: int
    headers: dict[str, str] = Field(default_factory=dict)


class UppyBatch(BaseModel):
    """Answer of `GET /s3/multipart/{uploadId}/batch`."""

    presignedUrls: dict[str, str]
    headers: dict[str, dict[str, str]] = Field(default_factory=dict)


class UppyPart(BaseModel):
    """A stored part, as S3's ListParts names it."""

    PartNumber: int = Field(ge=1, le=10_000)
    ETag: str = Field(min_length=1, max_length=128)
    Size: int | None = None


class UppyComplete(UppyBody):
    """Body of `POST /s3/multipart/{uploadId}/complete`."""

    parts: list[UppyPart] = Field(max_length=10_000)


class UppyCompleted(BaseModel):
    """Answer of `POST /s3/multipart/{uploadId}/complete`."""

    location: str
    key: str
    id: str
    status: str
