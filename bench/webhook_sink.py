"""A fast webhook receiver for benchmarks: verifies every delivery, remembers when it came.

    SINK_SECRET=whsec_... python -m uvicorn bench.webhook_sink:app --port PORT --loop uvloop

`POST /hooks` verifies the Standard Webhooks signature with the `standardwebhooks` library
(401 if it does not verify) and records the arrival time (this machine's clock), the
`webhook-id`, the event type, the upload id and the event's `timestamp`. `GET /records`
answers everything recorded so far; `POST /reset` forgets it. One process, in memory.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_HOOK = Webhook(os.environ["SINK_SECRET"])
_records: list[list[Any]] = []  # [arrival, webhook-id, type, upload id, timestamp]
_bad = [0]


async def hooks(request: Request) -> Response:
    arrival = time.time()
    body = (await request.body()).decode()
    try:
        _HOOK.verify(body, dict(request.headers))
    except WebhookVerificationError:
        _bad[0] += 1
        return Response(status_code=401)
    event = json.loads(body)
    _records.append(
        [
            arrival,
            request.headers["webhook-id"],
            event["type"],
            event["data"]["id"],
            event["timestamp"],
        ]
    )
    return Response(status_code=204)


async def records(request: Request) -> Response:
    return JSONResponse({"records": _records, "bad": _bad[0]})


async def count(request: Request) -> Response:
    return JSONResponse({"count": len(_records), "bad": _bad[0]})


async def reset(request: Request) -> Response:
    _records.clear()
    _bad[0] = 0
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/hooks", hooks, methods=["POST"]),
        Route("/records", records),
        Route("/count", count),
        Route("/reset", reset, methods=["POST"]),
    ]
)
