"""The record writer: concurrent creates share transactions, quotas hold inside a batch, and a
failed batch leaves nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from s3upload.db.models import Upload, UploadUsage
from s3upload.db.records import utcnow
from s3upload.db.states import Status
from s3upload.db.writer import RecordWriter
from s3upload.errors import QuotaExceeded
from s3upload.metrics import WRITE_BATCH
from s3upload.settings import LimitsSettings

NO_QUOTAS = LimitsSettings(max_pending=0, bytes_per_day=0)


@pytest.fixture
async def engine(migrated: str):
    engine = create_async_engine(migrated)
    yield engine
    await engine.dispose()


def new_upload(owner: str, size: int = 10, key: str | None = None) -> Upload:
    now = utcnow()
    upload_id = uuid.uuid4()
    return Upload(
        id=upload_id,
        owner=owner,
        key=key or f"{owner}/{upload_id}/f.bin",
        file_name="f.bin",
        file_type="application/octet-stream",
        file_size=size,
        size_limit=1000,
        status=Status.PENDING,
        strategy="single",
        method="PUT",
        profile="default",
        metadata_={"k": "v"},
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=1),
    )


async def rows(engine: AsyncEngine, owner: str) -> list[Upload]:
    async with engine.connect() as conn:
        result = await conn.execute(select(Upload).where(Upload.owner == owner))
        return list(result.all())  # type: ignore[arg-type]


def batches_observed() -> tuple[float, float]:
    """(transactions, records) the writer has reported so far."""
    metric = {s.name: s.value for s in WRITE_BATCH.collect()[0].samples}
    return metric["s3upload_write_batch_size_count"], metric["s3upload_write_batch_size_sum"]


async def test_concurrent_creates_share_transactions(engine):
    owner = f"w-{uuid.uuid4().hex[:8]}"
    writer = RecordWriter(engine, NO_QUOTAS, max_batch=256)
    before = batches_observed()
    uploads = [new_upload(owner) for _ in range(60)]
    await asyncio.gather(*(writer.add(u) for u in uploads))
    after = batches_observed()
    transactions, records = after[0] - before[0], after[1] - before[1]
    assert records == 60
    assert transactions < 60  # at least one transaction carried several records
    stored = await rows(engine, owner)
    assert {r.id for r in stored} == {u.id for u in uploads}
    assert all(r.metadata == {"k": "v"} for r in stored)
    assert all(r.status == "pending" for r in stored)


async def test_batch_of_one_writes_each_alone(engine):
    owner = f"w-{uuid.uuid4().hex[:8]}"
    writer = RecordWriter(engine, NO_QUOTAS, max_batch=1)
    before = batches_observed()
    await asyncio.gather(*(writer.add(new_upload(owner)) for _ in range(8)))
    after = batches_observed()
    assert (after[0] - before[0], after[1] - before[1]) == (8, 8)
    assert len(await rows(engine, owner)) == 8


async def test_pending_quota_holds_inside_one_batch(engine):
    owner = f"w-{uuid.uuid4().hex[:8]}"
    writer = RecordWriter(engine, LimitsSettings(max_pending=3, bytes_per_day=0), max_batch=256)
    outcomes = await asyncio.gather(
        *(writer.add(new_upload(owner)) for _ in range(5)), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert outcomes.count(None) == 3
    assert len(refused) == 2
    assert refused[0].details == {"pending": 3, "maxPending": 3, "retryAfter": 60}
    assert len(await rows(engine, owner)) == 3


async def test_bytes_quota_counts_hourly_usage(engine):
    owner = f"w-{uuid.uuid4().hex[:8]}"
    writer = RecordWriter(engine, LimitsSettings(max_pending=0, bytes_per_day=100), max_batch=256)
    await writer.add(new_upload(owner, size=60))
    outcomes = await asyncio.gather(
        writer.add(new_upload(owner, size=30)),
        writer.add(new_upload(owner, size=30)),
        return_exceptions=True,
    )
    assert outcomes[0] is None
    assert isinstance(outcomes[1], QuotaExceeded)
    assert outcomes[1].details["usedBytes"] == 90
    async with engine.connect() as conn:
        used = await conn.scalar(
            select(func.sum(UploadUsage.bytes)).where(UploadUsage.owner == owner)
        )
    assert used == 90


async def test_failed_batch_writes_nothing_and_fails_every_create(engine):
    owner = f"w-{uuid.uuid4().hex[:8]}"
    writer = RecordWriter(engine, LimitsSettings(max_pending=10, bytes_per_day=1000), 256)
    key = f"{owner}/same-key"
    # Queued together, the three form one batch, in which two records collide on the key.
    batch = [new_upload(owner), new_upload(owner, key=key), new_upload(owner, key=key)]
    outcomes = await asyncio.gather(*(writer.add(u) for u in batch), return_exceptions=True)
    assert all(isinstance(o, IntegrityError) for o in outcomes)
    assert await rows(engine, owner) == []
    async with engine.connect() as conn:
        used = await conn.scalar(select(UploadUsage.bytes).where(UploadUsage.owner == owner))
    assert used is None
    # The writer is still usable afterwards.
    await writer.add(new_upload(owner))
    assert len(await rows(engine, owner)) == 1
