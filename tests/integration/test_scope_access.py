"""Who may act on a scope's files: every route refuses a caller without the grant; grants in
tokens work like the hook's answers; allows are cached only for their lifetime."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY

from s3upload.app import create_app
from tests.conftest import TEST_SECRET, Services, TokenFactory, make_settings
from tests.helpers import assert_error, call_id_route, id_routes, put_bytes
from tests.scope_helpers import SCOPED_PROFILES, Hook, authz

MiB = 1024 * 1024
# Routes a reader of a scope may use on another's file; the rest stay the uploader's.
READS = {
    ("GET", "/uploads/{id}"),
    ("GET", "/files/{id}"),
    ("GET", "/files/{id}/download"),
    ("GET", "/files/{id}/variants/{name}"),
}
# Routes other grants open (delete, and claim with upload): a reader is told why not.
OTHER_GRANTS = {("DELETE", "/files/{id}"), ("POST", "/files/{id}/claim")}


async def test_every_route_refuses_a_caller_without_the_grant(
    scoped: httpx.AsyncClient, scoped_app, hook: Hook, auth_for: TokenFactory
) -> None:
    scope = f"event/{uuid.uuid4().hex[:10]}"
    alice, bob, carol = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "bob", "carol"))
    hook.grant(alice, scope, "upload", "read", "delete")
    hook.grant(bob, scope, "read")  # may read, nothing else
    meta = {"title": "t"}
    common = {"fileType": "image/png", "profile": "photos", "scope": scope, "metadata": meta}
    small = {"fileName": "a.png", "fileSize": 10, **common}
    single = (await scoped.post("/uploads", json=small, headers=auth_for(alice))).json()
    multi = (
        await scoped.post(
            "/uploads",
            json={"fileName": "b.png", "fileSize": 9 * MiB, **common},
            headers=auth_for(alice),
        )
    ).json()
    assert multi["strategy"] == "multipart", multi
    routes = id_routes(scoped_app)
    assert len(routes) >= 13, routes
    for method, template in routes:
        for up in (single, multi):
            refused = await call_id_route(scoped, method, template, up, auth_for(carol))
            assert_error(refused, 404, "not_found")
            as_reader = await call_id_route(scoped, method, template, up, auth_for(bob))
            if (method, template) in OTHER_GRANTS:
                assert_error(as_reader, 403, "forbidden")
            elif (method, template) not in READS:
                assert_error(as_reader, 404, "not_found")
    listing = await scoped.get("/files", params={"scope": scope}, headers=auth_for(carol))
    assert_error(listing, 403, "forbidden")
    put_status = await scoped.put(
        "/file-status", json={"id": single["id"], "status": "uploaded"}, headers=auth_for(carol)
    )
    assert_error(put_status, 404, "not_found")
    # Nothing was changed by the attempts.
    for up in (single, multi):
        got = (await scoped.get(f"/uploads/{up['id']}", headers=auth_for(alice))).json()
        assert got["status"] == "pending"
        assert got["claimed"] is False


def _grant_token(subject: str, scopes: object) -> dict[str, str]:
    claims = {"sub": subject, "exp": time.time() + 600, "scopes": scopes}
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}


async def test_grants_in_the_token_decide_for_claims_profiles(
    scoped: httpx.AsyncClient, http: httpx.AsyncClient, auth_for: TokenFactory
) -> None:
    team = f"team/{uuid.uuid4().hex[:8]}"
    body = {"fileName": "plan.pdf", "fileType": "application/pdf", "fileSize": 4, "scope": team}
    writer = auth_for("w-" + team[5:], scopes=[f"{team}:upload", f"{team}:read"])
    up = await scoped.post("/uploads", json={**body, "profile": "team"}, headers=writer)
    assert up.status_code == 201, up.text
    assert (await put_bytes(http, up.json(), b"%PDF")).status_code == 200
    done = await scoped.post(f"/uploads/{up.json()['id']}/complete", headers=writer)
    assert done.status_code == 200

    wildcard = auth_for("r-" + team[5:], scopes=["team/*:read"])
    listed = await scoped.get("/files", params={"scope": team}, headers=wildcard)
    assert [i["id"] for i in listed.json()["items"]] == [up.json()["id"]]
    other_team = auth_for("o-" + team[5:], scopes=["team/elsewhere:read", f"{team}:delete"])
    refused = await scoped.get("/files", params={"scope": team}, headers=other_team)
    assert assert_error(refused, 403, "forbidden")["message"] == (
        f"Your token grants no 'read' on {team}."
    )
    nothing = await scoped.post("/uploads", json={**body, "profile": "team"}, headers=wildcard)
    assert_error(nothing, 403, "forbidden")
    # `delete` without `read`: the file stays hidden, and the delete goes through.
    assert (await scoped.delete(f"/files/{up.json()['id']}", headers=other_team)).status_code == 204


@pytest.mark.parametrize("scopes", ["team/x:read", [1], [["team/x:read"]], {"team/x": "read"}])
async def test_grants_that_are_not_a_list_of_strings_are_401(
    scoped: httpx.AsyncClient, scopes: object
) -> None:
    resp = await scoped.get("/files", headers=_grant_token("g", scopes))
    assert assert_error(resp, 401, "invalid_token")["message"] == (
        "The token's scopes claim is not a list of strings."
    )


async def test_uppy_routes_take_the_scope_from_metadata(
    scoped: httpx.AsyncClient, hook: Hook, auth_for: TokenFactory
) -> None:
    scope, alice = f"event/{uuid.uuid4().hex[:10]}", f"alice-{uuid.uuid4().hex[:6]}"
    hook.grant(alice, scope, "upload")
    params = {
        "filename": "a.png",
        "type": "image/png",
        "size": "10",
        "metadata[profile]": "photos",
        "metadata[scope]": scope,
        "metadata[title]": "From Uppy",
    }
    resp = await scoped.get("/s3/params", params=params, headers=auth_for(alice))
    assert resp.status_code == 200, resp.text
    assert f"/uploads/{scope}/" in resp.json()["url"]
    created = await scoped.post(
        "/s3/multipart",
        json={
            "filename": "b.png",
            "type": "image/png",
            "metadata": {"profile": "photos", "scope": scope, "title": "t"},
        },
        headers=auth_for(alice),
    )
    assert created.status_code == 200, created.text
    assert created.json()["key"].startswith(f"uploads/{scope}/")
    refused = await scoped.get("/s3/params", params=params, headers=auth_for("stranger"))
    assert_error(refused, 403, "forbidden")


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_allows_are_cached_for_their_lifetime_refusals_never(
    services: Services, migrated: str, hook: Hook, auth_for: TokenFactory
) -> None:
    settings = make_settings(services, profiles=SCOPED_PROFILES, authz=authz(hook, cache_ttl=1.0))
    app = create_app(settings)
    scope, bob = f"event/{uuid.uuid4().hex[:10]}", f"bob-{uuid.uuid4().hex[:6]}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:

            async def listing() -> int:
                resp = await c.get("/files", params={"scope": scope}, headers=auth_for(bob))
                return resp.status_code

            assert await listing() == 403
            hook.grant(bob, scope, "read")
            assert await listing() == 200  # a refusal is never cached: the grant works at once
            hits = _counter("s3upload_authz_cache_total", result="hit")
            asked = len(hook.questions())
            assert await listing() == 200
            assert len(hook.questions()) == asked  # answered from the cache
            assert _counter("s3upload_authz_cache_total", result="hit") == hits + 1
            hook.grant(bob, scope)  # removed
            assert await listing() == 200  # still within the cache's lifetime
            await asyncio.sleep(1.1)
            assert await listing() == 403
    assert _counter("s3upload_authz_hook_total", outcome="deny") >= 2
    assert (REGISTRY.get_sample_value("s3upload_authz_hook_duration_seconds_count") or 0) >= 4
