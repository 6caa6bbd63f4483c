"""The upload state machine."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where an upload stands."""

    PENDING = "pending"
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"
    EXPIRED = "expired"
    DELETED = "deleted"


# Which status may follow which. Everything else answers 409.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset(
        {Status.UPLOADED, Status.FAILED, Status.ABORTED, Status.EXPIRED, Status.DELETED}
    ),
    # Finished files expire when their profile wants them claimed and nobody did in time.
    Status.UPLOADED: frozenset({Status.PROCESSING, Status.FAILED, Status.DELETED, Status.EXPIRED}),
    Status.PROCESSING: frozenset({Status.COMPLETED, Status.FAILED, Status.DELETED, Status.EXPIRED}),
    Status.COMPLETED: frozenset({Status.DELETED, Status.EXPIRED}),
    Status.FAILED: frozenset({Status.DELETED}),
    Status.ABORTED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.DELETED: frozenset(),
}

# Statuses in which the store holds the finished object and it may be downloaded.
READABLE = frozenset({Status.UPLOADED, Status.PROCESSING, Status.COMPLETED})
# Statuses a processor may set.
PROCESSOR_STATUSES = frozenset({Status.PROCESSING, Status.COMPLETED, Status.FAILED})


def can_move(current: Status, new: Status) -> bool:
    """Whether `current` may become `new`."""
    return new in TRANSITIONS[current]
