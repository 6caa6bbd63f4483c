"""Unauthenticated bodies against the real service: does memory stay flat?

Usage: python bench/body_flood.py [--bodies 20] [--mib 100] [--baseline REF]

Each body is a JSON object of `--mib` MiB sent to `POST /uploads` with no token, all at once,
while the server's resident memory is sampled every 20 ms. With `--baseline`, the package at
git REF takes the same flood first, in the same invocation. Writes docs/bench/body-flood.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, running_stack
from bench.throughput import baseline_tree

MiB = 1024 * 1024
REPORT = ROOT / "docs" / "bench" / "body-flood.md"


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


class Sampler(threading.Thread):
    """Samples a process's memory until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak


async def send_body(host: str, port: int, size: int) -> tuple[int, float, int]:
    """POST a `size`-byte JSON body without a token: (status, seconds to answer, bytes sent)."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST /uploads HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode())
    chunk = b" " * MiB  # whitespace: valid JSON padding, parsed if the server reads it
    sent = 0
    answer = asyncio.create_task(reader.readline())
    try:
        while sent < size and not answer.done():
            piece = chunk[: min(MiB, size - sent)]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
    except ConnectionError:
        pass  # the server answered and closed while the rest was still on its way
    try:
        line = await asyncio.wait_for(answer, 120)
    except (ConnectionError, TimeoutError):
        line = b""  # reset before its answer could be read (status 0 below)
    finally:
        writer.close()
    status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - start, sent


async def flood(base_url: str, bodies: int, size: int) -> list[tuple[int, float, int]]:
    """`bodies` bodies at once."""
    host, port = base_url.removeprefix("http://").split(":")
    return list(await asyncio.gather(*(send_body(host, int(port), size) for _ in range(bodies))))


def run(label: str, bodies: int, size: int, **env: str) -> dict[str, Any]:
    """One fresh stack, idle memory, then the flood with memory sampled throughout."""
    with running_stack(workers=1, LIMITS_ENABLED="false", **env) as stack:
        time.sleep(1)
        idle = rss_mib(stack.pid)
        sampler = Sampler(stack.pid)
        sampler.start()
        t0 = time.perf_counter()
        results = asyncio.run(flood(stack.base_url, bodies, size))
        wall = time.perf_counter() - t0
        peak = sampler.stop()
        after = rss_mib(stack.pid)
    statuses = sorted({status for status, _, _ in results})
    return {
        "label": label,
        "bodies": bodies,
        "mib": size // MiB,
        "idle_mib": round(idle, 1),
        "peak_mib": round(peak, 1),
        "after_mib": round(after, 1),
        "growth_mib": round(peak - idle, 1),
        "statuses": statuses,
        "wall_s": round(wall, 2),
        "slowest_answer_s": round(max(s for _, s, _ in results), 3),
        "sent_mib": round(sum(b for _, _, b in results) / MiB, 1),
    }


def report(rows: list[dict[str, Any]]) -> str:
    """The markdown page."""
    lines = [
        "# Unauthenticated bodies",
        "",
        f"{rows[-1]['bodies']} concurrent `POST /uploads` of {rows[-1]['mib']} MiB JSON each, "
        "no token, against `s3upload serve` (one worker, PostgreSQL, RGW); the server's "
        "resident memory sampled every 20 ms. Regenerate: "
        "`python bench/body_flood.py --baseline REF`.",
        "",
        "| code | statuses | idle MiB | peak MiB | growth MiB | slowest answer s | "
        "bytes the clients got to send, MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {', '.join(map(str, r['statuses']))} | {r['idle_mib']} | "
            f"{r['peak_mib']} | {r['growth_mib']} | {r['slowest_answer_s']} | {r['sent_mib']} |"
        )
    lines += [
        "",
        "Status 0: the server answered and closed the connection while the client was still "
        "sending, so the answer was lost in the reset.",
        "",
        "Before, FastAPI read and parsed every body before any dependency checked the token. "
        "Now a pure ASGI middleware authenticates first and answers `401` before reading a "
        "byte (the server drops the rest), and caps every body at `MAX_BODY_BYTES` (1 MiB).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Flood the baseline (if asked) and the current code, side by side; write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--baseline", help="also flood the code at this git ref, first")
    args = parser.parse_args()
    rows = []
    if args.baseline:
        src = baseline_tree(args.baseline)
        rows.append(
            run(f"before ({args.baseline})", args.bodies, args.mib * MiB, PYTHONPATH=str(src))
        )
        print(json.dumps(rows[-1]), flush=True)
    rows.append(run("now", args.bodies, args.mib * MiB))
    print(json.dumps(rows[-1]), flush=True)
    REPORT.write_text(report(rows))
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
