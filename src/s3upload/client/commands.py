"""Client commands of `s3upload`: upload, ls, download, rm, claim (they talk to a running
service)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from s3upload.client.api import ApiClient
from s3upload.client.console import (
    fail,
    human_size,
    parse_meta,
    progress_bar,
    run_api,
    server_options,
)
from s3upload.client.errors import ClientError
from s3upload.client.state import DEFAULT_STATE_DIR

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


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", default="default", show_default=True, help="Upload profile.")
@click.option("--type", "file_type", help="MIME type (default: guessed from each name).")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Object metadata (repeatable).")
@click.option("--scope", help="What the files belong to, <type>/<id> (e.g. event/1234).")
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
    scope: str | None,
    concurrency: int,
    state_dir: Path,
    as_json: bool,
    url: str,
    token: str | None,
) -> None:
    """Upload FILES straight to the object store; rerun the same command to resume."""
    from s3upload.client.result import UploadResult
    from s3upload.client.transfer import upload_file

    metadata = parse_meta(meta)
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file")
    failed = 0

    async def work(api: ApiClient) -> None:
        nonlocal failed
        interactive = not as_json and sys.stderr.isatty()
        with progress_bar(interactive) as track:
            for path in files:
                try:
                    result: UploadResult = await upload_file(
                        api,
                        path,
                        file_type=file_type,
                        profile=profile,
                        metadata=metadata or None,
                        scope=scope,
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
                        f"({human_size(result.size)}, {result.parts_sent} part(s) sent, "
                        f"{result.parts_skipped} skipped, {result.seconds:.1f} s, "
                        f"{human_size(speed)}/s)"
                    )

    try:
        run_api(url, token, work)
    except KeyboardInterrupt:
        fail("interrupted; run the same command again to resume", code=130)
    if failed:
        sys.exit(1)


@click.command("ls")
@click.option("--status", type=click.Choice(STATUSES), help="Only uploads in this status.")
@click.option("--scope", help="A scope's files (any uploader's) instead of your own.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of upload objects.")
@server_options
def ls(
    status: str | None,
    scope: str | None,
    limit: int,
    as_json: bool,
    url: str,
    token: str | None,
) -> None:
    """List your uploads (or a scope's files), newest first."""

    async def work(api: ApiClient) -> list[dict[str, Any]]:
        files = api.iter_files(status=status, scope=scope, limit=limit)
        return [item.raw async for item in files]

    items = run_api(url, token, work)
    if as_json:
        click.echo(json.dumps(items))
        return
    for item in items:
        size = "-" if item.get("fileSize") is None else human_size(item["fileSize"])
        created = str(item.get("createdAt", ""))[:19].replace("T", " ")
        # Names come from uploaders: no control characters reach the terminal.
        name = "".join(c if c.isprintable() else "?" for c in str(item["fileName"]))
        # In a scope, whose file it is matters as much as its name.
        owner = "".join(c if c.isprintable() else "?" for c in str(item.get("owner", "")))
        by = f"  by {owner}" if scope else ""
        click.echo(f"{item['id']}  {item['status']:<10} {size:>10}  {created}  {name}{by}")


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

        run_api(url, token, to_stdout)
        return

    # A file named with -o is replaced; one named after the upload is never clobbered.
    replace = output is not None and not output.is_dir()

    async def to_file(api: ApiClient) -> tuple[Path, int]:
        return await download_file(api, file_id, output, replace=replace)

    path, size = run_api(url, token, to_file)
    click.echo(f"{file_id} -> {path} ({human_size(size)})")


@click.command()
@click.argument("file_ids", nargs=-1, required=True, metavar="ID...")
@server_options
def rm(file_ids: tuple[str, ...], url: str, token: str | None) -> None:
    """Delete files (a pending upload is cancelled and its parts freed)."""

    async def work(api: ApiClient) -> None:
        for file_id in file_ids:
            await api.delete_file(file_id)
            click.echo(f"deleted {file_id}")

    run_api(url, token, work)


@click.command()
@click.argument("file_ids", nargs=-1, required=True, metavar="ID...")
@server_options
def claim(file_ids: tuple[str, ...], url: str, token: str | None) -> None:
    """Claim files for the application, so a profile's claim deadline does not remove them."""

    async def work(api: ApiClient) -> None:
        for file_id in file_ids:
            await api.claim(file_id)
            click.echo(f"claimed {file_id}")

    run_api(url, token, work)


COMMANDS = (upload, ls, download, rm, claim)


def register(group: click.Group) -> None:
    """Add the client commands to the `s3upload` group."""
    for command in COMMANDS:
        group.add_command(command)
