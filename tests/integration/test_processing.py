"""Processing against RGW: checked bytes at verification, variants made by workers, and the
bad inputs a photo service meets (all images made by the tests, see tests/images.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import pyvips
from fastapi import FastAPI

from s3upload.processing.worker import Processor
from tests import images
from tests.conftest import TokenFactory
from tests.helpers import assert_error, put_bytes


async def _stored(
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    auth: dict[str, str],
    data: bytes,
    *,
    file_type: str,
    profile: str = "pics",
    name: str = "photo.jpg",
) -> dict[str, Any]:
    """Create, send the bytes, complete: the answer of complete (200 or the 422)."""
    body = {"fileName": name, "fileType": file_type, "fileSize": len(data), "profile": profile}
    created = await client.post("/uploads", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert (await put_bytes(http, created.json(), data)).status_code == 200
    done = await client.post(f"/uploads/{created.json()['id']}/complete", headers=auth)
    return {"id": created.json()["id"], "key": created.json()["key"], "response": done}


def processor(app: FastAPI) -> Processor:
    return Processor(app.state.sessionmaker, app.state.store, app.state.settings)


async def _fetch(http: httpx.AsyncClient, url: str) -> httpx.Response:
    resp = await http.get(url)
    assert resp.status_code == 200, resp.text
    return resp


async def test_a_photo_gets_its_variants_upright_and_without_gps(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    # 600 x 400 stored sideways: EXIF orientation 6 says turn it to 400 x 600.
    data = images.photo(600, 400, orientation=6, gps=True)
    up = await _stored(processing, http, auth, data, file_type="image/jpeg")
    assert up["response"].json()["status"] == "uploaded"
    assert await processor(processing_app).run_once() >= 1
    done = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert done["status"] == "completed", done
    assert done["variants"] == {
        "thumb": {"width": 64, "height": 64, "size": done["variants"]["thumb"]["size"],
                  "contentType": "image/webp", "url": None},
        "large": {"width": 200, "height": 300, "size": done["variants"]["large"]["size"],
                  "contentType": "image/jpeg", "url": None},
    }  # fmt: skip
    assert done["publicUrl"] is None

    signed = await processing.get(f"/files/{up['id']}/variants/large", headers=auth)
    assert signed.status_code == 200, signed.text
    got = await _fetch(http, signed.json()["url"])
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["cache-control"] == "max-age=86400"
    large = pyvips.Image.new_from_buffer(got.content, "")
    assert (large.width, large.height) == (200, 300)  # upright: 400 x 600 at width 200
    assert not [f for f in large.get_fields() if f.startswith("exif-") or f == "orientation"]
    assert len(got.content) == done["variants"]["large"]["size"]
    thumb = await _fetch(
        http,
        (await processing.get(f"/files/{up['id']}/variants/thumb", headers=auth)).json()["url"],
    )
    assert thumb.content[8:12] == b"WEBP"

    # The original is kept as it was sent.
    original = await processing.get(f"/files/{up['id']}/download", headers=auth)
    assert (await _fetch(http, original.json()["url"])).content == data
    assert_error(
        await processing.get(f"/files/{up['id']}/variants/huge", headers=auth),
        404,
        "variant_not_found",
    )


@pytest.mark.parametrize(
    ("make", "file_type", "reason"),
    [
        (images.truncated_photo, "image/jpeg", "the image is corrupt or truncated"),
        (lambda: images.png_claiming(30_000, 30_000), "image/png", "more than the 50000000"),
        (lambda: images.SVG, "image/svg+xml", "SVG images are not rasterized"),
    ],
)
async def test_broken_and_unwanted_images_fail_with_a_reason(
    processing: httpx.AsyncClient,
    processing_app: FastAPI,
    http: httpx.AsyncClient,
    auth,
    make,
    file_type: str,
    reason: str,
) -> None:
    up = await _stored(processing, http, auth, make(), file_type=file_type)
    assert up["response"].status_code == 200, up["response"].text
    await processor(processing_app).run_once()
    done = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert done["status"] == "failed"
    assert reason in done["failureReason"]
    assert done["variants"] is None
    # The original is kept (and its owner may still fetch it to see what went wrong).
    assert await processing_app.state.store.head(up["key"]) is not None


@pytest.mark.parametrize(
    ("make", "file_type", "profile", "size"),
    [
        (images.animated_gif, "image/gif", "pics", (64, 64)),  # its first frame
        (images.cmyk_photo, "image/jpeg", "pics", (64, 64)),  # made sRGB
        (lambda: images.SVG, "image/svg+xml", "vectors", (64, 64)),  # allowed there
    ],
)
async def test_other_images_complete(
    processing: httpx.AsyncClient,
    processing_app: FastAPI,
    http: httpx.AsyncClient,
    auth,
    make,
    file_type: str,
    profile: str,
    size: tuple[int, int],
) -> None:
    up = await _stored(processing, http, auth, make(), file_type=file_type, profile=profile)
    await processor(processing_app).run_once()
    done = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert done["status"] == "completed", done
    thumb = done["variants"]["thumb"]
    assert (thumb["width"], thumb["height"]) == size
    signed = await processing.get(f"/files/{up['id']}/variants/thumb", headers=auth)
    image = pyvips.Image.new_from_buffer((await _fetch(http, signed.json()["url"])).content, "")
    assert image.bands in (3, 4)
    assert image.interpretation == "srgb"


@pytest.mark.parametrize(
    ("data", "file_type", "found"),
    [
        (images.EXE, "image/png", "application/x-dosexec"),
        (images.PDF, "image/png", "application/pdf"),
        (images.png(), "image/jpeg", "image/png"),
    ],
)
async def test_bytes_that_are_not_the_declared_type_fail_verification(
    processing: httpx.AsyncClient,
    processing_app: FastAPI,
    http: httpx.AsyncClient,
    auth,
    data: bytes,
    file_type: str,
    found: str,
) -> None:
    up = await _stored(processing, http, auth, data, file_type=file_type, profile="plain")
    body = assert_error(up["response"], 422, "verification_failed")
    reason = f"type_mismatch: declared {file_type}, found {found}"
    assert body["details"]["reason"] == reason
    got = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert (got["status"], got["failureReason"]) == ("failed", reason)
    assert_error(await processing.get(f"/files/{up['id']}/download", headers=auth), 409)
    # Completing again (as a client does when the store's event verified it first): the
    # conflict says why it failed.
    again = await processing.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert assert_error(again, 409, "invalid_transition")["details"]["reason"] == reason
    assert reason in again.json()["message"]
    # A private profile keeps the object for its owner to look at; nothing serves it.
    assert await processing_app.state.store.head(up["key"]) is not None


async def test_a_public_profiles_failed_file_leaves_the_store_at_once(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    up = await _stored(processing, http, auth, images.EXE, file_type="image/png", profile="gallery")
    assert_error(up["response"], 422, "verification_failed")
    assert await processing_app.state.store.head(up["key"]) is None
    got = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert got["status"] == "failed"  # not turned `deleted` by the store's ObjectRemoved event


async def test_sniffing_profiles_accept_what_they_declare(
    processing: httpx.AsyncClient, http: httpx.AsyncClient, auth
) -> None:
    up = await _stored(processing, http, auth, images.png(), file_type="image/png", profile="plain")
    assert up["response"].json()["status"] == "uploaded"
    plain = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert plain["variants"] is None


async def test_each_file_is_processed_once_by_concurrent_workers(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    import asyncio

    ids = [
        (await _stored(processing, http, auth, images.photo(200, 150), file_type="image/jpeg"))[
            "id"
        ]
        for _ in range(6)
    ]
    counts = await asyncio.gather(*(processor(processing_app).run_once() for _ in range(3)))
    assert sum(counts) >= 6
    for upload_id in ids:
        got = (await processing.get(f"/files/{upload_id}", headers=auth)).json()
        assert got["status"] == "completed"
    # One `upload.processing` and one `upload.completed` event each: claimed once.
    from sqlalchemy import func, select

    from s3upload.db.models import WebhookEvent

    async with processing_app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                select(WebhookEvent.type, func.count())
                .where(WebhookEvent.upload_id.in_([uuid.UUID(i) for i in ids]))
                .group_by(WebhookEvent.type)
            )
        ).all()
    assert dict(rows) == {"upload.uploaded": 6, "upload.processing": 6, "upload.completed": 6}


async def test_a_store_error_is_retried(
    services, processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    from s3upload.store.client import ObjectStore

    up = await _stored(processing, http, auth, images.photo(200, 150), file_type="image/jpeg")
    settings = processing_app.state.settings
    # The same bucket through a port nothing listens on: every call fails to connect.
    broken = ObjectStore(
        settings.s3.model_copy(
            update={"endpoint_url": "http://127.0.0.1:9", "connect_timeout": 0.5, "max_attempts": 1}
        )
    )
    await broken.start()
    try:
        sick = Processor(processing_app.state.sessionmaker, broken, settings)
        claimed = await sick.claim()
        assert claimed is not None
        assert str(claimed.id) == up["id"]
        assert await sick.process(claimed) == "retried"
    finally:
        await broken.close()
    waiting = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert waiting["status"] == "processing"
    assert await processor(processing_app).run_once() >= 1
    done = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert done["status"] == "completed"


async def test_others_cannot_fetch_variants(
    processing: httpx.AsyncClient,
    processing_app: FastAPI,
    http: httpx.AsyncClient,
    auth,
    auth_for: TokenFactory,
) -> None:
    up = await _stored(processing, http, auth, images.photo(200, 150), file_type="image/jpeg")
    await processor(processing_app).run_once()
    stranger = await processing.get(f"/files/{up['id']}/variants/thumb", headers=auth_for("x"))
    assert_error(stranger, 404, "not_found")
    worker = auth_for("w", roles=["processor"])
    assert (await processing.get(f"/files/{up['id']}/variants/thumb", headers=worker)).is_success


async def test_deleting_a_file_removes_its_variants(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    up = await _stored(processing, http, auth, images.photo(200, 150), file_type="image/jpeg")
    await processor(processing_app).run_once()
    store = processing_app.state.store
    settings = processing_app.state.settings
    prefix = settings.derived_prefix(settings.profiles["pics"])
    keys = [f"{prefix}/{up['id']}/thumb.webp", f"{prefix}/{up['id']}/large.jpg"]
    assert all([await store.head(k) is not None for k in keys])
    assert (await processing.delete(f"/files/{up['id']}", headers=auth)).status_code == 204
    assert all([await store.head(k) is None for k in [up["key"], *keys]])


async def test_public_files_are_served_to_anyone_and_private_ones_are_not(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    public = await _stored(
        processing, http, auth, images.photo(300, 200), file_type="image/jpeg", profile="gallery"
    )
    private = await _stored(processing, http, auth, images.photo(300, 200), file_type="image/jpeg")
    # Verified, not yet processed: the original is public already, no variants yet.
    uploaded = (await processing.get(f"/files/{public['id']}", headers=auth)).json()
    assert uploaded["publicUrl"] == processing_app.state.store.signer.object_url(public["key"])
    await processor(processing_app).run_once()
    done = (await processing.get(f"/files/{public['id']}", headers=auth)).json()
    assert done["status"] == "completed"
    cache = "public, max-age=31536000, immutable"
    async with httpx.AsyncClient(timeout=30) as anonymous:  # no credentials of any kind
        original = await anonymous.get(done["publicUrl"])
        assert original.status_code == 200
        assert original.headers["cache-control"] == cache
        for variant in done["variants"].values():
            got = await anonymous.get(variant["url"])
            assert got.status_code == 200
            assert got.headers["content-type"] == variant["contentType"]
            assert got.headers["cache-control"] == cache
        kept = (await processing.get(f"/files/{private['id']}", headers=auth)).json()
        assert kept["publicUrl"] is None
        url = processing_app.state.store.signer.object_url(private["key"])
        assert (await anonymous.get(url)).status_code == 403


async def test_a_worker_that_lost_its_file_changes_nothing(
    processing: httpx.AsyncClient, processing_app: FastAPI, http: httpx.AsyncClient, auth
) -> None:
    """Two workers holding the same file (SQLite has no row locks; a slow worker may outlive
    its lease): the one whose lease was taken over neither ends the file nor removes the
    variants its successor wrote."""
    from datetime import timedelta

    from sqlalchemy import update

    from s3upload.db.models import Upload

    up = await _stored(processing, http, auth, images.photo(200, 150), file_type="image/jpeg")
    slow, fast = processor(processing_app), processor(processing_app)
    first = await slow.claim()
    assert first is not None
    assert str(first.id) == up["id"]
    assert await fast.claim() is None  # held
    async with processing_app.state.sessionmaker() as session, session.begin():
        await session.execute(  # the slow worker's lease runs out
            update(Upload)
            .where(Upload.id == first.id)
            .values(lease_until=first.lease_until - timedelta(hours=1))
        )
    second = await fast.claim()
    assert second is not None
    assert await fast.process(second) == "completed"
    assert await slow.process(first) == "abandoned"
    done = (await processing.get(f"/files/{up['id']}", headers=auth)).json()
    assert done["status"] == "completed"
    signed = await processing.get(f"/files/{up['id']}/variants/thumb", headers=auth)
    assert (await http.get(signed.json()["url"])).status_code == 200
