"""The `s3upload` command: serve, migrate, token, bucket set-up.

Server commands import the service lazily, so that `pip install s3upload` (the client alone)
runs the client commands; without the `server` extra they say so in one line.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from s3upload.client.commands import register as register_client_commands

if TYPE_CHECKING:
    from s3upload.settings import Settings
    from s3upload.store.client import ObjectStore

T = TypeVar("T")
P = ParamSpec("P")

# Top-level modules of the `server` extra (see pyproject.toml).
SERVER_MODULES = (
    "fastapi",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "aiobotocore",
    "jwt",
    "limits",
    "prometheus_client",
    "cachetools",
    "standardwebhooks",
)
SERVER_MISSING = "the service is not installed: pip install 's3upload[server]'"


def server_installed() -> bool:
    """Whether every module of the `server` extra can be found (nothing is imported)."""
    for name in SERVER_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def server_command(command: Callable[P, T]) -> Callable[P, T]:
    """Run the command only if the service is installed; else one line and exit 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        if not server_installed():
            click.echo(f"s3upload: {SERVER_MISSING}", err=True)
            sys.exit(1)
        return command(*args, **kwargs)

    return run


def load_settings() -> Settings:
    """Settings from the environment, or one clear error line and exit code 2."""
    from pydantic import ValidationError

    from s3upload.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            click.echo(f"s3upload: invalid setting {where}: {err['msg']}", err=True)
        sys.exit(2)


@click.group()
def main() -> None:
    """s3upload: direct-to-S3 uploads through signed URLs."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@server_command
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Run the HTTP API."""
    import uvicorn

    load_settings()  # refuse to start on bad settings before uvicorn forks workers
    uvicorn.run(
        "s3upload.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        access_log=False,
        proxy_headers=True,
    )


@main.command()
@click.option("--revision", default="head", show_default=True, help="Upgrade to this revision.")
@click.option("--downgrade", "down", default=None, help="Downgrade to this revision instead.")
@server_command
def migrate(revision: str, down: str | None) -> None:
    """Apply database migrations."""
    from s3upload.db import migrate as m

    url = load_settings().database.url
    if down:
        m.downgrade(url, down)
    else:
        m.upgrade(url, revision)
    click.echo(f"database at {url.split('@')[-1]} is at {down or revision}")


@main.command()
@click.argument("subject", default="dev-user")
@click.option("--role", "roles", multiple=True, help="Add a role (repeatable).")
@click.option(
    "--scope", "scopes", multiple=True, help="Add a grant such as event/1234:read (repeatable)."
)
@click.option("--ttl", default=86400, show_default=True, help="Lifetime in seconds.")
@server_command
def token(subject: str, roles: tuple[str, ...], scopes: tuple[str, ...], ttl: int) -> None:
    """Mint an HS256 token for SUBJECT with the configured secret (development)."""
    from s3upload.auth.tokens import mint

    settings = load_settings().auth
    click.echo(mint(settings, subject=subject, roles=list(roles), scopes=list(scopes), ttl=ttl))


@main.group()
def bucket() -> None:
    """Object store bucket commands."""


def _with_store(settings: Settings, work: Callable[[ObjectStore], Awaitable[T]]) -> T:
    """Run `work` with a started store client; store errors exit 1 with one line."""
    from s3upload.errors import AppError
    from s3upload.store.client import ObjectStore

    async def run() -> T:
        store = ObjectStore(settings.s3)
        await store.start()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except AppError as exc:
        click.echo(f"s3upload: {exc.message}", err=True)
        sys.exit(1)


@bucket.command("setup")
@server_command
def bucket_setup() -> None:
    """Create the bucket if missing; apply CORS, the lifecycle rule, no public ACLs, event
    notifications, and anonymous reads on public profiles' prefixes (nothing else)."""
    from s3upload.store import bucket as ops

    settings = load_settings()
    for line in _with_store(settings, lambda store: ops.setup(store, settings)):
        click.echo(f"bucket {settings.s3.bucket}: {line}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--limit", type=int, default=None, help="Sweep at most this many uploads.")
@server_command
def sweep(dry_run: bool, limit: int | None) -> None:
    """Verify or expire uploads still pending past their window (safe on several machines)."""
    from s3upload.db.session import make_engine, make_sessionmaker
    from s3upload.events.sweeper import sweep as run_sweep

    settings = load_settings()
    if limit is not None:
        settings.sweep.batch = limit

    async def work(store: ObjectStore) -> list[str]:
        engine = make_engine(settings.database)
        try:
            actions = await run_sweep(
                sessionmaker=make_sessionmaker(engine),
                store=store,
                settings=settings.sweep,
                dry_run=dry_run,
            )
        finally:
            await engine.dispose()
        return [f"{a.action:8} {a.upload_id} {a.key} ({a.reason})" for a in actions]

    lines = _with_store(settings, work)
    for line in lines:
        click.echo(("would be " if dry_run else "") + line)
    click.echo(f"{len(lines)} upload(s) {'to sweep' if dry_run else 'swept'}")


