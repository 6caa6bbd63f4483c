"""What the service answers, as small typed objects (the raw JSON is kept for `--json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """A signed URL and exactly the headers to send with it."""

    url: str
    headers: dict[str, str]
    part_number: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        """A part target (`partNumber`, `url`, `headers`) or a single PUT target."""
        return cls(
            url=str(data["url"]),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            part_number=int(data.get("partNumber") or 0),
        )


@dataclass(frozen=True)
class StoredPart:
    """A part the store already holds."""

    part_number: int
    size: int
    etag: str


@dataclass(frozen=True)
class Upload:
    """An upload as the service knows it."""

    id: str
    key: str
    file_name: str
    file_type: str
    file_size: int | None
    status: str
    strategy: str
    single: Target | None = None
    single_method: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    parts: list[Target] = field(default_factory=list)
    uploaded_parts: list[StoredPart] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Upload:
        """Parse the upload object of the HTTP contract."""
        single = data.get("single")
        multipart = data.get("multipart") or {}
        stored = data.get("uploadedParts")
        return cls(
            id=str(data["id"]),
            key=str(data["key"]),
            file_name=str(data["fileName"]),
            file_type=str(data["fileType"]),
            file_size=data.get("fileSize"),
            status=str(data["status"]),
            strategy=str(data["strategy"]),
            single=Target.from_json(single) if single else None,
            single_method=str(single["method"]) if single else None,
            part_size=multipart.get("partSize"),
            part_count=multipart.get("partCount"),
            parts=[Target.from_json(p) for p in multipart.get("parts") or []],
            uploaded_parts=None
            if stored is None
            else [StoredPart(int(p["partNumber"]), int(p["size"]), str(p["etag"])) for p in stored],
            raw=data,
        )


@dataclass(frozen=True)
class Page:
    """One page of `GET /files`."""

    items: list[Upload]
    next_cursor: str | None


@dataclass(frozen=True)
class Download:
    """A signed GET for a finished file."""

    url: str
    expires_at: str
