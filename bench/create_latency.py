"""Latency of `POST /uploads` over sequential requests against PostgreSQL and RGW.

Usage: python bench/create_latency.py [N]   (default 1,000). Writes docs/bench/bench-create.md.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, running_stack


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main(n: int = 1000) -> None:
    # A benchmark outpaces the rate limits; the quotas stay on, raised to fit its uploads.
    with running_stack(LIMITS_ENABLED="false", LIMITS_MAX_PENDING="100000") as stack:
        headers = {"Authorization": f"Bearer {stack.token()}"}
        body = {"fileName": "photo.jpg", "fileType": "image/jpeg", "fileSize": 2_000_000}
        with httpx.Client(base_url=stack.base_url, headers=headers) as client:
            for _ in range(50):  # warm-up: connections, caches, JIT-free but lazy imports
                client.post("/uploads", json=body).raise_for_status()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                resp = client.post("/uploads", json=body)
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 201, resp.text
    rows = {
        "requests": n,
        "median ms": statistics.median(times),
        "p90 ms": percentile(times, 90),
        "p99 ms": percentile(times, 99),
        "max ms": max(times),
        "mean ms": statistics.fmean(times),
    }
    report = [
        "# POST /uploads latency, sequential",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}).",
        "One `s3upload serve` worker (uvicorn), PostgreSQL 15 and Ceph RGW on 127.0.0.1, one",
        "keep-alive client connection, JWT verified, bucket check cached 1 s, quotas checked,",
        "record committed, PUT URL signed. 50 warm-up requests not counted.",
        "Re-run: `python bench/create_latency.py`. The machine is shared: compare versions side",
        "by side in one run (see performance.md), not against an older copy of this page.",
        "",
        "| " + " | ".join(rows) + " |",
        "|" + "---|" * len(rows),
        "| "
        + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in rows.values())
        + " |",
        "",
    ]
    out = ROOT / "docs" / "bench" / "bench-create.md"
    out.write_text("\n".join(report))
    print("\n".join(report))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
