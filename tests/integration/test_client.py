"""The Python client and its commands, against the real service, PostgreSQL and RGW."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from s3upload.client import ApiClient, ClientError, upload_file
from s3upload.client.download import download_file
from s3upload.client.retry import Backoff
from tests.helpers import free_port, serving

MiB = 1024 * 1024
PART = 5 * MiB  # the test app's part size
CLI = [sys.executable, "-m", "s3upload.cli"]


def write_random(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def write_pattern(path: Path, size: int) -> str:
    """A big file made fast: a random block repeated; its SHA-256.

    The block is not a divisor of the part size, so no two parts hold the same bytes and a
    part sent at the wrong offset would show.
    """
    block = os.urandom(MiB + 4099)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            f.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def token_of(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def api(app, auth):
    """The client talking to the app in-process (the store is the real RGW)."""
    async with ApiClient(
        "http://testserver", token_of(auth), transport=httpx.ASGITransport(app=app)
    ) as c:
        yield c


@pytest.fixture
async def server(app):
    """The app on a real port, for commands run as subprocesses."""
    async with serving(app, free_port()) as base:
        yield base


@pytest.fixture
def cli_env(server, auth):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3UPLOAD_"))}
    return {**env, "S3UPLOAD_URL": server, "S3UPLOAD_TOKEN": token_of(auth)}


async def cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> tuple[int, str, str]:
    """Run `s3upload ARGS` as a real process without blocking the served app."""
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode is not None
    # surrogateescape: binary output (download -o -) survives the round trip to str.
    return proc.returncode, out.decode("utf-8", "surrogateescape"), err.decode()


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=60) as http:
        resp = await http.get(url)
    assert resp.status_code == 200, resp.text
    return resp.content


# The library


async def test_small_file_goes_in_one_put(api, tmp_path):
    src = tmp_path / "note.txt"
    data = write_random(src, 1000)
    result = await upload_file(api, src, state_dir=tmp_path / "state")
    assert result.upload.status == "uploaded"
    assert result.upload.strategy == "single"
    assert result.upload.file_type == "text/plain"
    assert (result.parts_sent, result.parts_skipped, result.part_count) == (1, 0, 1)
    assert await fetch((await api.download_url(result.upload.id)).url) == data
    assert not (tmp_path / "state").exists()  # single uploads have nothing to resume


async def test_multipart_file_in_parallel_parts(api, tmp_path):
    src = tmp_path / "big.bin"
    data = write_random(src, 4 * PART + 7)
    seen: list[tuple[int, int]] = []
    result = await upload_file(
        api,
        src,
        file_type="application/x-test",
        metadata={"title": "big"},
        concurrency=3,
        state_dir=tmp_path / "state",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.upload.status == "uploaded"
    assert result.upload.file_type == "application/x-test"
    assert (result.parts_sent, result.parts_skipped, result.part_count) == (5, 0, 5)
    assert seen[-1] == (len(data), len(data))
    assert all(0 <= d <= len(data) for d, _ in seen)
    assert await fetch((await api.download_url(result.upload.id)).url) == data
    assert list((tmp_path / "state").iterdir()) == []  # forgotten once complete
    record = await api.get_file(result.upload.id)
    assert record.raw["metadata"] == {"title": "big"}


async def test_interrupted_upload_resumes_without_resending(api, tmp_path):
    src = tmp_path / "movie.bin"
    data = write_random(src, 12 * PART)
    state = tmp_path / "state"
    half = asyncio.Event()

    def progress(done: int, total: int) -> None:
        if done >= total // 2:
            half.set()

    task = asyncio.create_task(
        upload_file(api, src, concurrency=2, state_dir=state, progress=progress)
    )
    await half.wait()
    task.cancel()  # the process dying half way, as far as the store can tell
    with pytest.raises(asyncio.CancelledError):
        await task
    [entry] = [json.loads(p.read_text()) for p in state.iterdir()]
    pending = await api.get_upload(entry["upload_id"])
    assert pending.status == "pending"
    stored = {p.part_number for p in pending.uploaded_parts or []}
    assert 0 < len(stored) < 12

    result = await upload_file(api, src, concurrency=2, state_dir=state)
    assert result.resumed
    assert result.upload.id == entry["upload_id"]
    # Parts whose bytes were all sent before the cancel may land a moment later: also skipped.
    assert result.parts_skipped >= len(stored)
    assert result.parts_sent == 12 - result.parts_skipped > 0
    assert result.upload.status == "uploaded"
    assert await fetch((await api.download_url(result.upload.id)).url) == data
    assert list(state.iterdir()) == []


async def test_state_of_a_cancelled_upload_starts_over(api, tmp_path):
    src = tmp_path / "a.bin"
    data = write_random(src, 2 * PART)
    state = tmp_path / "state"
    task = asyncio.create_task(upload_file(api, src, concurrency=1, state_dir=state))
    while not state.exists() or not list(state.iterdir()):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [entry] = [json.loads(p.read_text()) for p in state.iterdir()]
    await api.cancel(entry["upload_id"])

    result = await upload_file(api, src, state_dir=state)
    assert not result.resumed
    assert result.upload.id != entry["upload_id"]
    assert result.upload.status == "uploaded"
    assert await fetch((await api.download_url(result.upload.id)).url) == data


async def test_state_of_a_finished_upload_sends_nothing(api, tmp_path):
    src = tmp_path / "done.bin"
    write_random(src, 2 * PART)
    state = tmp_path / "state"
    first = await upload_file(api, src, state_dir=state)
    # A run that completed but died before forgetting its state: put the entry back.
    from s3upload.client.state import Entry, FileIdentity, StateStore

    ident = FileIdentity.of(src)
    StateStore(state).save(
        Entry(
            ident.path,
            ident.size,
            ident.mtime_ns,
            api.base_url,
            first.upload.id,
            first.upload.key,
            PART,
            2,
        )
    )
    again = await upload_file(api, src, state_dir=state)
    assert again.upload.id == first.upload.id
    assert (again.parts_sent, again.parts_skipped) == (0, 2)
    assert list(state.iterdir()) == []


async def test_changed_file_is_a_new_upload(api, tmp_path):
    src = tmp_path / "grows.bin"
    write_random(src, 2 * PART)
    state = tmp_path / "state"
    task = asyncio.create_task(upload_file(api, src, concurrency=1, state_dir=state))
    while not state.exists() or not list(state.iterdir()):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [entry] = [json.loads(p.read_text()) for p in state.iterdir()]
    data = write_random(src, 3 * PART)  # another size (and mtime): not the same file
    result = await upload_file(api, src, state_dir=state)
    assert result.upload.id != entry["upload_id"]
    assert not result.resumed
    assert await fetch((await api.download_url(result.upload.id)).url) == data


class StaleFirstBatch(httpx.AsyncBaseTransport):
    """The app, except that the create answer's part URLs were signed two hours ago.

    The URLs are real SigV4 URLs for the real upload, so RGW itself judges them.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        if request.method != "POST" or request.url.path != "/uploads":
            return resp
        body = json.loads(await resp.aread())
        store = self.app.state.store
        creds = await store.credentials()
        old = datetime.now(UTC) - timedelta(hours=2)
        for part in body["multipart"]["parts"]:
            upload_id = parse_qs(urlsplit(part["url"]).query)["uploadId"][0]
            length = int(part["headers"]["Content-Length"])
            [part["url"]] = store.signer.presign_parts(
                body["key"],
                creds=creds,
                upload_id=upload_id,
                parts=[(part["partNumber"], length, None)],
                expires_in=60,
                now=old,
            )
        return httpx.Response(
            resp.status_code, headers={"content-type": "application/json"}, json=body
        )


