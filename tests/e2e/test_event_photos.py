"""The event-photos example (examples/event-photos) in Chromium, against real processes.

The service is served on a real port with the app's hook, webhooks to the app and the photos
profile (public, with a thumbnail and a large version of each photo, made by the service); the
app runs as its own process, as `make example` runs it. Set `E2E_SCREENSHOTS=docs` to refresh
docs/event-photos*.png.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from s3upload.app import create_app
from s3upload.settings import Profile, Settings
from s3upload.store import bucket
from tests.conftest import PROFILES, ROOT, TEST_SECRET, Services, TokenFactory, make_settings
from tests.e2e.helpers import PageLog
from tests.helpers import free_port, serving
from tests.webhook_helpers import drain_outbox

APP = ROOT / "examples" / "event-photos" / "app.py"
HOOK_SECRET = "whsec_" + base64.b64encode(b"hook-secret-of-the-event-photos").decode()
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhook-secret-of-event-photos").decode()
PHOTOS = Profile(
    allowed_types=["image/*"],
    max_size=20 * 1024 * 1024,
    scope_types=["event"],
    metadata_keys=["title", "description"],
    metadata_required=["title"],
    access="hook",
    claim_within=3600,
    # Public, under a prefix of its own: `bucket setup` lets anyone GET photos/* and
    # derived/photos/*, and records carry the URLs.
    key_prefix="photos",
    public=True,
    cache_control="public, max-age=31536000, immutable",
    variants={
        "thumb": {"width": 320, "height": 320, "fit": "cover", "format": "webp"},
        "large": {"width": 1600, "fit": "inside", "format": "jpeg", "quality": 85},
    },
)
BUCKET = "test-e2e-photos"


@dataclass(frozen=True)
class PhotosSetup:
    """Where the service and the app listen, the app's database, and the bucket's public URL."""

    service: str
    app: str
    db: Path
    public: str


def start_app(tmp: Path, port: int, service: str, store: str) -> subprocess.Popen[bytes]:
    """The example app as its own process, once it answers."""
    env = {
        "PATH": "/usr/bin:/bin",
        "SERVICE_URL": service,
        "STORE_URL": store,
        "APP_JWT_SECRET": TEST_SECRET,
        "HOOK_SECRET": HOOK_SECRET,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EVENT_PHOTOS_DB": str(tmp / "event-photos.db"),
        "APP_PORT": str(port),
    }
    log = (tmp / "app.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(APP)], env=env, stdout=log, stderr=log)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"the app did not start:\n{(tmp / 'app.log').read_text()}")


@pytest.fixture(scope="module")
async def photos(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PhotosSetup]:
    """The service set up for the app, and the app, both listening on 127.0.0.1."""
    service_port, app_port = free_port(), free_port()
    service, app_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{app_port}"
    settings: Settings = make_settings(
        services,
        s3={"bucket": BUCKET},
        cors_origins=[app_url],
        webhooks=[{"url": f"{app_url}/webhooks", "secret": WEBHOOK_SECRET}],
        authz={"hook_url": f"{app_url}/hook", "hook_secret": HOOK_SECRET, "cache_ttl": 0},
        profiles={**PROFILES, "photos": PHOTOS},
        process={"poll": 0.2},
    )
    tmp = tmp_path_factory.mktemp("event-photos")
    proc = await asyncio.to_thread(start_app, tmp, app_port, service, services.s3_endpoint)
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            # Other tests' events go to no endpoint, not to this app.
            await drain_outbox(app.state.sessionmaker)
            await bucket.setup(app.state.store, settings)
            async with serving(app, service_port):
                public = f"{services.s3_endpoint}/{BUCKET}"
                yield PhotosSetup(service, app_url, tmp / "event-photos.db", public)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)


@pytest.fixture
async def api(photos: PhotosSetup, auth_for: TokenFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The service over HTTP as a processor, which reads any file, to check what happened."""
    headers = auth_for("photos-check", roles=["processor"])
    async with httpx.AsyncClient(base_url=photos.service, headers=headers, timeout=30) as c:
        yield c


