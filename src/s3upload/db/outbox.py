"""The webhook outbox: each status change writes its event in the change's own transaction.

Nothing here sends anything: deliverers (`s3upload.webhooks`) read the outbox. A change that
rolls back takes its event with it, and a change that commits cannot lose it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from s3upload.db.models import Upload, WebhookEvent
from s3upload.db.states import Status

# The statuses an application is told about, and the event type of each.
EVENT_TYPES = {
    Status.UPLOADED: "upload.uploaded",
    Status.PROCESSING: "upload.processing",
    Status.COMPLETED: "upload.completed",
    Status.FAILED: "upload.failed",
    Status.DELETED: "upload.deleted",
    Status.EXPIRED: "upload.expired",
    Status.ABORTED: "upload.aborted",
}

_INSERT = insert(WebhookEvent)


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _variants(variants: dict[str, Any] | None) -> dict[str, Any] | None:
    if not variants:
        return None
    return {
        name: {k: v[k] for k in ("width", "height", "size", "contentType")}
        for name, v in variants.items()
    }


def upload_data(upload: Upload, **changes: Any) -> dict[str, Any]:
    """The upload object as the API shows it, without signed URLs, plus its owner.

    `changes` are column values the status change is writing now (not yet on `upload`).
    """

    def value(name: str) -> Any:
        return changes.get(name, getattr(upload, name))

    checksum = None
    if upload.checksum_algorithm and upload.checksum_value:
        checksum = {"algorithm": upload.checksum_algorithm, "value": upload.checksum_value}
    return {
        "id": str(upload.id),
        "key": upload.key,
        "owner": upload.owner,
        "fileName": upload.file_name,
        "fileType": upload.file_type,
        "fileSize": value("file_size"),
        "status": str(value("status")),
        "strategy": upload.strategy,
        "profile": upload.profile,
        "metadata": dict(upload.metadata_ or {}),
        "scope": upload.scope,
        "claimed": value("claimed_at") is not None,
        "claimDeadline": None if value("claimed_at") else _time(value("claim_deadline")),
        "checksum": checksum,
        "failureReason": value("failure_reason"),
        # Without URLs: public ones are made from PUBLIC_BASE_URL by the API.
        "variants": _variants(value("variants")),
        "createdAt": _time(upload.created_at),
        "updatedAt": _time(value("updated_at")),
        "expiresAt": _time(upload.expires_at),
        "uploadedAt": _time(value("uploaded_at")),
    }


async def record(
    conn: AsyncSession | AsyncConnection, upload: Upload, new: Status, **changes: Any
) -> None:
    """Write the event of `upload` becoming `new` (no event for statuses nobody is told of)."""
    event_type = EVENT_TYPES.get(new)
    if event_type is None:
        return
    changes.pop("status", None)  # `new` says it
    now = changes.get("updated_at") or datetime.now(UTC)
    body = {
        "type": event_type,
        "timestamp": _time(now),
        "data": upload_data(upload, status=new, **changes),
    }
    await conn.execute(
        _INSERT,
        {
            "event_id": uuid.uuid4(),
            "upload_id": upload.id,
            "type": event_type,
            "body": json.dumps(body, separators=(",", ":")),
            "created_at": now,
            "fanned_out": False,
        },
    )
