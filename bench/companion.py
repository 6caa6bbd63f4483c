"""s3upload against Uppy Companion, side by side on one machine.

Companion (@uppy/companion, `bench/companion/package.json`, installed into
`bench/companion/node_modules` with `npm ci` when missing) runs standalone on the same Ceph
RGW as the service; the service runs as in bench/throughput.py (PostgreSQL, `--workers 2`,
uvloop, access logs on, `LIMITS_ENABLED=false`, quotas on, 100,000 uploads in the table).
Every route is checked first: the URLs it signs must be accepted by RGW.

Measured, with the servers alternating run by run (Companion, s3upload, Companion, ...):

1. create a single upload: Companion `GET /s3/params` against s3upload `POST /uploads` and
   its Uppy route `GET /s3/params` (with `size`: a PUT bound to it; without: a POST form);
2. one part URL per request: `GET /s3/multipart/{uploadId}/{partNumber}?key=…` on both;
3. 10,000 part URLs: Companion's batch route in requests of 1,000 and of as many as it
   accepts, against s3upload `POST /uploads/{id}/parts` (one request) and its Uppy batch
   route (requests of up to 4,096 characters of part numbers).

1 and 2 with wrk (64 connections, warm-up then measured run, median of the rounds), with
each server's CPU seconds over every measured run read from /proc; 3 from one client,
request to last byte, median of the rounds.

Usage: python bench/companion.py [--seconds 10] [--warmup 3] [--rounds 3] [--batch-rounds 5]
Writes docs/bench/companion.md; raw results in $BENCH_STATE_DIR/companion.json, from which
`--report-only` writes the report again without measuring.
Ports move with BENCH_PORT_BASE (default here 1100: Companion on 4120), state lives in
BENCH_STATE_DIR (default /tmp/s3upload-bench-companion).
"""

from __future__ import annotations

import os

os.environ.setdefault("BENCH_PORT_BASE", "1100")
os.environ.setdefault("BENCH_STATE_DIR", "/tmp/s3upload-bench-companion")

import argparse
import base64
import json
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import _BASE, PG, ROOT, STATE, Stack, _pg_bin
from bench.throughput import BODY, production_stack, tokens

COMPANION_DIR = ROOT / "bench" / "companion"
COMPANION_PKG = COMPANION_DIR / "node_modules" / "@uppy" / "companion"
GET_LUA = ROOT / "bench" / "wrk" / "get.lua"
POST_LUA = ROOT / "bench" / "wrk" / "post.lua"
REPORT = ROOT / "docs" / "bench" / "companion.md"
RAW = STATE / "companion.json"
PLOT = ROOT / "docs" / "bench" / "perf" / "companion.png"
TICK = os.sysconf("SC_CLK_TCK")
MiB = 1 << 20
# The service's Uppy batch route takes up to 4,096 characters of part numbers.
SERVICE_BATCH_CHARS = 4_096
# The multipart upload both servers sign parts for: 10,000 parts of 5 MiB (Uppy's cut).
BIG = 10_000 * 5 * MiB
PARAMS_QUERY = "filename=photo.jpg&type=image%2Fjpeg"
C1000 = "Companion, 10 requests of 1,000"
DURABLE = " (fsync on)"


# ---- processes ----


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """A process and all its descendants."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(_stat(int(stat.parent.name))[1])
        except (OSError, ValueError):
            continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [p for p, pp in parent.items() if pp == pid]
    return found


def cpu_seconds(root: int) -> float:
    """CPU seconds (user + system, every thread) of a process tree, with what its processes
    that ended in the meantime used (counted in their parent's cutime and cstime)."""
    total = 0.0
    for pid in tree(root):
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / TICK
    return total


def rss_mib(root: int) -> float:
    """Resident memory of a process tree, MiB."""
    total = 0
    for pid in tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
    return total / 1024


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Node listens
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Companion:
    """Uppy Companion, standalone (`bin/companion`), signing for the benchmark's RGW."""

    def __init__(self, rgw_env: dict[str, str], bucket: str, region: str) -> None:
        self.port = 3020 + _BASE
        if not _port_free(self.port):
            sys.exit(f"port {self.port} is taken: set BENCH_PORT_BASE to move every port")
        self.base_url = f"http://127.0.0.1:{self.port}"
        data = STATE / "companion-data"
        data.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "NODE_ENV": "production",
            "COMPANION_PORT": str(self.port),
            "COMPANION_DOMAIN": f"127.0.0.1:{self.port}",
            "COMPANION_DATADIR": str(data),
            "COMPANION_SECRET": secrets.token_hex(32),
            "COMPANION_PREAUTH_SECRET": secrets.token_hex(32),
            # Required in production; they govern remote-provider uploads and CORS, not /s3.
            "COMPANION_UPLOAD_URLS": f"{rgw_env['S3_ENDPOINT_URL']}/.*",
            "COMPANION_CLIENT_ORIGINS": "http://localhost:5173",
            "COMPANION_AWS_KEY": rgw_env["AWS_ACCESS_KEY_ID"],
            "COMPANION_AWS_SECRET": rgw_env["AWS_SECRET_ACCESS_KEY"],
            "COMPANION_AWS_BUCKET": bucket,
            "COMPANION_AWS_REGION": region,
            "COMPANION_AWS_ENDPOINT": rgw_env["S3_ENDPOINT_URL"],
            "COMPANION_AWS_FORCE_PATH_STYLE": "true",  # RGW: bucket in the path, not the host
            "COMPANION_AWS_PREFIX": "companion/",
        }
        self.log = STATE / "companion.log"  # morgan's access log and Companion's own
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                ["node", str(COMPANION_PKG / "bin" / "companion")],
                cwd=COMPANION_DIR,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"Companion exited at start; see {self.log}")
            try:
                if httpx.get(f"{self.base_url}/s3/params?{PARAMS_QUERY}").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"Companion did not answer in 30 s; see {self.log}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def install_companion() -> None:
    """`npm ci` (or `npm install` without a lock file) into bench/companion/node_modules."""
    if (COMPANION_PKG / "package.json").exists():
        return
    if shutil.which("npm") is None:
        sys.exit("npm is not installed (Node.js 20.19+ or 22)")
    lock = (COMPANION_DIR / "package-lock.json").exists()
    command = ["npm", "ci" if lock else "install", "--no-audit", "--no-fund"]
    print("installing Companion:", " ".join(command), flush=True)
    subprocess.run(command, cwd=COMPANION_DIR, check=True)


