"""Publish an evaluation run: copy its report, plots and data to ``benchmarks/NAME/`` and write a BENCHMARKS.md section.

    .venv/bin/python scripts/bench_eval.py runs/test-A --name eval-test --title "Strategies on the test split"

The run itself is made by ``tunesmith eval ... --out runs/test-A`` (its report header holds the command, date
and machine). BENCHMARKS.md gets the report's tables with the plots' paths rewritten, and a pointer to the data.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib import ROOT, write_section


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--name", required=True, help="folder under benchmarks/")
    ap.add_argument("--title", required=True, help="section title in BENCHMARKS.md")
    ap.add_argument("--preamble", default="", help="a Markdown file whose text goes before the report")
    args = ap.parse_args()
    dest = ROOT / "benchmarks" / args.name
    (dest / "plots").mkdir(parents=True, exist_ok=True)
    for png in (args.run / "plots").glob("*.png"):
        shutil.copy2(png, dest / "plots" / png.name)
    for name in ("report.md", "scores.parquet", "units.csv", "evals.parquet"):
        shutil.copy2(args.run / name, dest / name)
    report = (args.run / "report.md").read_text(encoding="utf-8")
    report = report.replace("](plots/", f"](benchmarks/{args.name}/plots/")
    preamble = Path(args.preamble).read_text(encoding="utf-8").strip() + "\n\n" if args.preamble else ""
    data = (
        f"\nData: `benchmarks/{args.name}/` (scores.parquet: every unit, objective and checkpoint; units.csv; "
        "evals.parquet: every evaluation). Regenerate with the command above.\n"
    )
    write_section(args.title, preamble + report.replace("### ", "#### ") + data)
    print(f"wrote BENCHMARKS.md section '{args.title}' and {dest}")


if __name__ == "__main__":
    main()
