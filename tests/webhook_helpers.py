"""Webhook test helpers: the receiver process (`tests/webhook_receiver.py`) and its secret."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.helpers import wait_answering

SECRET = "whsec_" + base64.b64encode(b"webhook-secret-for-the-tests-32b").decode()


@dataclass
class Receiver:
    """The receiver process: where it listens and what it got."""

    url: str
    out: Path
    proc: subprocess.Popen[bytes]

    def mode(self, mode: str) -> None:
        """What it answers from now on: ok, 500, hang, redirect, close."""
        self.out.with_name(self.out.name + ".mode").write_text(mode)

    def got(self) -> list[dict]:
        """Every request it received, in order."""
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines()]

    def events(self, upload_id: str) -> list[str]:
        """Types of the verified, accepted events of one upload, in arrival order."""
        return [
            r["body"]["type"]
            for r in self.got()
            if r["mode"] == "ok" and all(r["verified"]) and r["body"]["data"]["id"] == upload_id
        ]

    def stop(self) -> None:
        """Kill the process (the port is free again once this returns)."""
        self.proc.kill()
        self.proc.wait()


def start_receiver(tmp: Path, port: int, *secrets: str) -> Receiver:
    """Start the receiver on `port`, appending to `tmp`/received.jsonl, and wait until it
    answers. Started again with the same `tmp` and port, it goes on with the same file."""
    out = tmp / "received.jsonl"
    script = ROOT / "tests" / "webhook_receiver.py"
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(out), *secrets])
    wait_answering(proc, f"http://127.0.0.1:{port}/", "the webhook receiver")
    return Receiver(f"http://127.0.0.1:{port}/hooks", out, proc)


async def arrived(receiver: Receiver, upload_id: str, want: list[str], seconds: float = 10):
    """The upload's events once `want` have all arrived (or what came by the deadline)."""
    got: list[str] = []
    for _ in range(int(seconds / 0.05)):
        got = receiver.events(upload_id)
        if len(got) >= len(want):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # and nothing more after them
    return receiver.events(upload_id)


async def drain_outbox(sessionmaker: Any) -> None:
    """Events other tests left behind are fanned out to no endpoint, so a test's receiver
    gets this test's events (and a test's deliverer is not busy with thousands of others)."""
    from s3upload.settings import DeliverySettings
    from s3upload.webhooks.delivery import Deliverer

    drain = Deliverer(sessionmaker, [], DeliverySettings())
    try:
        while await drain.fan_out():
            pass
    finally:
        await drain.close()
