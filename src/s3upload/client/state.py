"""Resume state: which upload a local file was going into, kept across crashes and reruns."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path("~/.cache/s3upload")


@dataclass(frozen=True)
class FileIdentity:
    """A local file as it was when its upload started: if any of this changes, start over."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        """The identity of `path` now."""
        st = path.stat()
        return cls(path=str(path.resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns)


@dataclass(frozen=True)
class Entry:
    """One upload in progress: where it goes and what the service calls it."""

    path: str
    size: int
    mtime_ns: int
    server: str
    upload_id: str
    key: str
    part_size: int
    part_count: int


class StateStore:
    """One small JSON file per upload in progress, in `directory`.

    A file per entry, written by rename, means concurrent uploads (several files in one
    command, or several commands) never overwrite each other's state.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser()

    def _path(self, ident: FileIdentity, server: str) -> Path:
        # The same file uploaded to two services is two uploads.
        name = json.dumps([ident.path, ident.size, ident.mtime_ns, server])
        return self.directory / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.json"

    def load(self, ident: FileIdentity, server: str) -> Entry | None:
        """The entry for this file and server, if one was saved and is readable."""
        try:
            data: Any = json.loads(self._path(ident, server).read_text())
            entry = Entry(**data)
        except (OSError, ValueError, TypeError):
            # Missing, half-written by an older crash or from another version: start over.
            return None
        same = (entry.path, entry.size, entry.mtime_ns, entry.server)
        return entry if same == (ident.path, ident.size, ident.mtime_ns, server) else None

    def save(self, entry: Entry) -> None:
        """Write the entry atomically (a crash leaves the old file or the new one)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        ident = FileIdentity(entry.path, entry.size, entry.mtime_ns)
        target = self._path(ident, entry.server)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(asdict(entry), f)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def remove(self, ident: FileIdentity, server: str) -> None:
        """Forget the entry (the upload finished, or cannot be resumed)."""
        with contextlib.suppress(FileNotFoundError):
            self._path(ident, server).unlink()
