"""Authentication and ownership: 401 without a good token, 404 for anyone else's upload."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.conftest import TEST_SECRET
from tests.helpers import assert_error, create

PROTECTED = [
    ("POST", "/uploads"),
    ("POST", "/presigned-url"),
    ("GET", "/files"),
    ("PUT", "/file-status"),
    ("GET", "/uploads/00000000-0000-0000-0000-000000000000"),
]


LATER = time.time() + 86400  # built at collection: far enough ahead for any run


def _token(claims, key=TEST_SECRET, alg="HS256"):
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=alg)}"}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_no_token_is_401(client, method, path):
    resp = await client.request(method, path, json={})
    assert_error(resp, 401, "missing_token")
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Authorization": "Bearer not-a-jwt"}, "invalid_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_token"),
        (_token({"sub": "a", "exp": LATER}, key="wrong-secret-" * 3), "invalid_token"),
        (_token({"sub": "a", "exp": time.time() - 3600}), "token_expired"),
        (_token({"sub": "a"}), "invalid_token"),  # no exp
        (_token({"exp": LATER}), "invalid_token"),  # no sub
        (_token({"sub": "a", "exp": LATER, "nbf": time.time() + 3600}), "invalid_token"),
        (_token({"sub": "", "exp": LATER}), "invalid_token"),
        (
            _token(
                {"sub": "a", "exp": LATER, "roles": "x"},
                key=TEST_SECRET * 2,
                alg="HS512",
            ),
            "invalid_token",
        ),
        (_token({"sub": "a", "exp": LATER, "roles": {"r": 1}}), "invalid_token"),
    ],
)
async def test_bad_tokens_are_401(client, headers, code):
    resp = await client.get("/files", headers=headers)
    assert_error(resp, 401, code)
    assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_alg_none_refused(client):
    token = jwt.encode({"sub": "a", "exp": time.time() + 60}, None, algorithm="none")
    resp = await client.get("/files", headers={"Authorization": f"Bearer {token}"})
    assert_error(resp, 401, "invalid_token")


async def test_roles_claim_as_space_separated_string(client):
    headers = _token({"sub": "proc-x", "exp": time.time() + 60, "roles": "processor admin"})
    resp = await client.get("/files", headers=headers)
    assert resp.status_code == 200


async def test_other_owner_gets_404_everywhere(client, auth, auth_for):
    up = await create(client, auth)
    other = auth_for("someone-else")
    uid = up["id"]
    for method, path, body in [
        ("GET", f"/uploads/{uid}", None),
        ("GET", f"/files/{uid}", None),
        ("POST", f"/uploads/{uid}/complete", None),
        ("DELETE", f"/uploads/{uid}", None),
        ("PUT", "/file-status", {"id": uid, "status": "uploaded"}),
        ("PUT", "/file-status", {"key": up["key"], "status": "uploaded"}),
        ("PUT", "/file-status", {"id": uid, "status": "completed"}),
    ]:
        resp = await client.request(method, path, json=body, headers=other)
        assert_error(resp, 404, "not_found")
    listed = (await client.get("/files", headers=other)).json()
    assert uid not in {i["id"] for i in listed["items"]}
    # and the owner still sees it untouched
    mine = await client.get(f"/uploads/{uid}", headers=auth)
    assert mine.json()["status"] == "pending"


async def test_admin_reads_any_upload_but_cannot_cancel_it(client, auth, auth_for):
    up = await create(client, auth)
    admin = auth_for("root-admin", roles=["admin"])
    assert (await client.get(f"/files/{up['id']}", headers=admin)).status_code == 200
    assert (await client.get(f"/uploads/{up['id']}", headers=admin)).status_code == 200
    resp = await client.delete(f"/uploads/{up['id']}", headers=admin)
    assert_error(resp, 404)


async def test_unknown_id_and_malformed_id(client, auth):
    resp = await client.get("/uploads/6f1c0000-0000-4000-8000-000000000000", headers=auth)
    assert_error(resp, 404, "not_found")
    resp = await client.get("/uploads/not-a-uuid", headers=auth)
    assert_error(resp, 422, "validation_error")


async def test_profile_with_required_role(client, auth, auth_for, owner):
    body = {"fileName": "a.txt", "fileType": "text/plain", "fileSize": 10, "profile": "editors"}
    resp = await client.post("/uploads", json=body, headers=auth)
    assert_error(resp, 403, "role_required")
    ok = await client.post("/uploads", json=body, headers=auth_for(owner, roles=["editor"]))
    assert ok.status_code == 201
    assert ok.json()["key"].startswith("editorial/")
