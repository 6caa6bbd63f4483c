"""Property-based fuzzing of every route from the served OpenAPI document (schemathesis).

A real `s3upload serve` process against PostgreSQL and RGW, a valid token, and at least
1,000 generated cases: no 5xx, every status documented, every body matching its schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings
from tests.conftest import EVENTS_SECRET, TEST_SECRET
from tests.helpers import free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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
TOKEN = {"Authorization": f"Bearer {_JWT}"}


def test_every_route_survives_generated_requests(served):
    """Each operation gets up to 80 generated requests (valid and not); all must pass CHECKS."""
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    cases: dict[str, int] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, cases)
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    print(f"fuzzed {sum(cases.values())} cases over {len(cases)} operations")
    assert sum(cases.values()) >= 1000, cases
    assert len(cases) >= 20, sorted(cases)


def _fuzz(operation: Any, cases: dict[str, int]) -> None:
    """Up to 80 generated requests to one operation, each validated by CHECKS."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        cases[operation.label] = cases.get(operation.label, 0) + 1
        case.call_and_validate(headers=TOKEN, checks=CHECKS)

    run()
