"""An authorization hook as an application would run it: checks each question's Standard
Webhooks signature and answers from a grants file it rereads on every question.

    python tests/hook_server.py PORT GRANTS_FILE SECRET

GRANTS_FILE is JSON `{"<subject>": {"<scope>": ["upload", "read", "delete"]}}`; a scope of
`*` grants in every scope. Questions are appended to GRANTS_FILE + ".log" (JSON lines).
Scopes of type `fault` misbehave on purpose, by id: `500`, `slow` (5 s), `redirect`,
`nonsense` (200 without "allow"), `notjson`, `meta` (allows and adds metadata), `badmeta`
(allows and adds metadata that is not strings).
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, GRANTS, SECRET = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
LOG = GRANTS.with_name(GRANTS.name + ".log")


def _decide(q: dict) -> tuple[int, bytes]:
    """The status and body answering one verified question."""
    scope = q["scope"]
    kind, _, fault = scope.partition("/")
    if kind == "fault":
        answers = {
            "500": (500, b'{"allow": true}'),
            "redirect": (307, b""),
            "nonsense": (200, b'{"ok": true}'),
            "notjson": (200, b"allow"),
            "meta": (200, b'{"allow": true, "metadata": {"title": "Set by the app"}}'),
            "badmeta": (200, b'{"allow": true, "metadata": {"title": 5}}'),
        }
        if fault == "slow":
            time.sleep(5)
            return 200, b'{"allow": true}'
        return answers.get(fault, (200, b'{"allow": true}'))
    grants = json.loads(GRANTS.read_text()) if GRANTS.exists() else {}
    mine = grants.get(q["subject"], {})
    if q["action"] in mine.get(scope, []) + mine.get("*", []):
        return 200, b'{"allow": true}'
    message = f"{q['subject']} may not {q['action']} in {scope}."
    return 200, json.dumps({"allow": False, "message": message}).encode()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(SECRET).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        question = json.loads(body)
        with LOG.open("a") as out:
            out.write(json.dumps({"verified": verified, "headers": headers, "body": question}))
            out.write("\n")
        status, answer = _decide(question) if verified else (401, b"")
        self.send_response(status)
        if status == 307:
            self.send_header("Location", f"http://127.0.0.1:{PORT}/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Hook).serve_forever()
