"""Delivering the outbox: any number of deliverers, on any machines, share the work.

Each round a deliverer
1. fans new events out into one delivery per endpoint that wants them (one deliverer at a time:
   a PostgreSQL advisory lock; SQLite has one process anyway),
2. claims due deliveries with `FOR UPDATE SKIP LOCKED` and a lease (a killed deliverer's
   claims are taken over when the lease ends), never one whose upload has an earlier event
   still pending for that endpoint (events of one upload arrive in order),
3. sends them, signed, at most `concurrency` at once, and records how each ended: delivered,
   retried after the next backoff step, or `failed` after the last.
A receiver that is slow or gone only ever holds the deliverer's own requests.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import httpx
from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from s3upload.db.models import WebhookDelivery, WebhookEvent
from s3upload.db.records import utcnow
from s3upload.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_OLDEST
from s3upload.settings import DeliverySettings, WebhookEndpoint
from s3upload.signatures import headers

log = logging.getLogger("s3upload.webhooks")

# Serialises fan-out across deliverers, so deliveries are made in event order.
_FAN_OUT_LOCK = 0x53335550  # "S3UP"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


_DELIVERIES = cast(Table, WebhookDelivery.__table__)
# One statement, executed for every delivery of a round (executemany), in one transaction.
_FINISH = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("b_id"), _DELIVERIES.c.leased_until == bindparam("b_lease")
    )
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered"),
        leased_until=None,
    )
)


@dataclass(frozen=True)
class Claimed:
    """A delivery this deliverer holds until `leased_until`."""

    id: int
    endpoint: str
    attempts: int
    event_id: str
    body: str
    leased_until: datetime


class Deliverer:
    """Fans out, claims and sends webhook deliveries."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        endpoints: list[WebhookEndpoint],
        settings: DeliverySettings,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.endpoints = {e.url: e for e in endpoints}
        self.settings = settings
        # Redirects are never followed: a receiver cannot send the payload to another host.
        self.http = http or httpx.AsyncClient(
            timeout=settings.timeout, follow_redirects=False, trust_env=False
        )
        # Each endpoint's own requests in flight: a hung receiver cannot hold another's.
        self._gates = {url: asyncio.Semaphore(settings.concurrency) for url in self.endpoints}

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def fan_out(self) -> int:
        """One delivery per endpoint for each event not yet fanned out; how many events."""
        async with self.sessionmaker() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FAN_OUT_LOCK}
                )
            events = (
                await session.execute(
                    select(
                        WebhookEvent.id,
                        WebhookEvent.upload_id,
                        WebhookEvent.type,
                        WebhookEvent.created_at,
                    )
                    .where(WebhookEvent.fanned_out.is_(False))
                    .order_by(WebhookEvent.id)
                    .limit(self.settings.batch * 10)
                )
            ).all()
            if not events:
                return 0
            rows = [
                {
                    "event_pk": pk,
                    "upload_id": upload_id,
                    "endpoint": url,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": created_at,
                }
                for pk, upload_id, event_type, created_at in events
                for url, endpoint in self.endpoints.items()
                if endpoint.wants(event_type)
            ]
            if rows:
                await session.execute(insert(WebhookDelivery), rows)
            await session.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id.in_([e.id for e in events]))
                .values(fanned_out=True)
            )
        return len(events)

    async def claim(self, endpoint: str | None = None) -> list[Claimed]:
        """Due deliveries (to one endpoint, or any), leased to this deliverer; per upload and
        endpoint the oldest only."""
        now = utcnow()
        until = now + timedelta(seconds=self.settings.lease)
        mine = aliased(WebhookDelivery)
        earlier = aliased(WebhookDelivery)
        waiting_behind = (
            select(earlier.id)
            .where(
                earlier.endpoint == mine.endpoint,
                earlier.upload_id == mine.upload_id,
                earlier.status == PENDING,
                earlier.event_pk < mine.event_pk,
            )
            .exists()
        )
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        mine.id,
                        mine.endpoint,
                        mine.attempts,
                        WebhookEvent.event_id,
                        WebhookEvent.body,
                    )
                    .join(WebhookEvent, WebhookEvent.id == mine.event_pk)
                    .where(
                        mine.status == PENDING,
                        mine.next_attempt_at <= now,
                        or_(mine.leased_until.is_(None), mine.leased_until < now),
                        ~waiting_behind,
                    )
                    .where(mine.endpoint == endpoint if endpoint else true())
                    .order_by(mine.event_pk)
                    .limit(self.settings.batch)
                    .with_for_update(skip_locked=True, of=mine)
                )
            ).all()
            if rows:
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([r.id for r in rows]))
                    .values(leased_until=until)
                )
        return [
            Claimed(r.id, r.endpoint, r.attempts, f"msg_{r.event_id.hex}", r.body, until)
            for r in rows
        ]

    async def attempt(self, claimed: Claimed) -> str | None:
        """One signed POST; None if the receiver took it, else why not."""
        endpoint = self.endpoints.get(claimed.endpoint)
        if endpoint is None:
            return "the endpoint is no longer configured"
        signed = headers(
            event_id=claimed.event_id, body=claimed.body, secrets=endpoint.secrets, at=utcnow()
        )
        async with self._gates[claimed.endpoint]:
            try:
                resp = await self.http.post(endpoint.url, content=claimed.body, headers=signed)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if resp.is_success:
            return None
        where = f" to {resp.headers.get('location', '')}" if resp.is_redirect else ""
        return f"HTTP {resp.status_code}{where} (redirects are not followed)"[:500]

    async def finish(self, results: list[tuple[Claimed, str | None]]) -> None:
        """Record a round's outcomes in one transaction: delivered, the next retry, or
        failed; each only while this deliverer still holds its lease."""
        if not results:
            return
        now = utcnow()
        rows = []
        for claimed, error in results:
            attempts = claimed.attempts + 1
            if error is None:
                status, after, outcome = DELIVERED, now, "delivered"
            elif attempts > len(self.settings.backoff):
                status, after, outcome = FAILED, now, "failed"
            else:
                wait = self.settings.backoff[attempts - 1]
                status, after, outcome = PENDING, now + timedelta(seconds=wait), "retried"
            rows.append(
                {
                    "b_id": claimed.id,
                    "b_lease": claimed.leased_until,
                    "b_status": status,
                    "b_attempts": attempts,
                    "b_next": after,
                    "b_error": error,
                    "b_delivered": now if error is None else None,
                }
            )
            WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
            if outcome != "retried":
                WEBHOOK_ATTEMPTS.observe(attempts)
            if error is not None:
                log.warning(
                    "webhook not delivered",
                    extra={
                        "delivery": claimed.id,
                        "attempts": attempts,
                        "outcome": outcome,
                        "error": error,
                    },
                )
        async with self.sessionmaker() as session, session.begin():
            # A row whose lease ran out (another deliverer took it over) is left alone.
            await session.execute(_FINISH, rows)

    async def run_once(self, endpoint: str | None = None) -> int:
        """Fan out, claim and send one round (to one endpoint, or all); how many deliveries
        were attempted."""
        await self.fan_out()
        claimed = await self.claim(endpoint)
        errors = await asyncio.gather(*(self.attempt(c) for c in claimed))
        await self.finish(list(zip(claimed, errors, strict=True)))
        return len(claimed)

    async def prune(self, now: datetime | None = None) -> int:
        """Drop delivered deliveries older than the retention, and events nothing points at.

        Also measures the age of the oldest event some endpoint still waits for.
        """
        now = now or utcnow()
        before = now - timedelta(days=self.settings.retention_days)
        async with self.sessionmaker() as session, session.begin():
            done = await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status == DELIVERED, WebhookDelivery.delivered_at < before
                )
            )
            await session.execute(
                delete(WebhookEvent).where(
                    WebhookEvent.fanned_out.is_(True),
                    WebhookEvent.created_at < before,
                    ~select(WebhookDelivery.id)
                    .where(WebhookDelivery.event_pk == WebhookEvent.id)
                    .exists(),
                )
            )
            oldest = (
                await session.execute(
                    select(func.min(WebhookEvent.created_at))
                    .select_from(WebhookEvent)
                    .outerjoin(
                        WebhookDelivery,
                        and_(
                            WebhookDelivery.event_pk == WebhookEvent.id,
                            WebhookDelivery.status == PENDING,
                        ),
                    )
                    .where(or_(WebhookEvent.fanned_out.is_(False), WebhookDelivery.id.is_not(None)))
                )
            ).scalar_one_or_none()
        WEBHOOK_OLDEST.set((now - oldest).total_seconds() if oldest else 0)
        return int(getattr(done, "rowcount", 0) or 0)

    async def run_forever(self, *, prune_every: float = 60) -> None:
        """Deliver until cancelled: a loop per endpoint, so a slow or dead receiver only ever
        holds its own deliveries, and one that prunes."""
        urls: list[str | None] = list(self.endpoints) or [None]
        await asyncio.gather(
            *(self._deliver_forever(url) for url in urls), self._prune(prune_every)
        )

    async def _deliver_forever(self, endpoint: str | None) -> None:
        while True:
            try:
                if await self.run_once(endpoint):
                    continue  # more may be due right away
            except Exception:  # a database hiccup: the next round tries again
                log.exception("webhook delivery round failed")
            await asyncio.sleep(self.settings.poll)

    async def _prune(self, every: float) -> None:
        while True:
            try:
                await self.prune()
            except Exception:  # tried again at the next interval
                log.exception("webhook pruning failed")
            await asyncio.sleep(every)
