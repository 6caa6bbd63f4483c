"""The SQS worker: S3 events from a queue (AWS's production path), through the same handler.

A message is deleted only after it was applied. One the handler refuses as malformed (4xx)
is deleted too, since retrying cannot help; any other failure leaves it for SQS to deliver
again after its visibility timeout (and to a dead-letter queue, if the queue has one).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from s3upload.errors import AppError

log = logging.getLogger("s3upload.worker")

Handler = Callable[[Any], Awaitable[dict[str, Any]]]


async def consume(
    sqs: Any, *, queue_url: str, handle: Handler, once: bool = False, wait: int = 20
) -> int:
    """Receive, apply and delete messages; with `once`, stop after one receive. Returns count."""
    applied = 0
    while True:
        resp = await sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        )
        for message in resp.get("Messages", []):
            receipt = message["ReceiptHandle"]
            try:
                outcome = await handle(json.loads(message["Body"]))
            except (json.JSONDecodeError, AppError) as exc:
                status = getattr(exc, "status", 400)
                if status >= 500:
                    log.warning("message kept for a retry", extra={"error": str(exc)})
                    continue
                log.warning("malformed message dropped", extra={"error": str(exc)})
            except Exception:  # unknown failure: SQS delivers it again later
                log.exception("message kept for a retry")
                continue
            else:
                applied += 1
                log.info("message applied", extra=outcome)
            await sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
        if once:
            return applied
