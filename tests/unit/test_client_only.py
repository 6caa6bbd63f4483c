"""The client alone: no server dependency is imported, and server commands say what is missing.

Each check runs a fresh Python in which the server extra's modules cannot be imported, as in
an environment where only `pip install s3upload` was run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from s3upload.cli import SERVER_MISSING

BLOCKED = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "asyncpg",
    "aiobotocore",
    "botocore",
    "alembic",
    "uvicorn",
    "jwt",
    "limits",
    "prometheus_client",
    "pydantic_settings",
)

# Runs before anything else in the child: the modules above (and their submodules) are missing.
CHILD = """
import sys

BLOCKED = {blocked!r}


class Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Blocker())
for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[loaded]

mode, args = sys.argv[1], sys.argv[2:]
if mode == "import":
    import s3upload.client
    print(",".join(sorted(s3upload.client.__all__)))
elif mode == "probe":
    __import__(args[0])
else:
    from s3upload.cli import main
    try:
        main(args, prog_name="s3upload")
    finally:
        leaked = sorted({{m.split(".")[0] for m in sys.modules}} & (BLOCKED | {{"pydantic"}}))
        print("leaked:", ",".join(leaked), file=sys.stderr)
"""


def _child(mode: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    program = CHILD.format(blocked=frozenset(BLOCKED))
    return subprocess.run(
        [sys.executable, "-c", program, mode, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd or Path.home())},
    )


def test_the_blocker_really_hides_server_modules():
    for name in ("fastapi", "sqlalchemy.ext.asyncio", "jwt"):
        proc = _child("probe", name)
        assert proc.returncode == 1
        assert f"ModuleNotFoundError: No module named '{name.split('.')[0]}'" in proc.stderr
    assert _child("probe", "httpx").returncode == 0


def test_client_library_imports_without_the_service():
    proc = _child("import")
    assert proc.returncode == 0, proc.stderr
    assert "ApiClient" in proc.stdout.split(",")
    assert "upload_file" in proc.stdout.strip().split(",")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "upload"),
        (["upload", "--help"], "--concurrency"),
        (["ls", "--help"], "--status"),
        (["download", "--help"], "--output"),
        (["rm", "--help"], "ID..."),
    ],
)
def test_client_commands_run_without_the_service(args, expected):
    proc = _child("cli", *args)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    assert "leaked: \n" in proc.stderr


def test_upload_runs_its_body_without_the_service(tmp_path):
    # The command gets as far as asking for a token: its lazy imports all resolved.
    (tmp_path / "a.txt").write_text("hello")
    proc = _child("cli", "upload", "a.txt", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "s3upload: no token: pass --token or set S3UPLOAD_TOKEN" in proc.stderr
    assert "leaked: \n" in proc.stderr


@pytest.mark.parametrize(
    "args", [["serve"], ["migrate"], ["token", "alice"], ["bucket", "setup"], ["doctor"]]
)
def test_server_commands_say_the_service_is_missing(args):
    proc = _child("cli", *args)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("leaked:")]
    assert lines == [f"s3upload: {SERVER_MISSING}"]
    assert "pip install 's3upload[server]'" in SERVER_MISSING
    assert "Traceback" not in proc.stderr
