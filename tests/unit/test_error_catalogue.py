"""The error catalogue, its page in docs/, and the codes the clients rely on."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from types import ModuleType

from s3upload.errors import catalogue

ROOT = Path(__file__).resolve().parents[2]
PYTHON_CLIENT = ROOT / "src" / "s3upload" / "client"
BROWSER_CLIENT = ROOT / "src" / "s3upload" / "web" / "static" / "s3upload.js"

CODE = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
# `code === "x"`, `code !== "x"`, `code == "x"`, `code != "x"`, and the same the other way round.
COMPARED = re.compile(
    rf"""\bcode\s*(?:===|!==|==|!=)\s*["']({CODE})["']"""
    rf"""|["']({CODE})["']\s*(?:===|!==|==|!=)\s*[\w.]*\bcode\b"""
)
# `.code in ("x", "y")`, `.code not in {...}`, `["x", "y"].includes(err.code)`.
COMPARED_IN = re.compile(
    r"""\bcode\s+(?:not\s+)?in\s*[(\[{]([^)\]}]*)[)\]}]"""
    r"""|\[([^\]]*)\]\s*\.includes\(\s*[\w.]*\bcode\s*\)"""
)
# A code set on an error: `code="x"`, `code: "x"`, `code: cond ? "x" : "y"`, `|| "x"`.
PRODUCED_LINE = re.compile(r"""\bcode\s*(?:=(?!=)|:)""")
LITERAL = re.compile(rf"""["']({CODE})["']""")


@functools.cache
def generator() -> ModuleType:
    """scripts/gen-error-docs.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location(
        "gen_error_docs", ROOT / "scripts" / "gen-error-docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def client_sources() -> list[Path]:
    return [*sorted(PYTHON_CLIENT.rglob("*.py")), BROWSER_CLIENT]


def compared_codes() -> dict[str, set[str]]:
    """Every error code the clients compare against, with the files that do."""
    found: dict[str, set[str]] = {}
    for path in client_sources():
        text = path.read_text()
        codes = [a or b for a, b in COMPARED.findall(text)]
        for listed in COMPARED_IN.findall(text):
            codes += LITERAL.findall(" ".join(listed))
        for code in codes:
            found.setdefault(code, set()).add(path.name)
    return found


def produced_codes() -> set[str]:
    """Every error code the clients set on an error they raise themselves."""
    found: set[str] = set()
    for path in client_sources():
        for line in path.read_text().splitlines():
            if PRODUCED_LINE.search(line):
                found.update(LITERAL.findall(line))
    return found


def test_errors_page_is_what_the_generator_renders():
    page = ROOT / "docs" / "errors.md"
    assert page.read_text() == generator().render(), (
        "docs/errors.md is out of date: python scripts/gen-error-docs.py"
    )


def test_every_code_is_unique_snake_case_and_documented():
    classes = catalogue()
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    for cls in classes:
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", cls.code), cls.code
        assert cls.doc.strip(), f"{cls.__name__} has no doc"
        assert 400 <= cls.status <= 599, cls


def test_client_side_codes_are_snake_case_and_documented():
    documented = generator().CLIENT_CODES
    for code, (who, when) in documented.items():
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", code), code
        assert who.strip(), code
        assert when.strip(), code


def test_clients_compare_only_codes_someone_produces():
    known = {cls.code for cls in catalogue()} | set(generator().CLIENT_CODES)
    compared = compared_codes()
    # The patterns must still find what the clients are known to compare against.
    assert {"parts_missing", "request_expired"} <= set(compared)
    unknown = {code: sorted(files) for code, files in compared.items() if code not in known}
    assert not unknown, f"codes neither the service nor docs/errors.md names: {unknown}"


def test_codes_the_clients_make_up_are_documented():
    service = {cls.code for cls in catalogue()}
    produced = produced_codes()
    assert {"network_error", "store_error", "request_expired"} <= produced
    documented = set(generator().CLIENT_CODES)
    undocumented = sorted(produced - service - documented)
    assert not undocumented, f"client codes missing from docs/errors.md: {undocumented}"
    stale = sorted(documented - produced)
    assert not stale, f"docs/errors.md lists client codes no client produces: {stale}"


def test_the_patterns_read_every_form_of_comparison():
    samples = {
        'if (err.code === "a_one") {': "a_one",
        'return this.code !== "b_two";': "b_two",
        'if exc.code == "c_three":': "c_three",
        'if "d_four" == exc.code:': "d_four",
    }
    for line, code in samples.items():
        assert [a or b for a, b in COMPARED.findall(line)] == [code], line
    listed = COMPARED_IN.findall('if exc.code in ("e_five", "f_six"):')
    listed += COMPARED_IN.findall('if (["g_seven"].includes(err.code)) {')
    assert LITERAL.findall(" ".join(" ".join(m) for m in listed)) == ["e_five", "f_six", "g_seven"]
