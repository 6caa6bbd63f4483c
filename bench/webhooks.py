"""Webhooks out: how fast events reach a receiver, and what delivering costs the API.

Usage: python bench/webhooks.py [--events 10000] [--rounds 3] [--seconds 15] [--warmup 3]

One stack (PostgreSQL, RGW, the service as in bench/throughput.py: 2 workers, uvloop, access
logs, LIMITS_ENABLED=false, a seeded table) and a receiver in its own process
(bench/webhook_sink.py: verifies every signature with `standardwebhooks`, records arrivals).

1. Outbox drain: `--events` outbox rows inserted in one transaction; how fast the service's
   in-app deliverers empty it, and each event's time from the commit to its arrival.
2. End to end from the API: uploads moved `uploaded` -> `processing` -> `completed` with a
   processor token (`PUT /file-status`), as fast as `--clients` concurrent clients go, then
   paced at `--paced-rate` changes/s; each event's time from its `timestamp` (the change) to
   its arrival. Both clocks are this machine's.
3. Cost: wrk (`--connections`, warm-up then measured seconds) on `POST /uploads` and on
   `PUT /file-status` to `processing` (pre-created `uploaded` uploads, one per request), with
   webhooks off and on, alternating for `--rounds` rounds; medians. CPU seconds of the
   service, PostgreSQL and the receiver are read from /proc over each measured run.

Writes docs/bench/webhooks.md and prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import PG, ROOT, SECRET, STATE, Stack, _free_port, wait_ready
from bench.throughput import BODY, LUA, production_stack, tokens
from s3upload.auth.tokens import mint
from s3upload.settings import AuthSettings

REPORT = ROOT / "docs" / "bench" / "webhooks.md"
TICK = os.sysconf("SC_CLK_TCK")

# PUT /file-status with one upload id per request; each wrk thread walks its own ids.
STATUS_LUA = """
local ids = {}
for l in io.lines(os.getenv("WRK_IDS_FILE")) do ids[#ids + 1] = l end
local token = os.getenv("WRK_TOKEN")
local step = tonumber(os.getenv("WRK_THREADS"))
local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
end
local i
function init(args)
  i = tid - step
end
function request()
  i = i + step
  local id = ids[(i - 1) % #ids + 1]
  return wrk.format("PUT", "/file-status", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, '{"id":"' .. id .. '","status":"processing"}')
end
"""


def wrk(
    url: str, *, connections: int, seconds: int, env: dict[str, str], script: Path
) -> dict[str, Any]:
    """One wrk run with `script`; its JSON summary (as bench/throughput.py's)."""
    threads = min(connections, os.cpu_count() or 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# ---- processes and CPU ----


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += [p for p, pp in parent.items() if pp == pid]
    return total


def _postmaster() -> int:
    return int(Path(PG["PG_DIR"], "data", "postmaster.pid").read_text().split()[0])


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


class Sink:
    """The receiver process."""

    def __init__(self, secret: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "uvicorn", "bench.webhook_sink:app"]
        command += ["--port", str(self.port), "--loop", "uvloop", "--http", "httptools"]
        command += ["--no-access-log", "--log-level", "warning"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "SINK_SECRET": secret})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/count", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    def count(self) -> int:
        return int(httpx.get(f"{self.url}/count", timeout=10).json()["count"])

    def records(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/records", timeout=60).json())

    def reset(self) -> None:
        httpx.post(f"{self.url}/reset", timeout=10)

    def wait_for(self, expected: int, stall: float = 30) -> float:
        """Wait until `expected` deliveries arrived (or none came for `stall` s); seconds."""
        start = last_change = time.monotonic()
        seen = -1
        while True:
            got = self.count()
            if got >= expected:
                return time.monotonic() - start
            if got != seen:
                seen, last_change = got, time.monotonic()
            elif time.monotonic() - last_change > stall:
                return time.monotonic() - start
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---- the database ----


def _dsn(stack: Stack) -> str:
    return stack.env["DATABASE_URL"].replace("+asyncpg", "")


async def _sql(stack: Stack, query: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(_dsn(stack))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def sql(stack: Stack, query: str, *args: Any) -> list[Any]:
    """Run one statement against the benchmark's database; its rows."""
    return asyncio.run(_sql(stack, query, *args))


def seed_uploaded(stack: Stack, count: int) -> list[str]:
    """`count` single uploads already `uploaded` (a processor's work); their ids."""
    rows = sql(
        stack,
        """
        INSERT INTO uploads (id, owner, key, file_name, file_type, file_size, size_limit,
            status, strategy, method, profile, metadata, created_at, updated_at, expires_at,
            uploaded_at)
        SELECT u, 'wh-owner-' || (g % 100), 'uploads/wh/' || u || '/photo.jpg', 'photo.jpg',
            'image/jpeg', 2000000, 2000000, 'uploaded', 'single', 'PUT', 'default', '{}',
            now(), now(), now() + interval '1 hour', now()
        FROM (SELECT g, gen_random_uuid() AS u FROM generate_series(1, $1) g) x
        RETURNING id
        """,
        count,
    )
    return [str(r["id"]) for r in rows]


def clear_outbox(stack: Stack) -> None:
    """Forget every event and delivery (between runs: events are written with webhooks off
    too, and a deliverer started later would send them all)."""
    sql(stack, "TRUNCATE webhook_deliveries, webhook_events")


def restart(stack: Stack, workers: int, webhooks: str | None) -> None:
    """The service again, with `WEBHOOKS` set or not, on an empty outbox."""
    for proc in stack.procs:
        proc.terminate()
        proc.wait(timeout=20)
    clear_outbox(stack)
    stack.env.pop("WEBHOOKS", None)
    if webhooks:
        stack.env["WEBHOOKS"] = webhooks
    stack.start_service(0, workers)
    if not wait_ready(stack.base_url):
        raise RuntimeError("the service did not come back")


# ---- latency figures ----


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def summarise(name: str, records: list[list[Any]], since: float, expected: int) -> dict[str, Any]:
    """Deliveries per second and change-to-arrival latency of one experiment."""
    arrivals = [r[0] for r in records]
    lat = [(r[0] - _ts(r[4])) * 1000 for r in records]
    ids = [r[1] for r in records]
    # Per upload, `completed` never before `processing` (where an upload had both).
    order_ok: bool | None = None
    if any(r[2] == "upload.processing" for r in records):
        order_ok = True
        seen: set[str] = set()
        for r in sorted(records, key=lambda r: r[0]):
            if r[2] == "upload.completed" and r[3] not in seen:
                order_ok = False
            seen.add(r[3])
    return {
        "experiment": name,
        "expected": expected,
        "delivered": len(records),
        "duplicates": len(ids) - len(set(ids)),
        "in_order": order_ok,
        "seconds": round(max(arrivals) - since, 3),
        "deliveries_per_s": round(len(records) / (max(arrivals) - since), 1),
        "p50_ms": round(pct(lat, 50), 1),
        "p99_ms": round(pct(lat, 99), 1),
        "max_ms": round(max(lat), 1),
    }


# ---- 1. outbox drain ----


def _event_body(upload_id: uuid.UUID, at: datetime) -> str:
    stamp = at.isoformat().replace("+00:00", "Z")
    data = {
        "id": str(upload_id),
        "key": f"uploads/wh/{upload_id}/photo.jpg",
        "owner": "wh-owner",
        "fileName": "photo.jpg",
        "fileType": "image/jpeg",
        "fileSize": 2000000,
        "status": "completed",
        "strategy": "single",
        "profile": "default",
        "metadata": {},
        "checksum": None,
        "failureReason": None,
        "createdAt": stamp,
        "updatedAt": stamp,
        "expiresAt": stamp,
        "uploadedAt": stamp,
    }
    body = {"type": "upload.completed", "timestamp": stamp, "data": data}
    return json.dumps(body, separators=(",", ":"))


def drain(stack: Stack, sink: Sink, events: int) -> dict[str, Any]:
    """`events` outbox rows committed at once; the in-app deliverers empty the outbox."""
    import asyncpg

    async def insert() -> float:
        conn = await asyncpg.connect(_dsn(stack))
        try:
            async with conn.transaction():
                now = datetime.now(UTC)
                rows = []
                for _ in range(events):
                    upload_id = uuid.uuid4()
                    body = _event_body(upload_id, now)
                    rows.append((uuid.uuid4(), upload_id, "upload.completed", body, now, False))
                await conn.copy_records_to_table(
                    "webhook_events",
                    records=rows,
                    columns=["event_id", "upload_id", "type", "body", "created_at", "fanned_out"],
                )
            return time.time()
        finally:
            await conn.close()

    sink.reset()
    committed = asyncio.run(insert())
    sink.wait_for(events)
    got = sink.records()
    result = summarise("outbox drain", got["records"], committed, events)
    # Latency from the commit (the rows' created_at is when the transaction began).
    lat = sorted((r[0] - committed) * 1000 for r in got["records"])
    result.update(p50_ms=round(pct(lat, 50), 1), p99_ms=round(pct(lat, 99), 1))
    result["bad_signatures"] = got["bad"]
    return result


# ---- 2. end to end from the API ----


async def _changes(
    base_url: str, token: str, ids: list[str], clients: int, rate: float
) -> tuple[float, float, int]:
    """processing then completed for each upload; (start, end, non-200 answers)."""
    gate = asyncio.Semaphore(clients)
    failures = [0]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, limits=limits, headers=headers) as http:

        async def one(upload_id: str) -> None:
            async with gate:
                for status in ("processing", "completed"):
                    resp = await http.put(
                        "/file-status", json={"id": upload_id, "status": status}, timeout=30
                    )
                    if resp.status_code != 200:
                        failures[0] += 1

        start = time.time()
        if rate <= 0:
            await asyncio.gather(*(one(i) for i in ids))
        else:
            tasks = []
            for n, upload_id in enumerate(ids):  # two changes per upload
                delay = start + n * 2 / rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(upload_id)))
            await asyncio.gather(*tasks)
        return start, time.time(), failures[0]


def end_to_end(
    stack: Stack, sink: Sink, token: str, events: int, clients: int, rate: float
) -> dict[str, Any]:
    """`events` status changes through the API; each delivered event's lag."""
    ids = seed_uploaded(stack, events // 2)
    sink.reset()
    start, end, failures = asyncio.run(_changes(stack.base_url, token, ids, clients, rate))
    sink.wait_for(len(ids) * 2)
    got = sink.records()
    name = "end to end, " + (f"paced {rate:g} changes/s" if rate > 0 else f"{clients} clients")
    result = summarise(name, got["records"], start, len(ids) * 2)
    result.update(
        changes_per_s=round(len(ids) * 2 / (end - start), 1),
        api_failures=failures,
        bad_signatures=got["bad"],
    )
    return result


# ---- 3. throughput with webhooks off and on ----


def cost_run(
    args: argparse.Namespace,
    stack: Stack,
    sink: Sink,
    work: Path,
    route: str,
    mode: str,
    token_file: str,
    processor: str,
) -> dict[str, Any]:
    """One warm-up and one measured wrk run of `route`, with the service as it is now."""
    threads = min(args.connections, os.cpu_count() or 2)
    if route == "create":
        url, script = stack.base_url + "/uploads", LUA
        envs = [{"WRK_TOKENS_FILE": token_file, "WRK_BODY": BODY}] * 2
        ids: list[str] = []
    else:
        url, script = stack.base_url + "/file-status", work / "status.lua"
        envs = []
        for name, count in (("warm", args.warmup), ("run", args.seconds)):
            seeded = seed_uploaded(stack, count * args.status_rate)
            (work / f"{name}.ids").write_text("\n".join(seeded) + "\n")
            envs.append(
                {
                    "WRK_IDS_FILE": str(work / f"{name}.ids"),
                    "WRK_TOKEN": processor,
                    "WRK_THREADS": str(threads),
                }
            )
            ids = seeded
    sink.reset()
    wrk(
        url,
        connections=args.connections,
        seconds=args.warmup,
        env={**os.environ, **envs[0]},
        script=script,
    )
    events_before = sql(stack, "SELECT count(*) AS n FROM webhook_events")[0]["n"]
    service, pg = _tree_cpu(stack.pid), _tree_cpu(_postmaster())
    receiver, machine = _tree_cpu(sink.proc.pid), _machine_busy()
    started = time.time()
    run = wrk(
        url,
        connections=args.connections,
        seconds=args.seconds,
        env={**os.environ, **envs[1]},
        script=script,
    )
    ended = time.time()
    busy = _machine_busy()
    run.update(
        route=route,
        mode=mode,
        cpu_service_s=round(_tree_cpu(stack.pid) - service, 2),
        cpu_postgres_s=round(_tree_cpu(_postmaster()) - pg, 2),
        cpu_receiver_s=round(_tree_cpu(sink.proc.pid) - receiver, 2),
        cpu_machine_busy_pct=round(
            100 * (busy[0] - machine[0]) / max(busy[1] - machine[1], 1e-9), 1
        ),
    )
    written = sql(stack, "SELECT count(*) AS n FROM webhook_events")[0]["n"]
    run["events_written"] = written - events_before
    if route == "status":
        moved = sql(
            stack,
            "SELECT count(*) AS n FROM uploads"
            " WHERE id = ANY($1::uuid[]) AND status = 'processing'",
            ids,
        )[0]["n"]
        run["changes"] = moved
    if mode == "on":
        arrived = [r[0] for r in sink.records()["records"]]
        run["delivered_during_run"] = sum(started <= a <= ended for a in arrived)
        run["drain_after_run_s"] = round(sink.wait_for(written), 2)
    return run


def cost(args: argparse.Namespace, stack: Stack, sink: Sink, webhooks: str) -> list[dict[str, Any]]:
    """Alternate off and on for `--rounds` rounds, both routes in each."""
    work = Path(tempfile.mkdtemp())
    (work / "status.lua").write_text(STATUS_LUA + _done_function())
    token_file = tokens(args.owners, work / "tokens")
    auth = AuthSettings(jwt_secret=SECRET)
    processor = mint(auth, subject="wh-processor", roles=["processor"], ttl=7200)
    runs = []
    for round_ in range(args.rounds):
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            restart(stack, args.workers, webhooks if mode == "on" else None)
            for route in args.routes.split(","):
                run = cost_run(args, stack, sink, work, route, mode, token_file, processor)
                run["round"] = round_ + 1
                print(json.dumps(run), flush=True)
                runs.append(run)
    return runs


def _done_function() -> str:
    """post.lua's `done` (the JSON summary), for the status script."""
    text = LUA.read_text()
    return "\n" + text[text.index("function done") :]


# ---- the report ----


def _median(runs: list[dict[str, Any]], route: str, mode: str, key: str) -> float:
    return statistics.median(r[key] for r in runs if r["route"] == route and r["mode"] == mode)


def report(
    args: argparse.Namespace, delivery: list[dict[str, Any]], runs: list[dict[str, Any]]
) -> str:
    lines = [
        "# Webhooks out",
        "",
        "How fast status changes reach a receiver, and what delivering them costs the API. "
        f"Regenerate: `python bench/webhooks.py` ({args.events:,} events, {args.rounds} rounds "
        f"of {args.warmup} s warm-up + {args.seconds} s measured per run).",
        "",
        "The stack is the one of [performance.md](performance.md): PostgreSQL, Ceph RGW and "
        f"`s3upload serve` with {args.workers} workers (uvloop, access logs on, "
        f"`LIMITS_ENABLED=false`, {args.history:,} uploads already in the table), "
        "with the default delivery settings (`DELIVERY_BATCH=100`, `DELIVERY_CONCURRENCY=16`, "
        "`DELIVERY_POLL=0.5`): one in-app deliverer per worker. The receiver "
        "(`bench/webhook_sink.py`, Starlette under uvicorn, its own process) verifies every "
        "signature with the `standardwebhooks` library and records when each delivery "
        "arrived. Everything, wrk and the receiver included, shares the machine's 2 cores.",
        "",
        "## Delivery",
        "",
        "- **Outbox drain**: outbox rows committed in one transaction, emptied by the service's "
        "deliverers; latency from the commit to the arrival, so mostly an event's place in "
        "the queue.",
        "- **End to end**: uploads moved `uploaded` → `processing` → `completed` through "
        "`PUT /file-status` with a processor token (each change writes its event in its own "
        "transaction); latency from the event's `timestamp` (= `data.updatedAt`, the change) "
        "to the arrival. Unpaced (as fast as the clients go, API and deliverers competing for "
        "the cores), then paced at a fixed rate (the *API changes/s* column says whether the "
        "machine kept up).",
        "",
        "| experiment | events | delivered | duplicates | in order | API changes/s | "
        "deliveries/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in delivery:
        lines.append(
            f"| {d['experiment']} | {d['expected']:,} | {d['delivered']:,} | {d['duplicates']} | "
            f"{ORDER[d['in_order']]} | {d.get('changes_per_s', '-')} | "
            f"{d['deliveries_per_s']:,} | {d['p50_ms']:,} | {d['p99_ms']:,} | {d['max_ms']:,} |"
        )
    lines += [
        "",
        "Every delivery verified (bad signatures: "
        f"{sum(d['bad_signatures'] for d in delivery)}); API errors during the end-to-end "
        f"runs: {sum(d.get('api_failures', 0) for d in delivery)}.",
        "",
        "## Cost to the API",
        "",
        f"wrk, {args.connections} connections, {args.warmup} s warm-up then {args.seconds} s "
        "measured, off and on alternating; medians of "
        f"{args.rounds} rounds. *Off*: `WEBHOOKS` unset. *On*: `WEBHOOKS` pointing at the "
        "receiver, in-app delivery. `POST /uploads` writes no event; `PUT /file-status` to "
        "`processing` (a processor token, a different `uploaded` upload each request) writes "
        "one. The outbox row is written in both modes (it is part of the change's "
        "transaction whether or not an endpoint is configured); *on* adds the deliverers' "
        "work and the receiver's.",
        "",
        "| route | off req/s | on req/s | on / off | off p99 ms | on p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for route in args.routes.split(","):
        off, on = (_median(runs, route, m, "rps") for m in ("off", "on"))
        p99 = [_median(runs, route, m, "p99_us") / 1000 for m in ("off", "on")]
        lines.append(
            f"| {ROUTE_NAMES[route]} | {off:,.0f} | {on:,.0f} | {on / off:.3f} "
            f"({(on / off - 1) * 100:+.1f}%) | {p99[0]:.1f} | {p99[1]:.1f} |"
        )
    lines += [
        "",
        "CPU seconds over each measured run (medians): where the time went.",
        "",
        "| route | mode | service | PostgreSQL | receiver | machine busy % | events written | "
        "delivered during the run | drained after s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for route in args.routes.split(","):
        for mode in ("off", "on"):
            sel = [r for r in runs if r["route"] == route and r["mode"] == mode]

            def med(key: str, sel: list[dict[str, Any]] = sel) -> Any:
                values = [r[key] for r in sel if key in r]
                return round(statistics.median(values), 2) if values else "-"

            lines.append(
                f"| {ROUTE_NAMES[route]} | {mode} | {med('cpu_service_s')} | "
                f"{med('cpu_postgres_s')} | {med('cpu_receiver_s')} | "
                f"{med('cpu_machine_busy_pct')} | {med('events_written')} | "
                f"{med('delivered_during_run')} | {med('drain_after_run_s')} |"
            )
    lines += [
        "",
        "Every run:",
        "",
        "| round | route | mode | req/s | p50 ms | p99 ms | non-2xx | status changes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['round']} | {ROUTE_NAMES[r['route']]} | {r['mode']} | {r['rps']:,.0f} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['non_2xx']} | "
            f"{r.get('changes', '-')} |"
        )
    lines += ["", READING]
    return "\n".join(lines)


READING = """## Reading the figures

- Delivery is bounded by CPU, on the same cores as the API, PostgreSQL, the receiver and the
  load generator. Each delivery is an HTTP request with its signature and the receiver's own
  work; a round claims up to `DELIVERY_BATCH`, sends them at most `DELIVERY_CONCURRENCY` at
  once, records every outcome in one transaction (one statement, executemany), and the next
  round starts after the slowest request of it.
- When the API saturates the machine, the in-app deliverers get little of it: during the
  `PUT /file-status` runs with webhooks on, only a small part of the events written were
  delivered while wrk ran, and the backlog went out in the seconds after (columns
  *delivered during the run*, *drained after*). Requests are not held back by delivery
  beyond the CPU it takes, but an event's lag grows with the backlog.
- An idle deliverer looks for work every `DELIVERY_POLL` (0.5 s): at low rates an event
  waits up to that long before it leaves.
- `PUT /file-status` costs far more than `POST /uploads` in both modes: each change reads
  the upload, then compare-and-sets the status with the outbox `INSERT`, commits and reads
  it again, per request (creates are written in batches). At 64 connections its requests
  wait for the database pool (`DATABASE_POOL_SIZE` 10 per worker) and some answer `503`
  after `DATABASE_POOL_TIMEOUT` (5 s), with webhooks off as much as on: the p99 near 5 s is
  that wait. The in-app deliverers draw on the same pool, so under this load some of their
  rounds time out too and are tried again at the next poll.
- The runs are noisy: the machine is shared, and the spread between rounds of one mode is
  as wide as the difference between the modes. Read the per-run table beside the medians.
"""

ORDER = {True: "yes", False: "NO", None: "n/a"}
ROUTE_NAMES = {"create": "`POST /uploads`", "status": "`PUT /file-status` → processing"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32, help="end to end, unpaced")
    parser.add_argument("--paced-rate", type=float, default=100, help="changes/s; 0 skips")
    parser.add_argument("--paced-events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--routes", default="create,status")
    parser.add_argument("--status-rate", type=int, default=1500, help="uploads seeded per s")
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000, help="uploads already stored")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    sink = Sink(secret)
    webhooks = json.dumps([{"url": f"{sink.url}/hooks", "secret": secret}])
    STATE.mkdir(parents=True, exist_ok=True)
    try:
        with production_stack(args.workers, args.history, WEBHOOKS=webhooks) as stack:
            auth = AuthSettings(jwt_secret=SECRET)
            processor = mint(auth, subject="wh-processor", roles=["processor"], ttl=7200)
            delivery = [drain(stack, sink, args.events)]
            print(json.dumps(delivery[-1]), flush=True)
            restart(stack, args.workers, webhooks)
            delivery.append(end_to_end(stack, sink, processor, args.events, args.clients, 0))
            print(json.dumps(delivery[-1]), flush=True)
            if args.paced_rate > 0:
                restart(stack, args.workers, webhooks)
                delivery.append(
                    end_to_end(
                        stack, sink, processor, args.paced_events, args.clients, args.paced_rate
                    )
                )
                print(json.dumps(delivery[-1]), flush=True)
            runs = [] if args.skip_cost else cost(args, stack, sink, webhooks)
    finally:
        sink.stop()
    if runs:
        REPORT.write_text(report(args, delivery, runs))
        print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
