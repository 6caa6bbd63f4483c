"""uvicorn against granian: the same app, stack and load, the two servers alternating.

Both serve the production app with the comparison routes (bench/perf_app.py) on 2 worker
processes with uvloop, over the stack of bench/throughput.py (PostgreSQL with a seeded table,
RGW, access logs to a file, metrics and quotas on, rate limits off). wrk at 64 connections,
a warm-up then a measured run per route and server, `--rounds` rounds:

- `noop`: `POST /bench/noop`; `create`: `POST /uploads`;
- `part`: Uppy's `GET /s3/multipart/{id}/{n}`, part numbers 1 to 100 rotated.

Usage: python bench/servers.py [--seconds 10] [--warmup 3] [--rounds 3]
Prints one JSON line per run and writes them all to docs/bench/perf/servers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, STATE, _free_port, wait_ready
from bench.throughput import BODY, production_stack, tokens, wrk

GET_LUA = ROOT / "bench" / "wrk" / "get.lua"
OUT = ROOT / "docs" / "bench" / "perf" / "servers.json"
ERROR_KEYS = ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx")


def granian(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """granian serving the same app factory, started and answering."""
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--loop", "uvloop", "--no-access-log", "bench.perf_app:create"]
    with (STATE / "granian.log").open("ab") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    if not wait_ready(f"http://127.0.0.1:{port}", seconds=30):
        proc.kill()
        raise RuntimeError("granian did not start; see granian.log")
    return proc


def uppy_part_paths(base_url: str, token: str, path: Path) -> Path:
    """Request targets for 100 part numbers of one pending multipart upload."""
    created = httpx.post(
        f"{base_url}/s3/multipart",
        json={"filename": "big.bin", "type": "application/octet-stream", "size": 50 << 30},
        headers={"Authorization": f"Bearer {token}"},
    )
    created.raise_for_status()
    upload_id, key = created.json()["uploadId"], created.json()["key"]
    path.write_text(
        "".join(f"/s3/multipart/{upload_id}/{n}?key={quote(key, safe='')}\n" for n in range(1, 101))
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    many = tokens(1000, work / "tokens")
    one = work / "owner"
    one.write_text(Path(many).read_text().splitlines()[0] + "\n")
    results: list[dict[str, Any]] = []
    with production_stack(workers=2, history=100_000) as stack:
        port = _free_port()
        other = granian(stack.env, port, workers=2)
        try:
            bases = {"uvicorn": stack.base_url, "granian": f"http://127.0.0.1:{port}"}
            parts = {
                name: uppy_part_paths(base, one.read_text().strip(), work / f"parts-{name}")
                for name, base in bases.items()
            }
            for round_ in range(1, args.rounds + 1):
                for route in ("noop", "create", "part"):
                    for server, base in bases.items():
                        env = {**os.environ, "WRK_TOKENS_FILE": many, "WRK_BODY": BODY}
                        script = None
                        url = base + {"noop": "/bench/noop", "create": "/uploads"}.get(route, "")
                        if route == "part":
                            env.update(WRK_TOKENS_FILE=str(one), WRK_PATHS_FILE=str(parts[server]))
                            script = GET_LUA
                        run = {"connections": args.connections, "env": env}
                        if script:
                            run["script"] = script
                        wrk(url, seconds=args.warmup, **run)
                        result = wrk(url, seconds=args.seconds, **run)
                        result.update(server=server, route=route, round=round_)
                        print(json.dumps(result), flush=True)
                        results.append(result)
        finally:
            other.terminate()
            other.wait(timeout=20)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    for route in ("noop", "create", "part"):
        for server in ("uvicorn", "granian"):
            runs = [r for r in results if r["route"] == route and r["server"] == server]
            rps = statistics.median(r["rps"] for r in runs)
            p99 = statistics.median(r["p99_us"] for r in runs) / 1000
            errors = sum(r[k] for r in runs for k in ERROR_KEYS)
            print(f"{route:7} {server:8} {rps:8.0f} req/s  p99 {p99:7.1f} ms  errors {errors}")


if __name__ == "__main__":
    main()
