"""The RGW image's entrypoint, run here as compose runs it: S3 on 0.0.0.0, the given
credentials, foreground until SIGTERM, objects kept across a restart."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRYPOINT = ROOT / "deploy" / "rgw" / "entrypoint.sh"
ACCESS_KEY = "image-access-key"
SECRET_KEY = "image-secret-key-0123456789"

pytestmark = pytest.mark.skipif(
    shutil.which("radosgw") is None, reason="Ceph RGW is not installed (make deps)"
)


def free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("0.0.0.0", 0))  # noqa: S104 - the entrypoint listens on every address
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def listening_on_any_address(port: int) -> bool:
    """Whether /proc/net/tcp shows a listener on 0.0.0.0:port."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(row.split()[1] == f"00000000:{port:04X}" and row.split()[3] == "0A" for row in rows)


def pid_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


class Container:
    """The entrypoint as PID 1 of the image would run it, with its state in one folder."""

    def __init__(self, state: Path, env: dict[str, str]) -> None:
        self.state, self.env = state, env
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.log = (self.state.parent / "entrypoint.log").open("a")
        self.proc = subprocess.Popen(
            ["bash", str(ENTRYPOINT)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not (self.state / "ready").exists():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.1)

    def daemons(self) -> list[int]:
        return [int(p.read_text()) for p in (self.state / "pids").glob("*.pid")]

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code

    def output(self) -> str:
        return (self.state.parent / "entrypoint.log").read_text()


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    rgw_port, mon2, mon1 = free_ports(3)
    env = {
        **os.environ,
        "RGW_DIR": str(tmp_path / "cluster"),
        "RGW_PORT": str(rgw_port),
        "MON_PORT_V2": str(mon2),
        "MON_PORT_V1": str(mon1),
        "RGW_SCRIPTS": str(ROOT / "scripts"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "BLUESTORE_SIZE": "2G",
    }
    env.pop("RGW_BIND", None)
    env.pop("CEPH_CONF", None)
    box = Container(tmp_path / "cluster", env)
    try:
        yield box
    finally:
        if box.proc is not None and box.proc.poll() is None:
            box.proc.kill()
            box.proc.wait()
        # Whatever is still running is stopped by PID, as `make stop` does; the state goes too.
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "rgw-down.sh"), "--purge"],
            env=env,
            capture_output=True,
            check=False,
        )


def s3(port: int, secret: str = SECRET_KEY):
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret,
        region_name="default",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def test_entrypoint_serves_s3_in_the_foreground_and_keeps_objects(container):
    port = int(container.env["RGW_PORT"])
    container.start()
    assert listening_on_any_address(port)
    client = s3(port)
    client.create_bucket(Bucket="image-check")
    client.put_object(Bucket="image-check", Key="a/b.txt", Body=b"hello from rgw")
    body = client.get_object(Bucket="image-check", Key="a/b.txt")["Body"].read()
    assert body == b"hello from rgw"
    with pytest.raises(ClientError) as denied:
        s3(port, secret="not-the-secret").list_buckets()
    assert denied.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    # It stays in the foreground until told to stop; then every daemon is gone.
    daemons = container.daemons()
    assert len(daemons) == 3
    assert container.proc is not None
    assert container.proc.poll() is None
    assert container.stop() == 0
    assert not any(pid_running(pid) for pid in daemons)
    assert not (container.state / "ready").exists()

    # A restarted container starts the same cluster again: the object is still there.
    container.start()
    assert "starting the cluster already in" in container.output()
    body = s3(port).get_object(Bucket="image-check", Key="a/b.txt")["Body"].read()
    assert body == b"hello from rgw"
    daemons = container.daemons()
    assert container.stop() == 0
    assert not any(pid_running(pid) for pid in daemons)
