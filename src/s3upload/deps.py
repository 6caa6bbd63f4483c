"""App-wide dependencies: the settings, the object store, the record writer, public URLs.

The routes clients call most (creating uploads, signing parts) take them all as one
dependency, `App`: FastAPI resolves every dependency of a route on every request, at a
cost of its own (about 20 µs each here), so one that carries five costs a fifth.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from s3upload.services import Services
from s3upload.settings import Settings
from s3upload.store.client import ObjectStore


async def get_services(request: Request) -> Services:
    """The running app's services, in one dependency."""
    services: Services = request.app.state.services
    return services


async def get_store(request: Request) -> ObjectStore:
    """The application's object store client (async: sync dependencies cost a thread hop)."""
    store: ObjectStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


class PublicUrls:
    """Where anyone fetches a public profile's objects: PUBLIC_BASE_URL (a CDN), or the
    bucket's own URL on the public endpoint."""

    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self.base = settings.public_base_url.rstrip("/") if settings.public_base_url else None
        self.store = store

    def __call__(self, key: str) -> str:
        """The unsigned URL of `key`."""
        if self.base is None:
            return self.store.signer.object_url(key)
        return f"{self.base}/{quote(key, safe='/~')}"


async def get_public_urls(request: Request) -> PublicUrls:
    """The application's public URL maker."""
    urls: PublicUrls = request.app.state.public_urls
    return urls


App = Annotated[Services, Depends(get_services)]
Store = Annotated[ObjectStore, Depends(get_store)]
PublicLinks = Annotated[PublicUrls, Depends(get_public_urls)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
