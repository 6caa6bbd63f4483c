"""Throughput and latency under load: wrk against the service run as in production.

The service runs under uvicorn with one worker per core and uvloop, on PostgreSQL and RGW,
with access logs on (INFO, to a file). wrk posts JSON bodies with real bearer tokens, and
the routes are measured side by side in one run:

- `POST /bench/noop`: verify the token, answer a constant (the framework's ceiling);
- `POST /bench/sign`: verify, validate the body, sign a PUT URL (no database);
- `POST /uploads`: the real create (profile checks, quotas, record written, URL signed).

Usage: python bench/throughput.py [--seconds S] [--connections 16,64,256] [--out FILE]
Prints one JSON line per run and writes the raw results to FILE (default
docs/perf/throughput.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, SECRET, running_stack
from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings

LUA = ROOT / "bench" / "wrk" / "post.lua"
BODY = json.dumps({"fileName": "photo.jpg", "fileType": "image/jpeg", "fileSize": 2_000_000})
ROUTES = ("/bench/noop", "/bench/sign", "/uploads")


def tokens(owners: int, path: Path) -> str:
    """Write tokens for `owners` distinct owners to `path`, one per line; return the path."""
    auth = AuthSettings(jwt_secret=SECRET)
    path.write_text(
        "".join(mint(auth, subject=f"bench-{n}", ttl=7200) + "\n" for n in range(owners))
    )
    return str(path)


def wrk(url: str, *, connections: int, seconds: int, env: dict[str, str]) -> dict[str, Any]:
    """One wrk run; its Lua summary as a dict."""
    threads = min(connections, os.cpu_count() or 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "--latency", "-s", str(LUA), url]
    out = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", default="16,64,256")
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000, help="uploads already stored")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "perf" / "throughput.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    connections = [int(c) for c in args.connections.split(",")]
    routes = args.routes.split(",")
    token_file = tokens(args.owners, Path(tempfile.mkdtemp()) / "tokens")
    env = {**os.environ, "WRK_TOKENS_FILE": token_file, "WRK_BODY": BODY}
    results = []
    # Production limits would refuse a benchmark's rate; quotas stay on (pending, bytes/day).
    with running_stack(
        workers=args.workers,
        app="bench.perf_app:create",
        LOG_LEVEL="INFO",
        LIMITS_ENABLED="false",
    ) as stack:
        stack.seed_uploads(args.history)
        for route in routes:
            wrk(stack.base_url + route, connections=64, seconds=args.warmup, env=env)
        for conns in connections:
            for route in routes:
                run = wrk(stack.base_url + route, connections=conns, seconds=args.seconds, env=env)
                run.update(route=route, connections=conns, label=args.label)
                print(json.dumps(run), flush=True)
                results.append(run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
