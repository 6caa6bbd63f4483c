"""Choosing part sizes within S3's limits."""

from __future__ import annotations

MiB = 1024**2
MIN_PART = 5 * MiB  # S3's smallest part, except the last
MAX_PART = 5 * 1024**3  # S3's largest part
MAX_PARTS = 10_000  # S3's most parts in one upload
MAX_OBJECT = 5 * 1024**4  # S3's largest object


def plan(size: int, preferred: int) -> tuple[int, int]:
    """(part size, part count) for a file: the preferred size, grown to fit 10,000 parts."""
    if size <= 0 or size > MAX_OBJECT:
        raise ValueError(f"size must be 1..{MAX_OBJECT} bytes")
    part = max(preferred, MIN_PART, -(-size // MAX_PARTS))
    part = -(-part // MiB) * MiB  # whole MiB, so offsets stay readable
    part = min(part, MAX_PART)
    return part, -(-size // part)


def plan_like_uppy(size: int) -> tuple[int, int]:
    """(part size, part count) as Uppy's S3 plugin cuts a file: max(5 MiB, size / 10,000)."""
    if size <= 0 or size > MAX_OBJECT:
        raise ValueError(f"size must be 1..{MAX_OBJECT} bytes")
    part = max(MIN_PART, -(-size // MAX_PARTS))
    return part, -(-size // part)


def part_length(size: int, part_size: int, number: int) -> int:
    """Exact byte length of part `number` (1-based); the last part holds the remainder."""
    count = -(-size // part_size)
    if not 1 <= number <= count:
        raise ValueError(f"part {number} is outside 1..{count}")
    return part_size if number < count else size - part_size * (count - 1)
