"""Listing the caller's uploads: newest first, keyset pages, status filter."""

from __future__ import annotations

from tests.helpers import assert_error, create


async def test_pages_cover_everything_once_newest_first(client, auth):
    made = [await create(client, auth, fileName=f"f{i}.png") for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/files", params=params, headers=auth)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [u["id"] for u in reversed(made)]


async def test_status_filter(client, auth):
    kept = await create(client, auth)
    gone = await create(client, auth)
    assert (await client.delete(f"/uploads/{gone['id']}", headers=auth)).status_code == 204
    aborted = (await client.get("/files", params={"status": "aborted"}, headers=auth)).json()
    pending = (await client.get("/files", params={"status": "pending"}, headers=auth)).json()
    assert [i["id"] for i in aborted["items"]] == [gone["id"]]
    assert [i["id"] for i in pending["items"]] == [kept["id"]]
    assert aborted["nextCursor"] is None


async def test_empty_list(client, auth):
    assert (await client.get("/files", headers=auth)).json() == {"items": [], "nextCursor": None}


async def test_bad_query_values(client, auth):
    assert_error(await client.get("/files", params={"cursor": "garbage!"}, headers=auth), 422)
    assert_error(await client.get("/files", params={"cursor": "WzEsMl0"}, headers=auth), 422)
    # Any 32 characters of base64url are a position: one the service never issued is answered.
    made_up = await client.get("/files", params={"cursor": "A" * 32}, headers=auth)
    assert made_up.status_code == 200, made_up.text
    assert made_up.json()["items"] == []  # nothing was made before 1970
    assert_error(await client.get("/files", params={"limit": 0}, headers=auth), 422)
    assert_error(await client.get("/files", params={"limit": 101}, headers=auth), 422)
    assert_error(await client.get("/files", params={"status": "weird"}, headers=auth), 422)