async def test_lapsed_part_urls_are_signed_again(app, auth, tmp_path):
    src = tmp_path / "late.bin"
    data = write_random(src, 3 * PART)
    async with ApiClient(
        "http://testserver", token_of(auth), transport=StaleFirstBatch(app)
    ) as api:
        result = await upload_file(api, src, state_dir=None)
        assert result.upload.status == "uploaded"
        assert await fetch((await api.download_url(result.upload.id)).url) == data


async def test_store_refusing_a_lapsed_url_gets_a_fresh_one(app, auth, tmp_path):
    # A client whose clock runs two hours slow thinks the stale URLs are fine; RGW refuses
    # them (403 AccessDenied, no reason given) and the client signs each part once more.
    src = tmp_path / "skewed.bin"
    data = write_random(src, 3 * PART)
    async with ApiClient(
        "http://testserver", token_of(auth), transport=StaleFirstBatch(app)
    ) as api:
        result = await upload_file(api, src, state_dir=None, clock=lambda: time.time() - 7200)
        assert result.upload.status == "uploaded"
        assert await fetch((await api.download_url(result.upload.id)).url) == data


async def test_store_refusal_is_one_error(app, auth, tmp_path):
    # A part URL that RGW refuses for good (a bad signature) fails after one fresh signature.
    class BadSignature(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=app)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            resp = await self.inner.handle_async_request(request)
            if request.url.path.endswith("/parts") or request.url.path == "/uploads":
                body = json.loads(await resp.aread())
                parts = body["parts"] if "parts" in body else body["multipart"]["parts"]
                for part in parts:
                    part["url"] = part["url"][:-4] + "0000"
                return httpx.Response(resp.status_code, json=body)
            return resp

    src = tmp_path / "refused.bin"
    write_random(src, 2 * PART)
    async with ApiClient("http://testserver", token_of(auth), transport=BadSignature()) as api:
        with pytest.raises(ClientError) as caught:
            await upload_file(api, src, state_dir=None, backoff=Backoff(attempts=2, base=0.01))
    assert caught.value.status == 403
    assert caught.value.code == "store_error"
    assert "SignatureDoesNotMatch" in caught.value.message