def photo(width: int, height: int, sky: tuple[int, int, int], sun: tuple[int, int, int]) -> bytes:
    """A real PNG to look at in the screenshots: a sky fading to dark, and a sun."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    def pixel(x: int, y: int) -> bytes:
        if (x - width * 0.65) ** 2 + (y - height * 0.45) ** 2 < (height * 0.16) ** 2:
            return bytes(sun)
        fade = 1 - 0.8 * y / height
        return bytes(int(c * fade) for c in sky)

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def sign_in(page: Page, user: str) -> None:
    """Pick a demo user and sign in; wait until the event's photos are listed or refused."""
    await page.select_option("#user", user)
    await page.click("#login button")
    await expect(page.locator("#who")).to_have_text(f"Signed in as {user}")
    listed = re.compile(r"^(loaded|refused)$")
    await expect(page.locator("#photos")).to_have_attribute("data-state", listed)


async def add_photo(page: Page, path: Path, title: str, description: str) -> None:
    """Fill in the form and add the photo (the browser client uploads it)."""
    await page.set_input_files("#file", path)
    await page.fill("#title", title)
    await page.fill("#description", description)
    await page.click("#add button")


async def thumbnails_shown(page: Page, public: str, count: int) -> None:
    """Every photo is processed and shows its thumbnail from its public URL (until then the
    page shows the photo itself through a signed download URL)."""
    photos = page.locator("li.photo")
    await expect(photos).to_have_count(count)
    await expect(page.locator('li.photo[data-status="completed"]')).to_have_count(count)
    for img in await page.locator("li.photo img").element_handles():
        await page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img)
        size = await img.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
        assert size == [320, 320]
        src = await img.get_attribute("src")
        assert src
        assert src.startswith(f"{public}/derived/photos/")
        assert src.endswith("/thumb.webp")


def card(page: Page, title: str) -> Any:
    """A photo in the event's list, by its title."""
    return page.locator(f'li.photo[data-title="{title}"]')


async def app_photo(db: Path, upload_id: str, status: str) -> dict[str, Any]:
    """The app's row of a photo once it has this status (webhooks arrive on their own)."""

    def read() -> dict[str, Any] | None:
        with sqlite3.connect(db) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM photos WHERE upload_id = ?", (upload_id,)).fetchone()
        return dict(row) if row else None

    row = None
    for _ in range(300):
        row = await asyncio.to_thread(read)
        if row and row["status"] == status:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"the app's photo {upload_id} is {row}, not {status}")


async def service_record(api: httpx.AsyncClient, upload_id: str, **want: Any) -> dict[str, Any]:
    """The service's record once it has these values."""
    got: dict[str, Any] = {}
    for _ in range(300):
        got = (await api.get(f"/files/{upload_id}")).json()
        if all(got.get(k) == v for k, v in want.items()):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"the service's record is {got}, wanted {want}")


