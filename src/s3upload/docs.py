"""OpenAPI helpers: the documented error responses of each route."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from s3upload.settings import SCOPE_ID, Profile, Settings


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: str
    message: str
    details: Any | None = None


_DESCRIPTIONS = {
    400: "Malformed request (not JSON, bad cursor).",
    401: "Missing, invalid or expired bearer token.",
    403: "The caller lacks a role this needs.",
    404: "No such upload for this caller.",
    409: "The upload's status does not allow this; `details.status` says what it is.",
    413: "The file is larger than allowed, or the request body larger than MAX_BODY_BYTES.",
    415: "The file type is not allowed.",
    422: "Validation failed.",
    429: "Rate limited; see `Retry-After`.",
    502: "The object store refused the service (credentials, bucket).",
    503: "The object store or database is unreachable; see `Retry-After`.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for a route's OpenAPI entry, in the contract's error shape.

    400 and 422 are always listed: any route may meet a malformed request, and listing 422
    keeps FastAPI from documenting its own validation shape, which this service never sends.
    """
    every = sorted({400, 422, *codes})
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in every}


# Request bodies that name a profile, and so take its rules.
_PROFILE_BODIES = ("CreateUpload", "PresignUpload")


def describe_settings(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """State in the document what this deployment's settings allow: the profile names and
    each profile's types, size, scope types and required metadata, the checksums the store
    verifies, and the one-request size limit. Idempotent, so it runs on the cached document."""
    components = schema.get("components", {}).get("schemas", {})
    for name in _PROFILE_BODIES:
        body = components.get(name, {})
        if "profile" not in body.get("properties", {}):
            continue
        body["properties"]["profile"]["enum"] = sorted(settings.profiles)
        body["allOf"] = [_profile_rule(n, p) for n, p in sorted(settings.profiles.items())]
    presign = components.get("PresignUpload", {})
    if "fileSize" in presign.get("properties", {}):
        presign["properties"]["fileSize"]["maximum"] = settings.s3.single_part_max
    checksum = components.get("Checksum", {})
    allowed = set(settings.s3.checksum_algorithms)
    if "oneOf" in checksum:
        checksum["oneOf"] = [
            option
            for option in checksum["oneOf"]
            if option["properties"]["algorithm"]["const"] in allowed
        ]
        checksum["properties"]["algorithm"]["enum"] = sorted(allowed)
    params = schema.get("paths", {}).get("/s3/params", {}).get("get", {}).get("parameters", [])
    for param in params:
        if param.get("name") == "size":
            for option in param["schema"].get("anyOf", [param["schema"]]):
                if option.get("type") == "integer":
                    option["maximum"] = settings.s3.single_part_max
    return schema


def _profile_rule(name: str, profile: Profile) -> dict[str, Any]:
    """`if` the body names this profile (or none, for `default`), `then` its types and size."""
    named = {"properties": {"profile": {"const": name}}, "required": ["profile"]}
    when = {"anyOf": [named, {"not": {"required": ["profile"]}}]} if name == "default" else named
    then: dict[str, Any] = {"properties": {"fileSize": {"maximum": profile.max_size}}}
    if not any(p.split("/", 1) == ["*", "*"] for p in profile.allowed_types):
        then["properties"]["fileType"] = {"pattern": _types_pattern(profile.allowed_types)}
    required: list[str] = []
    if profile.scope_types:
        kinds = "|".join(re.escape(t) for t in profile.scope_types)
        then["properties"]["scope"] = {"type": "string", "pattern": f"^({kinds})/{SCOPE_ID}$"}
        required.append("scope")
    if profile.metadata_required:
        then["properties"]["metadata"] = {
            "type": "object",
            "required": list(profile.metadata_required),
            "properties": {k: {"pattern": r"\S"} for k in profile.metadata_required},
        }
        required.append("metadata")
    if required:
        then["required"] = required
    return {"if": when, "then": then}


def _types_pattern(patterns: list[str]) -> str:
    """A regular expression of the content types `patterns` (`image/*`) allow, as the
    service compares them: the part before `;`, trimmed, in any letter case."""

    def part(text: str, tail: str) -> str:
        if text == "*":
            return tail
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)

    options = []
    for pattern in patterns:
        main, _, sub = pattern.partition("/")
        options.append(f"{part(main, '[^/;]*')}/{part(sub, '[^;]*')}")
    return rf"^\s*({'|'.join(options)})\s*(;|$)"