def node_version(package: str) -> str:
    path = COMPANION_DIR / "node_modules" / package / "package.json"
    return str(json.loads(path.read_text())["version"])


# ---- checks: every route answers, and RGW takes what it signs ----


def _signed_headers(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("X-Amz-SignedHeaders", ["?"])[0]


def _policy_conditions(fields: dict[str, str]) -> list[Any]:
    policy = next(v for k, v in fields.items() if k.lower() == "policy")
    return list(json.loads(base64.b64decode(policy))["conditions"])


def _post_form(params: dict[str, Any], body: bytes) -> httpx.Response:
    files = {"file": ("photo.jpg", body, "image/jpeg")}
    return httpx.post(params["url"], data=params["fields"], files=files, timeout=30)


def check_routes(companion: Companion, stack: Stack, owner: str) -> dict[str, Any]:
    """Ask every measured route once and send bytes to what it signed; facts for the report."""
    auth = {"Authorization": f"Bearer {owner}"}
    c, s = companion.base_url, stack.base_url
    facts: dict[str, Any] = {}

    # 1. Companion's single upload: an HTML-form POST.
    answer = httpx.get(f"{c}/s3/params?{PARAMS_QUERY}")
    params = answer.json()
    assert params["method"] == "POST", params
    resp = _post_form(params, b"x" * 1000)
    assert resp.status_code == 201, resp.text
    facts["companion_params"] = {
        "method": "POST",
        "conditions": _policy_conditions(params["fields"]),
        "rgw": resp.status_code,
        # express-session, saveUninitialized: a new session for a request without the cookie
        "set_cookie": answer.headers.get("set-cookie", "").split("=", 1)[0],
    }
    # The service: POST /uploads and GET /s3/params with a size (PUT), without (POST form).
    created = httpx.post(
        f"{s}/uploads",
        headers=auth,
        json={"fileName": "photo.jpg", "fileType": "image/jpeg", "fileSize": 11},
    )
    assert created.status_code == 201, created.text
    target = created.json()["single"]
    resp = httpx.put(target["url"], content=b"x" * 11, headers=target.get("headers") or {})
    assert resp.status_code == 200, resp.text
    facts["service_create"] = {"signed": _signed_headers(target["url"]), "rgw": 200}
    put = httpx.get(f"{s}/s3/params?{PARAMS_QUERY}&size=11", headers=auth).json()
    assert put["method"] == "PUT", put
    resp = httpx.put(put["url"], content=b"x" * 11, headers=put["headers"])
    assert resp.status_code == 200, resp.text
    facts["service_params_put"] = {"signed": _signed_headers(put["url"]), "rgw": 200}
    form = httpx.get(f"{s}/s3/params?{PARAMS_QUERY}", headers=auth).json()
    assert form["method"] == "POST", form
    resp = _post_form(form, b"x" * 11)
    assert resp.status_code in (201, 204), resp.text
    facts["service_params_post"] = {
        "conditions": _policy_conditions(form["fields"]),
        "rgw": resp.status_code,
    }

    # 2. Part URLs: one multipart upload on each, a part PUT through each route's URL.
    up = httpx.post(
        f"{c}/s3/multipart",
        json={"filename": "big.bin", "type": "application/octet-stream", "metadata": {}},
    ).json()
    key = quote(up["key"], safe="")
    one = httpx.get(f"{c}/s3/multipart/{up['uploadId']}/1?key={key}").json()
    resp = httpx.put(one["url"], content=b"y" * (5 * MiB), timeout=30)
    assert resp.status_code == 200, resp.text
    query = parse_qs(urlsplit(one["url"]).query)
    facts["companion_part"] = {
        "signed": query["X-Amz-SignedHeaders"][0],
        "checksum_in_query": {k: v[0] for k, v in query.items() if "checksum" in k.lower()},
        "body": 5 * MiB,
        "rgw": 200,
    }
    batch = httpx.get(f"{c}/s3/multipart/{up['uploadId']}/batch?key={key}&partNumbers=2,3")
    resp = httpx.put(batch.json()["presignedUrls"]["3"], content=b"z" * 100)
    assert resp.status_code == 200, resp.text
    facts["companion_batch"] = {"rgw": 200}
    companion_up = {"uploadId": up["uploadId"], "key": up["key"]}

    body = {"filename": "big.bin", "type": "application/octet-stream", "size": BIG}
    up = httpx.post(f"{s}/s3/multipart", headers=auth, json=body).json()
    key = quote(up["key"], safe="")
    one = httpx.get(f"{s}/s3/multipart/{up['uploadId']}/1?key={key}", headers=auth).json()
    resp = httpx.put(one["url"], content=b"y" * (5 * MiB), headers=one["headers"], timeout=30)
    assert resp.status_code == 200, resp.text
    facts["service_part"] = {"signed": _signed_headers(one["url"]), "rgw": 200}
    batch = httpx.get(
        f"{s}/s3/multipart/{up['uploadId']}/batch?key={key}&partNumbers=2,3", headers=auth
    )
    resp = httpx.put(batch.json()["presignedUrls"]["2"], content=b"z" * (5 * MiB), timeout=30)
    assert resp.status_code == 200, resp.text
    parts = httpx.post(
        f"{s}/uploads/{up['uploadId']}/parts",
        headers=auth,
        json={"partNumbers": [4]},
    ).json()["parts"][0]
    resp = httpx.put(parts["url"], content=b"w" * (5 * MiB), headers=parts["headers"], timeout=30)
    assert resp.status_code == 200, resp.text
    facts["service_batch"] = {"rgw": 200}
    service_up = {"uploadId": up["uploadId"], "key": up["key"]}
    return {"facts": facts, "companion_upload": companion_up, "service_upload": service_up}


# ---- wrk ----


def wrk(url: str, script: Path, env: dict[str, str], connections: int, seconds: int) -> Any:
    threads = min(connections, os.cpu_count() or 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "--latency", "-s", str(script), url]
    out = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(
        result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx")
    )
    return result


def durable(on: bool) -> None:
    """Turn PostgreSQL's durability on (fsync, synchronous_commit, full_page_writes, as in
    production) or back to the test cluster's settings; all three take effect on reload."""
    names = ("fsync", "synchronous_commit", "full_page_writes")
    sql = [f"ALTER SYSTEM SET {n} = on" if on else f"ALTER SYSTEM RESET {n}" for n in names]
    sql += ["SELECT pg_reload_conf()"]
    psql = [f"{_pg_bin()}/psql", "-h", "127.0.0.1", "-p", PG["PG_PORT"], "-U", "postgres"]
    for statement in sql:
        subprocess.run([*psql, "-qAtc", statement], check=True, capture_output=True)
    time.sleep(1)  # the reload reaches every backend
    shown = subprocess.run(
        [*psql, "-qAtc", "SHOW fsync"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if shown != ("on" if on else "off"):
        raise RuntimeError(f"fsync is {shown!r} after the reload")


def _postmaster() -> int:
    return int(Path(PG["PG_DIR"], "data", "postmaster.pid").read_text().split()[0])


def measured_run(
    target: dict[str, Any], args: argparse.Namespace, pids: dict[str, int]
) -> dict[str, Any]:
    """Warm-up, then the measured run with the CPU seconds of every server over it."""
    warm = wrk(target["url"], target["script"], target["env"], args.connections, args.warmup)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    run = wrk(target["url"], target["script"], target["env"], args.connections, args.seconds)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    run["cpu_s"] = {name: round(after[name] - before[name], 2) for name in pids}
    run["rss_mib"] = {name: round(rss_mib(pid), 1) for name, pid in pids.items()}
    run["warmup_requests"] = warm["requests"]
    return run


# ---- 10,000 part URLs ----


def _chunks(numbers: list[int], limit: int, overhead: int = 0) -> list[list[int]]:
    """Greedy runs of part numbers whose comma-joined text (plus `overhead`) fits `limit`."""
    out: list[list[int]] = [[]]
    length = overhead
    for n in numbers:
        add = len(str(n)) + (1 if out[-1] else 0)
        if out[-1] and length + add > limit:
            out.append([])
            length, add = overhead, len(str(n))
        out[-1].append(n)
        length += add
    return out


def companion_limit(companion: Companion, upload: dict[str, str]) -> dict[str, Any]:
    """The most part numbers (1..N) Companion's batch route accepts in one request."""
    path = f"/s3/multipart/{upload['uploadId']}/batch?key={quote(upload['key'], safe='')}"
    with httpx.Client(base_url=companion.base_url, timeout=60) as client:

        def status(n: int) -> int:
            numbers = ",".join(map(str, range(1, n + 1)))
            client.cookies.clear()  # no session cookie: its length varies, and so the limit
            return client.get(f"{path}&partNumbers={numbers}").status_code

        lo, hi, refused = 1, 10_000, None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            code = status(mid)
            if code == 200:
                lo = mid
            else:
                hi, refused = mid - 1, code
    target = len(path) + len("&partNumbers=") + len(",".join(map(str, range(1, lo + 1))))
    return {"max_from_1": lo, "refused_with": refused, "max_target_chars": target, "path": path}


def fetch_10k(client: httpx.Client, requests: list[tuple[str, str, bytes | None]]) -> float:
    """Seconds from the first request to the last answer read; every answer checked after."""
    answers = []
    json_type = {"Content-Type": "application/json"}
    t0 = time.perf_counter()
    for method, url, body in requests:
        headers = json_type if body is not None else None
        client.cookies.clear()  # as wrk: no Companion session cookie sent back
        answers.append(client.request(method, url, content=body, headers=headers))
    elapsed = time.perf_counter() - t0
    got: set[int] = set()
    for resp in answers:
        assert resp.status_code == 200, (resp.status_code, str(resp.url)[:200], resp.text[:300])
        data = resp.json()
        if "parts" in data:
            got |= {p["partNumber"] for p in data["parts"]}
        else:
            got |= {int(n) for n in data["presignedUrls"]}
    assert got == set(range(1, 10_001)), f"{len(got)} distinct part URLs"
    return elapsed


def batches(
    companion: Companion,
    stack: Stack,
    owner: str,
    uploads: dict[str, dict[str, str]],
    limit: dict[str, Any],
    args: argparse.Namespace,
    pids: dict[str, int],
) -> list[dict[str, Any]]:
    numbers = list(range(1, 10_001))
    c_path = limit["path"]
    s_up = uploads["service"]
    s_path = f"/s3/multipart/{s_up['uploadId']}/batch?key={quote(s_up['key'], safe='')}"
    overhead = len(c_path) + len("&partNumbers=")
    variants = {
        C1000: (
            "companion",
            [
                ("GET", f"{c_path}&partNumbers={','.join(map(str, numbers[i : i + 1000]))}", None)
                for i in range(0, 10_000, 1000)
            ],
        ),
        "Companion, requests at its limit": (
            "companion",
            [
                ("GET", f"{c_path}&partNumbers={','.join(map(str, chunk))}", None)
                for chunk in _chunks(numbers, limit["max_target_chars"], overhead)
            ],
        ),
        "s3upload `POST /uploads/{id}/parts`, one request of 10,000": (
            "s3upload",
            [
                (
                    "POST",
                    f"/uploads/{s_up['uploadId']}/parts",
                    json.dumps({"partNumbers": numbers}).encode(),
                )
            ],
        ),
        "s3upload `GET /s3/multipart/{id}/batch`, up to 4,096 characters each": (
            "s3upload",
            [
                ("GET", f"{s_path}&partNumbers={','.join(map(str, chunk))}", None)
                for chunk in _chunks(numbers, SERVICE_BATCH_CHARS)
            ],
        ),
    }
    clients = {
        "companion": httpx.Client(base_url=companion.base_url, timeout=120),
        "s3upload": httpx.Client(
            base_url=stack.base_url, timeout=120, headers={"Authorization": f"Bearer {owner}"}
        ),
    }
    results = []
    try:
        for server, reqs in variants.values():  # a warm-up of each
            fetch_10k(clients[server], reqs)
        for rnd in range(args.batch_rounds):
            for name, (server, reqs) in variants.items():
                before = {k: cpu_seconds(pid) for k, pid in pids.items()}
                seconds = fetch_10k(clients[server], reqs)
                after = {k: cpu_seconds(pid) for k, pid in pids.items()}
                row = {
                    "variant": name,
                    "server": server,
                    "round": rnd + 1,
                    "requests": len(reqs),
                    "seconds": seconds,
                    "cpu_s": {k: round(after[k] - before[k], 2) for k in pids},
                }
                print(json.dumps(row), flush=True)
                results.append(row)
    finally:
        for client in clients.values():
            client.close()
    return results


# ---- report ----


def _machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024**2

    def out(*command: str) -> str:
        try:
            run = subprocess.run(command, capture_output=True, text=True)
        except OSError:
            return "?"
        return (run.stdout or run.stderr).strip().splitlines()[0]

    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return {
        "machine": f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": out("node", "--version"),
        "postgres": out(f"{_pg_bin()}/postgres", "--version"),
        "ceph": out("radosgw", "--version"),
        "wrk": out("wrk", "-v").split(" [")[0],
        "companion": node_version("@uppy/companion"),
        "aws_sdk": node_version("@aws-sdk/client-s3"),
        "express": node_version("express"),
        "commit": head,
        "src_changes": ", ".join(sorted(x[3:] for x in dirty if x.strip())) or "none",
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "measured": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
    }


def _med(values: list[float]) -> float:
    return float(statistics.median(values))


def _ms(us: float) -> str:
    return f"{us / 1000:,.1f}"


def report(
    args: argparse.Namespace,
    env: dict[str, str],
    checks: dict[str, Any],
    runs: list[dict[str, Any]],
    limit: dict[str, Any],
    fetches: list[dict[str, Any]],
    elapsed: float,
    rss: dict[str, float],
) -> str:
    facts = checks["facts"]

    def summary(target: str) -> dict[str, Any]:
        mine = [r for r in runs if r["target"] == target]
        cpu = [r["cpu_s"][r["server"]] for r in mine]
        pg = [r["cpu_s"]["postgres"] for r in mine]
        return {
            "server": mine[0]["server"],
            "rps": _med([r["rps"] for r in mine]),
            "p50": _med([r["p50_us"] for r in mine]),
            "p99": _med([r["p99_us"] for r in mine]),
            "errors": sum(r["errors"] for r in mine),
            "requests": sum(r["requests"] for r in mine),
            "cpu": _med(cpu),
            "cpu_ms": _med([r["cpu_s"][r["server"]] * 1000 / r["requests"] for r in mine]),
            "pg": _med(pg),
            "pg_ms": _med([r["cpu_s"]["postgres"] * 1000 / r["requests"] for r in mine]),
            "rounds": [round(r["rps"]) for r in mine],
        }

    groups: dict[str, list[str]] = {}
    for r in runs:
        if r["target"] not in groups.setdefault(r["group"], []):
            groups[r["group"]].append(r["target"])

    lines = [
        "# s3upload against Uppy Companion",
        "",
        f"Uppy Companion {env['companion']} (the Node signing server Uppy users run) and "
        "s3upload on the same machine, the same Ceph RGW and the same load generator, the "
        "two servers alternating run by run. Regenerate: `python bench/companion.py` "
        f"(this run took {elapsed / 60:.1f} minutes).",
        "",
        f"Measured {env['measured']} UTC at s3upload commit "
        f"`{env['commit'][:12]}` (uncommitted changes under `src/`: {env['src_changes']}).",
        "",
        "## What ran",
        "",
        f"- Machine: {env['machine']}; shared with other test runs while this ran (load "
        f"average {env['load']} at the start, {env['load_end']} at the end). Everything "
        "below (both servers, PostgreSQL, RGW, wrk) shares its cores.",
        f"- s3upload as in [performance.md](performance.md): `uvicorn --workers "
        f"{args.workers} --loop uvloop`, Python {env['python']}, access logs on (JSON, INFO, "
        "to a file), Prometheus metrics on, quotas on, `LIMITS_ENABLED=false`; "
        f"{env['postgres']} with {args.history:,} uploads already in the table; "
        f"{env['ceph']}.",
        f"- Companion {env['companion']} standalone (`bin/companion`, Express "
        f"{env['express']}, `@aws-sdk/client-s3` {env['aws_sdk']} pinned in "
        f"`bench/companion/package.json`), Node {env['node']}, `NODE_ENV=production`, one "
        "process (what the standalone server runs; more means more instances behind a "
        "balancer, with Redis), its access log (morgan `combined`) on, "
        "to a file. `COMPANION_AWS_ENDPOINT` is the same RGW, "
        "`COMPANION_AWS_FORCE_PATH_STYLE=true` (RGW has no bucket host names here), "
        "`COMPANION_AWS_REGION=default`, the same bucket under the prefix `companion/`. "
        "In production mode it also refuses to start without `COMPANION_UPLOAD_URLS` and "
        "`COMPANION_CLIENT_ORIGINS`, which govern its remote-provider uploads and CORS, not "
        "`/s3`.",
        f"- Load: {env['wrk']}, {args.connections} connections, 2 threads, "
        f"{args.warmup} s warm-up then {args.seconds} s measured, before every run; "
        f"{args.rounds} rounds, in each round every route in the order of the tables, so "
        "Companion and s3upload alternate. Figures are medians of the rounds; errors are "
        "summed over them (non-2xx, socket errors, timeouts over 10 s). s3upload requests "
        "carry real HS256 bearer tokens (tokens of 1,000 owners rotated for creates; the "
        "upload's owner for part URLs); Companion's `/s3` routes take no credentials, so its "
        "requests carry none.",
        "- CPU: user + system seconds of each server's whole process tree (Companion's node "
        "process with all its threads; uvicorn and both workers), read from `/proc` before "
        "and after every measured run. PostgreSQL's (every backend) is shown beside "
        "s3upload's: Companion's routes use no database.",
        "",
        "![requests per second and p99 of every route, Companion beside s3upload]"
        "(perf/companion.png)",
        "",
        "Before measuring, every route was asked once and its URL used: RGW took the bytes "
        "each time (Companion's POST form 201, its part URLs 200; s3upload's PUT 200, POST "
        "form 204, part URLs 200).",
        "",
    ]
    titles = {
        "create": "## 1. Creating a single upload",
        "part": "## 2. One part URL per request",
        "durable": "## 2b. Creating a single upload, PostgreSQL durable",
    }
    notes = {
        "create": [
            "Companion signs an HTML-form POST policy and writes nothing. s3upload's "
            "`POST /uploads` and `GET /s3/params` verify the token, check the profile and "
            "quotas, write the upload's record (`pending`) to PostgreSQL and sign; with a "
            "size, a PUT bound to the type and exact length, without, a POST form capped at "
            "the profile's maximum.",
        ],
        "part": [
            "One multipart upload on each (created through each server's `POST "
            "/s3/multipart`; s3upload's with a size, 10,000 parts of 5 MiB), part numbers "
            "1 to 100 rotated per request. s3upload checks the caller's token and the upload "
            "(owner, state, the part within the plan, its length) and signs the part's exact "
            "`Content-Length`; each worker reads the upload's record from PostgreSQL once and "
            "keeps it while the upload is pending (`src/s3upload/access/pending.py`), so "
            "these requests touch no database. Companion signs what it is asked.",
        ],
        "durable": [
            "The creates of section 1 again, after section 2, with PostgreSQL's `fsync`, "
            "`synchronous_commit` and `full_page_writes` turned on (`ALTER SYSTEM`, then a "
            "reload), as a production database runs: every commit waits for the disk. The "
            "rest of this page runs them off, as the test cluster does. Companion writes "
            "nothing; it is measured again for the same conditions on the machine.",
        ],
    }
    ratio_rows = []
    group_names = {"create": "1. create", "part": "2. part URL", "durable": "2b. create, durable"}
    for group, targets in groups.items():
        lines += [
            titles[group],
            "",
            "| server | route | req/s | p50 ms | p99 ms | errors | CPU s / run | "
            "CPU ms / request | PostgreSQL CPU ms / request | req/s by round |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        stats = {t: summary(t) for t in targets}
        for t in targets:
            x = stats[t]
            pg = f"{x['pg_ms']:.2f}" if x["server"] == "s3upload" else "none used"
            lines.append(
                f"| {x['server']} | `{t.split(' ', 1)[1]}` | {x['rps']:,.0f} | "
                f"{_ms(x['p50'])} | {_ms(x['p99'])} | {x['errors']} | {x['cpu']:.1f} | "
                f"{x['cpu_ms']:.2f} | {pg} | {', '.join(f'{v:,}' for v in x['rounds'])} |"
            )
        base = next(t for t in targets if stats[t]["server"] == "companion")
        tail = stats[base]["p99"] / stats[base]["p50"]
        extra = []
        form = next((t for t in targets if "(POST form)" in t), None)
        put = next((t for t in targets if "(PUT)" in t), None)
        if form and put:
            extra = [
                "",
                "Without a size, s3upload's create also caps the form at what is left of the "
                "owner's bytes for the day, which the batched record writer reads in the same "
                "query as the quotas before it writes the record. PostgreSQL's CPU per request "
                f"there is {stats[form]['pg_ms'] / stats[put]['pg_ms']:.1f} times the sized "
                f"PUT's, and the rate {stats[form]['rps'] / stats[put]['rps']:.2f} times its.",
            ]
        lines += [
            "",
            *notes[group],
            *extra,
            "",
            f"Companion's p99 is {tail:.0f} times its p50 here (s3upload's: "
            + ", ".join(
                f"{stats[t]['p99'] / stats[t]['p50']:.0f}"
                for t in targets
                if stats[t]["server"] == "s3upload"
            )
            + "): one Node process answers all 64 connections; most answers come quickly "
            "and a few wait seconds.",
            "",
        ]
        for t in targets:
            if stats[t]["server"] == "s3upload":
                a, b = stats[t], stats[base]
                route, theirs = t.split(" ", 1)[1], base.split(" ", 1)[1]
                label = (
                    f"s3upload `{route}` ÷ Companion `{theirs}`"
                    if route != theirs
                    else f"`{route}`, s3upload ÷ Companion"
                )
                ratio_rows.append(
                    f"| {group_names[group]}: {label} | {a['rps'] / b['rps']:.2f} | "
                    f"{a['p99'] / b['p99']:.2f} | {a['cpu_ms'] / b['cpu_ms']:.2f} |"
                )

    idle_lows = [
        min(
            r["rss_mib"]["companion"] for r in runs if r["round"] == n and r["server"] == "s3upload"
        )
        for n in sorted({r["round"] for r in runs})
    ]
    growth = (
        f" ({idle_lows[-1] - idle_lows[0]:+,.0f} MiB from the first round's to the last's; "
        "too short a run to call it a leak or not)"
    )
    by: dict[str, list[dict[str, Any]]] = {}
    for f in fetches:
        by.setdefault(f["variant"], []).append(f)
    c1000 = _med([f["seconds"] for f in by[C1000]])
    c1000_cpu = _med([f["cpu_s"]["companion"] for f in by[C1000]])
    lines += [
        "## 3. 10,000 part URLs",
        "",
        "From one client on one keep-alive connection, requests one after another; time from "
        "the first request to the last answer read, median of "
        f"{args.batch_rounds} rounds (one warm-up each first; the four alternate within a "
        "round). Every answer was checked afterwards: 10,000 distinct part numbers.",
        "",
        "| variant | requests | median s | min s | max s | URLs/s | server CPU s | "
        "URLs/s ÷ Companion's in requests of 1,000 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in by.items():
        secs = [f["seconds"] for f in rows]
        med = _med(secs)
        cpu = _med([f["cpu_s"][f["server"]] for f in rows])
        lines.append(
            f"| {name} | {rows[0]['requests']} | {med:.3f} | {min(secs):.3f} | "
            f"{max(secs):.3f} | {10_000 / med:,.0f} | {cpu:.2f} | {c1000 / med:.2f} |"
        )
        if name.startswith("s3upload"):
            ratio_rows.append(
                f"| 3. 10,000 part URLs: s3upload {name.removeprefix('s3upload ')} ÷ "
                f"Companion, requests of 1,000 | {c1000 / med:.1f} | | "
                f"{cpu / c1000_cpu:.3f} |"
            )
    lines += [
        "",
        f"Companion's batch route has no limit of its own; Node's HTTP parser has: a request "
        f"whose request line and headers pass 16 KiB is refused with "
        f"`{limit['refused_with']}` before Companion sees it. Part numbers 1 to "
        f"{limit['max_from_1']:,} pass in one request, commas unencoded "
        f"({limit['max_target_chars']:,} characters of request target here, with its "
        "`uploadId` and `key`, and no cookie); fewer with longer numbers, `%2C` for the "
        "commas, or Companion's session cookie sent back (about 100 bytes). "
        "`--max-http-header-size` would raise it. s3upload's Uppy batch route takes up to "
        "4,096 characters of part numbers; its own `POST /uploads/{id}/parts` takes all "
        "10,000 in one JSON body.",
        "",
        "## Ratios (s3upload ÷ Companion)",
        "",
        "Medians of the rounds above. Above 1 means s3upload does more requests a second; "
        "for p99 and CPU per request, below 1 means s3upload's is lower.",
        "",
        "| route | req/s | p99 | CPU per request (per 10,000 URLs for part batches) |",
        "|---|---:|---:|---:|",
        *ratio_rows,
        "",
        "## What differs besides speed",
        "",
        f"- Companion's part URLs sign only `{facts['companion_part']['signed']}` with "
        "`UNSIGNED-PAYLOAD`: a part of any length is accepted. Its AWS SDK also puts the "
        "CRC32 of an empty body into the query ("
        + ", ".join(f"`{k}={v}`" for k, v in facts["companion_part"]["checksum_in_query"].items())
        + "); RGW ignores it (the check above sent a 5 MiB part through such a URL and got "
        "200). s3upload's part URLs sign "
        f"`{facts['service_part']['signed']}`: each part's exact length.",
        "- Companion's POST policy has these conditions: "
        + ", ".join(f"`{json.dumps(c)}`" for c in facts["companion_params"]["conditions"])
        + ": no `content-length-range`, so a form of any size is accepted. s3upload's "
        "carries `"
        + json.dumps(
            next(c for c in facts["service_params_post"]["conditions"] if isinstance(c, list))
        )
        + "` (the profile's maximum), and its PUT URLs sign "
        f"`{facts['service_params_put']['signed']}`.",
        "- Companion's `/s3` routes take no credentials: whoever can reach them gets signed "
        "URLs into the bucket, and its part routes sign for whatever `key` and `uploadId` "
        "they are given. s3upload's require a bearer token, and part URLs are signed only "
        "for the upload's owner, for its key and within its plan.",
        "- Companion builds two new `S3Client`s for every request (`getCompanionMiddleware` "
        "in its source). Standalone, it also starts an `express-session` for every request "
        "that comes without its cookie (`saveUninitialized: true`; every answer above carried "
        f"`Set-Cookie: {facts['companion_params']['set_cookie']}=…`), kept in the "
        "in-process `MemoryStore` (it warns at start that this leaks and will not scale past "
        "one process) unless "
        "`COMPANION_REDIS_URL` is set. Its resident memory: "
        f"{rss['companion_start']:,.0f} MiB after the checks, then after each of its "
        "measured runs "
        + ", ".join(f"{v:,.0f}" for v in rss["companion_runs"])
        + f" MiB ({rss['companion_requests']:,} requests in all, warm-ups included); its "
        "lowest in each round, while s3upload was measured: "
        + ", ".join(f"{v:,.0f}" for v in idle_lows)
        + f" MiB{growth}. "
        f"s3upload's (uvicorn and 2 workers): {rss['service_start']:,.0f} MiB, then after "
        "each round "
        + ", ".join(f"{v:,.0f}" for v in rss["service_runs"])
        + f" MiB ({rss['service_requests']:,} requests).",
        "- s3upload runs 2 worker processes on the 2 cores; Companion is one Node process. "
        "CPU per request compares the work each does for an answer independently of that.",
        "",
        "## Rerunning",
        "",
        "```sh",
        "python bench/companion.py          # npm ci into bench/companion/node_modules if missing",
        "python bench/companion.py --seconds 10 --warmup 3 --rounds 3 --batch-rounds 5",
        "python bench/companion.py --report-only   # this page again from the last raw results",
        "```",
        "",
        "`BENCH_PORT_BASE` (1100 here: PostgreSQL 56534, RGW 8582, Companion 4120) moves every "
        "port and `BENCH_STATE_DIR` (`/tmp/s3upload-bench-companion`) holds the state, the "
        "servers' logs and the raw results (`companion.json`). Needs `wrk` and Node.js "
        "20.19+ or 22 with npm (the npm registry reachable for the first run).",
        "",
    ]
    return "\n".join(lines)


# ---- main ----


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000, help="uploads already stored")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help=f"write the report again from the last run's raw results ({RAW})",
    )
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads(RAW.read_text()), args.out)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    if shutil.which("node") is None:
        sys.exit("Node.js is not installed (20.19+ or 22)")
    install_companion()
    started = time.monotonic()
    env = _machine()
    STATE.mkdir(parents=True, exist_ok=True)
    work = STATE / "wrk"
    work.mkdir(exist_ok=True)
    token_file = Path(tokens(args.owners, work / "tokens"))
    owner = token_file.read_text().splitlines()[0]
    owner_file = work / "owner"
    owner_file.write_text(owner + "\n")

    with production_stack(args.workers, args.history) as stack:
        companion = Companion(stack.env, stack.env["S3_BUCKET"], stack.env["S3_REGION"])
        try:
            pids = {
                "companion": companion.pid,
                "s3upload": stack.pid,
                "postgres": _postmaster(),
            }
            checks = check_routes(companion, stack, owner)
            print(json.dumps(checks), flush=True)
            c_up, s_up = checks["companion_upload"], checks["service_upload"]

            def paths(name: str, lines: list[str]) -> str:
                path = work / name
                path.write_text("".join(x + "\n" for x in lines))
                return str(path)

            c_key, s_key = quote(c_up["key"], safe=""), quote(s_up["key"], safe="")
            targets = [
                {
                    "group": "create",
                    "server": "companion",
                    "target": "companion GET /s3/params",
                    "url": companion.base_url,
                    "script": GET_LUA,
                    "env": {"WRK_PATHS_FILE": paths("c-params", [f"/s3/params?{PARAMS_QUERY}"])},
                },
                {
                    "group": "create",
                    "server": "s3upload",
                    "target": "s3upload POST /uploads",
                    "url": f"{stack.base_url}/uploads",
                    "script": POST_LUA,
                    "env": {"WRK_TOKENS_FILE": str(token_file), "WRK_BODY": BODY},
                },
                {
                    "group": "create",
                    "server": "s3upload",
                    "target": "s3upload GET /s3/params?…&size=2000000 (PUT)",
                    "url": stack.base_url,
                    "script": GET_LUA,
                    "env": {
                        "WRK_PATHS_FILE": paths(
                            "s-params-put", [f"/s3/params?{PARAMS_QUERY}&size=2000000"]
                        ),
                        "WRK_TOKENS_FILE": str(token_file),
                    },
                },
                {
                    "group": "create",
                    "server": "s3upload",
                    "target": "s3upload GET /s3/params (POST form)",
                    "url": stack.base_url,
                    "script": GET_LUA,
                    "env": {
                        "WRK_PATHS_FILE": paths("s-params-post", [f"/s3/params?{PARAMS_QUERY}"]),
                        "WRK_TOKENS_FILE": str(token_file),
                    },
                },
                {
                    "group": "part",
                    "server": "companion",
                    "target": "companion GET /s3/multipart/{uploadId}/{partNumber}?key=…",
                    "url": companion.base_url,
                    "script": GET_LUA,
                    "env": {
                        "WRK_PATHS_FILE": paths(
                            "c-part",
                            [
                                f"/s3/multipart/{c_up['uploadId']}/{n}?key={c_key}"
                                for n in range(1, 101)
                            ],
                        )
                    },
                },
                {
                    "group": "part",
                    "server": "s3upload",
                    "target": "s3upload GET /s3/multipart/{uploadId}/{partNumber}?key=…",
                    "url": stack.base_url,
                    "script": GET_LUA,
                    "env": {
                        "WRK_PATHS_FILE": paths(
                            "s-part",
                            [
                                f"/s3/multipart/{s_up['uploadId']}/{n}?key={s_key}"
                                for n in range(1, 101)
                            ],
                        ),
                        "WRK_TOKENS_FILE": str(owner_file),
                    },
                },
            ]
            rss = {
                "companion_start": rss_mib(companion.pid),
                "service_start": rss_mib(stack.pid),
            }
            runs = []
            for rnd in range(args.rounds):
                for target in targets:
                    run = measured_run(target, args, pids)
                    run.update(
                        round=rnd + 1,
                        group=target["group"],
                        server=target["server"],
                        target=target["target"],
                    )
                    print(json.dumps(run), flush=True)
                    runs.append(run)
            # The creates again with PostgreSQL durable (the part URLs touch no database).
            durable(True)
            try:
                for rnd in range(args.rounds):
                    for target in targets:
                        if target["group"] != "create" or "(POST form)" in target["target"]:
                            continue
                        run = measured_run(target, args, pids)
                        run.update(
                            round=rnd + 1,
                            group="durable",
                            server=target["server"],
                            target=target["target"] + DURABLE,
                        )
                        print(json.dumps(run), flush=True)
                        runs.append(run)
            finally:
                durable(False)
            rss |= {
                "companion_idle": [
                    r["rss_mib"]["companion"] for r in runs if r["server"] == "s3upload"
                ],
                "companion_runs": [
                    r["rss_mib"]["companion"] for r in runs if r["server"] == "companion"
                ],
                "service_runs": [
                    r["rss_mib"]["s3upload"] for r in runs if r["target"] == targets[-1]["target"]
                ],
                "companion_requests": sum(
                    r["requests"] + r["warmup_requests"] for r in runs if r["server"] == "companion"
                ),
                "service_requests": sum(
                    r["requests"] + r["warmup_requests"] for r in runs if r["server"] == "s3upload"
                ),
            }
            limit = companion_limit(companion, c_up)
            print(json.dumps(limit), flush=True)
            uploads = {"companion": c_up, "service": s_up}
            fetches = batches(companion, stack, owner, uploads, limit, args, pids)
        finally:
            companion.stop()
    env["load_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    raw = {
        "args": {k: v for k, v in vars(args).items() if k not in ("out", "report_only")},
        "env": env,
        "checks": checks,
        "runs": runs,
        "limit": limit,
        "fetches": fetches,
        "elapsed": time.monotonic() - started,
        "rss": rss,
    }
    RAW.write_text(json.dumps(raw, indent=1, default=str) + "\n")
    write_report(raw, args.out)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Requests per second and p99 of every route, Companion's beside s3upload's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r["target"] for r in runs))
    rps = [_med([r["rps"] for r in runs if r["target"] == t]) for t in targets]
    p99 = [_med([r["p99_us"] for r in runs if r["target"] == t]) / 1000 for t in targets]
    colours = ["#888888" if t.startswith("companion") else "#2b6cb0" for t in targets]
    names = [t.replace("s3upload ", "").replace("companion ", "Companion ") for t in targets]
    names = [n.replace("/{uploadId}/{partNumber}?key=…", "/{id}/{n}") for n in names]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for ax, values, title in ((left, rps, "requests/s"), (right, p99, "p99 latency, ms")):
        ax.barh(range(len(targets)), values, color=colours)
        ax.set_yticks(range(len(targets)), names if ax is left else [""] * len(targets))
        ax.invert_yaxis()
        ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)
    right.set_xscale("log")
    left.tick_params(axis="y", labelsize=7)
    fig.suptitle("Companion (grey) and s3upload (blue), 64 connections, medians of the rounds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(raw: dict[str, Any], out: Path) -> None:
    text = report(
        argparse.Namespace(**raw["args"]),
        raw["env"],
        raw["checks"],
        raw["runs"],
        raw["limit"],
        raw["fetches"],
        raw["elapsed"],
        raw["rss"],
    )
    out.write_text(text)
    plot(raw["runs"], PLOT)
    print(text)


if __name__ == "__main__":
    main()
