"""The app's own tables: events, who attends them, and the photos the service told it about.

Plain SQL on SQLite through aiosqlite (sqlite3 on a thread of its own, awaited), so the
example needs no ORM; a real application keeps these wherever it keeps the rest of its data.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attendees (
    event_id INTEGER NOT NULL REFERENCES events (id),
    user TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('attendee', 'organiser')),
    PRIMARY KEY (event_id, user)
);
CREATE TABLE IF NOT EXISTS photos (
    upload_id TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id),
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created TEXT NOT NULL
);
-- webhook-ids already handled: delivery is at least once, so repeats are dropped.
CREATE TABLE IF NOT EXISTS webhooks_seen (
    id TEXT PRIMARY KEY,
    received TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""

# The demo's people. dave attends nothing, so every event refuses him.
USERS = ["alice", "bob", "carol", "dave", "olivia"]
EVENTS = [(1, "Keynote"), (2, "Workshop")]
ATTENDEES = [
    (1, "alice", "attendee"),
    (1, "bob", "attendee"),
    (1, "olivia", "organiser"),
    (2, "carol", "organiser"),
    (2, "alice", "attendee"),
]


async def connect(path: str) -> aiosqlite.Connection:
    """Open the database, create the tables and seed the demo events (again: no-op)."""
    conn = await aiosqlite.connect(path)
    conn.row_factory = aiosqlite.Row
    await conn.executescript(SCHEMA)
    await conn.executemany("INSERT OR IGNORE INTO events (id, name) VALUES (?, ?)", EVENTS)
    await conn.executemany(
        "INSERT OR IGNORE INTO attendees (event_id, user, role) VALUES (?, ?, ?)", ATTENDEES
    )
    await conn.commit()
    return conn


async def events(conn: aiosqlite.Connection) -> list[dict[str, Any]]:
    """Every event with its people: {"id", "name", "people": {user: role}}."""
    out: dict[int, dict[str, Any]] = {}
    async with conn.execute("SELECT id, name FROM events ORDER BY id") as rows:
        async for row in rows:
            out[row["id"]] = {"id": row["id"], "name": row["name"], "people": {}}
    async with conn.execute("SELECT event_id, user, role FROM attendees") as rows:
        async for row in rows:
            out[row["event_id"]]["people"][row["user"]] = row["role"]
    return list(out.values())


async def event_and_role(
    conn: aiosqlite.Connection, event_id: int, user: str
) -> tuple[str | None, str | None]:
    """The event's name (None if there is none) and the user's role at it (None if not on it)."""
    sql = (
        "SELECT e.name, a.role FROM events e"
        " LEFT JOIN attendees a ON a.event_id = e.id AND a.user = ? WHERE e.id = ?"
    )
    async with conn.execute(sql, (user, event_id)) as rows:
        row = await rows.fetchone()
    return (row["name"], row["role"]) if row else (None, None)


async def seen(conn: aiosqlite.Connection, webhook_id: str) -> bool:
    """Whether this webhook was handled already."""
    async with conn.execute("SELECT 1 FROM webhooks_seen WHERE id = ?", (webhook_id,)) as rows:
        return await rows.fetchone() is not None


async def mark_seen(conn: aiosqlite.Connection, webhook_id: str) -> None:
    """Remember a handled webhook."""
    await conn.execute("INSERT OR IGNORE INTO webhooks_seen (id) VALUES (?)", (webhook_id,))
    await conn.commit()


async def add_photo(
    conn: aiosqlite.Connection,
    *,
    upload_id: str,
    event_id: int,
    owner: str,
    title: str,
    description: str,
    created: str,
) -> None:
    """Record an uploaded photo (once: a repeated event changes nothing)."""
    await conn.execute(
        "INSERT OR IGNORE INTO photos"
        " (upload_id, event_id, owner, title, description, status, created)"
        " VALUES (?, ?, ?, ?, ?, 'uploaded', ?)",
        (upload_id, event_id, owner, title, description, created),
    )
    await conn.commit()


async def set_status(conn: aiosqlite.Connection, upload_id: str, status: str) -> None:
    """Keep a photo's status as the service reports it (deleted, expired, failed...)."""
    await conn.execute("UPDATE photos SET status = ? WHERE upload_id = ?", (status, upload_id))
    await conn.commit()
