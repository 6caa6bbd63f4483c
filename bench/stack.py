"""Start the real stack for a benchmark: PostgreSQL, Ceph RGW and `s3upload serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
STATE = Path(os.environ.get("BENCH_STATE_DIR", "/tmp/s3upload-bench"))
PG = {"PG_DIR": str(STATE / "pg"), "PG_PORT": "55434", "PG_DB": "s3upload_bench"}
RGW = {
    "RGW_DIR": str(STATE / "rgw"),
    "RGW_PORT": "7482",
    "MON_PORT_V2": "3302",
    "MON_PORT_V1": "6792",
    "BLUESTORE_SIZE": "40G",
}
SECRET = "bench-secret-0123456789abcdef0123456789"


@dataclass
class Stack:
    """A running service and what it talks to."""

    base_url: str
    env: dict[str, str]
    pid: int

    def token(self, subject: str = "bench") -> str:
        """A bearer token for `subject`."""
        out = subprocess.run(
            [sys.executable, "-m", "s3upload.cli", "token", subject],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in path.read_text().splitlines()
        if line.startswith("export ")
    )
    return dict(pairs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_stack(workers: int = 1, **extra_env: str) -> Iterator[Stack]:
    """PostgreSQL + RGW + the service with `workers` processes; all stopped afterwards."""
    STATE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["bash", SCRIPTS / "rgw-down.sh"],
        env={**os.environ, **RGW},
        capture_output=True,
        check=False,
    )
    subprocess.run(
        ["bash", SCRIPTS / "pg-up.sh"], env={**os.environ, **PG}, check=True, capture_output=True
    )
    subprocess.run(
        ["bash", SCRIPTS / "rgw-up.sh"], env={**os.environ, **RGW}, check=True, capture_output=True
    )
    rgw = _env_file(STATE / "rgw" / "env")
    port = _free_port()
    env = {
        **os.environ,
        **rgw,
        "ENVIRONMENT": "production",
        "AUTH_JWT_SECRET": SECRET,
        "DATABASE_URL": _env_file(STATE / "pg" / "env")["DATABASE_URL"],
        "S3_REGION": "default",
        "S3_BUCKET": "bench-uploads",
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    py = [sys.executable, "-m", "s3upload.cli"]
    subprocess.run([*py, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*py, "bucket", "setup"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*py, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Stack(base, env, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        subprocess.run(
            ["bash", SCRIPTS / "rgw-down.sh", "--purge"],
            env={**os.environ, **RGW},
            capture_output=True,
            check=False,
        )
        subprocess.run(
            ["bash", SCRIPTS / "pg-down.sh", "--purge"],
            env={**os.environ, **PG},
            capture_output=True,
            check=False,
        )
