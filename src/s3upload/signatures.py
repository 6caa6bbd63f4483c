"""Standard Webhooks headers: id, timestamp and one signature per secret (webhooks out and
questions to the authorization hook alike)."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def headers(*, event_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """The headers of one attempt; two secrets (rotation) give two space-separated signatures."""
    signatures = " ".join(Webhook(secret).sign(event_id, at, body) for secret in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "s3upload-webhooks",
    }
