"""One entry for every event message: a bare S3 event, or one wrapped by SNS."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from s3upload.errors import InvalidEvent
from s3upload.events.records import apply_records, parse_records
from s3upload.events.sns import SnsVerifier
from s3upload.store.client import ObjectStore

log = logging.getLogger("s3upload.events")


async def handle_message(
    message: Any,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: ObjectStore,
    sns: SnsVerifier,
    verify_sns: bool = True,
) -> dict[str, Any]:
    """Apply one delivered message; SNS envelopes are verified (unless read from SQS)."""
    if isinstance(message, dict) and "Type" in message and "TopicArn" in message:
        if verify_sns:
            await sns.verify(message)
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            await sns.confirm(message)
            log.info("SNS subscription confirmed", extra={"topic": message["TopicArn"]})
            return {"confirmed": True}
        if kind != "Notification":
            return {"processed": 0, "ignored": 1}
        try:
            message = json.loads(message.get("Message", ""))
        except json.JSONDecodeError as exc:
            raise InvalidEvent("The SNS Message is not JSON.") from exc
    outcome = await apply_records(parse_records(message), sessionmaker=sessionmaker, store=store)
    return {"processed": outcome.processed, "ignored": outcome.ignored}
