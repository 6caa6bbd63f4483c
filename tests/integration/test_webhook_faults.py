"""Webhooks out under faults, against real processes: a receiver that goes away, hangs or
drops the connection, deliverer processes side by side, a service killed with SIGKILL,
secret rotation, what operators see and do, processors, and pruning."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from s3upload.app import create_app
from s3upload.db.models import WebhookDelivery, WebhookEvent
from s3upload.db.records import utcnow
from s3upload.settings import DeliverySettings, WebhookEndpoint
from s3upload.signatures import headers
from s3upload.webhooks.admin import DeliveryRow, list_deliveries
from s3upload.webhooks.delivery import Deliverer
from tests.conftest import BUCKET, EVENTS_SECRET, ROOT, TEST_SECRET, Services, make_settings
from tests.helpers import create, free_port, put_bytes
from tests.webhook_helpers import SECRET, Receiver, arrived, drain_outbox, start_receiver

OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-webhook-secret-32by").decode()
DATA = b"fault body " * 100
CLI = [sys.executable, "-m", "s3upload.cli"]
FAST = {"poll": 0.05, "backoff": [0.3] * 10, "timeout": 1, "lease": 2}


# --- set-up ---------------------------------------------------------------------------------


@pytest.fixture
async def quiet_outbox(app: FastAPI) -> None:
    """Events other tests left behind go to no endpoint (see `drain_outbox`)."""
    await drain_outbox(app.state.sessionmaker)


@pytest.fixture
def receiver(tmp_path: Path, quiet_outbox: None) -> Iterator[Receiver]:
    rx = start_receiver(tmp_path, free_port(), SECRET)
    try:
        yield rx
    finally:
        rx.stop()


def revive(rx: Receiver, *secrets: str) -> None:
    """Start the receiver again on its port, going on with its file."""
    rx.proc = start_receiver(rx.out.parent, urlsplit(rx.url).port or 0, *secrets).proc


@asynccontextmanager
async def delivering(
    services: Services, url: str, secret: str | list[str] = SECRET, **delivery: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with webhooks to `url` (delivered by its own task unless in_app=False)."""
    settings = make_settings(
        services,
        webhooks=[{"url": url, "secret": secret}],
        delivery={**FAST, **delivery},
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


def service_env(services: Services, url: str, **extra: str) -> dict[str, str]:
    """The environment of an `s3upload` process against this run's servers."""
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": services.database_url,
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": BUCKET,
        "S3_CHECKSUM_ALGORITHMS": '["MD5"]',
        "S3_HEALTH_TTL": "0",
        "EVENTS_SECRET": EVENTS_SECRET,
        "LIMITS_ENABLED": "false",
        "WEBHOOKS": json.dumps([{"url": url, "secret": SECRET}]),
        "DELIVERY_POLL": str(FAST["poll"]),
        "DELIVERY_BACKOFF": json.dumps(FAST["backoff"]),
        "DELIVERY_TIMEOUT": str(FAST["timeout"]),
        "DELIVERY_LEASE": str(FAST["lease"]),
        **extra,
    }


