"""What operators see and do: list deliveries, replay them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.db.models import WebhookDelivery, WebhookEvent
from s3upload.db.records import utcnow
from s3upload.webhooks.delivery import FAILED, PENDING


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery as `s3upload webhooks list` shows it."""

    id: int
    event_id: str
    type: str
    upload_id: str
    endpoint: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None


async def list_deliveries(
    sessionmaker: async_sessionmaker[AsyncSession], *, failed: bool = False, limit: int = 50
) -> list[DeliveryRow]:
    """The newest deliveries (or only failed ones), newest first."""
    stmt = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_pk)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if failed:
        stmt = stmt.where(WebhookDelivery.status == FAILED)
    async with sessionmaker() as session:
        rows = (await session.execute(stmt)).all()
    return [
        DeliveryRow(
            id=d.id,
            event_id=f"msg_{e.event_id.hex}",
            type=e.type,
            upload_id=str(d.upload_id),
            endpoint=d.endpoint,
            status=d.status,
            attempts=d.attempts,
            created_at=e.created_at,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
        )
        for d, e in rows
    ]


async def replay(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    delivery_id: int | None = None,
    since: datetime | None = None,
) -> int:
    """Send deliveries again from their first attempt (one, or every event since a time).

    The `webhook-id` stays the event's, so a receiver that already has it can drop it.
    """
    stmt = update(WebhookDelivery).values(
        status=PENDING, attempts=0, next_attempt_at=utcnow(), leased_until=None, last_error=None
    )
    if delivery_id is not None:
        stmt = stmt.where(WebhookDelivery.id == delivery_id)
    elif since is not None:
        events = select(WebhookEvent.id).where(WebhookEvent.created_at >= since)
        stmt = stmt.where(WebhookDelivery.event_pk.in_(events))
    else:
        raise ValueError("replay needs a delivery id or a time")
    async with sessionmaker() as session, session.begin():
        result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
