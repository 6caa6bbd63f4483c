"""The /demo page in Chromium: drop and pick files, progress, download, resume, cancel, errors,
and the variants the service makes of an image."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from playwright.async_api import Page, Route, expect

from s3upload.app import create_app
from s3upload.settings import Profile
from s3upload.store import bucket
from tests.conftest import PROFILES, Services, make_settings
from tests.e2e.helpers import (
    BigFile,
    MiB,
    PageLog,
    by_name,
    open_demo,
    part_number,
    stored_sha256,
)
from tests.helpers import free_port, serving
from tests.images import truncated_photo

UPLOAD_TIMEOUT = 180_000  # ms; 150 MiB through RGW on a small machine
EXPIRED = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    "<Message>Request has expired</Message></Error>"
)


def pattern(size: int) -> bytes:
    """The bytes `drop_file` makes in the page."""
    return bytes((i * 31 + 7) % 251 for i in range(size))


async def drop_file(page: Page, name: str, mime: str, size: int) -> None:
    """Drop a file made in the page onto the drop zone, as a drag and drop from the desktop."""
    transfer = await page.evaluate_handle(
        """([name, type, size]) => {
            const bytes = new Uint8Array(size);
            for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type }));
            return dt;
        }""",
        [name, mime, size],
    )
    await page.dispatch_event("#drop", "dragenter", {"dataTransfer": transfer})
    await page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


def row(page: Page, name: str) -> Any:
    """The progress row of a file in the uploads list."""
    return page.locator(f'li.upload[data-name="{name}"]')


def listed(page: Page, name: str) -> Any:
    """The row of a file in the list of my files."""
    return page.locator(f'#file-list tr[data-name="{name}"]')


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for a condition the test's own handlers make true."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def wait_for_parts(api: httpx.AsyncClient, upload_id: str, want: set[int]) -> None:
    """Until the store holds exactly these parts of the upload (GET /uploads/{id})."""
    parts: set[int] = set()
    for _ in range(600):
        resp = await api.get(f"/uploads/{upload_id}")
        parts = {p["partNumber"] for p in resp.json().get("uploadedParts") or []}
        if parts == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the store holds parts {sorted(parts)}, not {sorted(want)}")


async def test_drop_and_pick_files_progress_list_download(
    page: tuple[Page, PageLog],
    base_url: str,
    token: str,
    api: httpx.AsyncClient,
    big_file: BigFile,
    screenshots: Path,
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token)
    await drop_file(pg, "notes.txt", "text/plain", 300_000)
    await pg.set_input_files("#files", big_file.path)

    for name in ("notes.txt", "big.bin"):
        await expect(row(pg, name)).to_have_attribute(
            "data-state", "uploaded", timeout=UPLOAD_TIMEOUT
        )
        await expect(row(pg, name).locator(".pct")).to_have_text("100 %")
        await expect(listed(pg, name)).to_have_attribute("data-status", "uploaded")
    await expect(row(pg, "big.bin").locator(".note")).to_have_text("30 parts")
    await expect(pg.locator("#overall-bar")).to_have_attribute("style", re.compile(r"width: 100%"))
    await expect(pg.locator("#overall-text")).to_contain_text("100 %")
    await pg.screenshot(path=screenshots / "demo.png", full_page=True)

    items = (await api.get("/files")).json()["items"]
    big = by_name(items, "big.bin")
    assert (big["status"], big["strategy"], big["fileSize"]) == ("uploaded", "multipart", 150 * MiB)
    small = by_name(items, "notes.txt")
    assert (small["status"], small["strategy"], small["fileType"]) == (
        "uploaded",
        "single",
        "text/plain",
    )
    assert await stored_sha256(api, big["id"]) == big_file.sha256

    # Download through the page: GET /files/{id}/download, then the browser follows the URL.
    async with pg.expect_download() as info:
        await listed(pg, "notes.txt").locator("button.download").click()
    download = await info.value
    assert download.suggested_filename == "notes.txt"
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert saved == pattern(300_000)

    # Delete: two clicks (no dialog), then the list shows it deleted.
    delete = listed(pg, "notes.txt").locator("button.delete")
    await delete.click()
    await expect(delete).to_have_text("Confirm")
    await delete.click()
    await expect(listed(pg, "notes.txt")).to_have_attribute("data-status", "deleted")
    assert (await api.get(f"/files/{small['id']}")).json()["status"] == "deleted"
    log.assert_clean()


async def test_reload_midway_resumes_without_sending_stored_parts(
    page: tuple[Page, PageLog],
    base_url: str,
    token: str,
    api: httpx.AsyncClient,
    big_file: BigFile,
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token)
    held: list[Route] = []
    reloading = False

    async def stop_after_six(route: Route) -> None:
        n = part_number(route.request.url)
        if route.request.method == "PUT" and n is not None and n > 6:
            if reloading:  # a retry from the page being left: it must not reach the store
                await route.abort()
            else:
                held.append(route)  # never answered: in flight when the page reloads
        else:
            await route.continue_()

    await pg.route(lambda url: "partNumber=" in url, stop_after_six)
    await pg.set_input_files("#files", big_file.path)
    await expect(row(pg, "big.bin")).to_have_attribute("data-upload-id", re.compile(".+"))
    upload_id = await row(pg, "big.bin").get_attribute("data-upload-id")
    assert upload_id
    await wait_for_parts(api, upload_id, set(range(1, 7)))
    await until(lambda: len(held) >= 4)  # the workers are all stuck on parts 7+
    big = row(pg, "big.bin")
    await expect(big.locator(".pct")).to_have_text(re.compile(r"^\d+ %$"))
    await expect(big.locator(".speed")).to_have_text(re.compile(r"^[\d.]+ (B|KiB|MiB|GiB)/s$"))
    await expect(big.locator(".eta")).to_have_text(re.compile(r" left$"))

    # Reload with the route still in place: removing it first would let the held requests
    # go on to the store before the page is gone (parts 7+ then stored, now and then).
    reloading = True
    await pg.reload()
    for route in held:
        with contextlib.suppress(Exception):  # the reload already cancelled it
            await route.abort()
    await pg.unroute_all(behavior="ignoreErrors")
    # Still pending, parts 1-6 in the store: the upload survives the page.
    before = (await api.get(f"/uploads/{upload_id}")).json()
    assert before["status"] == "pending"
    assert [p["partNumber"] for p in before["uploadedParts"]] == list(range(1, 7))

    sent: list[int] = []
    pg.on(
        "request",
        lambda r: sent.append(n) if r.method == "PUT" and (n := part_number(r.url)) else None,
    )
    # The token survived the reload (localStorage); add the same file again.
    await expect(pg.locator("#token")).to_have_value(token)
    await pg.set_input_files("#files", big_file.path)
    big = row(pg, "big.bin")
    await expect(big).to_have_attribute("data-state", "uploaded", timeout=UPLOAD_TIMEOUT)
    assert await big.get_attribute("data-upload-id") == upload_id
    await expect(big.locator(".note")).to_contain_text("resumed, 6 already stored")
    assert sorted(sent) == list(range(7, 31)), "stored parts were sent again"

    after = (await api.get(f"/uploads/{upload_id}")).json()
    assert after["status"] == "uploaded"
    assert after["uploadedParts"] is None
    assert await stored_sha256(api, upload_id) == big_file.sha256
    # One record for the file, not a second upload.
    items = (await api.get("/files")).json()["items"]
    assert [i["id"] for i in items if i["fileName"] == "big.bin"] == [upload_id]
    log.assert_clean()


async def test_cancel_aborts_the_upload(
    page: tuple[Page, PageLog],
    base_url: str,
    token: str,
    api: httpx.AsyncClient,
    big_file: BigFile,
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token)
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # parts never finish

    await pg.route(lambda url: "partNumber=" in url, hold)
    await pg.set_input_files("#files", big_file.path)
    big = row(pg, "big.bin")
    await expect(big).to_have_attribute("data-state", "uploading")
    await until(lambda: bool(held))
    upload_id = await big.get_attribute("data-upload-id")

    await big.locator("button.cancel").click()
    await expect(big).to_have_attribute("data-state", "aborted")
    await expect(big.locator("button.cancel")).to_be_hidden()
    await expect(listed(pg, "big.bin")).to_have_attribute("data-status", "aborted")
    record = (await api.get(f"/files/{upload_id}")).json()
    assert record["status"] == "aborted"
    # Nothing left to resume.
    keys = await pg.evaluate("Object.keys(localStorage).filter(k => k.startsWith('s3upload:'))")
    assert keys == []
    await pg.unroute_all(behavior="ignoreErrors")
    log.assert_clean()


async def test_refused_files_show_the_services_message(
    page: tuple[Page, PageLog], base_url: str, token: str, api: httpx.AsyncClient
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token)
    await pg.select_option("#profile", "images")
    await expect(pg.locator("#profile-hint")).to_contain_text("image/*")

    await drop_file(pg, "notes.txt", "text/plain", 1000)
    refused = await api.post(
        "/uploads",
        json={
            "fileName": "notes.txt",
            "fileType": "text/plain",
            "fileSize": 1000,
            "profile": "images",
        },
    )
    assert refused.status_code == 415
    error = row(pg, "notes.txt").locator(".error")
    await expect(row(pg, "notes.txt")).to_have_attribute("data-state", "failed")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text(refused.json()["message"])
    await expect(error.locator(".code")).to_have_text("415")

    await drop_file(pg, "huge.png", "image/png", 11 * MiB)
    too_big = await api.post(
        "/uploads",
        json={
            "fileName": "huge.png",
            "fileType": "image/png",
            "fileSize": 11 * MiB,
            "profile": "images",
        },
    )
    assert too_big.status_code == 413
    error = row(pg, "huge.png").locator(".error")
    await expect(error).to_contain_text(too_big.json()["message"])
    await expect(error.locator(".code")).to_have_text("413")
    # Nothing was recorded for either.
    assert (await api.get("/files")).json()["items"] == []
    log.assert_clean()


async def test_network_errors_are_retried_and_expired_urls_signed_again(
    page: tuple[Page, PageLog], base_url: str, token: str, api: httpx.AsyncClient
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token)
    attempts: Counter[int] = Counter()

    async def flaky(route: Route) -> None:
        n = part_number(route.request.url)
        if route.request.method != "PUT" or n is None:
            await route.continue_()
            return
        attempts[n] += 1
        if n == 2 and attempts[n] == 1:
            await route.abort("connectionreset")
        elif n == 3 and attempts[n] == 1:
            await route.fulfill(
                status=403,
                content_type="application/xml",
                headers={"Access-Control-Allow-Origin": base_url},
                body=EXPIRED,
            )
        else:
            await route.continue_()

    signed: list[Any] = []
    pg.on(
        "request",
        lambda r: signed.append(r.post_data_json) if r.url.endswith("/parts") else None,
    )
    await pg.route(lambda url: "partNumber=" in url, flaky)
    data = hashlib.sha256(b"seed").digest() * (16 * MiB // 32)
    payload = {"name": "flaky.bin", "mimeType": "application/octet-stream", "buffer": data}
    await pg.set_input_files("#files", files=[payload])
    flaky_row = row(pg, "flaky.bin")
    await expect(flaky_row).to_have_attribute("data-state", "uploaded", timeout=60_000)
    assert attempts == {1: 1, 2: 2, 3: 2, 4: 1}
    # The first batch of URLs came with the create; only the expired one was signed again.
    assert signed == [{"partNumbers": [3]}]
    upload_id = await flaky_row.get_attribute("data-upload-id")
    assert upload_id
    assert await stored_sha256(api, upload_id) == hashlib.sha256(data).hexdigest()
    log.assert_clean()


# `make run`'s images profile: a square thumbnail and a large version of every image.
IMAGES = Profile(
    allowed_types=["image/*"],
    max_size=10 * MiB,
    variants={
        "thumb": {"width": 256, "height": 256, "fit": "cover", "format": "webp"},
        "large": {"width": 1600, "fit": "inside", "format": "jpeg", "quality": 85},
    },
)


CDN = "https://cdn.example.test/files"


@pytest.fixture(scope="module")
async def variants_url(services: Services, migrated: str) -> AsyncIterator[str]:
    """The service with the images profile making variants, processing in its own task (as
    PROCESS_IN_APP does by default), on a bucket of its own that allows the page's origin."""
    port = free_port()
    settings = make_settings(
        services,
        s3={"bucket": "test-e2e-variants"},
        cors_origins=[f"http://127.0.0.1:{port}"],
        profiles={**PROFILES, "images": IMAGES},
        process={"poll": 0.2},
        # A CDN for public profiles (none here): the page may load images from it too.
        public_base_url=CDN,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await bucket.setup(app.state.store, settings)
        async with serving(app, port) as url:
            yield url


def sunset(width: int, height: int) -> pyvips.Image:
    """An upright picture to look at in the screenshot: a sky fading to dusk, a sun, a hill."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    fade = 1 - 0.6 * y / height
    sky = (fade * 90).bandjoin([fade * 125, fade * 235])
    sun = (x - width * 0.62) ** 2 + (y - height * 0.4) ** 2 < (width * 0.16) ** 2
    hill = y > height * 0.72 + 0.08 * height * ((x - width * 0.3) / width) ** 2 * 4
    image = hill.ifthenelse([46, 84, 58], sun.ifthenelse([255, 212, 96], sky))
    return image.cast("uchar").copy(interpretation="srgb")


def sideways_jpeg() -> bytes:
    """A 800 x 600 JPEG whose EXIF orientation (6) says: turn me 90° clockwise, 600 x 800."""
    image = sunset(600, 800).rot270().copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return bytes(image.jpegsave_buffer(Q=90))


async def test_an_image_shows_its_thumbnail_and_variants_once_processed(
    page: tuple[Page, PageLog],
    services: Services,
    variants_url: str,
    token: str,
    screenshots: Path,
) -> None:
    pg, log = page
    async with httpx.AsyncClient() as http:
        csp = (await http.get(f"{variants_url}/demo")).headers["content-security-policy"]
    img_src = next(d for d in csp.split("; ") if d.startswith("img-src "))
    assert img_src == f"img-src 'self' data: blob: {services.s3_endpoint} https://cdn.example.test"

    photo = await asyncio.to_thread(sideways_jpeg)
    assert pyvips.Image.new_from_buffer(photo, "").get("orientation") == 6
    await open_demo(pg, variants_url, token)
    await pg.select_option("#profile", "images")
    await expect(pg.locator("#profile-hint")).to_contain_text("image: thumb, large")
    await pg.set_input_files(
        "#files",
        files=[
            {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": truncated_photo()},
            {"name": "sunset.jpg", "mimeType": "image/jpeg", "buffer": photo},
        ],
    )
    for name in ("broken.jpg", "sunset.jpg"):
        await expect(row(pg, name)).to_have_attribute("data-state", "uploaded")

    # The list looks again by itself until the variants are made: no click on Refresh.
    sunset_row = listed(pg, "sunset.jpg")
    await expect(sunset_row).to_have_attribute("data-status", "completed", timeout=30_000)
    thumb = sunset_row.locator("img.thumb")
    await expect(thumb).to_have_attribute("data-variant", "thumb")
    await thumb.evaluate("(img) => img.decode()")
    size = await thumb.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert size == [256, 256]
    # A signed GET on the store for the thumbnail (the profile is not public).
    src = await thumb.get_attribute("src")
    assert src
    assert "/derived/" in src
    assert "X-Amz-Signature=" in src
    links = sunset_row.locator("a.variant")
    await expect(links).to_have_text(["thumb 256\u00d7256", "large 600\u00d7800"])

    # A failed file says why.
    broken = listed(pg, "broken.jpg")
    await expect(broken).to_have_attribute("data-status", "failed", timeout=30_000)
    await expect(broken.locator(".reason")).to_contain_text("the image is corrupt or truncated")
    await expect(broken.locator("img.thumb")).to_have_count(0)
    await pg.screenshot(path=screenshots / "demo-variants.png", full_page=True)

    # The large version, upright (EXIF orientation applied), in a tab of its own.
    async with pg.expect_popup() as info:
        await links.filter(has_text="large").click()
    tab = await info.value
    await tab.wait_for_url(re.compile(r"/derived/.+/large\.jpg\?"))
    await tab.wait_for_load_state()
    shown = await tab.locator("img").evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert shown == [600, 800]
    await tab.close()
    # Nothing polls once nothing waits for variants.
    calls: list[str] = []
    pg.on("request", lambda r: calls.append(r.url) if "/files?" in r.url else None)
    await asyncio.sleep(2)
    assert calls == []
    log.assert_clean()