async def test_attendees_add_and_see_photos_others_are_refused_organisers_delete(
    page: tuple[Page, PageLog],
    photos: PhotosSetup,
    api: httpx.AsyncClient,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    pg, log = page
    stage, crowd = tmp_path / "stage.png", tmp_path / "crowd.png"
    stage.write_bytes(photo(480, 360, (90, 110, 230), (255, 214, 90)))
    crowd.write_bytes(photo(480, 360, (240, 120, 80), (255, 240, 200)))

    # An attendee adds a photo with a title.
    await pg.goto(photos.app)
    await sign_in(pg, "alice")
    await expect(pg.locator("#message")).to_have_text("No photos of Keynote yet.")
    await add_photo(pg, stage, "Opening keynote", "The stage just before the lights went down.")
    await expect(card(pg, "Opening keynote")).to_be_visible()
    await expect(pg.locator("#message")).to_have_text("Added “Opening keynote”.")
    upload_id = await card(pg, "Opening keynote").get_attribute("data-id")
    assert upload_id

    # The app heard of it through its webhooks (uploaded, processing, completed), recorded it
    # and claimed it.
    row = await app_photo(photos.db, upload_id, "completed")
    assert (row["event_id"], row["owner"], row["title"], row["description"]) == (
        1,
        "alice",
        "Opening keynote",
        "The stage just before the lights went down.",
    )
    record = await service_record(api, upload_id, claimed=True, status="completed")
    assert (record["scope"], record["profile"], record["owner"]) == ("event/1", "photos", "alice")
    assert record["key"].startswith("photos/event/1/")
    thumb, large = record["variants"]["thumb"], record["variants"]["large"]
    assert (thumb["width"], thumb["height"], thumb["contentType"]) == (320, 320, "image/webp")
    assert (large["width"], large["height"], large["contentType"]) == (480, 360, "image/jpeg")
    assert thumb["url"] == f"{photos.public}/derived/photos/{upload_id}/thumb.webp"
    assert record["publicUrl"] == f"{photos.public}/{record['key']}"
    # Anyone may fetch them, with no signature (the bucket policy `bucket setup` wrote); the
    # bucket itself cannot be listed.
    async with httpx.AsyncClient(timeout=10) as anonymous:
        for url in (thumb["url"], large["url"], record["publicUrl"]):
            got = await anonymous.get(url)
            assert got.status_code == 200, (url, got.status_code, got.text)
        got = await anonymous.get(thumb["url"])
        assert got.headers["content-type"] == "image/webp"
        assert got.headers["cache-control"] == PHOTOS.cache_control
        assert (await anonymous.get(f"{photos.public}/")).status_code == 403

    # A second attendee sees it with its title and uploader, and adds one of their own.
    await sign_in(pg, "bob")
    stage_card = card(pg, "Opening keynote")
    await expect(stage_card.locator("h3")).to_have_text("Opening keynote")
    await expect(stage_card.locator("small")).to_contain_text("by alice")
    await expect(stage_card.locator("button.delete")).to_have_count(0)
    await add_photo(pg, crowd, "Questions", "A full room for the questions.")
    await expect(card(pg, "Questions")).to_be_visible()
    await expect(card(pg, "Questions").locator("button.delete")).to_have_count(1)
    # The page looks again until the new photo's thumbnail is made.
    await thumbnails_shown(pg, photos.public, 2)
    await pg.screenshot(path=screenshots / "event-photos.png", full_page=True)
    # A thumbnail opens the large version.
    async with pg.expect_popup() as info:
        await stage_card.locator("img").click()
    tab = await info.value
    await tab.wait_for_load_state()
    assert tab.url == large["url"]
    assert await tab.locator("img").evaluate("(i) => [i.naturalWidth, i.naturalHeight]") == [
        480,
        360,
    ]
    await tab.close()

    # Someone not on the event's list is refused, with the app's own sentence: carol
    # organises the Workshop (no photos yet), not the Keynote.
    await sign_in(pg, "carol")
    await pg.select_option("#event", "2")
    await expect(pg.locator("#photos")).to_have_attribute("data-state", "loaded")
    await expect(pg.locator("#message")).to_have_text("No photos of Workshop yet.")
    await pg.select_option("#event", "1")
    await expect(pg.locator("#photos")).to_have_attribute("data-state", "refused")
    refusal = pg.locator("#message")
    await expect(refusal).to_have_text("Only attendees of Keynote can see its photos.")
    await expect(pg.locator("li.photo")).to_have_count(0)
    await pg.screenshot(path=screenshots / "event-photos-refused.png", full_page=True)
    await add_photo(pg, crowd, "Gatecrasher", "")
    await expect(refusal).to_have_text("Only attendees of Keynote can add photos.")

    # dave attends nothing: refused everywhere.
    await sign_in(pg, "dave")
    await expect(refusal).to_have_text("Only attendees of Keynote can see its photos.")
    await pg.select_option("#event", "2")
    await expect(refusal).to_have_text("Only attendees of Workshop can see its photos.")
    await pg.select_option("#event", "1")

    # The organiser may delete any photo of the event; it disappears.
    await sign_in(pg, "olivia")
    await expect(pg.locator("li.photo button.delete")).to_have_count(2)
    await thumbnails_shown(pg, photos.public, 2)
    await pg.screenshot(path=screenshots / "event-photos-organiser.png", full_page=True)
    await stage_card.locator("button.delete").click()
    await expect(stage_card).to_have_count(0)
    await expect(pg.locator("#message")).to_have_text("Removed “Opening keynote”.")
    await expect(card(pg, "Questions")).to_be_visible()
    await service_record(api, upload_id, status="deleted")
    await app_photo(photos.db, upload_id, "deleted")
    # Its public copies went with it.
    async with httpx.AsyncClient(timeout=10) as anonymous:
        for url in (thumb["url"], large["url"], record["publicUrl"]):
            assert (await anonymous.get(url)).status_code in (403, 404), url

    # Listed again by an attendee, it is gone for everyone.
    await sign_in(pg, "alice")
    await expect(pg.locator("li.photo")).to_have_count(1)
    await expect(card(pg, "Questions")).to_be_visible()
    log.assert_clean()
