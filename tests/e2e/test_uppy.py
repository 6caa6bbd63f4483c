"""The /demo/uppy page: Uppy's own Dashboard and @uppy/aws-s3 (from npm) against the service."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.e2e.helpers import BigFile, MiB, PageLog, by_name, open_demo, png, stored_sha256


async def test_uppy_dashboard_uploads_big_and_small_files(
    page: tuple[Page, PageLog],
    base_url: str,
    token: str,
    api: httpx.AsyncClient,
    big_file: BigFile,
    uppy_built: Path,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    pg, log = page
    await open_demo(pg, base_url, token, "/demo/uppy")
    await expect(pg.locator("body")).to_have_attribute("data-uppy", "ready")
    small = tmp_path / "photo.png"
    small.write_bytes(png(80, 60))

    await pg.set_input_files("input.uppy-Dashboard-input >> nth=0", [big_file.path, small])
    await pg.locator("button.uppy-StatusBar-actionBtn--upload").click()

    for name in ("big.bin", "photo.png"):
        result = pg.locator(f'#results li[data-name="{name}"]')
        await expect(result).to_have_count(1, timeout=180_000)
        await expect(result).to_have_attribute("data-status", "uploaded", timeout=1000)
    await expect(pg.locator(".uppy-StatusBar")).to_contain_text("Complete")
    await pg.screenshot(path=screenshots / "demo-uppy.png", full_page=True)

    items = (await api.get("/files")).json()["items"]
    big = by_name(items, "big.bin")
    assert (big["status"], big["strategy"], big["fileSize"]) == ("uploaded", "multipart", 150 * MiB)
    assert await stored_sha256(api, big["id"]) == big_file.sha256
    photo = by_name(items, "photo.png")
    # A single PUT (Uppy was given the size), reported done by the page through /file-status.
    assert (photo["status"], photo["strategy"], photo["fileSize"], photo["fileType"]) == (
        "uploaded",
        "single",
        small.stat().st_size,
        "image/png",
    )
    log.assert_clean()


async def test_uppy_page_without_the_bundle_says_how_to_build_it(
    base_url: str, api: httpx.AsyncClient
) -> None:
    resp = await api.get("/demo/uppy/dist/nothing.js")
    assert resp.status_code == 404
    page = await api.get("/demo/uppy")
    assert "scripts/build-uppy.sh" in page.text
