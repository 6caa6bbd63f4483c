"""The packages form layers: no package imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "src" / "s3upload"
# Lower layers never import these; `client` never imports any server package.
SERVER = {"access", "auth", "compat", "db", "events", "files", "multipart", "store", "uploads"}


def _graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Package -> the other s3upload packages its modules import."""
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    graph: dict[str, set[str]] = {name: set() for name in packages}
    for name in packages:
        for path in (root / name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                elif isinstance(node, ast.Import):
                    parts = node.names[0].name.split(".")
                else:
                    continue
                if parts[0] == "s3upload" and len(parts) > 1 and parts[1] in packages - {name}:
                    graph[name].add(parts[1])
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def test_no_cycle_between_packages():
    graph = _graph()
    cyclic = sorted(name for name in graph if name in _reach(graph, name))
    assert not cyclic, f"packages in an import cycle: {cyclic}; {graph}"


def test_lower_layers_stay_below():
    graph = _graph()
    assert graph["db"] <= set(), graph["db"]  # db/ only uses top-level modules
    assert "uploads" not in _reach(graph, "multipart")
    assert _reach(graph, "access") <= {"auth", "db"}
    assert not (_reach(graph, "client") & SERVER), graph["client"]


def test_the_check_sees_a_cycle(tmp_path):
    """The graph is real: a fake pair of packages importing each other is caught."""
    for a, b in (("ping", "pong"), ("pong", "ping")):
        (tmp_path / a).mkdir()
        (tmp_path / a / "__init__.py").write_text("")
        (tmp_path / a / "m.py").write_text(f"from s3upload.{b}.m import x\n")
    assert "ping" in _reach(_graph(tmp_path), "ping")
