"""Test harness: a throw-away PostgreSQL and Ceph RGW on 127.0.0.1, and the app against them.

Set TEST_DATABASE_URL and TEST_S3_ENDPOINT_URL (with AWS_* credentials) to reuse servers
that are already running; they must be local, and the bucket is always a `test-` one.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from s3upload.app import create_app
from s3upload.auth.tokens import mint
from s3upload.db import migrate
from s3upload.settings import (
    AuthSettings,
    DatabaseSettings,
    EventsSettings,
    LimitsSettings,
    Profile,
    S3Settings,
    Settings,
    SweepSettings,
    UploadSettings,
)
from s3upload.store import bucket

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
STATE = Path(os.environ.get("TEST_STATE_DIR", "/tmp/s3upload-test"))
# TEST_PORT_BASE moves every port, so several test runs can share one machine.
_BASE = int(os.environ.get("TEST_PORT_BASE", "0"))
RGW_ENV = {
    "RGW_DIR": str(STATE / "rgw"),
    "RGW_PORT": str(7481 + _BASE),
    "MON_PORT_V2": str(3301 + _BASE),
    "MON_PORT_V1": str(6791 + _BASE),
    "BLUESTORE_SIZE": "20G",
}
PG_ENV = {"PG_DIR": str(STATE / "pg"), "PG_PORT": str(55433 + _BASE), "PG_DB": "s3upload_test"}
TEST_SECRET = "test-secret-0123456789abcdef0123456789"
BUCKET = "test-uploads"
EVENTS_SECRET = "events-secret-for-tests"


@dataclass(frozen=True)
class Services:
    """Where the real database and object store of this test run are."""

    database_url: str
    s3_endpoint: str
    access_key: str
    secret_key: str


def _read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export ") :].partition("=")
            out[k] = v
    return out


def _assert_local(url: str) -> None:
    host = urlsplit(url.replace("+asyncpg", "")).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"refusing to run tests against a non-local server: {url}")


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Start PostgreSQL and RGW side by side (unless given), stop them at the end."""
    started: list[tuple[str, dict[str, str]]] = []
    db_url = os.environ.get("TEST_DATABASE_URL")
    s3_url = os.environ.get("TEST_S3_ENDPOINT_URL")
    procs = []
    STATE.mkdir(parents=True, exist_ok=True)
    if not db_url:
        procs.append(
            (
                "pg",
                PG_ENV,
                subprocess.Popen(
                    ["bash", str(SCRIPTS / "pg-up.sh")],
                    env={**os.environ, **PG_ENV},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    if not s3_url:
        subprocess.run(
            ["bash", str(SCRIPTS / "rgw-down.sh")],
            env={**os.environ, **RGW_ENV},
            capture_output=True,
            check=False,
        )
        procs.append(
            (
                "rgw",
                RGW_ENV,
                subprocess.Popen(
                    ["bash", str(SCRIPTS / "rgw-up.sh")],
                    env={**os.environ, **RGW_ENV},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    for name, env, proc in procs:
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed to start:\n{out}")
        started.append((name, env))
    if not db_url:
        db_url = _read_env(STATE / "pg" / "env")["DATABASE_URL"]
    if s3_url:
        access, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    else:
        rgw = _read_env(STATE / "rgw" / "env")
        s3_url, access, secret = (
            rgw["S3_ENDPOINT_URL"],
            rgw["AWS_ACCESS_KEY_ID"],
            rgw["AWS_SECRET_ACCESS_KEY"],
        )
    _assert_local(db_url)
    _assert_local(s3_url)
    # The app reads credentials from the standard AWS chain, as in production.
    os.environ.update(
        AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="default"
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield Services(db_url, s3_url, access, secret)
    finally:
        for name, env in reversed(started):
            script = "pg-down.sh" if name == "pg" else "rgw-down.sh"
            subprocess.run(
                ["bash", str(SCRIPTS / script)],
                env={**os.environ, **env},
                capture_output=True,
                check=False,
            )


PROFILES = {
    "default": Profile(),
    # Its tests send stand-in bytes: checking them is tested with real images (test_processing).
    "images": Profile(
        sniff=False,
        allowed_types=["image/*"],
        max_size=10 * 1024 * 1024,
        metadata_keys=["title"],
        cache_control="max-age=86400",
    ),
    "editors": Profile(required_role="editor", key_prefix="editorial"),
}


def make_settings(services: Services, **overrides: object) -> Settings:
    """Settings for an app against this run's servers."""
    s3 = {
        "endpoint_url": services.s3_endpoint,
        "region": "default",
        "bucket": BUCKET,
        "checksum_algorithms": ["MD5"],
        "health_ttl": 0,
    }
    s3.update(overrides.pop("s3", {}))  # type: ignore[arg-type]
    database = {"url": services.database_url}
    database.update(overrides.pop("database", {}))  # type: ignore[arg-type]
    upload = {"multipart_threshold": 8 * 1024 * 1024, "part_size": 5 * 1024 * 1024}
    upload.update(overrides.pop("upload", {}))  # type: ignore[arg-type]
    overrides.setdefault("cors_origins", ["http://127.0.0.1:8000"])
    events = {"secret": EVENTS_SECRET}
    events.update(overrides.pop("events", {}))  # type: ignore[arg-type]
    sweep = {"grace": 0, "batch": 10_000}
    sweep.update(overrides.pop("sweep", {}))  # type: ignore[arg-type]
    # Rate limits would couple tests through the shared client IP; their own tests enable them.
    limits = {"enabled": False}
    limits.update(overrides.pop("limits", {}))  # type: ignore[arg-type]
    overrides.setdefault("profiles", PROFILES)
    return Settings(
        environment="test",
        upload=UploadSettings(**upload),
        events=EventsSettings(**events),
        sweep=SweepSettings(**sweep),
        limits=LimitsSettings(**limits),
        auth=AuthSettings(jwt_secret=TEST_SECRET),
        database=DatabaseSettings(**database),
        s3=S3Settings(**s3),
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def settings(services: Services) -> Settings:
    """Settings of the shared app."""
    return make_settings(services)


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> str:
    """The test database, at the newest migration, emptied."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    migrate.upgrade(settings.database.url)

    async def truncate() -> None:
        engine = create_async_engine(settings.database.url)
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE uploads, upload_usage"))
        await engine.dispose()

    asyncio.run(truncate())
    return settings.database.url


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: str) -> AsyncIterator[FastAPI]:
    """The app, started (engine, store client) once for the session, bucket in place."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await bucket.setup(application.state.store, settings)
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@asynccontextmanager
async def events_wired(
    services: Services, bucket_name: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app served on a real port, whose bucket's RGW notifications push to it."""
    from tests.helpers import free_port, serving

    port = free_port()
    settings = make_settings(
        services,
        s3={"bucket": bucket_name},
        events={"webhook_url": f"http://127.0.0.1:{port}/events/s3"},
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application), serving(application, port) as base:
        done = await bucket.setup(application.state.store, settings)
        assert any(line.startswith("events -> arn:") for line in done), done
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            yield application, c


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def auth_for(settings: Settings) -> TokenFactory:
    """Authorization headers for any subject and roles."""

    def make(
        subject: str,
        roles: list[str] | None = None,
        ttl: int = 600,
        scopes: list[str] | None = None,
    ) -> dict[str, str]:
        token = mint(settings.auth, subject=subject, roles=roles, scopes=scopes, ttl=ttl)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def owner() -> str:
    """A fresh owner per test, so tests never see each other's uploads."""
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def auth(auth_for: TokenFactory, owner: str) -> dict[str, str]:
    """Authorization headers of this test's owner."""
    return auth_for(owner)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A real HTTP client, for talking to RGW through signed URLs."""
    async with httpx.AsyncClient(timeout=30) as c:
        yield c
