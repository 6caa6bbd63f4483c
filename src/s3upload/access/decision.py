"""A scope decision: allowed or not, why not, and metadata the application adds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    """Whether the caller may, the application's reason if not, and metadata it adds."""

    allow: bool
    message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


OWNER_ONLY = Decision(allow=False, message="Only the owner may do this.")
