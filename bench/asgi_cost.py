"""CPU a request costs the app itself: the ASGI app called in-process, no server, no socket.

Starts PostgreSQL and RGW (bench/stack.py), builds the production app with the comparison
routes (bench/perf_app.py) in this process, and calls it directly with ASGI messages, the
way a server would, `--concurrency` requests at a time. Reports this process's CPU time per
request (user + system, so waiting on PostgreSQL does not count), median of `--rounds`:

- `noop`: `POST /bench/noop` (token checked, constant answer): the framework's floor;
- `create`: `POST /uploads`, the record written;
- `part`: Uppy's `GET /s3/multipart/{id}/{n}` for a pending multipart upload;
- `params`: Uppy's `GET /s3/params` without a size (a POST form, capped at what is left of
  the owner's day).

What this leaves out, the HTTP server's parsing and writing, is what bench/throughput.py and
bench/companion.py measure with it. Usage: python bench/asgi_cost.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import running_stack
from bench.throughput import BODY

Call = Callable[[], Awaitable[int]]


def scope(method: str, path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict:
    """An HTTP request's ASGI scope, as uvicorn builds it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def headers_for(token: str, body: bytes) -> list[tuple[bytes, bytes]]:
    """A JSON request's headers with a bearer token."""
    return [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]


def caller(app: Any, method: str, path: str, query: str, tokens: list[str], body: bytes) -> Call:
    """A function that sends one request to `app` and returns its status; the bearer tokens
    rotate (creates by 1,000 owners stay within each owner's pending quota)."""
    headers = [headers_for(token, body) for token in tokens]
    turn = itertools.count()

    async def call() -> int:
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        request = scope(method, path, query, headers[next(turn) % len(headers)])
        await app(request, receive, send)
        return status

    return call


async def cpu_per_request(call: Call, requests: int, concurrency: int) -> float:
    """Microseconds of this process's CPU per request, `concurrency` at a time."""
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            status = await call()
            if status >= 300:
                raise RuntimeError(f"status {status}")

    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - start) / requests * 1e6


async def measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Build the app in this process and time every route."""
    os.environ.update(env)
    from bench.perf_app import create
    from s3upload.auth.tokens import mint
    from s3upload.settings import AuthSettings

    app = create()
    auth = AuthSettings(jwt_secret=env["AUTH_JWT_SECRET"])
    owners = [mint(auth, subject=f"cost-{n}", ttl=7200) for n in range(1000)]
    token = owners[0]
    async with app.router.lifespan_context(app):
        started = await _start_multipart(app, token)
        part = f"/s3/multipart/{started['uploadId']}/7"
        key = "key=" + started["key"].replace("/", "%2F")
        calls = {
            "noop": caller(app, "POST", "/bench/noop", "", [token], BODY.encode()),
            "create": caller(app, "POST", "/uploads", "", owners, BODY.encode()),
            "part": caller(app, "GET", part, key, [token], b""),
            "params": caller(
                app, "GET", "/s3/params", "filename=a.jpg&type=image%2Fjpeg", owners, b""
            ),
        }
        results: dict[str, list[float]] = {name: [] for name in calls}
        for call in calls.values():  # warm-up: every token verified once, caches, statements
            await cpu_per_request(call, len(owners) + 200, args.concurrency)
        for _ in range(args.rounds):
            for name, call in calls.items():
                results[name].append(await cpu_per_request(call, args.requests, args.concurrency))
    return {name: round(statistics.median(v), 1) for name, v in results.items()}


async def _start_multipart(app: Any, token: str) -> dict[str, Any]:
    """Create a multipart upload through Uppy's route; its id and key."""
    body = json.dumps({"filename": "big.bin", "type": "image/jpeg", "size": 10 * 1024**3})
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body.encode(), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answer.update(json.loads(message["body"]))

    request = scope("POST", "/s3/multipart", "", headers_for(token, body.encode()))
    await app(request, receive, send)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with running_stack(workers=1, LOG_LEVEL="INFO", LIMITS_ENABLED="false") as stack:
        log = Path(os.environ.get("BENCH_STATE_DIR", "/tmp")) / "asgi-cost.log"
        with log.open("w") as sink:
            sys.stderr.flush()
            os.dup2(sink.fileno(), 2)  # the access log, as in production, to a file
            result = uvloop.run(measure(args, stack.env))
    print(json.dumps({"cpu_us_per_request": result}))


if __name__ == "__main__":
    main()
