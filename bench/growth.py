"""How cost grows with the table: create, complete, get and list latency with 10 thousand
and 1 million uploads stored, and the query plans behind them.

One service worker, sequential requests (latency, not throughput). The table is seeded with
uploads of the past 30 days over 100 owners, so the measured owner has 1% of all rows
(100 at 10 thousand, 10,000 at 1 million): listing must stay flat however long its history.

Usage: python bench/growth.py [--sizes 10000,1000000] [--n 300]
Writes docs/bench/perf/growth.json and docs/bench/perf/plans.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, SECRET, running_stack
from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings

OUT = ROOT / "docs" / "bench" / "perf"
OWNER = "seed-7"
BODY = {"fileName": "photo.jpg", "fileType": "image/jpeg", "fileSize": 4}

# The statements the service issues on these paths, written out for EXPLAIN.
PLANS = {
    "list, first page (GET /files)": (
        "SELECT * FROM uploads WHERE owner = $1 ORDER BY created_at DESC, id DESC LIMIT 51",
        [OWNER],
    ),
    "list, a page halfway down the owner's history (keyset cursor)": (
        "SELECT * FROM uploads WHERE owner = $1 AND (created_at, id) < ($2, $3) "
        "ORDER BY created_at DESC, id DESC LIMIT 51",
        [OWNER, "halfway"],
    ),
    "pending quota (create)": (
        "SELECT owner, count(*) FROM uploads WHERE owner = ANY($1::varchar[]) "
        "AND status = 'pending' GROUP BY owner",
        [[OWNER, "seed-8"]],
    ),
    "daily bytes quota (create)": (
        "SELECT owner, sum(bytes) FROM upload_usage WHERE owner = ANY($1::varchar[]) "
        "AND hour > now() - interval '1 day' GROUP BY owner",
        [[OWNER, "seed-8"]],
    ),
    "get one upload (complete, GET /uploads/{id})": (
        "SELECT * FROM uploads WHERE id = (SELECT id FROM uploads WHERE owner = $1 LIMIT 1)",
        [OWNER],
    ),
    "sweeper claim": (
        "SELECT * FROM uploads WHERE status = 'pending' AND expires_at < now() "
        "ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        [],
    ),
}


def timed(fn: Any, n: int) -> dict[str, float]:
    """Median and p99 of `n` calls, in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[int(len(samples) * 0.99) - 1]}


def measure(base_url: str, n: int) -> dict[str, dict[str, float]]:
    """Latency of each path for the seeded owner."""
    token = mint(AuthSettings(jwt_secret=SECRET), subject=OWNER, ttl=7200)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=30) as c:
        for _ in range(20):  # warm up connections and caches
            c.post("/uploads", json=BODY).raise_for_status()
        results = {"create": timed(lambda: c.post("/uploads", json=BODY).raise_for_status(), n)}
        ready = []
        for _ in range(n):
            up = c.post("/uploads", json=BODY).json()
            target = up["single"]
            httpx.put(target["url"], content=b"abcd", headers=target["headers"]).raise_for_status()
            ready.append(up["id"])
        pending = iter(ready)
        results["complete"] = timed(
            lambda: c.post(f"/uploads/{next(pending)}/complete").raise_for_status(), n
        )
        results["get"] = timed(lambda: c.get(f"/uploads/{ready[0]}").raise_for_status(), n)
        results["list first page"] = timed(lambda: c.get("/files").raise_for_status(), n)
        cursor = None
        for _ in range(40):  # 40 pages of 50 in: 2,000 rows deep
            cursor = c.get("/files", params={"cursor": cursor} if cursor else {}).json()[
                "nextCursor"
            ]
        deep = {"cursor": cursor} if cursor else {}
        results["list page 40"] = timed(lambda: c.get("/files", params=deep).raise_for_status(), n)
    return results


async def explain_all(dsn: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement, rolled back (one takes row locks)."""
    parts = []
    conn = await asyncpg.connect(dsn)
    try:
        halfway = await conn.fetchrow(
            "SELECT created_at, id FROM uploads WHERE owner = $1 ORDER BY created_at DESC, "
            "id DESC OFFSET (SELECT count(*) / 2 FROM uploads WHERE owner = $1) LIMIT 1",
            OWNER,
        )
    finally:
        await conn.close()
    for title, (sql, given) in PLANS.items():
        params = [*given[:-1], *halfway] if given and given[-1] == "halfway" else given
        conn = await asyncpg.connect(dsn)
        try:
            tr = conn.transaction()
            await tr.start()
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
            await tr.rollback()
        finally:
            await conn.close()
        parts.append(f"-- {title}\n{sql}\n" + "\n".join(r[0] for r in rows) + "\n")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    plans = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with running_stack(workers=1, LIMITS_ENABLED="false") as stack:
            stack.seed_uploads(size, owners=100)
            results[str(size)] = measure(stack.base_url, args.n)
            print(size, json.dumps(results[str(size)]), flush=True)
            dsn = stack.env["DATABASE_URL"].replace("+asyncpg", "")
            plans.append(f"==== {size:,} uploads stored\n\n" + asyncio.run(explain_all(dsn)))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "growth.json").write_text(json.dumps(results, indent=1) + "\n")
    (OUT / "plans.txt").write_text("\n".join(plans))


if __name__ == "__main__":
    main()
