"""A webhook receiver as an application would run it: verifies every delivery with the
`standardwebhooks` library and appends what it got to a JSON-lines file.

    python tests/webhook_receiver.py PORT OUT_FILE SECRET [SECRET2]

What it answers is read from OUT_FILE + ".mode" at each request: `ok` (default), `500`,
`hang` (sleeps 60 s), `redirect` (302 to /elsewhere), `close` (drops the connection).
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, OUT, SECRETS = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
MODE = OUT.with_name(OUT.name + ".mode")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        mode = MODE.read_text().strip() if MODE.exists() else "ok"
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = []
        for secret in SECRETS:  # each secret alone must verify (rotation)
            try:
                Webhook(secret).verify(body, headers)
                verified.append(True)
            except WebhookVerificationError:
                verified.append(False)
        record = {
            "path": self.path,
            "id": headers.get("webhook-id"),
            "verified": verified,
            "mode": mode,
            "at": time.time(),
            "body": json.loads(body) if body.startswith("{") else body,
        }
        with OUT.open("a") as out:
            out.write(json.dumps(record) + "\n")
        if mode == "hang":
            time.sleep(60)
        if mode == "close":
            self.connection.close()
            return
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{PORT}/elsewhere")
            self.end_headers()
            return
        self.send_response(500 if mode == "500" or not all(verified) else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    # The default listen backlog (5) resets connections when several deliverers send at once.
    request_queue_size = 256


Server(("127.0.0.1", PORT), Receiver).serve_forever()