class FlakyLink:
    """The way to RGW through a Unix socket that fails the first connections on purpose.

    `cut` connections are dropped after some of the request went through (RGW sees a part
    upload die half way); then `busy` requests get a 503 from the link itself, as a load
    balancer in front of a store would answer; everything after is passed through untouched.
    """

    def __init__(self, target: str, path: Path, cut: int, busy: int) -> None:
        split = urlsplit(target)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.path, self.cut, self.busy = path, cut, busy

    async def __aenter__(self) -> FlakyLink:
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            self.cut -= 1
            up_r, up_w = await asyncio.open_connection(self.host, self.port)
            up_w.write(await reader.read(256 * 1024))  # headers and some of the body, then gone
            await up_w.drain()
            up_w.transport.abort()
            writer.transport.abort()
            return
        if self.busy:
            self.busy -= 1
            await reader.read(64 * 1024)
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            writer.close()
            return
        up_r, up_w = await asyncio.open_connection(self.host, self.port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(1024 * 1024):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_w), pump(up_r, writer))


async def test_network_failures_and_busy_answers_are_retried(api, services, tmp_path):
    src = tmp_path / "bumpy.bin"
    data = write_random(src, 3 * PART + 11)
    async with FlakyLink(services.s3_endpoint, tmp_path / "link.sock", cut=2, busy=2) as link:
        http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(link.path)))
        async with http:
            result = await upload_file(
                api,
                src,
                concurrency=2,
                state_dir=None,
                http=http,
                backoff=Backoff(attempts=4, base=0.05),
            )
    assert (link.cut, link.busy) == (0, 0)  # every fault was met
    assert result.upload.status == "uploaded"
    assert result.parts_sent == 4
    assert await fetch((await api.download_url(result.upload.id)).url) == data


async def test_a_part_failing_every_attempt_fails_the_upload(api, services, tmp_path):
    src = tmp_path / "doomed.bin"
    write_random(src, 2 * PART)
    state = tmp_path / "state"
    async with FlakyLink(services.s3_endpoint, tmp_path / "link.sock", cut=0, busy=100) as link:
        http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(link.path)))
        async with http:
            with pytest.raises(ClientError) as caught:
                await upload_file(
                    api,
                    src,
                    concurrency=1,
                    state_dir=state,
                    http=http,
                    backoff=Backoff(attempts=3, base=0.01),
                )
    assert caught.value.status == 503
    assert caught.value.code == "store_error"
    assert "part 1" in caught.value.message
    assert len(list(state.iterdir())) == 1  # kept, so a rerun resumes


