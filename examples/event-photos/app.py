"""Event photos: an application built on the s3upload service.

Attendees add photos to an event; the bytes go from the browser straight to the object store
through the service. The service asks this app who may add, see and remove an event's photos
(POST /hook), and tells it what became of each file (POST /webhooks); the app keeps its own
record of every photo and claims it, so the service keeps it.

Run: `make example`, or with the settings below in the environment, `python app.py`.
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import db
import httpx
import jwt
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HERE = Path(__file__).resolve().parent
SERVICE_URL = os.environ.get("SERVICE_URL", "http://127.0.0.1:8000").rstrip("/")
# Where browsers send bytes and fetch images (RGW here); the page's CSP allows it.
STORE_URL = os.environ.get("STORE_URL", "http://127.0.0.1:7480").rstrip("/")
# Where the photos profile's files and thumbnails are public (the service's PUBLIC_BASE_URL,
# a CDN; by default the bucket's own URL on the store).
PUBLIC_URL = (os.environ.get("PUBLIC_URL") or STORE_URL).rstrip("/")
JWT_SECRET = os.environ["APP_JWT_SECRET"]  # the service's AUTH_JWT_SECRET
HOOK = Webhook(os.environ["HOOK_SECRET"])  # the service's AUTHZ_HOOK_SECRET
WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])  # the secret of this app's entry in WEBHOOKS
DB_PATH = os.environ.get("EVENT_PHOTOS_DB", "event-photos.db")
PROFILE = "photos"  # the service's profile for event photos (PROFILES)
APP_SUBJECT = "event-photos"  # who the app is when it calls the service itself

log = logging.getLogger("event-photos")

REFUSALS = {
    "upload": "Only attendees of {event} can add photos.",
    "read": "Only attendees of {event} can see its photos.",
    "delete": "Only organisers of {event} can remove photos.",
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One database connection and one HTTP client for the app's life."""
    app.state.db = await db.connect(DB_PATH)
    async with httpx.AsyncClient(base_url=SERVICE_URL, timeout=10) as http:
        app.state.http = http
        yield
    await app.state.db.close()


app = FastAPI(title="Event photos", lifespan=lifespan)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def mint(subject: str, roles: list[str] | None = None, ttl: int = 3600) -> str:
    """A token the service accepts: the app is the identity provider of its users."""
    now = int(time.time())
    claims = {"sub": subject, "roles": roles or [], "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a Content-Security-Policy source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def event_of(scope: str | None) -> int | None:
    """The event id of a scope `event/<id>`, else None."""
    kind, _, ident = (scope or "").partition("/")
    return int(ident) if kind == "event" and ident.isdigit() else None


def verified(hook: Webhook, body: bytes, request: Request) -> dict[str, Any]:
    """The JSON of a request the service signed (Standard Webhooks); 401 otherwise."""
    try:
        return dict(hook.verify(body, dict(request.headers)))
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: malformed headers
        raise HTTPException(401, "Bad or missing signature.") from exc


@app.get("/", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    """The page: sign in as a demo user, pick an event, see and add its photos."""
    body = (HERE / "static" / "index.html").read_text(encoding="utf-8")
    body = body.replace("{{SERVICE_URL}}", html.escape(SERVICE_URL))
    service, store = origin(SERVICE_URL), origin(STORE_URL)
    images = " ".join(dict.fromkeys([store, origin(PUBLIC_URL)]))
    # The page holds a bearer token: scripts only from here and the service (the browser
    # client), bytes to the store, images from the public base (thumbnails) and the store
    # (signed download URLs of photos still being processed).
    csp = (
        f"default-src 'self'; script-src 'self' {service}; style-src 'self'; "
        f"connect-src 'self' {service} {store}; img-src 'self' {images}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"})


@app.get("/api/demo")
async def demo(request: Request) -> dict[str, Any]:
    """The demo users and events, with who attends or organises what."""
    return {"users": db.USERS, "events": await db.events(request.app.state.db)}


class Login(BaseModel):
    user: str


@app.post("/login")
async def login(body: Login) -> dict[str, str]:
    """A token for a demo user. No password: a real app signs people in its own way."""
    if body.user not in db.USERS:
        raise HTTPException(404, "No such user.")
    return {"user": body.user, "token": mint(body.user)}


@app.post("/hook")
async def hook(request: Request) -> dict[str, Any]:
    """The service asks: may this user add, see or remove photos of this event?"""
    question = verified(HOOK, await request.body(), request)
    action, subject = question.get("action"), question.get("subject", "")
    event_id = event_of(question.get("scope"))
    if event_id is None:
        return {"allow": False, "message": "Photos belong to an event."}
    name, role = await db.event_and_role(request.app.state.db, event_id, subject)
    if name is None:
        return {"allow": False, "message": f"There is no event {event_id}."}
    if action not in REFUSALS:
        return {"allow": False, "message": f"Unknown action {action!r}."}
    allowed = ("organiser",) if action == "delete" else ("attendee", "organiser")
    if role in allowed:
        log.info("hook: %s may %s in %s", subject, action, question["scope"])
        return {"allow": True}
    log.info("hook: %s may not %s in %s", subject, action, question["scope"])
    return {"allow": False, "message": REFUSALS[action].format(event=name)}


@app.post("/webhooks", status_code=204)
async def webhooks(request: Request) -> Response:
    """The service tells: a photo was uploaded, processed, deleted, expired or failed."""
    event = verified(WEBHOOK, await request.body(), request)
    conn = request.app.state.db
    webhook_id = request.headers["webhook-id"]
    if await db.seen(conn, webhook_id):
        return Response(status_code=204)
    data = event["data"]
    event_id = event_of(data.get("scope"))
    if data.get("profile") == PROFILE and event_id is not None:
        if event["type"] == "upload.uploaded":
            meta = data.get("metadata") or {}
            await db.add_photo(
                conn,
                upload_id=data["id"],
                event_id=event_id,
                owner=data["owner"],
                title=meta.get("title", ""),
                description=meta.get("description", ""),
                created=data["createdAt"],
            )
            await claim(request.app.state.http, data["id"])
            log.info("webhook: %s %s recorded and claimed", event["type"], data["id"])
        else:
            await db.set_status(conn, data["id"], data["status"])
            log.info("webhook: %s %s", event["type"], data["id"])
    # Only now: a failure above answers 5xx, and the service sends the event again.
    await db.mark_seen(conn, webhook_id)
    return Response(status_code=204)


async def claim(http: httpx.AsyncClient, upload_id: str) -> None:
    """Claim a recorded photo, so the service's sweeper does not remove it (claim_within)."""
    token = mint(APP_SUBJECT, roles=["processor"], ttl=300)
    resp = await http.post(
        f"/files/{upload_id}/claim", headers={"Authorization": f"Bearer {token}"}
    )
    if resp.status_code in (404, 409):
        # Gone or no longer claimable (deleted meanwhile): its own event follows.
        log.warning("claim of %s: %s %s", upload_id, resp.status_code, resp.text)
    elif resp.status_code != 200:
        raise HTTPException(503, f"Could not claim {upload_id}: {resp.status_code}")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


if __name__ == "__main__":
    # One line per decision and per event instead of an access log: what the demo is about.
    logging.basicConfig(level=logging.INFO, format="event-photos: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(
        app,
        host=os.environ.get("APP_HOST", "127.0.0.1"),
        port=int(os.environ.get("APP_PORT", "8100")),
        access_log=False,
    )
