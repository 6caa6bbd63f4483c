"""Fixtures of the scope tests: the authorization hook process and an app that asks it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from s3upload.app import create_app
from s3upload.store import bucket
from tests.conftest import Services, make_settings
from tests.helpers import free_port
from tests.scope_helpers import SCOPED_PROFILES, Hook, authz, start_hook


@pytest.fixture(scope="session")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hook]:
    """The authorization hook, a process of its own."""
    proc = start_hook(tmp_path_factory.mktemp("hook"), free_port())
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
async def scoped_app(services: Services, migrated: str, hook: Hook) -> AsyncIterator[FastAPI]:
    """An app whose profiles take scopes, decided by the hook, by grants and by the owner."""
    settings = make_settings(services, profiles=SCOPED_PROFILES, authz=authz(hook))
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await bucket.setup(application.state.store, settings)
        yield application


@pytest.fixture(scope="session")
async def scoped(scoped_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the scoped app in-process."""
    transport = httpx.ASGITransport(app=scoped_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
