"""A fast authorization hook for benchmarks: verifies every question, allows it, counts it.

    HOOK_SECRET=whsec_... python -m uvicorn bench.hook_sink:app --port PORT --loop uvloop

`POST /authz` verifies the Standard Webhooks signature with the `standardwebhooks` library
(401 if it does not verify), reads the question and answers `{"allow": true}`. `GET /count`
answers how many questions were answered (in all and per action), how many distinct scopes
they named, how many connections they came over, and how many failed to verify;
`POST /reset` forgets it. One process, in memory.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_HOOK = Webhook(os.environ["HOOK_SECRET"])
_ALLOW = b'{"allow":true}'
_actions: Counter[str] = Counter()
_scopes: set[str] = set()
_peers: set[tuple[str, int]] = set()
_bad = [0]


async def authz(request: Request) -> Response:
    body = (await request.body()).decode()
    try:
        _HOOK.verify(body, dict(request.headers))
    except WebhookVerificationError:
        _bad[0] += 1
        return Response(status_code=401)
    question = json.loads(body)
    _actions[question["action"]] += 1
    _scopes.add(question["scope"])
    if request.client:
        _peers.add((request.client.host, request.client.port))
    return Response(_ALLOW, media_type="application/json")


async def count(request: Request) -> Response:
    return JSONResponse(
        {
            "questions": sum(_actions.values()),
            "actions": dict(_actions),
            "scopes": len(_scopes),
            "connections": len(_peers),
            "bad": _bad[0],
        }
    )


async def reset(request: Request) -> Response:
    _actions.clear()
    _scopes.clear()
    _peers.clear()
    _bad[0] = 0
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/authz", authz, methods=["POST"]),
        Route("/count", count),
        Route("/reset", reset, methods=["POST"]),
    ]
)
