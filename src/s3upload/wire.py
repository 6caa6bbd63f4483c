"""Base models for JSON bodies: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Camel(BaseModel):
    """A response body."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestBody(Camel):
    """A request body: unknown fields are refused, so a typo is an error, not a default."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
