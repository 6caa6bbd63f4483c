"""Load: 200 concurrent clients mixing create, PUT, complete, part signing, cancel and list.

Against PostgreSQL and RGW, for 5 minutes on one service (2 workers), then for 90 s on two
service instances behind one client pool sharing Redis-backed rate limits.

Usage: python bench/load.py [--seconds 300] [--clients 200]. Writes docs/bench/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, Stack, running_stack

DATA = os.urandom(1024)
PAIR_LIMIT = 10  # creates per owner per minute in the two-instance run
MiB = 1024 * 1024
# Behind a proxy every client has its own address; here they all share 127.0.0.1.
ENV = {
    "LIMITS_CREATE_PER_IP": "1000000/minute",
    "LIMITS_SIGN_PER_IP": "1000000/minute",
    "LIMITS_CREATE_PER_OWNER": "600/minute",
}


class Recorder:
    """Latency and status of every API call, by operation."""

    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[str]] = defaultdict(Counter)

    async def call(self, op: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        """Await one request, noting its latency and status (or the exception's name)."""
        t0 = time.perf_counter()
        try:
            resp = await request
        except httpx.HTTPError as exc:
            self.status[op][type(exc).__name__] += 1
            return None
        self.latency[op].append(time.perf_counter() - t0)
        self.status[op][str(resp.status_code)] += 1
        return resp


async def user(
    api: httpx.AsyncClient,
    s3: httpx.AsyncClient,
    token: str,
    rec: Recorder,
    deadline: float,
    rng: random.Random,
) -> None:
    """One client: a mix weighted like an upload service's day."""
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.6:
            resp = await rec.call(
                "create single",
                api.post(
                    "/uploads",
                    headers=headers,
                    json={"fileName": "p.jpg", "fileType": "image/jpeg", "fileSize": len(DATA)},
                ),
            )
            if resp is not None and resp.status_code == 201:
                up = resp.json()
                await rec.call(
                    "PUT to store",
                    s3.put(up["single"]["url"], content=DATA, headers=up["single"]["headers"]),
                )
                await rec.call(
                    "complete", api.post(f"/uploads/{up['id']}/complete", headers=headers)
                )
        elif roll < 0.8:
            resp = await rec.call(
                "create multipart",
                api.post(
                    "/uploads",
                    headers=headers,
                    json={"fileName": "v.mp4", "fileType": "video/mp4", "fileSize": 2048 * MiB},
                ),
            )
            if resp is not None and resp.status_code == 201:
                up = resp.json()
                await rec.call(
                    "sign 32 parts",
                    api.post(
                        f"/uploads/{up['id']}/parts",
                        headers=headers,
                        json={"partNumbers": list(range(1, 33))},
                    ),
                )
                await rec.call("cancel", api.delete(f"/uploads/{up['id']}", headers=headers))
        else:
            await rec.call("list", api.get("/files", params={"limit": 20}, headers=headers))


async def run(
    bases: list[str], tokens: list[str], seconds: float, clients: int
) -> tuple[Recorder, float]:
    rec = Recorder()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    apis = [httpx.AsyncClient(base_url=b, limits=limits, timeout=30) for b in bases]
    s3 = httpx.AsyncClient(limits=limits, timeout=30)
    deadline = time.monotonic() + seconds
    t0 = time.monotonic()
    try:
        await asyncio.gather(
            *(
                user(
                    apis[i % len(apis)],
                    s3,
                    tokens[i % len(tokens)],
                    rec,
                    deadline,
                    random.Random(i),
                )
                for i in range(clients)
            )
        )
    finally:
        for client in (*apis, s3):
            await client.aclose()
    return rec, time.monotonic() - t0


def table(rec: Recorder, elapsed: float) -> list[str]:
    lines = [
        "| operation | requests | per s | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
    ]
    total = 0
    for op in sorted(rec.status):
        lat = sorted(rec.latency[op]) or [0.0]
        count = sum(rec.status[op].values())
        total += count
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(rec.status[op].items()))
        lines.append(
            f"| {op} | {count} | {count / elapsed:.0f} | {p50:.1f} | {p99:.1f} | {statuses} |"
        )
    five = sum(v for c in rec.status.values() for k, v in c.items() if k.startswith("5"))
    lines += [
        "",
        f"All requests: {total} in {elapsed:.0f} s ({total / elapsed:.0f}/s); "
        f"5xx answers: **{five}**.",
    ]
    return lines


def tokens_for(stack: Stack, n: int) -> list[str]:
    """Tokens for n owners, minted in-process with the stack's secret."""
    from s3upload.auth.tokens import mint
    from s3upload.settings import AuthSettings

    auth = AuthSettings(jwt_secret=stack.env["AUTH_JWT_SECRET"])
    return [mint(auth, subject=f"load-user-{i}", ttl=7200) for i in range(n)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--pair-seconds", type=float, default=90)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    owners = 50  # clients share owners, as several tabs of one person do
    with running_stack(workers=2, **ENV) as stack:
        tokens = tokens_for(stack, owners)
        single, single_s = asyncio.run(run([stack.base_url], tokens, args.seconds, args.clients))

    redis_port = _free_port()
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        pair_env = {
            **ENV,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}",
            "LIMITS_CREATE_PER_OWNER": f"{PAIR_LIMIT}/minute",
        }
        with running_stack(workers=1, instances=2, **pair_env) as stack:
            tokens = tokens_for(stack, owners)
            bases = [f"http://127.0.0.1:{p}" for p in stack.ports]
            pair, pair_s = asyncio.run(run(bases, tokens, args.pair_seconds, args.clients))
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    created = sum(pair.status[op]["201"] for op in ("create single", "create multipart"))
    allowed = int(owners * PAIR_LIMIT * (pair_s / 60 + 1))
    lines = [
        "# Load",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} "
        "cores; the load generator, the service, PostgreSQL and Ceph RGW all share them).",
        "Re-run: `python bench/load.py`. Each client loops: 60 % create a 1 KiB single upload,",
        "PUT it to the store through its signed URL and complete it; 20 % create a 2 GiB",
        "multipart upload, sign 32 part URLs and cancel it; 20 % list 20 files.",
        f"{owners} owners; per-IP limits raised (all clients share 127.0.0.1).",
        "",
        f"## One service (2 uvicorn workers), {args.clients} clients, {single_s:.0f} s",
        "",
        *table(single, single_s),
        "",
        f"## Two service instances sharing Redis-backed limits, {args.clients} clients, "
        f"{pair_s:.0f} s",
        "",
        f"Clients alternate between the instances; creates are limited to {PAIR_LIMIT} per "
        "minute per owner, counted in Redis across both instances.",
        "",
        *table(pair, pair_s),
        "",
        f"Creates answered 201: {created}; the shared limit allows at most {allowed} "
        f"({owners} owners x {PAIR_LIMIT}/minute x {pair_s / 60:.2f} min, plus one full "
        "window at the start). Counted per instance, up to twice that would have passed.",
        "",
    ]
    (ROOT / "docs" / "bench" / "load.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
