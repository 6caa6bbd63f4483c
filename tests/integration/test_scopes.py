"""Scopes: uploads that belong to the application's things, and who may act on them.

The application's decisions come from a hook served by its own process (tests/hook_server.py),
or from grants in the token; nothing here stands in for either.
"""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.helpers import assert_error, put_bytes
from tests.scope_helpers import Hook

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 1016


def _event() -> str:
    return f"event/{uuid.uuid4().hex[:10]}"


def _photo(scope: str | None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "fileName": "stage.png",
        "fileType": "image/png",
        "fileSize": len(PNG),
        "profile": "photos",
        "metadata": {"title": "On stage", "description": "The keynote"},
        **extra,
    }
    if scope is not None:
        body["scope"] = scope
    return body


async def _uploaded(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, auth: dict[str, str], scope: str
) -> dict[str, object]:
    """A photo in `scope`, its bytes stored and verified."""
    resp = await scoped.post("/uploads", json=_photo(scope), headers=auth)
    assert resp.status_code == 201, resp.text
    upload = resp.json()
    assert (await put_bytes(http, upload, PNG)).status_code == 200
    done = await scoped.post(f"/uploads/{upload['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    return dict(done.json())


async def test_a_scoped_upload_holds_its_scope_in_key_and_record(
    scoped: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope, alice = _event(), f"alice-{uuid.uuid4().hex[:6]}"
    hook.grant(alice, scope, "upload")
    auth = auth_for(alice, roles=["guest"])
    resp = await scoped.post("/uploads", json=_photo(scope), headers=auth)
    assert resp.status_code == 201, resp.text
    upload = resp.json()
    kind, thing = scope.split("/")
    # <prefix>/<type>/<id>/<yyyy>/<mm>/<upload-id>/<safe-name>
    parts = upload["key"].split("/")
    assert parts[:3] == ["uploads", kind, thing]
    assert parts[5:] == [upload["id"], "stage.png"]
    assert upload["scope"] == scope
    assert upload["owner"] == alice
    assert upload["claimed"] is False
    assert upload["claimDeadline"] is None

    # The application was asked once, with a signature it could check and no bearer token.
    asked = [q for q in hook.questions() if q["body"]["scope"] == scope]
    assert len(asked) == 1
    assert asked[0]["verified"] is True
    assert asked[0]["body"] == {
        "action": "upload",
        "subject": alice,
        "roles": ["guest"],
        "scope": scope,
        "profile": "photos",
        "file": {
            "fileName": "stage.png",
            "fileType": "image/png",
            "fileSize": len(PNG),
            "metadata": {"title": "On stage", "description": "The keynote"},
        },
    }
    assert "authorization" not in asked[0]["headers"]
    token = auth["Authorization"].removeprefix("Bearer ")
    assert token not in str(asked[0])


@pytest.mark.parametrize(
    "scope",
    [
        "event",
        "event/",
        "/1",
        "Event/1",
        "event/a b",
        "event/1/2",
        "e" * 33 + "/1",
        "event/" + "x" * 129,
        "event/ü",
    ],
)
async def test_a_scope_outside_the_grammar_is_422_naming_it(
    scoped: httpx.AsyncClient, auth: dict[str, str], scope: str
) -> None:
    resp = await scoped.post("/uploads", json=_photo(scope), headers=auth)
    body = assert_error(resp, 422, "validation_error")
    assert ["body", "scope"] in [d["loc"] for d in body["details"]]


async def test_profiles_say_which_scopes_and_metadata_they_need(
    scoped: httpx.AsyncClient, hook: Hook, owner: str, auth: dict[str, str]
) -> None:
    missing = await scoped.post("/uploads", json=_photo(None), headers=auth)
    body = assert_error(missing, 422, "invalid_scope")
    assert body["details"][0]["loc"] == ["body", "scope"]
    assert "'event/…'" in body["message"]

    wrong = await scoped.post("/uploads", json=_photo("team/t1"), headers=auth)
    assert assert_error(wrong, 422, "invalid_scope")["details"][0]["loc"] == ["body", "scope"]

    # Required metadata is checked after the application answered: it may supply some.
    scope = _event()
    hook.grant(owner, scope, "upload")
    untitled = _photo(scope, metadata={"description": "no title"})
    body = assert_error(await scoped.post("/uploads", json=untitled, headers=auth), 422)
    assert body["error"] == "metadata_required"
    assert body["details"] == [
        {"loc": ["body", "metadata", "title"], "msg": "required", "type": "missing"}
    ]
    blank = _photo(scope, metadata={"title": "  "})
    assert_error(await scoped.post("/uploads", json=blank, headers=auth), 422, "metadata_required")


async def test_a_refusal_carries_the_applications_message_and_leaves_nothing(
    scoped: httpx.AsyncClient, auth_for: TokenFactory
) -> None:
    scope, dave = _event(), f"dave-{uuid.uuid4().hex[:6]}"
    auth = auth_for(dave)
    resp = await scoped.post("/uploads", json=_photo(scope), headers=auth)
    body = assert_error(resp, 403, "forbidden")
    assert body["message"] == f"{dave} may not upload in {scope}."
    mine = await scoped.get("/files", params={"status": "pending"}, headers=auth)
    assert mine.json()["items"] == []


@pytest.mark.parametrize("fault", ["500", "slow", "redirect", "nonsense", "notjson", "badmeta"])
async def test_a_broken_hook_answers_503_and_lets_nobody_in(
    scoped: httpx.AsyncClient, auth: dict[str, str], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3upload.authz"):
        resp = await scoped.post("/uploads", json=_photo(f"fault/{fault}"), headers=auth)
    assert_error(resp, 503, "authorization_unavailable")
    assert resp.headers["Retry-After"]
    # The attempt is logged with what it was about and why it failed, never with the token.
    failed = [r for r in caplog.records if r.getMessage() == "authorization hook failed"]
    assert len(failed) == 1
    assert failed[0].__dict__["scope"] == f"fault/{fault}"
    assert failed[0].__dict__["reason"]
    token = auth["Authorization"].removeprefix("Bearer ")
    assert token not in str(failed[0].__dict__)
    mine = await scoped.get("/files", params={"status": "pending"}, headers=auth)
    assert mine.json()["items"] == []


async def test_the_hook_may_add_metadata(scoped: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = _photo("fault/meta", metadata={"description": "from the client"})
    resp = await scoped.post("/uploads", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    # Added by the application, so the required title is there; the client's key is kept.
    assert resp.json()["metadata"] == {"title": "Set by the app", "description": "from the client"}
    signed = resp.json()["single"]["headers"]
    assert signed["x-amz-meta-title"] == "Set by the app"


async def test_readers_list_the_scope_whoever_uploaded(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope = _event()
    alice, bob, carol = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "bob", "carol"))
    hook.grant(alice, scope, "upload", "read")
    hook.grant(bob, scope, "upload", "read")
    first = await _uploaded(scoped, http, auth_for(alice), scope)
    second = await _uploaded(scoped, http, auth_for(bob), scope)
    pending = await scoped.post("/uploads", json=_photo(scope), headers=auth_for(alice))
    assert pending.status_code == 201

    page = await scoped.get("/files", params={"scope": scope}, headers=auth_for(bob))
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [i["id"] for i in items] == [second["id"], first["id"]]  # finished only, newest first
    assert [i["owner"] for i in items] == [bob, alice]
    assert items[1]["metadata"] == {"title": "On stage", "description": "The keynote"}

    # Keyset pages across owners.
    one = await scoped.get("/files", params={"scope": scope, "limit": 1}, headers=auth_for(bob))
    cursor = one.json()["nextCursor"]
    rest = await scoped.get(
        "/files", params={"scope": scope, "limit": 1, "cursor": cursor}, headers=auth_for(bob)
    )
    assert [i["id"] for i in rest.json()["items"]] == [first["id"]]
    assert rest.json()["nextCursor"] is None

    # Unfinished files are listed to their own uploader only.
    own = await scoped.get(
        "/files", params={"scope": scope, "status": "pending"}, headers=auth_for(alice)
    )
    assert [i["id"] for i in own.json()["items"]] == [pending.json()["id"]]
    other = await scoped.get(
        "/files", params={"scope": scope, "status": "pending"}, headers=auth_for(bob)
    )
    assert other.json()["items"] == []

    refused = await scoped.get("/files", params={"scope": scope}, headers=auth_for(carol))
    assert assert_error(refused, 403, "forbidden")["message"] == f"{carol} may not read in {scope}."
    bad = await scoped.get("/files", params={"scope": "event/a b"}, headers=auth_for(carol))
    assert_error(bad, 422)


async def test_readers_get_and_download_and_deleters_delete_in_the_scope(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope = _event()
    alice, bob, olivia = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "bob", "olivia"))
    hook.grant(alice, scope, "upload", "read")
    hook.grant(bob, scope, "read")
    hook.grant(olivia, scope, "read", "delete")
    photo = await _uploaded(scoped, http, auth_for(alice), scope)
    pid = photo["id"]

    got = await scoped.get(f"/files/{pid}", headers=auth_for(bob))
    assert got.status_code == 200
    assert got.json()["owner"] == alice
    record = await scoped.get(f"/uploads/{pid}", headers=auth_for(bob))
    assert record.status_code == 200
    down = await scoped.get(f"/files/{pid}/download", headers=auth_for(bob))
    assert down.status_code == 200
    assert (await http.get(down.json()["url"])).content == PNG

    # A reader knows the file: refused a delete with the application's reason, not a 404.
    no = await scoped.delete(f"/files/{pid}", headers=auth_for(bob))
    assert assert_error(no, 403, "forbidden")["message"] == f"{bob} may not delete in {scope}."
    assert (await scoped.delete(f"/files/{pid}", headers=auth_for(olivia))).status_code == 204
    gone = await scoped.get(f"/files/{pid}", headers=auth_for(alice))
    assert gone.json()["status"] == "deleted"


async def test_an_attendee_removed_loses_access_at_once_without_a_cache(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope, alice, bob = _event(), f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"
    hook.grant(alice, scope, "upload", "read")
    hook.grant(bob, scope, "read")
    photo = await _uploaded(scoped, http, auth_for(alice), scope)
    assert (await scoped.get(f"/files/{photo['id']}", headers=auth_for(bob))).status_code == 200
    hook.grant(bob, scope)
    assert_error(await scoped.get(f"/files/{photo['id']}", headers=auth_for(bob)), 404)


async def test_the_uploader_always_keeps_their_own_file(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope, alice = _event(), f"alice-{uuid.uuid4().hex[:6]}"
    hook.grant(alice, scope, "upload")
    photo = await _uploaded(scoped, http, auth_for(alice), scope)
    hook.grant(alice, scope)  # no longer an attendee
    asked = len(hook.questions())
    mine = auth_for(alice)
    assert (await scoped.get(f"/files/{photo['id']}", headers=mine)).status_code == 200
    assert (await scoped.delete(f"/files/{photo['id']}", headers=mine)).status_code == 204
    assert len(hook.questions()) == asked  # the owner's own rights need no question


async def test_owner_access_keeps_scoped_files_to_their_owner(
    scoped: httpx.AsyncClient, auth_for: TokenFactory
) -> None:
    scope, me, other = "note/n1", f"me-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    body = {"fileName": "n.txt", "fileType": "text/plain", "fileSize": 5, "scope": scope}
    mine = await scoped.post("/uploads", json={**body, "profile": "notes"}, headers=auth_for(me))
    assert mine.status_code == 201, mine.text
    listed = await scoped.get(
        "/files", params={"scope": scope, "status": "pending"}, headers=auth_for(me)
    )
    assert [i["id"] for i in listed.json()["items"]] == [mine.json()["id"]]
    theirs = await scoped.get(
        "/files", params={"scope": scope, "status": "pending"}, headers=auth_for(other)
    )
    assert theirs.json()["items"] == []
    assert_error(await scoped.get(f"/files/{mine.json()['id']}", headers=auth_for(other)), 404)
