"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Statuses worth another try: the server or something in front of it is briefly unwell.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, capped, over a fixed number of attempts."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `failures`-th failure (1-based)."""
        if retry_after is not None:
            # The server said when; honour it, within reason.
            return min(max(retry_after, 0.0), self.cap)
        # Full jitter spreads many parallel parts' retries instead of bursting them together.
        return random.uniform(0, min(self.cap, self.base * 2 ** (failures - 1)))  # noqa: S311


def retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds (dates are rare; ignored)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None
