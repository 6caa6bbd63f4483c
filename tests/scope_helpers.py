"""Scope test helpers: the authorization hook process (`tests/hook_server.py`) and the app
whose profiles ask it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3upload.settings import AuthzSettings, Profile
from tests.conftest import PROFILES, ROOT
from tests.helpers import wait_answering

HOOK_SECRET = "whsec_" + base64.b64encode(b"authz-hook-secret-for-the-tests!").decode()

SCOPED_PROFILES = {
    **PROFILES,
    # The application decides, over HTTP.
    "photos": Profile(
        sniff=False,  # stand-in bytes here; checked bytes are tested in test_processing
        allowed_types=["image/*"],
        max_size=10 * 1024 * 1024,
        scope_types=["event", "fault"],
        metadata_keys=["title", "description"],
        metadata_required=["title"],
        access="hook",
    ),
    # The token's grants decide.
    "team": Profile(scope_types=["team"], access="claims"),
    # Scoped, but only ever the owner's.
    "notes": Profile(scope_types=["note"]),
    # Finished files must be claimed within a second.
    "held": Profile(scope_types=["event2"], access="hook", claim_within=1),
}


@dataclass
class Hook:
    """The hook process: its URL, its grants file and the questions it was asked."""

    url: str
    grants_file: Path
    proc: subprocess.Popen[bytes]

    def grant(self, subject: str, scope: str, *actions: str) -> None:
        """Let `subject` do `actions` in `scope` (none: take every grant away)."""
        grants = json.loads(self.grants_file.read_text()) if self.grants_file.exists() else {}
        grants.setdefault(subject, {})[scope] = list(actions)
        self.grants_file.write_text(json.dumps(grants))

    def questions(self) -> list[dict[str, Any]]:
        """Every question asked, in order, with its headers and whether its signature held."""
        log = self.grants_file.with_name(self.grants_file.name + ".log")
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def stop(self) -> None:
        """Kill the process."""
        self.proc.kill()
        self.proc.wait()


def start_hook(tmp: Path, port: int) -> Hook:
    """Start the hook on `port` and wait until it answers."""
    grants = tmp / "grants.json"
    script = ROOT / "tests" / "hook_server.py"
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(grants), HOOK_SECRET])
    wait_answering(proc, f"http://127.0.0.1:{port}/", "the authorization hook")
    return Hook(f"http://127.0.0.1:{port}/authz", grants, proc)


def authz(hook: Hook, **overrides: Any) -> AuthzSettings:
    """Settings that ask `hook`, without a cache unless told (grants change within tests)."""
    values: dict[str, Any] = {
        "hook_url": hook.url,
        "hook_secret": HOOK_SECRET,
        "hook_timeout": 1.0,
        "cache_ttl": 0,
    }
    values.update(overrides)
    return AuthzSettings(**values)
