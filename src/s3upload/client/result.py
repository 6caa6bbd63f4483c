"""The summary of one finished upload: what was sent, skipped and how long it took."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s3upload.client.models import Upload


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
