"""Part URLs signed from memory once an upload is known: no database round trip per part,
and nothing signed that the store would accept for an upload that is no longer pending."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from s3upload.app import create_app
from tests.conftest import Services, TokenFactory, make_settings
from tests.helpers import assert_error, create

MiB = 1024 * 1024


class Statements:
    """Counts the SQL statements an engine sends (the real PostgreSQL, not a stand-in)."""

    def __init__(self, app: FastAPI) -> None:
        self.count = 0
        self.engine = app.state.engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def _multipart(client: httpx.AsyncClient, auth: dict[str, str]) -> dict:
    up = await create(client, auth, fileName="a.zip", fileType="application/zip", fileSize=12 * MiB)
    assert up["strategy"] == "multipart"
    return up


async def test_later_parts_are_signed_without_the_database(client, app, auth) -> None:
    up = await _multipart(client, auth)
    first = await client.post(f"/uploads/{up['id']}/parts", json={"partNumbers": [1]}, headers=auth)
    assert first.status_code == 200
    counted = Statements(app)
    try:
        for n in (2, 3, 1):
            again = await client.post(
                f"/uploads/{up['id']}/parts", json={"partNumbers": [n]}, headers=auth
            )
            assert again.status_code == 200
            assert again.json()["parts"][0]["partNumber"] == n
        uppy = await client.get(
            f"/s3/multipart/{up['id']}/2", params={"key": up["key"]}, headers=auth
        )
        assert uppy.status_code == 200
    finally:
        counted.close()
    assert counted.count == 0


async def test_only_the_owner_signs_and_a_finished_upload_is_signed_no_more(
    client, auth, auth_for: TokenFactory, http
) -> None:
    up = await _multipart(client, auth)
    path = f"/uploads/{up['id']}/parts"
    assert (await client.post(path, json={"partNumbers": [1]}, headers=auth)).is_success
    other = await client.post(path, json={"partNumbers": [1]}, headers=auth_for("someone-else"))
    assert_error(other, 404, "not_found")
    assert (await client.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    after = await client.post(path, json={"partNumbers": [1]}, headers=auth)
    assert_error(after, 409)


async def test_a_url_signed_from_memory_after_another_worker_cancelled_is_refused(
    services: Services, migrated: str, app, client, auth, http
) -> None:
    up = await _multipart(client, auth)
    path = f"/uploads/{up['id']}/parts"
    assert (await client.post(path, json={"partNumbers": [1]}, headers=auth)).is_success
    # Another worker (its own app, the same database and bucket) cancels the upload.
    other = create_app(make_settings(services))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://w2") as c2:
            assert (await c2.delete(f"/uploads/{up['id']}", headers=auth)).status_code == 204
    # This worker still knows it as pending and signs; the store refuses the bytes.
    stale = await client.post(path, json={"partNumbers": [1]}, headers=auth)
    assert stale.status_code == 200
    part = stale.json()["parts"][0]
    sent = await http.put(part["url"], content=b"x" * 5 * MiB, headers=part["headers"])
    assert sent.status_code == 404
    assert b"NoSuchUpload" in sent.content
