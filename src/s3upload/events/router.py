"""`POST /events/s3`: the store's (or SNS's) event notifications."""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request

from s3upload.docs import responses
from s3upload.errors import EventsDisabled, InvalidEvent, InvalidEventSecret
from s3upload.events.intake import handle_message

router = APIRouter(tags=["events"])

MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Events-Secret"  # noqa: S105 - a header name, not a secret

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": 'A bare S3 event (`{"Records": [...]}`, as RGW and MinIO push it) or '
        "an SNS message (`SubscriptionConfirmation`, `Notification`), sent as JSON or text.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "parameters": [
        {
            "name": "secret",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"The shared secret, if not sent in `{SECRET_HEADER}`.",
        },
        {
            "name": SECRET_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The shared secret.",
        },
    ],
}


def _check_secret(request: Request) -> None:
    expected = request.app.state.settings.events.secret
    given = request.headers.get(SECRET_HEADER) or request.query_params.get("secret") or ""
    if not expected:
        raise EventsDisabled("Events are not accepted: EVENTS_SECRET is not set.")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidEventSecret("The event secret is missing or wrong.")


@router.post(
    "/events/s3",
    responses=responses(400, 403, 413, 502, 503),
    openapi_extra=_BODY_DOC,
)
async def s3_events(request: Request) -> dict[str, Any]:
    """Apply S3 event notifications: `ObjectCreated` verifies, `ObjectRemoved` marks deleted.

    Guarded by the shared secret; SNS messages must also carry a valid SNS signature.
    Every event is checked against the store (HEAD), so duplicates and events out of order
    leave the right state. Unknown keys are logged and counted as ignored (200).
    """
    _check_secret(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidEvent("The event body is larger than 1 MiB.")
    try:
        message = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidEvent("The event body is not JSON.") from exc
    state = request.app.state
    return await handle_message(
        message, sessionmaker=state.sessionmaker, store=state.store, sns=state.sns
    )
