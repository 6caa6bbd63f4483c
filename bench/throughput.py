"""Throughput and latency under load: wrk against the service run as in production.

The service runs under uvicorn with one worker per core and uvloop, on PostgreSQL and RGW,
with access logs on (INFO, to a file). wrk posts JSON bodies with real bearer tokens, and
the routes are measured side by side in one run:

- `POST /bench/noop`: verify the token, answer a constant (the framework's ceiling);
- `POST /bench/sign`: verify, validate the body, sign a PUT URL (no database);
- `POST /uploads`: the real create (profile checks, quotas, record written, URL signed);
- `POST /uploads/{id}/parts` with 100 and 1,000 part numbers: part URLs per second.

Usage: python bench/throughput.py [--seconds S] [--connections 16,64,256] [--baseline REF]
With --baseline, the package at git REF runs the same series first, in the same invocation.
Prints one JSON line per run and writes them all to --out (docs/bench/perf/throughput.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, SECRET, Stack, running_stack
from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings

LUA = ROOT / "bench" / "wrk" / "post.lua"
BODY = json.dumps({"fileName": "photo.jpg", "fileType": "image/jpeg", "fileSize": 2_000_000})
_PARTS_100 = json.dumps({"partNumbers": list(range(1, 101))})
_PARTS_1000 = json.dumps({"partNumbers": list(range(1, 1001))})
# name: (path, body, part URLs per request; 0 = not a parts route)
ROUTES = {
    "noop": ("/bench/noop", BODY, 0),
    "sign": ("/bench/sign", BODY, 0),
    "create": ("/uploads", BODY, 0),
    "parts100": ("/uploads/{id}/parts", _PARTS_100, 100),
    "parts1000": ("/uploads/{id}/parts", _PARTS_1000, 1000),
}


def tokens(owners: int, path: Path) -> str:
    """Write tokens for `owners` distinct owners to `path`, one per line; return the path."""
    auth = AuthSettings(jwt_secret=SECRET)
    path.write_text(
        "".join(mint(auth, subject=f"bench-{n}", ttl=7200) + "\n" for n in range(owners))
    )
    return str(path)


def wrk(
    url: str, *, connections: int, seconds: int, env: dict[str, str], script: Path = LUA
) -> dict[str, Any]:
    """One wrk run; its Lua summary as a dict."""
    threads = min(connections, os.cpu_count() or 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "--latency", "-s", str(script), url]
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


def parts_upload(base_url: str, token: str) -> str:
    """A pending multipart upload (100 GiB, 1,600 parts) whose parts the benchmark signs."""
    body = {"fileName": "big.bin", "fileType": "application/octet-stream", "fileSize": 100 << 30}
    resp = httpx.post(
        f"{base_url}/uploads", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    resp.raise_for_status()
    return str(resp.json()["id"])


@contextmanager
def production_stack(workers: int, history: int, **extra_env: str) -> Iterator[Stack]:
    """The service as in production plus the comparison routes, over a seeded table."""
    # Production rate limits would refuse a benchmark's rate; quotas stay on.
    with running_stack(
        workers=workers,
        app="bench.perf_app:create",
        LOG_LEVEL="INFO",
        LIMITS_ENABLED="false",
        **extra_env,
    ) as stack:
        stack.seed_uploads(history)
        yield stack


def run_series(args: argparse.Namespace, label: str, **extra_env: str) -> list[dict[str, Any]]:
    """Every route at every connection count against one freshly started stack."""
    work = Path(tempfile.mkdtemp())
    token_file = tokens(args.owners, work / "tokens")
    owner_file = work / "owner"  # the parts routes need the upload's own owner
    owner_file.write_text(Path(token_file).read_text().splitlines()[0] + "\n")
    results = []
    with production_stack(args.workers, args.history, **extra_env) as stack:
        upload_id = parts_upload(stack.base_url, owner_file.read_text().strip())
        plans = {name: spec for name, spec in ROUTES.items() if name in args.routes.split(",")}
        for conns in [int(c) for c in args.connections.split(",")]:
            for name, (path, body, batch) in plans.items():
                env = {
                    **os.environ,
                    "WRK_TOKENS_FILE": str(owner_file if batch else token_file),
                    "WRK_BODY": body,
                }
                url = stack.base_url + path.format(id=upload_id)
                if conns == int(args.connections.split(",")[0]):
                    wrk(url, connections=conns, seconds=args.warmup, env=env)
                run = wrk(url, connections=conns, seconds=args.seconds, env=env)
                run.update(route=name, connections=conns, label=label, urls=run["rps"] * batch)
                print(json.dumps(run), flush=True)
                results.append(run)
    return results


def baseline_tree(ref: str) -> Path:
    """The package source at git `ref`, unpacked into a temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="s3upload-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", default="16,64,256")
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000, help="uploads already stored")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--baseline", help="also run the code at this git ref, first")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "bench" / "perf" / "throughput.json"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    results = []
    if args.baseline:
        src = baseline_tree(args.baseline)
        results += run_series(args, f"baseline {args.baseline}", PYTHONPATH=str(src))
    results += run_series(args, "current")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
