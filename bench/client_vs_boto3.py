"""Upload throughput: `s3upload upload` through the service against boto3's `upload_file`.

Both send the same file to the same local RGW bucket with the same part size and number of
parts in flight, one after the other, alternating which goes first, round by round.

Usage: python bench/client_vs_boto3.py [--gib 2] [--rounds 3] [--part-mib 64]
[--concurrency 6]. Writes docs/bench/bench-client.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT, STATE, Stack, running_stack

MiB = 1024 * 1024
BUCKET = "bench-uploads"

# boto3 in its own process, as a user would run it: the timer starts before the import.
BOTO3_UPLOAD = """
import json, os, sys, time
t0 = time.monotonic()
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
path, key, checksums = sys.argv[1], sys.argv[2], sys.argv[5]
part, conc = int(sys.argv[3]), int(sys.argv[4])
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["S3_ENDPOINT_URL"],
    region_name="default",
    config=Config(
        s3={"addressing_style": "path"},
        max_pool_connections=conc,
        request_checksum_calculation=checksums,
    ),
)
cfg = TransferConfig(
    multipart_threshold=part, multipart_chunksize=part, max_concurrency=conc, use_threads=True
)
t1 = time.monotonic()
s3.upload_file(path, os.environ["BUCKET"], key, Config=cfg)
t2 = time.monotonic()
size = s3.head_object(Bucket=os.environ["BUCKET"], Key=key)["ContentLength"]
print(json.dumps({"transfer": t2 - t1, "startup": t1 - t0, "size": size}))
"""


def make_file(path: Path, size: int) -> None:
    """`size` bytes fast: a random block repeated (incompressible enough for RGW)."""
    block = os.urandom(MiB + 4099)
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    # Read it once so both contenders start with the file in the page cache.
    with path.open("rb") as f:
        while f.read(16 * MiB):
            pass


def child_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ours(stack: Stack, token: str, path: Path, concurrency: int) -> dict[str, float]:
    """`s3upload upload --json` as a subprocess: wall time and the transfer time it reports."""
    env = {**stack.env, "S3UPLOAD_URL": stack.base_url, "S3UPLOAD_TOKEN": token}
    with tempfile.TemporaryDirectory() as state:
        cpu0 = child_cpu()
        t0 = time.monotonic()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "s3upload.cli",
                "upload",
                str(path),
                "--json",
                "--concurrency",
                str(concurrency),
                "--state-dir",
                state,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.monotonic() - t0
        cpu = child_cpu() - cpu0
    summary = json.loads(out.stdout)
    assert summary["status"] == "uploaded", summary
    assert summary["partsSent"] == summary["partCount"], summary
    return {"wall": wall, "transfer": float(summary["seconds"]), "cpu": cpu, "id": summary["id"]}


def run_boto3(
    stack: Stack, path: Path, part: int, concurrency: int, checksums: str, key: str
) -> dict[str, float]:
    """boto3's `upload_file` in a subprocess: wall time and the time of `upload_file` alone."""
    env = {**stack.env, "BUCKET": BUCKET}
    cpu0 = child_cpu()
    t0 = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            BOTO3_UPLOAD,
            str(path),
            key,
            str(part),
            str(concurrency),
            checksums,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.monotonic() - t0
    cpu = child_cpu() - cpu0
    result = json.loads(out.stdout)
    assert result["size"] == path.stat().st_size, result
    return {"wall": wall, "transfer": float(result["transfer"]), "cpu": cpu}


