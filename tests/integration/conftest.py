"""Fixtures of the scope and processing tests: the authorization hook process and an app
that asks it; an app whose profiles check bytes and make variants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from s3upload.app import create_app
from s3upload.settings import Profile, Settings
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


VARIANTS = {
    "thumb": {"width": 64, "height": 64, "fit": "cover", "format": "webp"},
    "large": {"width": 200, "fit": "inside", "format": "jpeg", "quality": 85},
}
PROCESSING_PROFILES = {
    "default": Profile(),
    # Private: variants signed per download.
    "pics": Profile(
        allowed_types=["image/*"],
        key_prefix="pics",
        variants=VARIANTS,
        cache_control="max-age=86400",
    ),
    # Public: served to anyone once finished.
    "gallery": Profile(
        allowed_types=["image/*"],
        key_prefix="gallery",
        variants=VARIANTS,
        public=True,
        cache_control="public, max-age=31536000, immutable",
    ),
    "vectors": Profile(
        allowed_types=["image/*"], key_prefix="vectors", variants=VARIANTS, rasterize_svg=True
    ),
    # Checked bytes, no variants.
    "plain": Profile(allowed_types=["image/*"], key_prefix="plain"),
}


def processing_settings(services: Services, **overrides: object) -> Settings:
    """Settings of the processing tests: their profiles, no in-app processor (tests run one)."""
    process = {"in_app": False, "max_pixels": 50_000_000, "retry_after": 0, "lease": 30}
    process.update(overrides.pop("process", {}))  # type: ignore[arg-type]
    return make_settings(
        services,
        s3={"bucket": "test-processing"},
        profiles=PROCESSING_PROFILES,
        process=process,
        **overrides,
    )


@pytest.fixture(scope="session")
async def processing_app(services: Services, migrated: str) -> AsyncIterator[FastAPI]:
    """An app whose profiles check bytes and make variants."""
    settings = processing_settings(services)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await bucket.setup(application.state.store, settings)
        yield application


@pytest.fixture(scope="session")
async def processing(processing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the processing app in-process."""
    transport = httpx.ASGITransport(app=processing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
