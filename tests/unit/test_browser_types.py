"""The browser client's TypeScript declarations compile against real use and the code itself.

scripts/check-types.sh runs the pinned `tsc` over tests/types: usage.ts (an application's
use of s3upload.d.ts) and conformance.ts (the declarations against s3upload.js).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-types.sh"
TYPES = ROOT / "tests" / "types"
DECLARATIONS = ROOT / "src" / "s3upload" / "web" / "static" / "s3upload.d.ts"

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None, reason="npm is missing (scripts/install-deps.sh installs it)"
)


def _check(project: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(SCRIPT)] if project is None else [str(SCRIPT), str(project)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def test_declarations_compile_against_usage_and_implementation():
    proc = _check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pinned = json.loads((TYPES / "package.json").read_text())["devDependencies"]["typescript"]
    assert pinned[0].isdigit(), "TypeScript is pinned to an exact version"
    installed = json.loads((TYPES / "node_modules" / "typescript" / "package.json").read_text())
    assert installed["version"] == pinned


def _project(directory: Path, sources: dict[str, str]) -> Path:
    """These TypeScript files, compiled with the settings of tests/types."""
    directory.mkdir()
    for name, text in sources.items():
        (directory / name).write_text(text)
    config = {"extends": str(TYPES / "tsconfig.json"), "files": sorted(sources)}
    (directory / "tsconfig.json").write_text(json.dumps(config))
    return directory


USAGE = (TYPES / "usage.ts").read_text()


def _broken(right: str, wrong: str) -> str:
    assert USAGE.count(right) == 1
    return USAGE.replace(right, wrong)


def _errors_of(output: str, name: str) -> str:
    """tsc's errors in the file called `name` (tsc names it relative to tests/types)."""
    return "\n".join(
        line for line in output.splitlines() if Path(line.split("(", 1)[0]).name == name
    )


def test_a_number_for_a_file_fails_to_compile(tmp_path):
    project = _project(tmp_path / "p", {"usage.ts": _broken("upload(file, {", "upload(42, {")})
    proc = _check(project)
    assert proc.returncode != 0
    errors = _errors_of(proc.stdout, "usage.ts")
    assert "Argument of type 'number' is not assignable to parameter of type 'File'" in errors


# Each a copy of usage.ts with one mistake, and what tsc says of it.
MISTAKES = {
    # An option the client does not have.
    "option.ts": (("batchSize: 100,", "batchSize: 100, chunkSize: 5,"), "'chunkSize' does not"),
    # An error code the service never sends.
    "code.ts": (('case "file_too_large":', 'case "file_too_big":'), '"file_too_big"'),
    # A state an upload is never in.
    "state.ts": (('state === "uploading"', 'state === "sending"'), '"sending"'),
    # Progress events carry loaded and total, not bytes.
    "detail.ts": (("detail.loaded / event", "detail.bytes / event"), "'bytes' does not exist"),
    # `done` may resolve with null (a cancelled upload): the record must be checked first.
    "done.ts": (("if (record) console.log(record.id", "console.log(record.id"), "possibly 'null'"),
}


def test_each_mistake_fails_to_compile_and_the_unchanged_copy_does_not(tmp_path):
    sources = {name: _broken(*change) for name, (change, _) in MISTAKES.items()}
    proc = _check(_project(tmp_path / "p", {**sources, "unchanged.ts": USAGE}))
    assert proc.returncode != 0
    assert _errors_of(proc.stdout, "unchanged.ts") == ""
    for name, (_, complaint) in MISTAKES.items():
        errors = _errors_of(proc.stdout, name)
        assert complaint in errors, f"{name}: {errors or 'no error'}"


def test_declarations_out_of_step_with_the_code_fail(tmp_path):
    # A member the code does not have, declared: conformance.ts must catch it.
    tree = tmp_path / "tree"
    shutil.copytree(TYPES, tree / "tests" / "types", symlinks=False, ignore=_no_modules)
    (tree / "tests" / "types" / "node_modules").symlink_to(TYPES / "node_modules")
    static = tree / "src" / "s3upload" / "web" / "static"
    static.mkdir(parents=True)
    shutil.copy(DECLARATIONS.with_suffix("").with_suffix(".js"), static / "s3upload.js")
    declared = DECLARATIONS.read_text()
    assert declared.count("  resumedParts: number;\n") == 1
    (static / "s3upload.d.ts").write_text(
        declared.replace(
            "  resumedParts: number;\n", "  resumedParts: number;\n  paused: boolean;\n"
        )
    )
    (tree / "tests" / "types" / "impl" / "s3upload.js").unlink()
    (tree / "tests" / "types" / "impl" / "s3upload.js").symlink_to(static / "s3upload.js")
    proc = subprocess.run(
        [str(TYPES / "node_modules" / ".bin" / "tsc"), "--noEmit", "--pretty", "false"],
        cwd=tree / "tests" / "types",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "conformance.ts" in proc.stdout
    assert "paused" in proc.stdout


def _no_modules(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "node_modules"]
