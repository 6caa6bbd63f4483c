"""Client commands of `s3upload`: upload, ls, download, rm (they talk to a running service)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError
from s3upload.client.state import DEFAULT_STATE_DIR

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8000"
STATUSES = (
    "pending",
    "uploaded",
    "processing",
    "completed",
    "failed",
    "aborted",
    "expired",
    "deleted",
)


def _fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit non-zero."""
    click.echo(f"s3upload: {' '.join(message.split())}", err=True)
    sys.exit(code)


def server_options(command: F) -> F:
    """`--url` and `--token`, also read from S3UPLOAD_URL and S3UPLOAD_TOKEN."""
    command = click.option(
        "--token",
        envvar="S3UPLOAD_TOKEN",
        help="Bearer token (or S3UPLOAD_TOKEN).",
    )(command)
    return click.option(
        "--url",
        envvar="S3UPLOAD_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The service's base URL (or S3UPLOAD_URL).",
    )(command)


def _run(url: str, token: str | None, work: Callable[[ApiClient], Awaitable[T]]) -> T:
    """Run `work` with an API client; a ClientError becomes one line and exit 1."""
    if not token:
        _fail("no token: pass --token or set S3UPLOAD_TOKEN", code=2)

    async def go() -> T:
        async with ApiClient(url, token) as api:
            return await work(api)

    try:
        return asyncio.run(go())
    except ClientError as exc:
        _fail(str(exc))


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[str, int], Callable[[int, int], None]]]:
    """A rich progress bar on stderr (only on a terminal); yields a factory of callbacks."""
    if not enabled:
        yield lambda name, total: lambda done, total_: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )

    def track(name: str, total: int) -> Callable[[int, int], None]:
        task = bar.add_task(name, total=total)
        return lambda done, total_: bar.update(task, completed=done, total=total_)

    with bar:
        yield track


def _parse_meta(pairs: tuple[str, ...]) -> dict[str, str]:
    meta = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--meta wants KEY=VALUE, not {pair!r}", code=2)
        meta[key] = value
    return meta


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", default="default", show_default=True, help="Upload profile.")
@click.option("--type", "file_type", help="MIME type (default: guessed from each name).")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Object metadata (repeatable).")
@click.option(
    "--concurrency",
    default=6,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Parts sent at once.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where unfinished uploads are remembered, to resume them.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file on stdout.")
@server_options
def upload(
    files: tuple[Path, ...],
    profile: str,
    file_type: str | None,
    meta: tuple[str, ...],
    concurrency: int,
    state_dir: Path,
    as_json: bool,
    url: str,
    token: str | None,
) -> None:
    """Upload FILES straight to the object store; rerun the same command to resume."""
    from s3upload.client.transfer import UploadResult, upload_file

    metadata = _parse_meta(meta)
    for path in files:
        if not path.is_file():
            _fail(f"{path}: no such file")
    failed = 0

    async def work(api: ApiClient) -> None:
        nonlocal failed
        interactive = not as_json and sys.stderr.isatty()
        with _progress_bar(interactive) as track:
            for path in files:
                try:
                    result: UploadResult = await upload_file(
                        api,
                        path,
                        file_type=file_type,
                        profile=profile,
                        metadata=metadata or None,
                        concurrency=concurrency,
                        state_dir=state_dir,
                        progress=track(path.name, path.stat().st_size),
                    )
                except (ClientError, OSError) as exc:
                    failed += 1
                    click.echo(f"s3upload: {path}: {' '.join(str(exc).split())}", err=True)
                    continue
                if as_json:
                    click.echo(json.dumps(result.to_json()))
                else:
                    speed = result.size / result.seconds if result.seconds else 0.0
                    click.echo(
                        f"{path} -> {result.upload.id} {result.upload.status} "
                        f"({_size(result.size)}, {result.parts_sent} part(s) sent, "
                        f"{result.parts_skipped} skipped, {result.seconds:.1f} s, "
                        f"{_size(speed)}/s)"
                    )

    try:
        _run(url, token, work)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to resume", code=130)
    if failed:
        sys.exit(1)


@click.command("ls")
@click.option("--status", type=click.Choice(STATUSES), help="Only uploads in this status.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of upload objects.")
@server_options
def ls(status: str | None, limit: int, as_json: bool, url: str, token: str | None) -> None:
    """List your uploads, newest first."""

    async def work(api: ApiClient) -> list[dict[str, Any]]:
        return [item.raw async for item in api.iter_files(status=status, limit=limit)]

    items = _run(url, token, work)
    if as_json:
        click.echo(json.dumps(items))
        return
    for item in items:
        size = "-" if item.get("fileSize") is None else _size(item["fileSize"])
        created = str(item.get("createdAt", ""))[:19].replace("T", " ")
        # Names come from uploaders: no control characters reach the terminal.
        name = "".join(c if c.isprintable() else "?" for c in str(item["fileName"]))
        click.echo(f"{item['id']}  {item['status']:<10} {size:>10}  {created}  {name}")


@click.command()
@click.argument("file_id", metavar="ID")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File or directory to write (default: the file's own name here); - for stdout.",
)
@server_options
def download(file_id: str, output: Path | None, url: str, token: str | None) -> None:
    """Download an uploaded file."""
    from s3upload.client.download import download_file, download_to

    if output is not None and str(output) == "-":

        async def to_stdout(api: ApiClient) -> None:
            record = await api.get_file(file_id)
            await download_to(api, record, sys.stdout.buffer)
            sys.stdout.buffer.flush()

        _run(url, token, to_stdout)
        return

    # A file named with -o is replaced; one named after the upload is never clobbered.
    replace = output is not None and not output.is_dir()

    async def to_file(api: ApiClient) -> tuple[Path, int]:
        return await download_file(api, file_id, output, replace=replace)

    path, size = _run(url, token, to_file)
    click.echo(f"{file_id} -> {path} ({_size(size)})")


@click.command()
@click.argument("file_ids", nargs=-1, required=True, metavar="ID...")
@server_options
def rm(file_ids: tuple[str, ...], url: str, token: str | None) -> None:
    """Delete files (a pending upload is cancelled and its parts freed)."""

    async def work(api: ApiClient) -> None:
        for file_id in file_ids:
            await api.delete_file(file_id)
            click.echo(f"deleted {file_id}")

    _run(url, token, work)


COMMANDS = (upload, ls, download, rm)


def register(group: click.Group) -> None:
    """Add the client commands to the `s3upload` group."""
    for command in COMMANDS:
        group.add_command(command)