async def test_api_errors_carry_status_code_and_message(api):
    with pytest.raises(ClientError) as caught:
        await api.get_upload("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert caught.value.message
    with pytest.raises(ClientError) as caught:
        await api.create_upload(
            file_name="x.exe", file_type="application/x-msdownload", file_size=10, profile="images"
        )
    assert (caught.value.status, caught.value.code) == (415, "unsupported_file_type")


async def test_unreachable_service_is_a_network_error():
    async with ApiClient(
        f"http://127.0.0.1:{free_port()}", "t", backoff=Backoff(attempts=2, base=0.01)
    ) as api:
        with pytest.raises(ClientError) as caught:
            await api.list_files()
    assert caught.value.status is None
    assert caught.value.code == "network_error"


async def test_listing_follows_cursors(api, tmp_path):
    ids = []
    for i in range(5):
        src = tmp_path / f"f{i}.txt"
        write_random(src, 10 + i)
        ids.append((await upload_file(api, src, state_dir=None)).upload.id)
    listed = [u.id async for u in api.iter_files(page_size=2)]
    assert listed == ids[::-1]
    assert [u.id async for u in api.iter_files(limit=3, page_size=2)] == ids[::-1][:3]
    assert [u.id async for u in api.iter_files(status="pending")] == []


async def test_download_and_delete(api, tmp_path):
    src = tmp_path / "report.pdf"
    data = write_random(src, 3000)
    up = (await upload_file(api, src, state_dir=None)).upload
    out = tmp_path / "out"
    out.mkdir()
    path, size = await download_file(api, up.id, out)
    assert (path, size) == (out / "report.pdf", 3000)
    assert path.read_bytes() == data
    with pytest.raises(ClientError) as caught:
        await download_file(api, up.id, out)
    assert caught.value.code == "exists"
    await api.delete_file(up.id)
    assert (await api.get_file(up.id)).status == "deleted"
    with pytest.raises(ClientError) as caught:
        await api.download_url(up.id)
    assert caught.value.status == 409


# The commands


async def test_cli_resumes_a_killed_1_gib_upload_without_resending(api, cli_env, tmp_path):
    size = 1024 * MiB
    src = tmp_path / "disk.img"
    digest = write_pattern(src, size)
    state = tmp_path / "state"
    args = ["upload", str(src), "--json", "--state-dir", str(state), "--concurrency", "3"]

    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=cli_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )

    async def still_running() -> None:
        if proc.returncode is not None:
            out, err = await proc.communicate()
            pytest.fail(f"the upload ended before the kill ({proc.returncode}): {err!r} {out!r}")

    try:
        # The upload id is in the resume state as soon as the upload exists.
        deadline = time.monotonic() + 60
        while not (state.exists() and list(state.glob("*.json"))):
            await still_running()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        [entry] = [json.loads(p.read_text()) for p in state.glob("*.json")]
        count = entry["part_count"]
        assert count == 205
        # Kill it once the store holds a good share of the parts.
        while True:
            stored = (await api.get_upload(entry["upload_id"])).uploaded_parts or []
            if len(stored) >= count // 3:
                break
            await still_running()
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = await api.get_upload(entry["upload_id"])
    assert before.status == "pending"
    stored_before = {p.part_number for p in before.uploaded_parts or []}
    assert count // 3 <= len(stored_before) < count

    code, out, err = await cli(*args, env=cli_env)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["id"] == entry["upload_id"]
    assert summary["status"] == "uploaded"
    assert summary["size"] == size
    assert summary["partCount"] == count
    # Parts in flight at the kill may have landed since: skipped too, never sent twice.
    assert summary["partsSkipped"] >= len(stored_before) > 0
    assert summary["partsSent"] + summary["partsSkipped"] == count
    assert summary["resumed"] is True
    assert isinstance(summary["seconds"], float)
    assert list(state.glob("*.json")) == []

    record = await api.get_file(summary["id"])
    assert (record.status, record.file_size) == ("uploaded", size)
    link = await api.download_url(summary["id"])
    got = hashlib.sha256()
    async with httpx.AsyncClient(timeout=60) as http, http.stream("GET", link.url) as resp:
        assert resp.status_code == 200
        async for chunk in resp.aiter_bytes(4 * MiB):
            got.update(chunk)
    assert got.hexdigest() == digest


