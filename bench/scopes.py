"""Scopes: what deciding access costs `POST /uploads`, and how a scope's listing grows.

Usage: python bench/scopes.py [--rounds 3] [--seconds 15] [--warmup 3] [--n 200]

One stack (PostgreSQL, RGW, the service as in bench/throughput.py: 2 workers, uvloop, access
logs, LIMITS_ENABLED=false, 100,000 uploads already in the table) with three profiles side by
side in one PROFILES setting, and an authorization hook in its own process
(bench/hook_sink.py: verifies every question's signature with `standardwebhooks`, allows it,
counts it).

1. `POST /uploads` under wrk (`--connections`, warm-up then measured seconds), three
   variants alternating round by round on the same service processes:
   - owner: the default profile, no scope (access `owner`: no decision to make);
   - hook, warm: profile `hooked` (access `hook`, scope type `room`), one scope for every
     request and `AUTHZ_CACHE_TTL` of a day: the cache is filled first (each owner asked
     once per worker), then every decision is a cache hit;
   - hook, cold: the same profile, but every request names a scope of its own, so every
     request asks the hook (the cache never holds the answer a request needs).
   Medians of `--rounds`; CPU seconds of the service, PostgreSQL and the hook over each
   measured run, and the questions the hook answered in it.
2. One question alone: the service's own `AuthzHook` (no cache) asking the same hook from
   this process, `--questions` per run, one at a time and 32 in flight; the client's CPU
   per question, as installed and with httpcore's async-library lookup answered at once
   (httpcore tries `import sniffio` on each lookup, several per request), alternating.
3. `GET /files?scope=event/listed` (access `claims`, a token granting `event/*:read`) with
   10,000 files in the scope, in a table of 10,000 rows and one of 1,000,000 (two databases
   in the same PostgreSQL, each with its own service): first page and a page 9,000 rows
   down (keyset cursor), `--n` sequential requests per page per round, the two tables
   alternating; EXPLAIN (ANALYZE) of the statements, and the index scans PostgreSQL counted
   while the service answered.

Ports move with BENCH_PORT_BASE (default here 900) and state lives in BENCH_STATE_DIR
(default /tmp/s3upload-bench-scopes), so other benchmarks and test runs can share the machine.
Writes docs/bench/scopes.md and prints one JSON line per measurement.
"""

from __future__ import annotations

import os

# Before bench.stack reads them: this benchmark's own ports and state directory.
os.environ.setdefault("BENCH_PORT_BASE", "900")
os.environ.setdefault("BENCH_STATE_DIR", "/tmp/s3upload-bench-scopes")

import argparse
import asyncio
import base64
import json
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import CLI, PG, ROOT, SECRET, STATE, Stack, _free_port
from bench.throughput import production_stack, tokens
from bench.webhooks import _machine_busy, _postmaster, _tree_cpu, pct, sql, wrk
from s3upload.auth.tokens import mint
from s3upload.files.pagination import encode_cursor
from s3upload.settings import AuthSettings

REPORT = ROOT / "docs" / "bench" / "scopes.md"
LUA = ROOT / "bench" / "wrk" / "scoped.lua"
PROFILES = {
    "default": {},
    "hooked": {"access": "hook", "scope_types": ["room"]},
    "granted": {"access": "claims", "scope_types": ["event"]},
}
# variant: (what wrk sends, its name in the report)
VARIANTS: dict[str, tuple[dict[str, str], str]] = {
    "owner": ({}, "owner (default profile, no scope)"),
    "warm": ({"WRK_PROFILE": "hooked", "WRK_SCOPE": "room/warm"}, "hook, cache warm"),
    "cold": (
        {"WRK_PROFILE": "hooked", "WRK_SCOPE": "room/cold", "WRK_UNIQUE": "1"},
        "hook, cold (a new scope per request)",
    ),
}
LISTED = "event/listed"
FINISHED = ("uploaded", "processing", "completed")
DEEP = 9_000  # the deep page starts after this many listed files


# ---- the authorization hook ----


