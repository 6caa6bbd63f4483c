"""Claims: a profile's finished files are temporary until the application claims them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from s3upload.events.sweeper import sweep
from tests.conftest import TokenFactory
from tests.helpers import assert_error, put_bytes
from tests.scope_helpers import Hook


async def _held(scoped: httpx.AsyncClient, http: httpx.AsyncClient, auth, scope: str) -> dict:
    body = {
        "fileName": "a.txt",
        "fileType": "text/plain",
        "fileSize": 5,
        "profile": "held",
        "scope": scope,
    }
    up = await scoped.post("/uploads", json=body, headers=auth)
    assert up.status_code == 201, up.text
    assert up.json()["claimDeadline"] is None  # not before it is finished
    assert (await put_bytes(http, up.json(), b"hello")).status_code == 200
    done = await scoped.post(f"/uploads/{up.json()['id']}/complete", headers=auth)
    assert done.status_code == 200
    return dict(done.json())


async def test_unclaimed_files_expire_and_claimed_ones_stay(
    scoped: httpx.AsyncClient,
    scoped_app: FastAPI,
    http: httpx.AsyncClient,
    hook: Hook,
    auth_for: TokenFactory,
) -> None:
    scope = f"event2/{uuid.uuid4().hex[:8]}"
    alice, bob, app_user = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "bob", "app"))
    hook.grant(alice, scope, "upload", "read")
    hook.grant(bob, scope, "read")
    kept = await _held(scoped, http, auth_for(alice), scope)
    dropped = await _held(scoped, http, auth_for(alice), scope)
    verified_at = datetime.fromisoformat(kept["uploadedAt"])
    assert datetime.fromisoformat(kept["claimDeadline"]) == verified_at + timedelta(seconds=1)
    assert kept["claimed"] is False

    # A reader may not claim; a processor may, and claiming twice is the same.
    assert_error(await scoped.post(f"/files/{kept['id']}/claim", headers=auth_for(bob)), 403)
    processor = auth_for(app_user, roles=["processor"])
    first = await scoped.post(f"/files/{kept['id']}/claim", headers=processor)
    assert first.status_code == 200, first.text
    assert first.json()["claimed"] is True
    assert first.json()["claimDeadline"] is None
    again = await scoped.post(f"/files/{kept['id']}/claim", headers=processor)
    assert again.json() == first.json()

    store = scoped_app.state.store
    later = datetime.fromisoformat(dropped["claimDeadline"]) + timedelta(seconds=1)
    report = await sweep(
        sessionmaker=scoped_app.state.sessionmaker,
        store=store,
        settings=scoped_app.state.settings.sweep,
        now=later,
    )
    mine = [a for a in report if a.upload_id in (kept["id"], dropped["id"])]
    assert [(a.upload_id, a.action) for a in mine] == [
        (dropped["id"], "expired"),
        (dropped["id"], "removed"),
    ]
    gone = (await scoped.get(f"/files/{dropped['id']}", headers=auth_for(alice))).json()
    assert gone["status"] == "expired"
    assert gone["failureReason"] == "unclaimed"
    assert await store.head(dropped["key"]) is None
    assert await store.head(kept["key"]) is not None
    assert (await scoped.get(f"/files/{kept['id']}", headers=auth_for(alice))).json()[
        "status"
    ] == "uploaded"
    late = await scoped.post(f"/files/{dropped['id']}/claim", headers=processor)
    assert_error(late, 409, "invalid_transition")
    # Nothing left for the next sweep.
    again_report = await sweep(
        sessionmaker=scoped_app.state.sessionmaker,
        store=store,
        settings=scoped_app.state.settings.sweep,
        now=later,
    )
    assert not [a for a in again_report if a.upload_id == dropped["id"]]


async def test_uploaders_of_the_scope_claim_and_strangers_cannot(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope = f"event2/{uuid.uuid4().hex[:8]}"
    alice, carol, dave = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "carol", "dave"))
    hook.grant(alice, scope, "upload")
    hook.grant(carol, scope, "upload")
    held = await _held(scoped, http, auth_for(alice), scope)
    assert_error(await scoped.post(f"/files/{held['id']}/claim", headers=auth_for(dave)), 404)
    claimed = await scoped.post(f"/files/{held['id']}/claim", headers=auth_for(carol))
    assert claimed.status_code == 200
    assert claimed.json()["claimed"] is True
