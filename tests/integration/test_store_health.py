"""The store health check: concurrent callers share one HeadBucket, success or failure."""

from __future__ import annotations

import asyncio

import pytest

from s3upload.errors import AppError
from s3upload.store.client import ObjectStore
from tests.conftest import make_settings


async def counted_store(settings) -> tuple[ObjectStore, list[int]]:
    store = ObjectStore(settings.s3)
    await store.start()
    calls: list[int] = []
    real = store.client.head_bucket

    async def head_bucket(**kwargs):
        calls.append(1)
        return await real(**kwargs)

    store.client.head_bucket = head_bucket  # type: ignore[method-assign]
    return store, calls


async def test_concurrent_checks_share_one_head_bucket(services, app):
    store, calls = await counted_store(make_settings(services, s3={"health_ttl": 60}))
    try:
        await asyncio.gather(*(store.check() for _ in range(20)))
        assert len(calls) == 1
        await store.check()  # trusted for the lifetime
        assert len(calls) == 1
        await store.check(force=True)
        assert len(calls) == 2
    finally:
        await store.close()


async def test_concurrent_checks_share_one_failure(services):
    settings = make_settings(
        services, s3={"endpoint_url": "http://127.0.0.1:9", "max_attempts": 1, "connect_timeout": 1}
    )
    store, calls = await counted_store(settings)
    try:
        outcomes = await asyncio.gather(*(store.check() for _ in range(5)), return_exceptions=True)
        assert all(isinstance(o, AppError) and o.status == 503 for o in outcomes)
        assert len(calls) == 1
        with pytest.raises(AppError):  # a failure is not trusted: the next caller checks again
            await store.check()
        assert len(calls) == 2
    finally:
        await store.close()
