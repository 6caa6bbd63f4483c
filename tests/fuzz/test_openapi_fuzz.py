"""Property-based fuzzing of every route from the served OpenAPI document (schemathesis).

`st run --checks all` against a real `s3upload serve` process on PostgreSQL and RGW, with a
valid token: generated valid and invalid requests to every operation, then stateful
sequences through the links between them. Every check must pass: no 5xx, every status and
body as documented, every schema-valid request accepted and every invalid one refused, 405
answers naming the path's methods. `schemathesis.toml` says which statuses this API uses to
refuse (413 for sizes); `use_after_free` is left out because records outlive their objects
(a deleted file is still read, with status `deleted`, as the contract says).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings
from tests.conftest import EVENTS_SECRET, ROOT, TEST_SECRET
from tests.helpers import free_port

# Examples per operation and phase; SCHEMATHESIS_SEED explores other cases by hand.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "60"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "1")


@pytest.fixture(scope="module")
def served(services, migrated):
    """`s3upload serve` as its own process, with a bucket of its own."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": services.database_url,
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": "test-fuzz",
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "EVENTS_SECRET": EVENTS_SECRET,
        "LIMITS_ENABLED": "false",
        "LOG_LEVEL": "ERROR",
        "PROFILES": '{"default": {}, "images": {"allowed_types": ["image/*"]}}',
    }
    exe = [sys.executable, "-m", "s3upload.cli"]
    subprocess.run([*exe, "bucket", "setup"], env=env, check=True, capture_output=True)
    log = Path(os.environ.get("TEST_STATE_DIR", "/tmp/s3upload-test")) / "fuzz-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*exe, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


_JWT = mint(AuthSettings(jwt_secret=TEST_SECRET), subject="fuzzer", ttl=3600)


def test_every_check_passes_on_every_operation(served):
    """`st run --checks all`: zero failures, zero errors, over every operation."""
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{served}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "use_after_free",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            SEED,
            "--header",
            f"Authorization: Bearer {_JWT}",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # The token is a test one; the report is cut to what a failure needs.
    report = result.stdout[-12_000:]
    assert result.returncode == 0, report
    summary = report[report.rfind("SUMMARY") :]
    assert "Failures:" not in summary, summary
    assert "Errors:" not in summary, summary
    tested = re.search(r"Tested: (\d+)", summary)
    generated = re.search(r"(\d+) generated", summary)
    assert tested, summary
    assert int(tested.group(1)) >= 20, summary
    assert generated, summary
    assert int(generated.group(1)) >= 1000, summary