class Hook:
    """bench/hook_sink.py in its own process."""

    def __init__(self, secret: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/authz"
        command = [sys.executable, "-m", "uvicorn", "bench.hook_sink:app"]
        command += ["--port", str(self.port), "--loop", "uvloop", "--http", "httptools"]
        command += ["--no-access-log", "--log-level", "warning"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "HOOK_SECRET": secret})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/count", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the hook did not start")

    def count(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/count", timeout=10).json())

    def reset(self) -> None:
        httpx.post(f"{self.base}/reset", timeout=10)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---- 1. POST /uploads: owner, hook warm, hook cold ----

METRICS_TOKEN = "bench-metrics-token-0123456789"


def metrics(stack: Stack) -> dict[str, float]:
    """The service's counters this benchmark reads (summed over labels and workers)."""
    wanted = {
        "s3upload_write_batch_size_count": "write_batches",
        "s3upload_write_batch_size_sum": "written",
        "s3upload_authz_hook_duration_seconds_count": "hook_answers",
        "s3upload_authz_hook_duration_seconds_sum": "hook_seconds",
    }
    text = httpx.get(
        f"{stack.base_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    ).text
    out = dict.fromkeys([*wanted.values(), "cache_hit", "cache_miss"], 0.0)
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        base = name.partition("{")[0]
        if base in wanted:
            out[wanted[base]] += float(value)
        elif base == "s3upload_authz_cache_total":
            out["cache_hit" if 'result="hit"' in name else "cache_miss"] += float(value)
    return out


def wrk_env(variant: str, token_file: str, nonce: str) -> dict[str, str]:
    """wrk's environment for one run; `nonce` keeps cold scopes apart between runs."""
    env = {**os.environ, "WRK_TOKENS_FILE": token_file}
    for name in ("WRK_PROFILE", "WRK_SCOPE", "WRK_UNIQUE"):
        env.pop(name, None)
    given = dict(VARIANTS[variant][0])
    if given.get("WRK_UNIQUE"):
        given["WRK_SCOPE"] += f"-{nonce}"
    return {**env, **given}


def release_pending(stack: Stack) -> None:
    """End the benchmark owners' pending uploads, so every run starts with the same quota
    state (1,000 owners at most 1,000 pending each, as in production)."""
    sql(
        stack,
        "UPDATE uploads SET status = 'aborted' WHERE status = 'pending' AND owner LIKE 'bench-%'",
    )


def create_run(
    args: argparse.Namespace, stack: Stack, hook: Hook, variant: str, token_file: str, tag: str
) -> dict[str, Any]:
    """One warm-up and one measured wrk run of `variant`."""
    url = stack.base_url + "/uploads"
    release_pending(stack)
    hook.reset()
    common = {"connections": args.connections, "script": LUA}
    warm = wrk(url, seconds=args.warmup, env=wrk_env(variant, token_file, f"{tag}w"), **common)
    asked_before, seen = hook.count(), metrics(stack)
    service, pg = _tree_cpu(stack.pid), _tree_cpu(_postmaster())
    hook_cpu, machine = _tree_cpu(hook.proc.pid), _machine_busy()
    run = wrk(url, seconds=args.seconds, env=wrk_env(variant, token_file, f"{tag}m"), **common)
    busy = _machine_busy()
    asked = hook.count()
    now = metrics(stack)
    moved = {k: now[k] - seen[k] for k in now}
    run.update(
        variant=variant,
        errors=sum(run[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
        + run["non_2xx"],
        cpu_service_s=round(_tree_cpu(stack.pid) - service, 2),
        cpu_postgres_s=round(_tree_cpu(_postmaster()) - pg, 2),
        cpu_hook_s=round(_tree_cpu(hook.proc.pid) - hook_cpu, 2),
        cpu_machine_busy_pct=round(
            100 * (busy[0] - machine[0]) / max(busy[1] - machine[1], 1e-9), 1
        ),
        warmup_requests=warm["requests"],
        warmup_questions=asked_before["questions"],
        questions=asked["questions"] - asked_before["questions"],
        scopes_asked=asked["scopes"] - asked_before["scopes"],
        hook_connections=asked["connections"] - asked_before["connections"],
        bad_signatures=asked["bad"],
        creates_per_transaction=round(moved["written"] / max(moved["write_batches"], 1), 2),
        cache_hits=int(moved["cache_hit"]),
        cache_misses=int(moved["cache_miss"]),
        hook_answer_ms=round(1000 * moved["hook_seconds"] / moved["hook_answers"], 2)
        if moved["hook_answers"]
        else None,
    )
    run["service_cpu_ms_per_request"] = round(1000 * run["cpu_service_s"] / run["requests"], 3)
    run["hook_cpu_ms_per_request"] = round(1000 * run["cpu_hook_s"] / run["requests"], 3)
    return run


def fill_cache(args: argparse.Namespace, stack: Stack, hook: Hook, token_file: str) -> None:
    """Ask the warm variant's questions until the cache holds every owner in every worker:
    wrk in 4 s runs until one asks the hook for under 0.5% of its requests (or `--fill` s)."""
    deadline = time.monotonic() + args.fill
    while True:
        before = hook.count()["questions"]
        run = wrk(
            stack.base_url + "/uploads",
            connections=args.connections,
            seconds=4,
            env=wrk_env("warm", token_file, "fill"),
            script=LUA,
        )
        asked = hook.count()["questions"] - before
        release_pending(stack)
        print(json.dumps({"cache_fill": run["requests"], "asked": asked}), flush=True)
        if asked < 0.005 * run["requests"] or time.monotonic() > deadline:
            return


def creates(args: argparse.Namespace, stack: Stack, hook: Hook) -> list[dict[str, Any]]:
    """Every variant in every round, the order rotating from round to round."""
    work = Path(tempfile.mkdtemp())
    token_file = tokens(args.owners, work / "tokens")
    fill_cache(args, stack, hook, token_file)
    order = list(VARIANTS)
    runs = []
    for round_ in range(args.rounds):
        shift = round_ % len(order)
        for variant in order[shift:] + order[:shift]:
            run = create_run(args, stack, hook, variant, token_file, f"r{round_ + 1}")
            run["round"] = round_ + 1
            print(json.dumps(run), flush=True)
            runs.append(run)
    return runs


# ---- 2. One question's cost to the service, alone ----


async def _questions(hook: Hook, secret: str, n: int, concurrency: int, tag: str) -> list[float]:
    """`n` questions through the service's own AuthzHook (no cache): [client CPU ms per
    question, questions per second]."""
    from s3upload.access.hook import AuthzHook
    from s3upload.auth.tokens import User
    from s3upload.settings import AuthzSettings

    asker = AuthzHook(AuthzSettings(hook_url=hook.url, hook_secret=secret, cache_ttl=0))
    user = User(owner="bench-1")
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await asker.ask(
                user=user, scope=f"room/{tag}-{i}", action="upload", profile="hooked", file=None
            )

    try:
        await asyncio.gather(*(one(i) for i in range(200)))  # connections open, code warm
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(200, 200 + n)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await asker.close()
    return [1000 * cpu / n, n / wall]


def question_cost(args: argparse.Namespace, hook: Hook, secret: str) -> list[dict[str, Any]]:
    """The service's AuthzHook asking the hook process from this one, as installed and with
    httpcore's async-library lookup answered at once, alternating; its log lines to a file
    in the service's JSON format, as the service writes them at INFO."""
    import logging

    import httpcore._backends.auto as auto_backend
    import httpcore._synchronization as sync
    import uvloop

    from s3upload.logs import JsonFormatter

    log = logging.getLogger("s3upload.authz")
    handler = logging.FileHandler(STATE / "questions.log")
    handler.setFormatter(JsonFormatter())
    log.handlers, log.propagate = [handler], False
    log.setLevel(logging.INFO)
    installed = sync.current_async_library
    results = []
    try:
        for round_ in range(args.rounds):
            for lookup in ("installed", "short-circuited"):
                lookup_fn = installed if lookup == "installed" else (lambda: "asyncio")
                sync.current_async_library = auto_backend.current_async_library = lookup_fn
                for concurrency in (1, args.connections // 2):
                    tag = f"q{round_}-{lookup[0]}-{concurrency}"
                    cpu_ms, rate = uvloop.run(
                        _questions(hook, secret, args.questions, concurrency, tag)
                    )
                    entry = {
                        "round": round_ + 1,
                        "lookup": lookup,
                        "concurrency": concurrency,
                        "cpu_ms_per_question": round(cpu_ms, 3),
                        "questions_per_s": round(rate),
                    }
                    print(json.dumps(entry), flush=True)
                    results.append(entry)
    finally:
        sync.current_async_library = auto_backend.current_async_library = installed
        log.handlers = []
        handler.close()
    return results


# ---- 3. GET /files?scope=…: 10,000 files in tables of 10,000 and 1,000,000 rows ----

# The scope's files: 2% still pending (not listed to readers), the rest finished, over 100
# owners and the last 30 days.
SEED_LISTED = """
    INSERT INTO uploads (id, owner, key, file_name, file_type, file_size, size_limit, status,
        strategy, method, profile, metadata, scope, created_at, updated_at, expires_at,
        uploaded_at)
    SELECT gen_random_uuid(), 'member-' || (g % 100), 'photos/event/listed/' || g || '/f.jpg',
        'f.jpg', 'image/jpeg', 2000000, 2000000,
        CASE WHEN g % 50 = 0 THEN 'pending'
            ELSE (ARRAY['uploaded', 'processing', 'completed', 'completed'])[g % 4 + 1] END,
        'single', 'PUT', 'granted', '{}', $1, t, t, t + interval '1 hour', t
    FROM generate_series(1, $2::int) g,
        LATERAL (SELECT $3::timestamptz - g * (interval '30 days' / $2::int) AS t) at
"""
# Everything else, over the same 30 days: 60% in 5,000 other scopes, 40% in none, 10,000
# owners, every status.
SEED_OTHERS = """
    INSERT INTO uploads (id, owner, key, file_name, file_type, file_size, size_limit, status,
        strategy, method, profile, metadata, scope, created_at, updated_at, expires_at,
        uploaded_at)
    SELECT gen_random_uuid(), 'other-' || (g % 10000), 'uploads/other/' || g || '/f.jpg',
        'f.jpg', 'image/jpeg', 2000000, 2000000,
        CASE WHEN g % 50 = 0 THEN 'pending' ELSE
            (ARRAY['uploaded', 'completed', 'completed', 'aborted', 'expired'])[g % 5 + 1] END,
        'single', 'PUT', CASE WHEN g % 5 < 3 THEN 'granted' ELSE 'default' END, '{}',
        CASE WHEN g % 5 < 3 THEN 'event/e' || (g % 5000) END, t, t, t + interval '1 hour', t
    FROM generate_series($1::int, $2::int) g,
        LATERAL (SELECT $3::timestamptz - g * (interval '30 days' / $4::int) AS t) at
"""
# The statement the service issues for a reader's page (files/service.py, list_uploads, as
# SQLAlchemy sends it to asyncpg: every value a parameter), written out for EXPLAIN.
LIST_FIRST = (
    "SELECT * FROM uploads WHERE scope = $1::varchar AND status IN ($2::varchar, $3::varchar, "
    "$4::varchar) ORDER BY created_at DESC, id DESC LIMIT $5::integer"
)
LIST_DEEP = (
    "SELECT * FROM uploads WHERE scope = $1::varchar AND status IN ($2::varchar, $3::varchar, "
    "$4::varchar) AND (created_at, id) < ($5::timestamptz, $6::uuid) "
    "ORDER BY created_at DESC, id DESC LIMIT $7::integer"
)


async def _execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _seed(dsn: str, rows: int, scoped: int, at: datetime) -> None:
    """`scoped` files in the listed scope, and other uploads up to `rows` in all."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SEED_LISTED, LISTED, scoped, at)
        others = rows - scoped
        for start in range(1, others + 1, 200_000):
            end = min(start + 199_999, others)
            await conn.execute(SEED_OTHERS, start, end, at, others)
        await conn.execute("VACUUM ANALYZE uploads")
    finally:
        await conn.close()


class Table:
    """One database with `rows` uploads, and a service of its own on it."""

    def __init__(self, stack: Stack, rows: int, scoped: int, at: datetime, workers: int) -> None:
        self.rows = rows
        name = f"s3upload_list_{rows}"
        server = stack.env["DATABASE_URL"].replace("+asyncpg", "").rsplit("/", 1)[0]
        self.dsn = f"{server}/{name}"
        asyncio.run(_execute(f"{server}/postgres", f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_execute(f"{server}/postgres", f"CREATE DATABASE {name}"))
        env = {**stack.env, "DATABASE_URL": self.dsn.replace("postgresql:", "postgresql+asyncpg:")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        subprocess.run([*CLI, "migrate"], env=env, check=True, capture_output=True)
        started = time.monotonic()
        asyncio.run(_seed(self.dsn, rows, scoped, at))
        self.seed_s = round(time.monotonic() - started, 1)
        self.cursor = asyncio.run(self._cursor())
        self.service = Stack(env=env, ports=[_free_port()], app=stack.app)
        self.service.start_service(0, workers)

    async def _fetch(self, query: str, *args: Any) -> list[Any]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def _cursor(self) -> tuple[datetime, Any]:
        """(created_at, id) of the listed file `DEEP` down: the deep page starts after it."""
        rows = await self._fetch(
            "SELECT created_at, id FROM uploads WHERE scope = $1 AND status = ANY($2::text[]) "
            "ORDER BY created_at DESC, id DESC OFFSET $3 LIMIT 1",
            LISTED,
            list(FINISHED),
            DEEP - 1,
        )
        return rows[0]["created_at"], rows[0]["id"]

    def counts(self) -> dict[str, int]:
        """Index scans of the scope index and sequential scans of the table so far."""
        row = asyncio.run(
            self._fetch(
                "SELECT (SELECT idx_scan FROM pg_stat_user_indexes"
                "  WHERE indexrelname = 'ix_uploads_scope_created') AS scope_index,"
                " (SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'uploads') AS seq"
            )
        )[0]
        return {"scope_index_scans": int(row["scope_index"]), "seq_scans": int(row["seq"])}

    def explain(self) -> dict[str, str]:
        """EXPLAIN (ANALYZE, BUFFERS) of both pages, planned for these values (custom) and as
        the generic plan a prepared statement may settle on after five runs."""
        created_at, upload_id = self.cursor
        finished = ", ".join(f"'{s}'" for s in FINISHED)
        pages = {
            "first page": ("first_page", LIST_FIRST, f"'{LISTED}', {finished}, 51"),
            "deep page": (
                "deep_page",
                LIST_DEEP,
                f"'{LISTED}', {finished}, '{created_at.isoformat()}', '{upload_id}', 51",
            ),
        }

        async def run() -> dict[str, str]:
            conn = await asyncpg.connect(self.dsn)
            out = {}
            try:
                for page, (name, query, values) in pages.items():
                    await conn.execute(f"PREPARE {name} AS {query}")
                    for mode in ("custom", "generic"):
                        await conn.execute(f"SET plan_cache_mode = force_{mode}_plan")
                        rows = await conn.fetch(
                            f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE {name}({values})"
                        )
                        title = page if mode == "custom" else f"{page}, generic plan"
                        out[title] = "\n".join(r[0] for r in rows)
            finally:
                await conn.close()
            return out

        return asyncio.run(run())

    def stop(self) -> None:
        for proc in self.service.procs:
            proc.terminate()
            proc.wait(timeout=20)


def _page(client: httpx.Client, params: dict[str, str]) -> float:
    """One listing request; its time in milliseconds (checked: 50 files and a next cursor)."""
    started = time.perf_counter()
    resp = client.get("/files", params=params)
    elapsed = (time.perf_counter() - started) * 1000
    resp.raise_for_status()
    body = resp.json()
    if len(body["items"]) != 50 or not body["nextCursor"]:
        raise RuntimeError(f"unexpected page: {len(body['items'])} items")
    return elapsed


def listings(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    """First and deep page at both table sizes, alternating, `--n` each per round."""
    at = datetime.now(UTC).replace(microsecond=0)
    tables = []
    try:
        for rows in args.sizes:
            tables.append(Table(stack, rows, args.scoped, at, args.workers))
            print(json.dumps({"table": rows, "seed_s": tables[-1].seed_s}), flush=True)
        token = mint(
            AuthSettings(jwt_secret=SECRET), subject="reader", scopes=["event/*:read"], ttl=7200
        )
        headers = {"Authorization": f"Bearer {token}"}
        clients = {
            t.rows: httpx.Client(base_url=t.service.base_url, headers=headers, timeout=30)
            for t in tables
        }
        pages = {
            t.rows: {
                "first": {"scope": LISTED},
                "deep": {"scope": LISTED, "cursor": encode_cursor(*t.cursor)},
            }
            for t in tables
        }
        samples: dict[tuple[int, str], list[float]] = {
            (t.rows, page): [] for t in tables for page in ("first", "deep")
        }
        for t in tables:  # warm up connections, plans and caches
            for _ in range(args.n // 4):
                for params in pages[t.rows].values():
                    _page(clients[t.rows], params)
        time.sleep(11)  # the warm-up's counters published before the first reading
        before = {t.rows: t.counts() for t in tables}
        for round_ in range(args.rounds):
            order = tables if round_ % 2 == 0 else tables[::-1]
            for _ in range(args.n):
                for t in order:
                    for page, params in pages[t.rows].items():
                        samples[(t.rows, page)].append(_page(clients[t.rows], params))
        # A backend publishes its counters once idle, at most once a second, and 10 s later
        # when another held the lock: wait past that.
        time.sleep(11)
        after = {t.rows: t.counts() for t in tables}
        for client in clients.values():
            client.close()
        result: dict[str, Any] = {"tables": {}, "pages": []}
        for t in tables:
            result["tables"][t.rows] = {
                "seed_s": t.seed_s,
                "requests": args.rounds * args.n * 2,
                **{k: after[t.rows][k] - before[t.rows][k] for k in after[t.rows]},
                "plans": t.explain(),
            }
        for (rows, page), values in samples.items():
            entry = {
                "rows": rows,
                "page": page,
                "n": len(values),
                "p50_ms": round(statistics.median(values), 2),
                "p99_ms": round(pct(values, 99), 2),
                "mean_ms": round(statistics.fmean(values), 2),
            }
            print(json.dumps(entry), flush=True)
            result["pages"].append(entry)
        return result
    finally:
        for t in tables:
            t.stop()


# ---- the report ----


def _median(runs: list[dict[str, Any]], variant: str, key: str) -> float:
    return float(statistics.median(r[key] for r in runs if r["variant"] == variant))


def _paired(runs: list[dict[str, Any]], variant: str, key: str) -> float:
    """The median over rounds of `variant`'s `key` divided by the owner run's of that round."""
    base = {r["round"]: r[key] for r in runs if r["variant"] == "owner"}
    return float(
        statistics.median(r[key] / base[r["round"]] for r in runs if r["variant"] == variant)
    )


def _question_lines(args: argparse.Namespace, questions: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## One question's cost to the service, alone",
        "",
        "The service's own `AuthzHook` (`s3upload.access.hook`, cache off) asking the same "
        f"hook process from the benchmark's process under uvloop: {args.questions:,} "
        f"questions per run, one at a time and {args.connections // 2} in flight (what one "
        f"worker has under wrk's {args.connections} connections), each with its log line "
        "written as the service writes it at INFO. CPU is the asking process's only "
        "(`time.process_time`); the hook's is not in it. *installed*: the packages as they "
        "are. *short-circuited*: httpcore's `current_async_library()` replaced by one that "
        'answers `"asyncio"`: httpcore 1.0 looks for `sniffio` with `import sniffio` every '
        "time it is called (several times per request), and where sniffio is not installed "
        "(nothing in this environment requires it) the failed import searches `sys.path` "
        f"each time. Alternating, {args.rounds} rounds; medians.",
        "",
        "| in flight | installed CPU ms / question | short-circuited CPU ms / question | "
        "ratio | installed questions/s | short-circuited questions/s |",
        "|---|---|---|---|---|---|",
    ]
    for concurrency in sorted({q["concurrency"] for q in questions}):

        def med(lookup: str, key: str, concurrency: int = concurrency) -> float:
            return float(
                statistics.median(
                    q[key]
                    for q in questions
                    if q["lookup"] == lookup and q["concurrency"] == concurrency
                )
            )

        a = med("installed", "cpu_ms_per_question")
        b = med("short-circuited", "cpu_ms_per_question")
        lines.append(
            f"| {concurrency} | {a:.3f} | {b:.3f} | {b / a:.2f} | "
            f"{med('installed', 'questions_per_s'):,.0f} | "
            f"{med('short-circuited', 'questions_per_s'):,.0f} |"
        )
    return lines


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024**2
    pg = subprocess.run(
        [f"{sorted(Path('/usr/lib/postgresql').glob('*/bin'))[-1]}/postgres", "--version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {pg}"
    )


def _plan_line(plan: str) -> str:
    """The plan's scan line (the node that reads the table)."""
    for line in plan.splitlines():
        if "Scan" in line and "uploads" in line:
            return line.strip().removeprefix("->  ")
    return plan.splitlines()[0].strip()


def report(
    args: argparse.Namespace,
    runs: list[dict[str, Any]],
    alone: list[dict[str, Any]],
    listing: dict[str, Any],
    machine: str,
    load: str,
    elapsed: float,
) -> str:
    owner_rps = _median(runs, "owner", "rps")
    lines = [
        "# Scopes: deciding access, and listing a scope",
        "",
        "What a scope's access decision costs `POST /uploads` (no decision, the authorization "
        "hook answering from its cache, the hook asked every time), and how `GET /files?scope=…` "
        "grows with the table. Regenerate: `python bench/scopes.py` "
        f"({args.rounds} rounds of {args.warmup} s warm-up + {args.seconds} s measured per "
        f"variant; {args.n} requests per page per round for the listing; about "
        f"{elapsed / 60:.0f} minutes).",
        "",
        f"Machine: {machine}. Shared with other work while this ran (load average "
        f"{load}), so the variants alternate round by round and the ratios "
        "below compare runs of the same invocation; do not compare them with an older copy "
        "of another page.",
        "",
        "The stack is the one of [performance.md](performance.md): PostgreSQL, Ceph RGW and "
        f"`s3upload serve` with {args.workers} workers (uvloop, access logs on at INFO, "
        f"`LIMITS_ENABLED=false`, quotas on, {args.history:,} uploads already in the table), "
        "on ports moved by `BENCH_PORT_BASE` (900 here) and state under "
        f"`{STATE}`. Three profiles side by side in one `PROFILES`:",
        "",
        "```json",
        json.dumps(PROFILES),
        "```",
        "",
        "The authorization hook (`bench/hook_sink.py`, Starlette under uvicorn, one process) "
        "verifies every question's Standard Webhooks signature with the `standardwebhooks` "
        'library, answers `{"allow": true}` and counts the questions. '
        "`AUTHZ_CACHE_TTL=86400`, `AUTHZ_HOOK_TIMEOUT` at its default (2 s). Everything, wrk "
        "and the hook included, shares the machine's cores.",
        "",
        "## `POST /uploads`: owner, hook warm, hook cold",
        "",
        f"wrk, {args.connections} connections, tokens of {args.owners:,} owners rotated per "
        "request (as in the other benchmarks: the pending quota is 1,000 per owner), every "
        "body built per request by `bench/wrk/scoped.lua`. The three variants run one after "
        "the other on the same service processes, the order rotating each round "
        "(owner-warm-cold, warm-cold-owner, cold-owner-warm); before each run the benchmark "
        "owners' pending uploads are marked aborted, so each starts from the same quota "
        "state.",
        "",
        "- **owner**: the default profile, no scope: no access decision, today's path.",
        "- **hook, warm**: profile `hooked` (`access: hook`), scope `room/warm` on every "
        "request. The cache is per worker and per (subject, scope, action): before the "
        "first round, 4 s wrk runs of this variant fill it until a run asks the hook for "
        "under 0.5% of its requests; after that every decision is a cache hit (the "
        "*questions* column shows how many were not).",
        "- **hook, cold**: the same profile, every request naming a scope of its own "
        "(`room/cold-<run>-<thread>-<n>`), so every request asks the hook; chosen over a "
        "second service with `AUTHZ_CACHE_TTL=0` so that all three variants run on the "
        "same processes. The cache still stores each allow (a write nobody reads).",
        "",
        f"Medians of {args.rounds} rounds. *vs owner*: the ratio of the medians, and in "
        "brackets the median of the per-round ratios (each variant against the owner run of "
        "the same round).",
        "",
        "| variant | req/s | vs owner | p50 ms | p99 ms | errors | hook questions in the "
        "measured run | questions per request | cache hits / misses |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, (_, name) in VARIANTS.items():
        rps = _median(runs, variant, "rps")
        questions = _median(runs, variant, "questions")
        requests = _median(runs, variant, "requests")
        lines.append(
            f"| {name} | {rps:,.0f} | {rps / owner_rps:.3f} "
            f"({_paired(runs, variant, 'rps'):.3f}) | "
            f"{_median(runs, variant, 'p50_us') / 1000:.1f} | "
            f"{_median(runs, variant, 'p99_us') / 1000:.1f} | "
            f"{sum(r['errors'] for r in runs if r['variant'] == variant)} | {questions:,.0f} | "
            f"{questions / requests:.3f} | {_median(runs, variant, 'cache_hits'):,.0f} / "
            f"{_median(runs, variant, 'cache_misses'):,.0f} |"
        )
    lines += [
        "",
        "Where the time went, medians over the measured runs: CPU seconds of the service "
        "(both workers), PostgreSQL (every backend) and the hook, read from /proc; the "
        "service's CPU per request; new uploads per database transaction (the record writer "
        "batches creates that arrive together: `s3upload_write_batch_size`) and the hook's "
        "answer time as the service saw it (`s3upload_authz_hook_duration_seconds`), both "
        "from the service's own metrics.",
        "",
        "| variant | service s | PostgreSQL s | hook s | machine busy % | service CPU ms / "
        "request | hook CPU ms / question | creates / transaction | hook answer ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, (_, name) in VARIANTS.items():
        sel = [r for r in runs if r["variant"] == variant]
        # Only where most requests asked: a handful of misses says little about either.
        asking = [r for r in sel if r["questions"] >= r["requests"] / 2]
        answer = [r["hook_answer_ms"] for r in asking]
        per_question = [1000 * r["cpu_hook_s"] / r["questions"] for r in asking]
        lines.append(
            f"| {name} | {_median(runs, variant, 'cpu_service_s'):.2f} | "
            f"{_median(runs, variant, 'cpu_postgres_s'):.2f} | "
            f"{_median(runs, variant, 'cpu_hook_s'):.2f} | "
            f"{_median(runs, variant, 'cpu_machine_busy_pct'):.1f} | "
            f"{_median(runs, variant, 'service_cpu_ms_per_request'):.3f} | "
            f"{f'{statistics.median(per_question):.3f}' if per_question else '-'} | "
            f"{_median(runs, variant, 'creates_per_transaction'):.1f} | "
            f"{f'{statistics.median(answer):.1f}' if answer else '-'} |"
        )
    bad = max((r["bad_signatures"] for r in runs), default=0)
    lines += [
        "",
        f"Questions that failed to verify at the hook: {bad}.",
        "",
        "Every run:",
        "",
        "| round | variant | req/s | p50 ms | p99 ms | errors | requests | hook questions | "
        "distinct scopes asked | connections to the hook | warm-up requests / questions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['round']} | {VARIANTS[r['variant']][1]} | {r['rps']:,.0f} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['errors']} | "
            f"{r['requests']:,} | {r['questions']:,} | {r['scopes_asked']:,} | "
            f"{r['hook_connections']:,} | "
            f"{r['warmup_requests']:,} / {r['warmup_questions']:,} |"
        )
    lines += _question_lines(args, alone)
    small, big = args.sizes
    by = {(p["rows"], p["page"]): p for p in listing["pages"]}
    lines += [
        "",
        "## `GET /files?scope=…`: 10,000 files, in a small table and a big one",
        "",
        f"The scope `{LISTED}` holds {args.scoped:,} files over 100 owners and 30 days "
        f"({args.scoped // 50:,} of them still `pending`, so a reader lists "
        f"{args.scoped - args.scoped // 50:,}). Two databases in the same PostgreSQL, each "
        f"with its own service ({args.workers} workers, the same settings): one holds only "
        f"that scope ({small:,} rows), the other {big - args.scoped:,} more uploads over the "
        "same 30 days (60% in 5,000 other `event/…` scopes, 40% in none; 10,000 other owners; "
        "every status), inserted with `generate_series`, then `VACUUM ANALYZE`.",
        "",
        "The reader's token carries the grant `event/*:read` and `event` scopes are "
        "`access: claims`, so the decision is a set lookup in the token and what is measured "
        "is the query; the hook plays no part. One client, sequential requests over one "
        "kept-alive connection (httpx): the first page (`limit` 50) and a deep page whose "
        f"keyset cursor points {DEEP:,} files down: each step asks both pages of one table, "
        "then both of the other (which goes first flips each round), so the machine's noise "
        f"falls on both tables alike; {args.rounds} rounds of {args.n} steps, after a "
        "warm-up. Every answer checked: 50 files and a next cursor.",
        "",
        f"| page | {small:,} rows p50 ms | {big:,} rows p50 ms | p50 ratio | "
        f"{small:,} rows p99 ms | {big:,} rows p99 ms | p99 ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for page, title in (("first", "first page"), ("deep", f"deep page ({DEEP:,} down)")):
        a, b = by[(small, page)], by[(big, page)]
        lines.append(
            f"| {title} | {a['p50_ms']:.2f} | {b['p50_ms']:.2f} | "
            f"{b['p50_ms'] / a['p50_ms']:.2f} | {a['p99_ms']:.2f} | {b['p99_ms']:.2f} | "
            f"{b['p99_ms'] / a['p99_ms']:.2f} |"
        )
    lines += [
        "",
        f"A p99 of {args.rounds * args.n} sequential requests is their handful of slowest, "
        "which on a shared machine is whoever else was busy then; the buffers column below "
        "counts the statement's own work.",
        "",
        "What PostgreSQL counted while the service answered the measured requests "
        "(`pg_stat_user_indexes`, `pg_stat_user_tables`):",
        "",
        "| table | listing requests | scans of `ix_uploads_scope_created` | sequential scans "
        "of `uploads` | seeding s |",
        "|---|---|---|---|---|",
    ]
    for rows, t in listing["tables"].items():
        lines.append(
            f"| {int(rows):,} rows | {t['requests']:,} | {t['scope_index_scans']:,} | "
            f"{t['seq_scans']:,} | {t['seed_s']} |"
        )
    lines += [
        "",
        "The statement the service sends for a reader's page (`files/service.py`, "
        "`list_uploads`), written out:",
        "",
        "```sql",
        LIST_DEEP,
        "```",
        "",
        "(the first page without the cursor condition). EXPLAIN (ANALYZE, BUFFERS) of it, "
        "with the values given (custom plan) and as the generic plan a prepared statement "
        "may settle on: the scan line of each plan, the 8 KiB pages the statement touched "
        "(index and table, all in shared buffers) and its execution time:",
        "",
        "| table | page | plan | scan | buffers read | execution ms |",
        "|---|---|---|---|---|---|",
    ]
    for rows, t in listing["tables"].items():
        for title, plan in t["plans"].items():
            page, _, generic = title.partition(", ")
            buffers = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", plan)
            pages_read = sum(int(g) for g in buffers.groups() if g) if buffers else "-"
            execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
            lines.append(
                f"| {int(rows):,} rows | {page} | {generic or 'custom'} | `{_plan_line(plan)}` "
                f"| {pages_read} | {execution.group(1) if execution else '-'} |"
            )
    lines += ["", f"The plans in full, {big:,} rows:", ""]
    for title, plan in listing["tables"][big]["plans"].items():
        if "generic" not in title:
            lines += [f"{title}:", "", "```", plan, "```", ""]
    lines += [READING, RERUN]
    return "\n".join(lines)


READING = """## Reading the figures

- **Owner vs hook, warm**: a cache hit is a dictionary lookup and a metrics counter per
  request; the scoped create also validates the scope and writes it into the key and the
  record. Compare the service's CPU per request more than req/s: the rounds spread wider
  than the difference.
- **Hook, cold**: every create waits for one HTTP round trip to the hook before it is
  written. The hook spends a fraction of a millisecond of CPU on a question (verifying the
  signature, answering); the service spends several times that asking it, and on a machine
  whose cores are saturated that CPU is what sets the rate. Where it goes:
  - the HTTP client: httpx and httpcore's per-request work, which grows with the number of
    requests in flight (the *one question alone* table: one at a time against 32);
  - httpcore's async-library lookup: a failed `import sniffio`, searching `sys.path`,
    several times per question (the *short-circuited* column is the same code without it);
  - smaller write batches: creates reach the record writer one by one as their answers
    come back instead of together, so each transaction carries fewer of them (*creates /
    transaction*) and each create pays more of a transaction's fixed cost;
  - one JSON log line per answer at INFO, a signature, a cache insert: small beside these.
  The *hook answer ms* column is the round trip as the service measured it: under load
  mostly the time until the worker's busy event loop gets back to the answer, not the
  hook's time. An application whose hook is slower (a lookup of its own) adds its time to
  every uncached create; the cache keeps repeated uploads into one scope off that path.
- **Listing**: the scope index (`scope, created_at, id`, partial on `scope IS NOT NULL`)
  is walked backwards from the newest file of the scope, or from the cursor: a page reads
  about 51 index entries and their rows whatever the table holds around them (one level
  more of the index at 1,000,000 rows: one page more in *buffers read*), so the first page
  and a page 9,000 files down cost the same at 10,000 rows and at 1,000,000, and the
  service's request time (a few ms, of which the query is about 0.1 ms) is the same too.
  The status filter (finished files only) is applied to the rows the index hands over: a
  scope with many unfinished files would read correspondingly more per page.
"""

RERUN = """## Rerunning

```sh
apt-get install -y wrk          # and PostgreSQL and Ceph RGW, as for the other benchmarks
.venv/bin/python bench/scopes.py                 # 5 to 9 minutes here; writes this page
.venv/bin/python bench/scopes.py --rounds 1 --seconds 5 --n 50   # a quick look
```

`BENCH_PORT_BASE` (default 900 for this script) moves every port and `BENCH_STATE_DIR`
(default `/tmp/s3upload-bench-scopes`) holds PostgreSQL's and RGW's state, both wiped at the
end; set them to run beside another benchmark or a test run.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fill", type=int, default=60, help="most s filling the warm cache")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000, help="uploads already stored")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=200, help="listing requests per page, round")
    parser.add_argument("--scoped", type=int, default=10_000, help="files in the listed scope")
    parser.add_argument(
        "--sizes",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[10_000, 1_000_000],
        help="the two table sizes",
    )
    parser.add_argument("--questions", type=int, default=3000, help="per question-cost run")
    parser.add_argument("--skip-creates", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    started = time.monotonic()
    machine = _machine()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    STATE.mkdir(parents=True, exist_ok=True)
    prom = STATE / "prometheus"
    shutil.rmtree(prom, ignore_errors=True)
    prom.mkdir(parents=True)
    hook = Hook(secret)
    try:
        env = {
            "PROFILES": json.dumps(PROFILES),
            "AUTHZ_HOOK_URL": hook.url,
            "AUTHZ_HOOK_SECRET": secret,
            "AUTHZ_CACHE_TTL": "86400",
            # The workers' metrics added up, so one scrape sees both (batch sizes, hook times).
            "PROMETHEUS_MULTIPROC_DIR": str(prom),
            "METRICS_TOKEN": METRICS_TOKEN,
        }
        with production_stack(args.workers, args.history, **env) as stack:
            print(json.dumps({"stack": stack.base_url, "pg_port": PG["PG_PORT"]}), flush=True)
            runs = [] if args.skip_creates else creates(args, stack, hook)
            questions = question_cost(args, hook, secret)
            listing = listings(args, stack)
    finally:
        hook.stop()
    if runs:
        elapsed = time.monotonic() - started
        load += " at the start, " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
        load += " at the end"
        REPORT.write_text(report(args, runs, questions, listing, machine, load, elapsed))
        print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
