"""`s3upload process` workers as separate processes: one killed with -9 mid-file leaves the
file to another once its lease ends, and the file is still processed exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from s3upload.db.models import WebhookEvent
from s3upload.processing.worker import Processor
from tests import images
from tests.conftest import TEST_SECRET, Services
from tests.helpers import put_bytes
from tests.integration.conftest import PROCESSING_PROFILES

LEASE = 10  # the shortest PROCESS_LEASE allowed


def _worker_env(services: Services) -> dict[str, str]:
    profiles = {name: p.model_dump(exclude_none=True) for name, p in PROCESSING_PROFILES.items()}
    # A slow variant, so the worker is surely mid-file when it is killed.
    profiles["pics"]["variants"]["slow"] = {"width": 2400, "format": "avif", "quality": 60}
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("S3UPLOAD_")},
        "ENVIRONMENT": "test",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": services.database_url,
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": "test-processing",
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "PROFILES": json.dumps(profiles),
        "PROCESS_LEASE": str(LEASE),
        "PROCESS_POLL": "0.1",
        "PROCESS_CONCURRENCY": "1",
    }


async def test_a_killed_worker_leaves_its_file_to_another(
    services: Services,
    processing: httpx.AsyncClient,
    processing_app: FastAPI,
    http: httpx.AsyncClient,
    auth,
) -> None:
    data = images.photo(4000, 3000)
    body = {"fileName": "big.jpg", "fileType": "image/jpeg", "fileSize": len(data)}
    created = await processing.post("/uploads", json={**body, "profile": "pics"}, headers=auth)
    upload_id = created.json()["id"]
    assert (await put_bytes(http, created.json(), data)).status_code == 200
    done = await processing.post(f"/uploads/{upload_id}/complete", headers=auth)
    assert done.json()["status"] == "uploaded"

    cmd = [sys.executable, "-m", "s3upload.cli", "process"]
    worker = subprocess.Popen(cmd, env=_worker_env(services))  # noqa: ASYNC220
    try:
        status = ""
        for _ in range(300):
            status = (await processing.get(f"/files/{upload_id}", headers=auth)).json()["status"]
            if status != "uploaded":
                break
            await asyncio.sleep(0.05)
        assert status == "processing"
        await asyncio.sleep(0.5)  # inside the file's variants
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    got = (await processing.get(f"/files/{upload_id}", headers=auth)).json()
    assert got["status"] == "processing"

    # Another worker leaves it alone while the dead one's lease lasts, then takes it over.
    other = Processor(
        processing_app.state.sessionmaker, processing_app.state.store, processing_app.state.settings
    )
    assert await other.claim() is None
    for _ in range(LEASE * 10 + 50):
        taken = await other.claim()
        if taken is not None:
            break
        await asyncio.sleep(0.1)
    assert taken is not None
    assert str(taken.id) == upload_id
    assert await other.process(taken) == "completed"
    final = (await processing.get(f"/files/{upload_id}", headers=auth)).json()
    assert final["status"] == "completed"
    async with processing_app.state.sessionmaker() as session:
        kinds = (
            await session.execute(
                select(WebhookEvent.type, func.count())
                .where(WebhookEvent.upload_id == uuid.UUID(upload_id))
                .group_by(WebhookEvent.type)
            )
        ).all()
    assert dict(kinds) == {"upload.uploaded": 1, "upload.processing": 1, "upload.completed": 1}
