"""Shared by the benchmark scripts: describe the machine, and write a section of BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    """CPU model, cores and Python version of this machine, in one line (the eval reports' own line)."""
    from evals.cli import machine_line

    return machine_line()


def write_section(title: str, body: str) -> None:
    """Replace (or append) the section ``## title`` of BENCHMARKS.md."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nMeasured, not asserted.\n"
    head = f"## {title}"
    parts = text.split("\n## ")
    kept = [p for p in parts[1:] if not p.startswith(title)]
    new = parts[0].rstrip() + "\n" + "".join(f"\n## {p.rstrip()}\n" for p in kept) + f"\n{head}\n\n{body}\n"
    path.write_text(new, encoding="utf-8")
