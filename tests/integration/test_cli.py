"""The `s3upload` command, run as users run it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
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


def test_serve_answers_and_logs_json(env, tmp_path):
    """The real server process: migrate, serve, one request, one JSON access-log line."""
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 0
    port = _free_port()
    log_path = tmp_path / "server.log"
    exe = Path(sys.executable).parent / "s3upload"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], stderr=log, stdout=log, env={**os.environ}
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
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
    finally:
        proc.terminate()
        proc.wait(timeout=10)
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
    assert [line.split()[0] for line in doctor.output.splitlines()] == ["ok"] * 4


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
