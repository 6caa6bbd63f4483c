"""Scopes without I/O: the grammar, grant matching, the hook's answers, and the settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from s3upload import policy
from s3upload.access.decision import Decision
from s3upload.access.hook import _decision, _Nonsense
from s3upload.access.scopes import ScopeAction, granted, is_scope
from s3upload.errors import InvalidScope, MetadataRequired
from s3upload.settings import AuthzSettings, Profile, Settings

SECRET = "whsec_" + "A" * 24


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("event/1234", True),
        ("case_file/A-1.b_2", True),
        ("e/" + "x" * 128, True),
        ("a" + "b" * 31 + "/1", True),
        ("a" + "b" * 32 + "/1", False),
        ("e/" + "x" * 129, False),
        ("Event/1", False),
        ("1event/1", False),
        ("event", False),
        ("event/", False),
        ("event/1/2", False),
        ("event/a b", False),
        ("event/*", False),
    ],
)
def test_scope_grammar(value: str, ok: bool) -> None:
    assert is_scope(value) is ok


def test_grants_name_a_scope_or_every_scope_of_a_type() -> None:
    grants = frozenset({"event/1:read", "team/*:upload"})
    assert granted(grants, "event/1", ScopeAction.READ)
    assert not granted(grants, "event/1", ScopeAction.DELETE)
    assert not granted(grants, "event/2", ScopeAction.READ)
    assert granted(grants, "team/anything", ScopeAction.UPLOAD)
    assert not granted(grants, "teams/x", ScopeAction.UPLOAD)
    assert not granted(frozenset({"*/*:read"}), "event/1", ScopeAction.READ)


def _answer(status: int = 200, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, **kwargs)  # type: ignore[arg-type]


def test_the_hooks_allow_refusal_and_metadata() -> None:
    assert _decision(_answer(json={"allow": True})) == Decision(allow=True)
    added = _decision(_answer(json={"allow": True, "metadata": {"event": "Keynote"}}))
    assert added.metadata == {"event": "Keynote"}
    refused = _decision(_answer(json={"allow": False, "message": " Attendees only. "}))
    assert refused == Decision(allow=False, message="Attendees only.")
    assert _decision(_answer(json={"allow": False})).message == "The application refused this."
    long = _decision(_answer(json={"allow": False, "message": "x" * 5000}))
    assert long.message == "x" * 500


@pytest.mark.parametrize(
    "answer",
    [
        _answer(500, json={"allow": True}),
        _answer(302, headers={"location": "http://elsewhere/"}),
        _answer(204),
        _answer(text="allow"),
        _answer(json=["allow"]),
        _answer(json={"allow": "yes"}),
        _answer(json={"allowed": True}),
        _answer(json={"allow": False, "message": 5}),
        _answer(json={"allow": True, "metadata": ["a"]}),
        _answer(json={"allow": True, "metadata": {"a": 1}}),
    ],
)
def test_anything_else_is_nonsense(answer: httpx.Response) -> None:
    with pytest.raises(_Nonsense):
        _decision(answer)


def test_profiles_check_scopes_and_required_metadata() -> None:
    photos = Profile(scope_types=["event"], metadata_required=["title"])
    policy.check_scope(Profile(), "default", None)
    policy.check_scope(Profile(), "default", "anything/1")
    policy.check_scope(photos, "photos", "event/1")
    with pytest.raises(InvalidScope):
        policy.check_scope(photos, "photos", None)
    with pytest.raises(InvalidScope):
        policy.check_scope(photos, "photos", "team/1")
    policy.check_required(photos, {"title": "x"})
    with pytest.raises(MetadataRequired) as missing:
        policy.check_required(photos, {"title": " "})
    assert missing.value.details[0]["loc"] == ["body", "metadata", "title"]


def test_scoped_keys_hold_the_scope() -> None:
    upload_id = uuid.UUID(int=1)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    key = policy.object_key(Profile(key_prefix="media"), upload_id, "a b.png", now, "event/42")
    assert key == f"media/event/42/2026/12/{upload_id}/a-b.png"
    plain = policy.object_key(Profile(), upload_id, "a.png", now)
    assert plain == f"uploads/2026/12/{upload_id}/a.png"


@pytest.mark.parametrize(
    ("profiles", "authz", "error"),
    [
        ({"default": {"access": "claims"}}, {}, "set scope_types"),
        ({"default": {"scope_types": ["Event"]}}, {}, "scope types must match"),
        (
            {"default": {"metadata_keys": ["a"], "metadata_required": ["title"]}},
            {},
            "not in metadata_keys",
        ),
        (
            {
                "default": {},
                "a": {"scope_types": ["event"], "access": "claims"},
                "b": {"scope_types": ["event"]},
            },
            {},
            "different access",
        ),
        ({"default": {}, "p": {"scope_types": ["e"], "access": "hook"}}, {}, "AUTHZ_HOOK_URL"),
        ({"default": {}}, {"hook_url": "ftp://x/"}, "http(s)"),
        ({"default": {}}, {"hook_url": "http://x/", "hook_secret": "plain"}, "whsec_"),
    ],
)
def test_settings_refuse_access_that_cannot_work(
    profiles: dict[str, object], authz: dict[str, object], error: str
) -> None:
    with pytest.raises(ValidationError, match=error.replace("(", r"\(").replace(")", r"\)")):
        Settings(environment="development", profiles=profiles, authz=authz)


def test_scope_types_decide_access_for_listings() -> None:
    settings = Settings(
        environment="development",
        profiles={
            "default": {},
            "photos": {"scope_types": ["event"], "access": "hook"},
            "docs": {"scope_types": ["case"], "access": "claims"},
        },
        authz=AuthzSettings(hook_url="http://127.0.0.1:1/authz", hook_secret=SECRET),
    )
    assert settings.scope_access("event") == "hook"
    assert settings.scope_access("case") == "claims"
    assert settings.scope_access("note") == "owner"