async def cli(env: dict[str, str], *args: str) -> str:
    """Run an `s3upload` command to the end (the event loop keeps running meanwhile)."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start an `s3upload` process (stopped by `stop`)."""
    return subprocess.Popen([*CLI, *args], env=env, cwd=ROOT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process this test started (if still running)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def until(check: Callable[[], Any], seconds: float = 10, what: str = "") -> Any:
    """Poll `check` (sync or async) until it returns something true; fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.05)


async def uploaded(client: httpx.AsyncClient, auth: dict[str, str], http: httpx.AsyncClient) -> str:
    """A new upload, its bytes in the store and completed: `upload.uploaded`."""
    up = await create(client, auth, fileSize=len(DATA))
    assert (await put_bytes(http, up, DATA)).status_code == 200
    done = await client.post(f"/uploads/{up['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "uploaded"
    return str(up["id"])


async def set_status(client: httpx.AsyncClient, processor: dict[str, str], uid: str, status: str):
    resp = await client.put("/file-status", json={"id": uid, "status": status}, headers=processor)
    assert resp.status_code == 200, resp.text


async def deliveries(app: FastAPI, url: str, upload_ids: set[str]) -> list[DeliveryRow]:
    rows = await list_deliveries(app.state.sessionmaker, limit=5000)
    return [r for r in rows if r.endpoint == url and r.upload_id in upload_ids]


def received(rx: Receiver, upload_ids: set[str]) -> list[dict]:
    return [r for r in rx.got() if r["body"]["data"]["id"] in upload_ids]


def metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


# --- 1. the receiver is down for a while ----------------------------------------------------


async def test_receiver_down_then_back_gets_every_event_in_order(
    services, app, receiver, auth, auth_for, http
):
    receiver.stop()
    processor = auth_for("worker-faults", roles=["processor"])
    made: dict[str, list[str]] = {}
    async with delivering(services, receiver.url) as (application, client):
        for _ in range(4):
            made[await uploaded(client, auth, http)] = ["upload.uploaded"]
        ids = list(made)
        for status in ("processing", "completed"):  # interleaved across uploads
            for uid in ids[:3]:
                await set_status(client, processor, uid, status)
                made[uid].append(f"upload.{status}")
        for uid in ids[1:]:
            assert (await client.delete(f"/files/{uid}", headers=auth)).status_code == 204
            made[uid].append("upload.deleted")
        cancelled = await create(client, auth, fileSize=len(DATA))
        assert (await client.delete(f"/uploads/{cancelled['id']}", headers=auth)).status_code == 204
        made[cancelled["id"]] = ["upload.aborted"]

        # Past a couple of backoff steps (0.3 s): every first event retried, none given up.
        rows = await until(
            lambda: _retried(application, receiver.url, set(made)), what="retries while down"
        )
        assert all(r.status == "pending" for r in rows)
        assert any("Connect" in (r.last_error or "") for r in rows)
        assert not received(receiver, set(made))

        revive(receiver, SECRET)
        for uid, want in made.items():
            assert await arrived(receiver, uid, want) == want
        got = received(receiver, set(made))
        assert all(r["mode"] == "ok" and r["verified"] == [True] for r in got)
        ids_seen = [r["id"] for r in got]
        assert len(ids_seen) == len(set(ids_seen)) == sum(len(w) for w in made.values())
        rows = await deliveries(application, receiver.url, set(made))
        assert len(rows) == len(ids_seen)
        assert {r.status for r in rows} == {"delivered"}


async def _retried(app: FastAPI, url: str, upload_ids: set[str]) -> list[DeliveryRow] | None:
    rows = await deliveries(app, url, upload_ids)
    firsts = [r for r in rows if r.attempts > 0]
    # One first event per upload is tried; the others wait behind it.
    if len(firsts) == len(upload_ids) and min(r.attempts for r in firsts) >= 3:
        return rows
    return None


# --- 2. two deliverer processes -------------------------------------------------------------


async def test_two_deliverer_processes_deliver_everything_once(
    services, app, receiver, auth, auth_for, http
):
    env = service_env(services, receiver.url, DELIVERY_BATCH="5")
    procs = [spawn(["webhooks", "deliver"], env) for _ in range(2)]
    processor = auth_for("worker-two", roles=["processor"])
    made: dict[str, list[str]] = {}

    async def full_life(client: httpx.AsyncClient) -> None:
        uid = await uploaded(client, auth, http)
        made[uid] = ["upload.uploaded"]
        for status in ("processing", "completed"):
            await set_status(client, processor, uid, status)
            made[uid].append(f"upload.{status}")
        assert (await client.delete(f"/files/{uid}", headers=auth)).status_code == 204
        made[uid].append("upload.deleted")

    async def cancelled(client: httpx.AsyncClient) -> None:
        up = await create(client, auth, fileSize=len(DATA))
        assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
        made[up["id"]] = ["upload.aborted"]

    try:
        async with delivering(services, receiver.url, in_app=False) as (application, client):
            assert application.state.settings.delivery.in_app is False
            gate = asyncio.Semaphore(10)

            async def one(work: Callable[[httpx.AsyncClient], Any]) -> None:
                async with gate:
                    await work(client)

            await asyncio.gather(*(one(full_life) for _ in range(40)))
            await asyncio.gather(*(one(cancelled) for _ in range(40)))
        total = sum(len(w) for w in made.values())
        assert total == 200
        await until(lambda: len(received(receiver, set(made))) >= total, 30, "200 deliveries")
        await asyncio.sleep(0.3)  # nothing more after them
        assert all(p.poll() is None for p in procs)  # both still delivering
    finally:
        for proc in procs:
            stop(proc)
    got = received(receiver, set(made))
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) == 200
    assert all(r["mode"] == "ok" and r["verified"] == [True] for r in got)
    for uid, want in made.items():
        assert receiver.events(uid) == want
    rows = await deliveries(app, receiver.url, set(made))
    assert len(rows) == 200
    assert all(r.status == "delivered" and r.attempts == 1 for r in rows)


# --- 3. the service killed right after a change ---------------------------------------------


def wait_ready(base: str, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the service exited"
        with suppress(httpx.TransportError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError("the service did not become ready")


async def test_kill_9_right_after_a_change_loses_no_event(services, app, receiver, auth, http):
    receiver.stop()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(services, receiver.url)
    command = ["serve", "--port", str(port)]
    first = spawn(command, env)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_ready(base, first)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            uid = await uploaded(client, auth, http)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        rows = await list_deliveries(app.state.sessionmaker, limit=5000)
        assert not [r for r in rows if r.upload_id == uid and r.status == "delivered"]

        revive(receiver, SECRET)
        second = spawn(command, env)
        wait_ready(base, second)
        assert await arrived(receiver, uid, ["upload.uploaded"]) == ["upload.uploaded"]
    finally:
        stop(first)
        if second is not None:
            stop(second)
    got = received(receiver, {uid})
    assert len(got) == 1
    assert got[0]["body"]["data"]["status"] == "uploaded"


# --- 4. a receiver that hangs or drops the connection ---------------------------------------


async def test_hanging_or_closing_receiver_is_retried_with_the_same_id(
    services, app, receiver, auth, http
):
    receiver.mode("hang")
    async with delivering(services, receiver.url, timeout=0.5, lease=2, backoff=[0.2] * 20) as (
        application,
        client,
    ):
        uid = await uploaded(client, auth, http)
        mine = {uid}
        await until(lambda: received(receiver, mine), what="the hanging attempt")
        # The attempt gives up after the 0.5 s timeout, and is retried while still hanging.
        await until(lambda: len(received(receiver, mine)) >= 2, what="a retry after the timeout")
        receiver.mode("close")
        await until(
            lambda: any(r["mode"] == "close" for r in received(receiver, mine)), what="close"
        )
        receiver.mode("ok")
        assert await arrived(receiver, uid, ["upload.uploaded"]) == ["upload.uploaded"]
        got = received(receiver, mine)
        modes = [r["mode"] for r in got]
        assert modes[0] == "hang"
        assert "close" in modes
        assert modes[-1] == "ok"
        assert modes.count("ok") == 1
        assert len({r["id"] for r in got}) == 1  # the same webhook-id on every attempt
        [row] = await deliveries(application, receiver.url, mine)
        assert row.status == "delivered"
        assert row.attempts == len(got)  # each attempt was one request, none lost or doubled


# --- 5. secret rotation ---------------------------------------------------------------------


async def test_two_secrets_while_rotating(services, app, quiet_outbox, auth, http, tmp_path):
    rx = start_receiver(tmp_path, free_port(), OLD_SECRET, SECRET)
    try:
        async with delivering(services, rx.url, secret=[OLD_SECRET, SECRET]) as (_, client):
            uid = await uploaded(client, auth, http)
            assert await arrived(rx, uid, ["upload.uploaded"]) == ["upload.uploaded"]
        [got] = received(rx, {uid})
        assert got["verified"] == [True, True]  # each secret alone verifies
    finally:
        rx.stop()
    # And a signature is not accepted under a secret it was not made with.
    body = '{"type":"upload.uploaded"}'
    signed = headers(event_id="msg_x", body=body, secrets=[OLD_SECRET], at=datetime.now(UTC))
    Webhook(OLD_SECRET).verify(body, signed)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, signed)


# --- 6. what operators see and do -----------------------------------------------------------


async def test_failed_delivery_listed_replayed_and_measured(services, app, receiver, auth, http):
    since = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    env = service_env(services, receiver.url)
    failed_metric = 's3upload_webhook_deliveries_total{outcome="failed"}'
    receiver.mode("500")
    async with delivering(services, receiver.url, backoff=[0.1, 0.1]) as (application, client):
        before = metric((await client.get("/metrics")).text, failed_metric) or 0
        uid = await uploaded(client, auth, http)
        await until(
            lambda: _status(application, receiver.url, uid, "failed"), what="failed delivery"
        )

        lines = (await cli(env, "webhooks", "list", "--failed", "--json")).splitlines()
        mine = [r for r in map(json.loads, lines) if r["upload_id"] == uid]
        assert len(mine) == 1
        row = mine[0]
        assert row["status"] == "failed"
        assert row["attempts"] == 3
        assert row["type"] == "upload.uploaded"
        assert row["endpoint"] == receiver.url
        assert row["last_error"].startswith("HTTP 500")
        assert [r["mode"] for r in received(receiver, {uid})] == ["500"] * 3

        text = (await client.get("/metrics")).text
        assert (metric(text, failed_metric) or 0) >= before + 1
        assert metric(text, "s3upload_webhook_oldest_undelivered_seconds") is not None

        receiver.mode("ok")
        out = await cli(env, "webhooks", "replay", str(row["id"]))
        assert out.strip() == "1 delivery(ies) queued again"
        assert await arrived(receiver, uid, ["upload.uploaded"]) == ["upload.uploaded"]
        await until(lambda: _status(application, receiver.url, uid, "delivered"), what="done")

        out = await cli(env, "webhooks", "replay", "--since", since)
        assert int(out.split()[0]) >= 1
        want = ["upload.uploaded"] * 2
        assert await arrived(receiver, uid, want) == want
        later = (datetime.now(UTC) + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
        out = await cli(env, "webhooks", "replay", "--since", later)
        assert out.strip() == "0 delivery(ies) queued again"
    got = received(receiver, {uid})
    assert len({r["id"] for r in got}) == 1  # a replay keeps the event's webhook-id


async def _status(app: FastAPI, url: str, uid: str, status: str) -> bool:
    rows = await deliveries(app, url, {uid})
    return len(rows) == 1 and rows[0].status == status


# --- 7. processors --------------------------------------------------------------------------


async def test_processor_reads_every_owner_and_users_only_their_own(client, auth_for, http):
    alice = auth_for(f"alice-{uuid.uuid4().hex[:8]}")
    bob = auth_for(f"bob-{uuid.uuid4().hex[:8]}")
    processor = auth_for(f"worker-{uuid.uuid4().hex[:8]}", roles=["processor"])
    a = await uploaded(client, alice, http)
    b = await uploaded(client, bob, http)

    async def listed(headers: dict[str, str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        cursor = None
        while True:
            params = {"status": "uploaded", "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = await client.get("/files", params=params, headers=headers)
            assert page.status_code == 200, page.text
            found.update({item["id"]: item for item in page.json()["items"]})
            cursor = page.json()["nextCursor"]
            if not cursor or {a, b} <= set(found):
                return found

    seen = await listed(processor)
    assert {a, b} <= set(seen)
    assert all(item["status"] == "uploaded" for item in seen.values())
    own = await listed(alice)
    assert a in own
    assert b not in own

    dl = await client.get(f"/files/{a}/download", headers=processor)
    assert dl.status_code == 200, dl.text
    fetched = await http.get(dl.json()["url"])
    assert fetched.status_code == 200
    assert fetched.content == DATA
    assert (await client.get(f"/files/{b}", headers=processor)).status_code == 200

    assert (await client.get(f"/files/{a}", headers=bob)).status_code == 404
    assert (await client.get(f"/files/{a}/download", headers=bob)).status_code == 404
    assert (await client.get(f"/files/{a}/download", headers=alice)).status_code == 200


# --- 8. pruning -----------------------------------------------------------------------------


async def test_prune_drops_old_delivered_keeps_pending_and_failed(
    app, client, receiver, auth, http
):
    sm = app.state.sessionmaker
    ok = WebhookEndpoint(url=receiver.url, secret=SECRET)
    dead_failing = WebhookEndpoint(url=f"http://127.0.0.1:{free_port()}/gone", secret=SECRET)
    dead_pending = WebhookEndpoint(
        url=f"http://127.0.0.1:{free_port()}/later", secret=SECRET, events=["upload.deleted"]
    )
    quick = DeliverySettings(poll=0.05, backoff=[0.05], timeout=1, lease=2)
    patient = DeliverySettings(poll=0.05, backoff=[3600], timeout=1, lease=2)

    async def rounds(deliverer: Deliverer, upload_ids: set[str], done: Callable[..., bool]):
        async def check() -> bool:
            await deliverer.run_once()
            return done(await _mine(sm, upload_ids))

        await until(check, what="deliveries settled")

    # E1: delivered to `ok`, failed for `dead_failing`.
    first = Deliverer(sm, [ok, dead_failing], quick)
    second = Deliverer(sm, [ok, dead_pending], patient)
    try:
        u1 = await uploaded(client, auth, http)
        await rounds(
            first,
            {u1},
            lambda rows: sorted(d.status for d in rows) == ["delivered", "failed"],
        )
        # E2 (uploaded): delivered to `ok` only; E3 (deleted): delivered, and pending elsewhere.
        u2 = await uploaded(client, auth, http)
        assert (await client.delete(f"/files/{u2}", headers=auth)).status_code == 204
        await rounds(
            second,
            {u2},
            lambda rows: (
                sorted(d.status for d in rows) == ["delivered", "delivered", "pending"]
                and any(d.attempts for d in rows if d.status == "pending")
            ),
        )
        mine = {u1, u2}
        before = await _mine(sm, mine)
        assert len(before) == 5

        # Within the retention nothing goes.
        await second.prune(now=utcnow())
        assert await _mine(sm, mine) == before

        later = utcnow() + timedelta(days=patient.retention_days + 1)
        assert await second.prune(now=later) >= 3
        left = await _mine(sm, mine)
        assert sorted((d.upload_id, d.endpoint, d.status) for d in left) == sorted(
            [(u1, dead_failing.url, "failed"), (u2, dead_pending.url, "pending")]
        )
        events = await _events(sm, mine)
        assert sorted((str(e.upload_id), e.type) for e in events) == sorted(
            [(u1, "upload.uploaded"), (u2, "upload.deleted")]
        )  # E2 went with its deliveries; E1 and E3 stay for the ones not delivered
        text = (await client.get("/metrics")).text
        oldest = metric(text, "s3upload_webhook_oldest_undelivered_seconds")
        assert oldest is not None
        assert oldest >= (patient.retention_days + 1) * 86400 - 60  # E3 still waits
    finally:
        await first.close()
        await second.close()


class Kept(NamedTuple):
    """One delivery as the database holds it."""

    upload_id: str
    endpoint: str
    status: str
    attempts: int
    type: str


async def _mine(sm: Any, upload_ids: set[str]) -> list[Kept]:
    async with sm() as session:
        rows = await session.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_pk)
            .where(WebhookDelivery.upload_id.in_([uuid.UUID(u) for u in upload_ids]))
            .order_by(WebhookDelivery.id)
        )
        return [
            Kept(str(d.upload_id), d.endpoint, d.status, d.attempts, e.type) for d, e in rows.all()
        ]


async def _events(sm: Any, upload_ids: set[str]) -> list[WebhookEvent]:
    async with sm() as session:
        rows = await session.execute(
            select(WebhookEvent).where(
                WebhookEvent.upload_id.in_([uuid.UUID(u) for u in upload_ids])
            )
        )
        return list(rows.scalars())


async def test_a_hung_receiver_does_not_hold_another_endpoint(services, app, auth, tmp_path):
    """Each endpoint is delivered by its own loop: one that hangs delays only itself.

    (Here, not beside the module-wide app of test_webhooks.py, whose deliverer would fan
    this app's events out to its own endpoint only.)"""
    (tmp_path / "fast").mkdir()
    (tmp_path / "slow").mkdir()
    fast = start_receiver(tmp_path / "fast", free_port(), SECRET)
    slow = start_receiver(tmp_path / "slow", free_port(), SECRET)
    slow.mode("hang")
    try:
        await drain_outbox(app.state.sessionmaker)
        settings = make_settings(
            services,
            webhooks=[{"url": slow.url, "secret": SECRET}, {"url": fast.url, "secret": SECRET}],
            delivery={"poll": 0.05, "backoff": [30], "timeout": 30, "lease": 60},
        )
        application = create_app(settings)
        transport = httpx.ASGITransport(app=application)
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            first = await create(client, auth, fileSize=len(DATA))
            assert (await client.delete(f"/uploads/{first['id']}", headers=auth)).status_code == 204
            await asyncio.sleep(0.5)  # the slow receiver now holds its first delivery
            second = await create(client, auth, fileSize=len(DATA))
            cancelled = await client.delete(f"/uploads/{second['id']}", headers=auth)
            assert cancelled.status_code == 204
            # Delivered while the slow receiver still holds its request (it hangs for 60 s,
            # and `arrived` gives up after 10): the fast endpoint was not waiting on it.
            assert await arrived(fast, second["id"], ["a"]) == ["upload.aborted"]
            assert fast.events(first["id"]) == ["upload.aborted"]
            assert [r["body"]["data"]["id"] for r in slow.got()] == [first["id"]]
    finally:
        for receiver in (fast, slow):
            receiver.proc.kill()
            receiver.proc.wait()