async def test_cli_upload_ls_download_rm(cli_env, tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.bin"
    data_one = write_random(one, 500)
    write_random(two, 2 * PART + 1)
    code, out, err = await cli(
        "upload", str(one), str(two), "--json", "--state-dir", str(tmp_path / "s"), env=cli_env
    )
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["status"] == second["status"] == "uploaded"
    assert (first["size"], first["partsSent"], first["partsSkipped"]) == (500, 1, 0)
    assert (second["partsSent"], second["partsSkipped"], second["partCount"]) == (3, 0, 3)
    assert set(first) >= {"id", "key", "status", "size", "partsSent", "partsSkipped", "seconds"}

    code, out, err = await cli("ls", "--json", env=cli_env)
    assert code == 0, err
    listed = json.loads(out)
    assert [i["id"] for i in listed] == [second["id"], first["id"]]
    code, out, err = await cli("ls", "--limit", "1", "--json", env=cli_env)
    assert [i["id"] for i in json.loads(out)] == [second["id"]]
    code, out, err = await cli("ls", env=cli_env)
    assert code == 0, err
    assert len(out.splitlines()) == 2
    assert "one.txt" in out
    assert "uploaded" in out

    code, out, err = await cli("download", second["id"], "-o", "-", env=cli_env)
    assert code == 0, err
    assert out.encode("utf-8", "surrogateescape") == two.read_bytes()
    dest = tmp_path / "got.txt"
    code, out, err = await cli("download", first["id"], "-o", str(dest), env=cli_env)
    assert code == 0, err
    assert dest.read_bytes() == data_one
    here = tmp_path / "here"
    here.mkdir()
    code, out, err = await cli("download", first["id"], env=cli_env, cwd=here)
    assert code == 0, err
    assert (here / "one.txt").read_bytes() == data_one
    code, out, err = await cli("download", first["id"], env=cli_env, cwd=here)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "exists" in err

    code, out, err = await cli("rm", first["id"], env=cli_env)
    assert code == 0, err
    code, out, err = await cli("ls", "--status", "deleted", "--json", env=cli_env)
    assert [i["id"] for i in json.loads(out)] == [first["id"]]
    code, out, err = await cli("download", first["id"], "-o", str(dest), env=cli_env)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "409" in err


async def test_cli_disallowed_type_is_one_line(cli_env, tmp_path):
    src = tmp_path / "tool.exe"
    write_random(src, 100)
    code, out, err = await cli("upload", str(src), "--profile", "images", env=cli_env)
    assert code == 1
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("s3upload: ")
    assert "415" in line


async def test_cli_bad_token_is_one_line(cli_env, tmp_path):
    src = tmp_path / "a.txt"
    write_random(src, 100)
    for command in (["upload", str(src)], ["ls"], ["rm", "x"]):
        code, _, err = await cli(*command, "--token", "not-a-token", env=cli_env)
        assert code == 1, command
        [line] = err.splitlines()
        assert "401" in line, line


async def test_cli_without_token_or_file_or_server(cli_env, tmp_path):
    env = {k: v for k, v in cli_env.items() if k != "S3UPLOAD_TOKEN"}
    code, _, err = await cli("ls", env=env)
    assert code == 2
    [line] = err.splitlines()
    assert "S3UPLOAD_TOKEN" in line
    code, _, err = await cli("upload", str(tmp_path / "missing.bin"), env=cli_env)
    assert code == 1
    [line] = err.splitlines()
    assert "no such file" in line
    code, _, err = await cli("ls", "--url", f"http://127.0.0.1:{free_port()}", env=cli_env)
    assert code == 1
    [line] = err.splitlines()
    assert "cannot reach" in line


class LoseFirstStoreAnswer(httpx.AsyncBaseTransport):
    """Passes requests to the store, but loses the answer to the first PUT (it did land)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "PUT" and not self.lost:
            self.lost += 1
            await response.aclose()
            raise httpx.ReadError("connection reset after the store answered")
        return response


async def test_a_single_put_whose_answer_was_lost_is_not_sent_twice(api, tmp_path):
    """The retry meets the write-once URL's 412: the object is there, and complete verifies it."""
    src = tmp_path / "note.txt"
    data = write_random(src, 1000)
    transport = LoseFirstStoreAnswer()
    async with httpx.AsyncClient(transport=transport) as store_http:
        result = await upload_file(
            api, src, state_dir=None, http=store_http, backoff=Backoff(base=0.01)
        )
    assert transport.lost == 1
    assert result.upload.status == "uploaded"
    assert await fetch((await api.download_url(result.upload.id)).url) == data
