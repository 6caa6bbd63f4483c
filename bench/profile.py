"""Profile one service worker with py-spy while wrk loads a route; print where time goes.

Usage: python bench/profile.py [ROUTE] [--seconds 12] [--out FILE]
ROUTE defaults to /uploads. The summary (printed and written to FILE, default
docs/bench/perf/profile.txt) lists the share of the worker's busy samples spent in each function,
inclusive; the raw collapsed stacks are kept beside it in FILE.raw (not committed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT
from bench.throughput import BODY, LUA, production_stack, tokens


def summarise(raw: Path, top: int = 60) -> str:
    """Inclusive share of samples per function, biggest first."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for name in {re.sub(r":\d+\)", ")", f) for f in stack.split(";")}:
            inclusive[name] += n
    return "\n".join(f"{100 * v / total:5.1f}%  {k}" for k, v in inclusive.most_common(top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("route", nargs="?", default="/uploads")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "bench" / "perf" / "profile.txt"
    )
    args = parser.parse_args()
    raw = args.out.with_suffix(".raw")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    env = {
        **os.environ,
        "WRK_TOKENS_FILE": tokens(1000, Path(tempfile.mkdtemp()) / "tokens"),
        "WRK_BODY": BODY,
    }
    with production_stack(workers=2, history=100_000) as stack:
        workers = subprocess.run(
            ["pgrep", "-P", str(stack.pid)], capture_output=True, text=True
        ).stdout.split()
        url = stack.base_url + args.route
        load = subprocess.Popen(
            ["wrk", "-t2", "-c64", f"-d{args.seconds + 6}s", "-s", str(LUA), url],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(3)
        record = [py_spy, "record", "--pid", workers[-1], "-d", str(args.seconds), "-r", "200"]
        subprocess.run(
            [*record, "--format", "raw", "-o", str(raw), "--nonblocking"],
            check=True,
            capture_output=True,
        )
        load.wait()
    summary = summarise(raw)
    args.out.write_text(summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
