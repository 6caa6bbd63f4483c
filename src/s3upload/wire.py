"""Base models for JSON bodies: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict


def _whole(value: Any) -> Any:
    """JSON's 5.0 is the integer 5 (JSON Schema says so too); 5.5, "5" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema means it: no strings, no booleans, no fractions.
WholeNumber = Annotated[int, BeforeValidator(_whole), Field(strict=True)]


# A size in bytes that may be absent (Uppy's): 1 byte to S3's largest object, 5 TiB. The
# bounds are said outright: with the validator in front pydantic would write `ge`/`le` as such.
SizeInBytes = Annotated[
    int,
    BeforeValidator(_whole),
    Field(strict=True, ge=1, le=5 * 1024**4),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 5 * 1024**4}),
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


# Patterns for the OpenAPI document, so it says what validation refuses. JSON Schema patterns
# search rather than match, and a `$` may be read as "before a final newline": each pattern
# is paired with a length or with `not` so that no trailing character slips through.
BASE64_CHAR = "[A-Za-z0-9+/]"
CONTROL_CHARS = "[\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"
"""Characters refused in names: C0 and C1 controls and bidirectional overrides."""
SPACE_CHARS = (
    "\\t-\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
"""What `str.strip()` removes, as the body of a character class."""


def base64_of(size: int) -> JsonDict:
    """The JSON schema of standard base64 (padded) of exactly `size` bytes."""
    length = 4 * ((size + 2) // 3)
    pad = (3 - size % 3) % 3
    return {
        "type": "string",
        "minLength": length,
        "maxLength": length,
        "pattern": f"^{BASE64_CHAR}{{{length - pad}}}{'=' * pad}$",
    }


def name_schema(max_length: int) -> JsonDict:
    """A name that is not blank and holds no control characters (checked after trimming)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": f"[^{SPACE_CHARS}]",
        "not": {"pattern": CONTROL_CHARS},
    }


class Camel(BaseModel):
    """A response body."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestBody(Camel):
    """A request body: unknown fields are refused, so a typo is an error, not a default."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # No text column can hold NUL (PostgreSQL refuses it): a 422 here, never a 500 later.
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value
