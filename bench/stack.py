"""Start the real stack for a benchmark: PostgreSQL, Ceph RGW and `s3upload serve`.

Every part can be stopped and started again (fault drills) without losing its data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
STATE = Path(os.environ.get("BENCH_STATE_DIR", "/tmp/s3upload-bench"))
# BENCH_PORT_BASE moves every port, so two benchmarks can run side by side.
_BASE = int(os.environ.get("BENCH_PORT_BASE", "0"))
PG = {"PG_DIR": str(STATE / "pg"), "PG_PORT": str(55434 + _BASE), "PG_DB": "s3upload_bench"}
RGW = {
    "RGW_DIR": str(STATE / "rgw"),
    "RGW_PORT": str(7482 + _BASE),
    "MON_PORT_V2": str(3302 + _BASE),
    "MON_PORT_V1": str(6792 + _BASE),
    "BLUESTORE_SIZE": "40G",
}
SECRET = "bench-secret-0123456789abcdef0123456789"
CLI = [sys.executable, "-m", "s3upload.cli"]


def _pg_bin() -> str:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1].as_posix()


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in path.read_text().splitlines()
        if line.startswith("export ")
    )
    return dict(pairs)


def wait_ready(base_url: str, seconds: float = 20) -> bool:
    """Poll /readyz until it answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


@dataclass
class Stack:
    """The running service processes and what they talk to."""

    env: dict[str, str]
    ports: list[int]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    app: str | None = None  # another ASGI app factory (module:function) to serve instead

    @property
    def base_url(self) -> str:
        """The first instance's address."""
        return f"http://127.0.0.1:{self.ports[0]}"

    @property
    def pid(self) -> int:
        """The first instance's process id."""
        return self.procs[0].pid

    def token(self, subject: str = "bench") -> str:
        """A bearer token for `subject`."""
        out = subprocess.run(
            [*CLI, "token", subject, "--ttl", "7200"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def start_service(self, index: int = 0, workers: int = 1) -> None:
        """Start instance `index` of the service and wait until it is ready."""
        port, count = str(self.ports[index]), str(workers)
        command = [*CLI, "serve", "--port", port, "--workers", count]
        if self.app:
            command = [sys.executable, "-m", "uvicorn", "--factory", self.app, "--port", port]
            command += ["--workers", count, "--no-access-log", "--loop", "uvloop"]
        with (STATE / f"service-{index}.log").open("ab") as log:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        if index < len(self.procs):
            self.procs[index] = proc
        else:
            self.procs.append(proc)
        wait_ready(f"http://127.0.0.1:{self.ports[index]}")

    def seed_uploads(self, rows: int, owners: int = 10_000, prefix: str = "seed") -> None:
        """Fill the table with `rows` uploads of past days (a table with a history), then
        ANALYZE, as autovacuum would have by then on a live database."""
        import asyncpg

        sql = """
            INSERT INTO uploads (id, owner, key, file_name, file_type, file_size, size_limit,
                status, strategy, method, profile, metadata, created_at, updated_at,
                expires_at, uploaded_at)
            SELECT gen_random_uuid(), $1 || '-' || (g % $2), $1 || '/' || g || '/f.jpg', 'f.jpg',
                'image/jpeg', 2000000, 2000000,
                CASE WHEN g % 50 = 0 THEN 'pending' ELSE
                    (ARRAY['uploaded', 'completed', 'completed', 'aborted', 'expired'])[g % 5 + 1]
                END,
                'single', 'PUT', 'default', '{}', t, t, t + interval '1 hour', t
            FROM generate_series($3::int, $4::int) g,
                LATERAL (SELECT now() - (g % 2592000) * interval '1 second' AS t) at
        """

        async def run() -> None:
            conn = await asyncpg.connect(self.env["DATABASE_URL"].replace("+asyncpg", ""))
            try:
                for start in range(1, rows + 1, 200_000):
                    await conn.execute(sql, prefix, owners, start, min(start + 199_999, rows))
                await conn.execute("VACUUM ANALYZE uploads")
            finally:
                await conn.close()

        asyncio.run(run())

    def kill_service(self, index: int = 0) -> None:
        """SIGKILL instance `index`: no shutdown, as a crash would be."""
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait(timeout=10)

    def stop_gateway(self) -> None:
        """Stop radosgw only (the Ceph cluster and its data stay)."""
        pid = int(Path(RGW["RGW_DIR"], "pids", "rgw.gw0.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)

    def start_gateway(self) -> None:
        """Start radosgw again on the same cluster."""
        rgw_dir = Path(RGW["RGW_DIR"])
        env = {**os.environ, "CEPH_CONF": str(rgw_dir / "ceph.conf")}
        with (rgw_dir / "log" / "rgw.gw0.out").open("ab") as log:
            proc = subprocess.Popen(
                ["radosgw", "-n", "client.rgw.gw0", "-f"],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        (rgw_dir / "pids" / "rgw.gw0.pid").write_text(str(proc.pid))

    def stop_database(self) -> None:
        """Stop PostgreSQL (fast shutdown: clients are disconnected)."""
        data = f"{PG['PG_DIR']}/data"
        subprocess.run(
            _as_postgres(f"{_pg_bin()}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
            check=True,
            capture_output=True,
        )

    def start_database(self) -> None:
        """Start PostgreSQL again with its data."""
        data, log = f"{PG['PG_DIR']}/data", f"{PG['PG_DIR']}/server.log"
        subprocess.run(
            _as_postgres(f"{_pg_bin()}/pg_ctl", "-D", data, "-l", log, "-w", "start"),
            check=True,
            capture_output=True,
        )


@contextmanager
def running_stack(
    workers: int = 1, instances: int = 1, app: str | None = None, **extra_env: str
) -> Iterator[Stack]:
    """PostgreSQL + RGW + `instances` services of `workers` processes; all stopped afterwards."""
    STATE.mkdir(parents=True, exist_ok=True)
    down_env = {**os.environ, **RGW}
    subprocess.run(["bash", SCRIPTS / "rgw-down.sh"], env=down_env, capture_output=True)
    for script, env in (("pg-up.sh", PG), ("rgw-up.sh", RGW)):
        subprocess.run(
            ["bash", SCRIPTS / script], env={**os.environ, **env}, check=True, capture_output=True
        )
    env = {
        **os.environ,
        **_env_file(STATE / "rgw" / "env"),
        "ENVIRONMENT": "production",
        "AUTH_JWT_SECRET": SECRET,
        "DATABASE_URL": _env_file(STATE / "pg" / "env")["DATABASE_URL"],
        "S3_REGION": "default",
        "S3_BUCKET": "bench-uploads",
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    subprocess.run([*CLI, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*CLI, "bucket", "setup"], env=env, check=True, capture_output=True)
    stack = Stack(env=env, ports=[_free_port() for _ in range(instances)], app=app)
    try:
        for index in range(instances):
            stack.start_service(index, workers)
        yield stack
    finally:
        for proc in stack.procs:
            proc.terminate()
            proc.wait(timeout=20)
        subprocess.run(
            ["bash", SCRIPTS / "rgw-down.sh", "--purge"], env=down_env, capture_output=True
        )
        subprocess.run(
            ["bash", SCRIPTS / "pg-down.sh", "--purge"],
            env={**os.environ, **PG},
            capture_output=True,
        )
