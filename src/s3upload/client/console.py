"""Terminal side of the client commands: server options, one-line failures, sizes, progress."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8000"


def fail(message: str, code: int = 1) -> NoReturn:
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


def run_api(url: str, token: str | None, work: Callable[[ApiClient], Awaitable[T]]) -> T:
    """Run `work` with an API client; a ClientError becomes one line and exit 1."""
    if not token:
        fail("no token: pass --token or set S3UPLOAD_TOKEN", code=2)

    async def go() -> T:
        async with ApiClient(url, token) as api:
            return await work(api)

    try:
        return asyncio.run(go())
    except ClientError as exc:
        fail(str(exc))


def human_size(n: float) -> str:
    """A byte count as people write it: `512 B`, `1.5 KiB`, `2.0 GiB`."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int], Callable[[int, int], None]]]:
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


def parse_meta(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--meta KEY=VALUE` options as a dict; a malformed one exits 2."""
    meta = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--meta wants KEY=VALUE, not {pair!r}", code=2)
        meta[key] = value
    return meta
