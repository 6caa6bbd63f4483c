"""Plots and Markdown tables from the raw results in docs/bench/perf/.

Usage: python bench/report.py   (needs matplotlib: pip install -e .[bench])
From throughput.json (and throughput-2.json, the second round's before and after), writes
throughput.png (throughput-2.png); from growth.json, growth.png; prints the tables.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import ROOT

PERF = ROOT / "docs" / "bench" / "perf"


def throughput_table(runs: list[dict[str, Any]]) -> str:
    """One row per label, route and connection count."""
    lines = [
        "| code | route | conns | req/s | part URLs/s | p50 ms | p99 ms | errors | vs no-op |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    noop = {(r["label"], r["connections"]): r["rps"] for r in runs if r["route"] == "noop"}
    for r in runs:
        errors = sum(r[k] for k in ("non_2xx", "timeouts", "read_errors", "connect_errors"))
        share = r["rps"] / noop[r["label"], r["connections"]]
        urls = f"{r['urls']:,.0f}" if r["urls"] else ""
        lines.append(
            f"| {r['label']} | {r['route']} | {r['connections']} | {r['rps']:,.0f} | {urls} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {errors} | {share:.0%} |"
        )
    return "\n".join(lines)


def plot_throughput(runs: list[dict[str, Any]], stem: str = "throughput") -> None:
    """Requests per second and p99 by connections, per route and code version."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    keys = sorted({(r["label"], r["route"]) for r in runs if not r["urls"]})
    for label, route in keys:
        series = [r for r in runs if (r["label"], r["route"]) == (label, route)]
        conns = [r["connections"] for r in series]
        style = "--" if label.startswith("baseline") else "-"
        name = f"{route} ({label})"
        left.plot(conns, [r["rps"] for r in series], style, marker="o", label=name)
        right.plot(conns, [r["p99_us"] / 1000 for r in series], style, marker="o", label=name)
    for ax, title in ((left, "requests/s"), (right, "p99 latency, ms")):
        ax.set_xscale("log", base=2)
        ax.set_xticks([16, 64, 256], ["16", "64", "256"])
        ax.set_xlabel("connections")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    right.set_yscale("log")
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(PERF / f"{stem}.png", dpi=110)
    plt.close(fig)


def growth_table(growth: dict[str, dict[str, dict[str, float]]]) -> str:
    """p50 / p99 per path and table size."""
    sizes = list(growth)
    head = "| path | " + " | ".join(f"{int(s):,} rows p50 / p99 ms" for s in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for path in growth[sizes[0]]:
        cells = [
            f"{growth[s][path]['p50_ms']:.2f} / {growth[s][path]['p99_ms']:.2f}" for s in sizes
        ]
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_growth(growth: dict[str, dict[str, dict[str, float]]]) -> None:
    """Median latency per path at each table size."""
    sizes = list(growth)
    paths = list(growth[sizes[0]])
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(sizes)
    for i, size in enumerate(sizes):
        ax.bar(
            [p + i * width for p in range(len(paths))],
            [growth[size][path]["p50_ms"] for path in paths],
            width,
            label=f"{int(size):,} uploads stored",
        )
    ax.set_xticks([p + width * (len(sizes) - 1) / 2 for p in range(len(paths))], paths)
    ax.set_ylabel("median latency, ms")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(PERF / "growth.png", dpi=110)


def main() -> None:
    for name in ("throughput", "throughput-2"):
        if (PERF / f"{name}.json").exists():
            runs = json.loads((PERF / f"{name}.json").read_text())
            plot_throughput(runs, name)
            print(throughput_table(runs), end="\n\n")
    if (PERF / "growth.json").exists():
        growth = json.loads((PERF / "growth.json").read_text())
        plot_growth(growth)
        print(growth_table(growth))


if __name__ == "__main__":
    main()