@main.command()
@click.option("--once", is_flag=True, help="Process what is waiting, then exit.")
@click.option(
    "--concurrency", type=click.IntRange(1, 64), help="Files at once (PROCESS_CONCURRENCY)."
)
@server_command
def process(once: bool, concurrency: int | None) -> None:
    """Make the variants of finished images (any number of these, on any machines)."""
    from s3upload.db.session import make_engine, make_sessionmaker
    from s3upload.processing.worker import Processor

    settings = load_settings()
    if concurrency is not None:
        settings.process.concurrency = concurrency

    async def work(store: ObjectStore) -> int:
        engine = make_engine(settings.database)
        processor = Processor(make_sessionmaker(engine), store, settings)
        try:
            if once:
                return await processor.run_once()
            await processor.run_forever()
            return 0  # pragma: no cover - runs until stopped
        finally:
            await engine.dispose()

    done = _with_store(settings, work)
    click.echo(f"{done} file(s) processed")


@main.command()
@click.option("--once", is_flag=True, help="One receive, then exit.")
@server_command
def worker(once: bool) -> None:
    """Apply S3 events from the SQS queue EVENTS_QUEUE_URL."""
    from s3upload.db.session import make_engine, make_sessionmaker
    from s3upload.events.intake import handle_message
    from s3upload.events.sns import SnsVerifier
    from s3upload.events.worker import consume

    settings = load_settings()
    queue_url = settings.events.queue_url
    if not queue_url:
        click.echo("s3upload: set EVENTS_QUEUE_URL to the queue to read", err=True)
        sys.exit(2)

    async def work(store: ObjectStore) -> int:
        engine = make_engine(settings.database)
        sessionmaker = make_sessionmaker(engine)
        sns = SnsVerifier(settings.events.sns_origin_pattern, settings.events.sns_topics)

        async def handle(message: object) -> dict[str, object]:
            # SQS is reached with the service's own credentials: no SNS signature to check.
            return await handle_message(
                message, sessionmaker=sessionmaker, store=store, sns=sns, verify_sns=False
            )

        try:
            events = settings.events
            async with store.other_client("sqs", events.sqs_endpoint_url, events.sqs_region) as sqs:
                return await consume(sqs, queue_url=queue_url, handle=handle, once=once)
        finally:
            await engine.dispose()

    applied = _with_store(settings, work)
    click.echo(f"{applied} message(s) applied")


@main.command()
@server_command
def doctor() -> None:
    """Check credentials, bucket, CORS, lifecycle, public ACLs, event notifications and the
    public profiles' grant; say how to fix."""
    from s3upload.store import bucket as ops

    settings = load_settings()
    checks = _with_store(settings, lambda store: ops.diagnose(store, settings))
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            click.echo(f"     fix: {check.fix}")
    if not all(c.ok for c in checks):
        sys.exit(1)


@main.group()
def webhooks() -> None:
    """Webhooks out: deliver them, see them, send them again."""


def _with_sessions(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(sessionmaker)` against the configured database, then close it."""
    from s3upload.db.session import make_engine, make_sessionmaker

    async def run() -> T:
        engine = make_engine(settings.database)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@webhooks.command()
@click.option("--once", is_flag=True, help="One round, then exit.")
@server_command
def deliver(once: bool) -> None:
    """Deliver webhooks (any number of these, on any machines, share the work)."""
    from s3upload.webhooks.delivery import Deliverer

    settings = load_settings()
    if not settings.webhooks:
        click.echo("s3upload: set WEBHOOKS to the endpoints to deliver to", err=True)
        sys.exit(2)

    async def work(sessionmaker: Any) -> int:
        deliverer = Deliverer(sessionmaker, settings.webhooks, settings.delivery)
        try:
            if once:
                return await deliverer.run_once()
            await deliverer.run_forever()
            return 0  # pragma: no cover - runs until stopped
        finally:
            await deliverer.close()

    try:
        sent = _with_sessions(settings, work)
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C
        return
    click.echo(f"{sent} delivery attempt(s)")


@webhooks.command(name="list")
@click.option("--failed", is_flag=True, help="Only deliveries that gave up.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@server_command
def list_(failed: bool, limit: int, as_json: bool) -> None:
    """The newest webhook deliveries: event, upload, endpoint, status, attempts, last error."""
    import json

    from s3upload.webhooks.admin import list_deliveries

    settings = load_settings()
    rows = _with_sessions(settings, lambda sm: list_deliveries(sm, failed=failed, limit=limit))
    for row in rows:
        if as_json:
            click.echo(json.dumps(row.__dict__, default=str))
        else:
            error = f"  {row.last_error}" if row.last_error else ""
            click.echo(
                f"{row.id:>8} {row.status:9} {row.attempts:>2} {row.type:18} {row.upload_id} "
                f"{row.endpoint}{error}"
            )


@webhooks.command()
@click.argument("delivery_id", type=int, required=False)
@click.option("--since", type=click.DateTime(), help="Every event since this time (UTC).")
@server_command
def replay(delivery_id: int | None, since: datetime | None) -> None:
    """Send one delivery (by id), or every event since a time, again from the first attempt."""
    from s3upload.webhooks.admin import replay as run_replay

    if (delivery_id is None) == (since is None):
        click.echo("s3upload: give a delivery id or --since TIME", err=True)
        sys.exit(2)
    settings = load_settings()
    when = since.replace(tzinfo=UTC) if since is not None else None
    count = _with_sessions(settings, lambda sm: run_replay(sm, delivery_id=delivery_id, since=when))
    click.echo(f"{count} delivery(ies) queued again")


# The client commands (upload, ls, download, rm, claim) live with the client library.
register_client_commands(main)


if __name__ == "__main__":
    main()
