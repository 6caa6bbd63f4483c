"""The `s3upload` command, run as users run it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner

from s3upload.cli import main
from tests.conftest import BUCKET, TEST_SECRET


@pytest.fixture
def env(services, tmp_path, monkeypatch):
    values = {
        "ENVIRONMENT": "test",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": BUCKET,
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "CORS_ORIGINS": '["http://127.0.0.1:8000"]',
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_token_is_verifiable(env):
    result = CliRunner().invoke(main, ["token", "alice", "--role", "processor", "--ttl", "60"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["roles"] == ["processor"]
    assert claims["exp"] - claims["iat"] == 60


def test_bad_settings_exit_2_with_one_line(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "short")
    result = CliRunner().invoke(main, ["token"])
    assert result.exit_code == 2
    assert "AUTH_JWT_SECRET" in result.output


def test_migrate_and_bucket_setup(env, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.db").exists()
    result = runner.invoke(main, ["migrate", "--downgrade", "base"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["bucket", "setup"])
    assert result.exit_code == 0, result.output
    assert f"bucket {BUCKET}" in result.output


def test_bucket_setup_store_down(env, monkeypatch):
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("S3_MAX_ATTEMPTS", "1")
    result = CliRunner().invoke(main, ["bucket", "setup"])
    assert result.exit_code == 1
    assert "object store" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _served(cwd: Path, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`s3upload serve` as a real process in `cwd`; yields its base URL once it answers."""
    port = _free_port()
    exe = Path(sys.executable).parent / "s3upload"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], stderr=log, stdout=log, env=env, cwd=cwd
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_answers_and_logs_json(env, tmp_path):
    """The real server process: migrate, serve, one request, one JSON access-log line."""
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 0
    log_path = tmp_path / "server.log"
    with _served(tmp_path, {**os.environ}, log_path) as base:
        token = CliRunner().invoke(main, ["token", "log-owner"]).output.strip()
        resp = httpx.post(
            f"{base}/uploads",
            headers={"Authorization": f"Bearer {token}"},
            json={"fileName": "a.png", "fileType": "image/png", "fileSize": 5},
        )
        assert resp.status_code == 201, resp.text
        upload_id = resp.json()["id"]
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert "swagger" in httpx.get(f"{base}/").text.lower()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [
        entry
        for entry in lines
        if entry.get("logger") == "s3upload.access" and entry.get("route") == "/uploads"
    ]
    assert len(access) == 1
    entry = access[0]
    assert entry["status"] == 201
    assert entry["owner"] == "log-owner"
    assert entry["upload_id"] == upload_id
    assert entry["method"] == "POST"
    assert entry["latency_ms"] > 0
    assert "X-Amz-Signature=" not in log_path.read_text().replace("X-Amz-Signature=REDACTED", "")


def test_bucket_setup_then_doctor_is_healthy(env, monkeypatch):
    monkeypatch.setenv("S3_BUCKET", "test-doctor-fresh")
    monkeypatch.setenv("EVENTS_WEBHOOK_URL", "http://127.0.0.1:8000/events/s3")
    monkeypatch.setenv("EVENTS_SECRET", "doctor-secret")
    runner = CliRunner()
    setup = runner.invoke(main, ["bucket", "setup"])
    assert setup.exit_code == 0, setup.output
    assert "created bucket test-doctor-fresh" in setup.output
    assert "lifecycle: abort incomplete multipart uploads after 2 days" in setup.output
    assert "events -> arn:" in setup.output
    doctor = runner.invoke(main, ["doctor"])
    assert doctor.exit_code == 0, doctor.output
    assert [line.split()[0] for line in doctor.output.splitlines()] == ["ok"] * 5
    assert "public ACLs: ignored (public access block)" in setup.output


def test_doctor_on_bare_bucket_says_what_is_missing(env, monkeypatch, services):
    import boto3

    s3 = boto3.client("s3", endpoint_url=services.s3_endpoint, region_name="default")
    s3.create_bucket(Bucket="test-doctor-bare")
    monkeypatch.setenv("S3_BUCKET", "test-doctor-bare")
    doctor = CliRunner().invoke(main, ["doctor"])
    assert doctor.exit_code == 1
    out = doctor.output
    assert "ok   bucket" in out
    assert "FAIL cors: the bucket has no CORS rules" in out
    assert "FAIL lifecycle" in out
    assert "FAIL public-acls: public ACLs are not blocked" in out
    assert "FAIL events" in out
    assert "fix: run `s3upload bucket setup`" in out


def test_doctor_without_bucket(env, monkeypatch):
    monkeypatch.setenv("S3_BUCKET", "test-doctor-missing")
    doctor = CliRunner().invoke(main, ["doctor"])
    assert doctor.exit_code == 1
    assert "FAIL bucket: The object store bucket 'test-doctor-missing' does not exist." in (
        doctor.output
    )


def test_sweep_command(env):
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"]).exit_code == 0
    dry = runner.invoke(main, ["sweep", "--dry-run", "--limit", "5"])
    assert dry.exit_code == 0, dry.output
    assert "0 upload(s) to sweep" in dry.output
    real = runner.invoke(main, ["sweep"])
    assert real.exit_code == 0, real.output
    assert "0 upload(s) swept" in real.output


def test_serve_reads_every_section_from_dotenv(services, tmp_path):
    """Settings of every section come from a `.env` file in the working directory."""
    secret = "dotenv-secret-0123456789abcdef0123456789"
    dotenv = {
        "ENVIRONMENT": "production",
        "AUTH_JWT_SECRET": secret,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dotenv.db",
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": BUCKET,
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "UPLOAD_MULTIPART_THRESHOLD": str(6 * 1024 * 1024),
        "LIMITS_MAX_PENDING": "1",
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    # Nothing of it in the process environment but the store's credentials (the AWS chain).
    clean = {k: v for k, v in os.environ.items() if k not in dotenv and not k.startswith("S3_")}
    exe = Path(sys.executable).parent / "s3upload"
    migrate = subprocess.run(
        [str(exe), "migrate"], cwd=tmp_path, env=clean, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "dotenv.db").exists()
    with _served(tmp_path, clean, tmp_path / "server.log") as base:
        token = jwt.encode({"sub": "dotenv", "exp": int(time.time()) + 60}, secret)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"fileName": "a.bin", "fileType": "application/octet-stream"}
        big = httpx.post(f"{base}/uploads", headers=headers, json={**body, "fileSize": 7 << 20})
        assert big.status_code == 201, big.text
        assert big.json()["strategy"] == "multipart"  # UPLOAD_MULTIPART_THRESHOLD
        assert f"/{BUCKET}/" in big.json()["multipart"]["parts"][0]["url"]  # S3_BUCKET
        second = httpx.post(f"{base}/uploads", headers=headers, json={**body, "fileSize": 5})
        assert second.status_code == 429  # LIMITS_MAX_PENDING
        assert httpx.get(f"{base}/readyz").status_code == 200
        other = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, TEST_SECRET)
        refused = httpx.get(f"{base}/files", headers={"Authorization": f"Bearer {other}"})
        assert refused.status_code == 401  # AUTH_JWT_SECRET
