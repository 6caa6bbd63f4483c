"""The service with two comparison routes, for throughput benchmarks only.

`POST /bench/noop` verifies the bearer token and answers a constant: the framework's ceiling.
`POST /bench/sign` also validates the create body and signs a PUT URL, without the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request

from s3upload.app import app_from_env
from s3upload.auth.deps import CurrentUser
from s3upload.db.records import utcnow
from s3upload.uploads.schemas import CreateUpload


def create() -> FastAPI:
    """The production app plus the comparison routes."""
    app = app_from_env()

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(user: CurrentUser) -> dict[str, Any]:
        return {"ok": True, "owner": user.owner}

    @app.post("/bench/sign", include_in_schema=False)
    async def sign(body: CreateUpload, request: Request, user: CurrentUser) -> dict[str, Any]:
        store = request.app.state.store
        creds = await store.credentials()
        key = f"{user.owner}/{uuid.uuid4()}/{body.file_name}"
        url = store.signer.presign(
            key,
            creds=creds,
            method="PUT",
            headers={"Content-Type": body.file_type, "Content-Length": str(body.file_size)},
            expires_in=900,
            now=utcnow(),
        )
        return {"key": key, "url": url}

    return app