def cleanup(stack: Stack, token: str, ours: list[str], keys: list[str]) -> None:
    """Free the store between rounds (the bench RGW is a 40 GiB sparse file)."""
    import boto3
    import httpx
    from botocore.config import Config

    for file_id in ours:
        resp = httpx.delete(
            f"{stack.base_url}/files/{file_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 204, resp.text
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        region_name="default",
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )
    for key in keys:
        s3.delete_object(Bucket=BUCKET, Key=key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument(
        "--boto3-checksums",
        choices=["when_required", "when_supported"],
        default="when_required",
        help="boto3's request_checksum_calculation (the service's client sends none).",
    )
    args = parser.parse_args()
    size = int(args.gib * 1024 * MiB)
    part = args.part_mib * MiB

    runs: dict[str, list[dict[str, float]]] = {"s3upload upload": [], "boto3 upload_file": []}
    STATE.mkdir(parents=True, exist_ok=True)
    data = STATE / "bench-client.bin"
    make_file(data, size)
    load = os.getloadavg()[0]
    # The service plans parts of this size (UPLOAD_PART_SIZE); boto3 is told the same.
    env = {"UPLOAD_PART_SIZE": str(part), "UPLOAD_MULTIPART_THRESHOLD": str(part)}
    try:
        with running_stack(**env) as stack:
            token = stack.token()
            for r in range(args.rounds):
                order = ["s3upload upload", "boto3 upload_file"]
                if r % 2:
                    order.reverse()
                ids: list[str] = []
                keys: list[str] = []
                for name in order:
                    if name == "s3upload upload":
                        res = run_ours(stack, token, data, args.concurrency)
                        ids.append(str(res.pop("id")))
                    else:
                        key = f"boto3/{hashlib.sha1(os.urandom(8)).hexdigest()}.bin"  # noqa: S324
                        keys.append(key)
                        res = run_boto3(
                            stack, data, part, args.concurrency, args.boto3_checksums, key
                        )
                    runs[name].append(res)
                    rate = size / MiB / res["transfer"]
                    print(
                        f"round {r + 1} {name:18} wall {res['wall']:6.2f} s  "
                        f"transfer {res['transfer']:6.2f} s  {rate:7.1f} MiB/s  "
                        f"cpu {res['cpu']:5.2f} s",
                        flush=True,
                    )
                cleanup(stack, token, ids, keys)
    finally:
        data.unlink(missing_ok=True)
    write_report(runs, size, part, args, load)


def write_report(
    runs: dict[str, list[dict[str, float]]],
    size: int,
    part: int,
    args: argparse.Namespace,
    load: float,
) -> None:
    mib = size / MiB
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "transfer", "cpu")}
        for name, rs in runs.items()
    }
    base = med["boto3 upload_file"]
    lines = [
        "# Client upload throughput: `s3upload upload` against boto3",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}). "
        "Re-run: `python bench/client_vs_boto3.py`. "
        f"Load average {load:.1f} when it started (RGW, PostgreSQL and the service run "
        "on the same cores as the clients).",
        "",
        f"A {mib / 1024:g} GiB file, {part // MiB} MiB parts, {args.concurrency} in flight, "
        f"to Ceph RGW on 127.0.0.1; median of {args.rounds} rounds.",
        "",
        "| client | transfer s | MiB/s | vs boto3 | wall s | MiB/s (wall) | vs boto3 (wall) "
        "| client CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in med.items():
        lines.append(
            f"| {name} | {m['transfer']:.2f} | {mib / m['transfer']:.0f} "
            f"| {base['transfer'] / m['transfer']:.2f}x | {m['wall']:.2f} "
            f"| {mib / m['wall']:.0f} | {base['wall'] / m['wall']:.2f}x | {m['cpu']:.2f} |"
        )
    lines += [
        "",
        "Every round (in the order run):",
        "",
        "| round | client | transfer s | wall s | client CPU s |",
        "|---|---|---|---|---|",
    ]
    for i in range(len(runs["boto3 upload_file"])):
        names = list(runs) if i % 2 == 0 else list(reversed(runs))
        for name in names:
            r = runs[name][i]
            lines.append(
                f"| {i + 1} | {name} | {r['transfer']:.2f} | {r['wall']:.2f} | {r['cpu']:.2f} |"
            )
    lines += [
        "",
        "## Method",
        "",
        "`bench/stack.py` starts PostgreSQL, a single-node Ceph RGW and `s3upload serve` (one "
        "worker) on 127.0.0.1, with the service's part size set to the part size under test. "
        "The file is written once and read once beforehand, so both clients read it from "
        "the page cache. Each round runs both clients as separate processes, one after the "
        "other, the order alternating between rounds so that neither always meets a warmer "
        "or a fuller store; objects are deleted after each round. `s3upload upload --json` "
        "creates the upload, signs part URLs in batches through the service, PUTs the parts "
        "straight to RGW with asyncio and httpx (each part streamed from the file in 1 MiB "
        "reads) and completes through the service, which verifies the object; its "
        "*transfer* time is the `seconds` it reports (create to verified). boto3 runs "
        "`upload_file` with a `TransferConfig` of the same part size and concurrency "
        "(threads) and the same number of pooled connections; its *transfer* time is the "
        "`upload_file` call. *Wall* time is the whole process, interpreter start and imports "
        "included; *client CPU* is that process's user + system time (RGW, PostgreSQL and "
        "the service share the same cores, so a client that burns less CPU leaves more to "
        "the store). Medians are taken per column. boto3's `request_checksum_calculation` is "
        f"`{args.boto3_checksums}` "
        "(the service's client sends no per-part checksums; RGW 16 ignores flexible "
        "checksums anyway).",
        "",
    ]
    (ROOT / "docs" / "bench" / "bench-client.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
