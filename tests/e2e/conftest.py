"""Browser tests: Debian's Chromium, driven by Playwright, against the real service and RGW.

The service is served on a real port from the test event loop; its bucket (`test-e2e`) allows
that origin through CORS, as `s3upload bucket setup` would for a deployment. Set
`E2E_SCREENSHOTS=docs` to refresh docs/demo.png and docs/demo-uppy.png.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from s3upload.app import create_app
from s3upload.settings import Settings
from s3upload.store import bucket
from s3upload.web.router import UPPY_DIST
from tests.conftest import ROOT, Services, TokenFactory, make_settings
from tests.e2e.helpers import BigFile, MiB, PageLog
from tests.helpers import free_port, serving

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def e2e_port() -> int:
    """The port the service listens on; the bucket's CORS names its origin."""
    return free_port()


@pytest.fixture(scope="session")
def e2e_settings(services: Services, migrated: str, e2e_port: int) -> Settings:
    """The test settings, with a bucket of their own that allows the page's origin."""
    return make_settings(
        services,
        s3={"bucket": "test-e2e"},
        cors_origins=[f"http://127.0.0.1:{e2e_port}"],
    )


@pytest.fixture(scope="session")
async def base_url(e2e_settings: Settings, e2e_port: int) -> AsyncIterator[str]:
    """The service, started and listening on 127.0.0.1."""
    app = create_app(e2e_settings)
    async with app.router.lifespan_context(app):
        await bucket.setup(app.state.store, e2e_settings)
        async with serving(app, e2e_port) as url:
            yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian (Playwright's own browser download does not work here)."""
    if not await asyncio.to_thread(Path(CHROMIUM).exists):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/install-deps.sh (or set E2E_CHROMIUM)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile (own localStorage) per test."""
    ctx = await browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> tuple[Page, PageLog]:
    """A page whose errors are recorded; each test checks them."""
    pg = await context.new_page()
    log = PageLog()
    pg.on("pageerror", lambda exc: log.errors.append(str(exc)))
    pg.on("console", lambda msg: log.console.append(f"{msg.type}: {msg.text}"))
    return pg, log


@pytest.fixture
def token(auth_for: TokenFactory, owner: str) -> str:
    """A bearer token for this test's own owner."""
    return auth_for(owner, ttl=3600)["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def api(base_url: str, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """The same service over HTTP, as this test's owner, for checking what the page did."""
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as c:
        yield c


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> BigFile:
    """150 MiB of random bytes: 30 parts of 5 MiB under the test settings."""
    path = tmp_path_factory.mktemp("e2e") / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(150):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            f.write(chunk)
    return BigFile(path, 150 * MiB, digest.hexdigest())


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: E2E_SCREENSHOTS (e.g. `docs`), else a temporary folder."""
    where = os.environ.get("E2E_SCREENSHOTS")
    if where:
        path = Path(where) if Path(where).is_absolute() else ROOT / where
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def uppy_built() -> Path:
    """Uppy's bundle, installed by scripts/build-uppy.sh (run here if `make uppy` did not)."""
    if not (UPPY_DIST / "uppy.min.mjs").is_file():
        run = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-uppy.sh")],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if run.returncode != 0:
            pytest.skip(f"npm install of Uppy failed, /demo/uppy cannot be tested:\n{run.stderr}")
    return UPPY_DIST
