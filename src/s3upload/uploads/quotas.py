"""Per-owner quotas: uploads pending at once, and bytes declared per 24 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.db.models import Upload
from s3upload.errors import AppError, TooLarge
from s3upload.settings import LimitsSettings
from s3upload.uploads.states import Status


class QuotaExceeded(AppError):
    status, code = 429, "quota_exceeded"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, int]) -> None:
        super().__init__(message, details={**details, "retryAfter": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


async def check_quotas(
    session: AsyncSession, limits: LimitsSettings, *, owner: str, size: int | None, now: datetime
) -> None:
    """Refuse a new upload that would pass the owner's quotas (checked, not reserved: two
    concurrent creates may pass a limit by one)."""
    if limits.max_pending:
        pending = await session.scalar(
            select(func.count())
            .select_from(Upload)
            .where(Upload.owner == owner, Upload.status == Status.PENDING)
        )
        if (pending or 0) >= limits.max_pending:
            raise QuotaExceeded(
                f"You have {pending} uploads pending; finish or cancel some first.",
                retry_after=60,
                details={"pending": pending or 0, "maxPending": limits.max_pending},
            )
    if limits.bytes_per_day and size:
        if size > limits.bytes_per_day:
            raise TooLarge(
                f"The file is larger than the daily quota of {limits.bytes_per_day} bytes.",
                code="over_daily_quota",
                details={"bytesPerDay": limits.bytes_per_day},
            )
        used = await session.scalar(
            select(func.coalesce(func.sum(Upload.file_size), 0)).where(
                Upload.owner == owner, Upload.created_at > now - timedelta(days=1)
            )
        )
        if (used or 0) + size > limits.bytes_per_day:
            raise QuotaExceeded(
                f"This upload would pass your quota of {limits.bytes_per_day} bytes a day.",
                retry_after=3600,
                details={"usedBytes": int(used or 0), "bytesPerDay": limits.bytes_per_day},
            )
