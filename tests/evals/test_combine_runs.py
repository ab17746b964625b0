"""scripts/combine_runs.py: paired tables over contenders from different eval runs, on their common units."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _scores(contender: str, values: dict[tuple[str, int], float]) -> pd.DataFrame:
    rows = [
        {
            "problem": p,
            "contender": contender,
            "seed": s,
            "protocol": "16x8",
            "objective": obj,
            "evals": 128,
            "score": v,
            "final": True,
        }
        for (p, s), v in values.items()
        for obj in ("val", "test")
    ]
    return pd.DataFrame(rows)


def test_combines_runs_on_the_units_they_share(tmp_path: Path) -> None:
    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    _scores("auto", {("a", 0): 100.0, ("a", 1): 90.0, ("b", 0): 80.0}).to_parquet(new)
    pd.concat(
        [
            _scores("gp", {("a", 0): 95.0, ("a", 1): 90.0, ("b", 0): 85.0, ("b", 1): 70.0}),
            _scores("tpe", {("a", 0): 1.0, ("a", 1): 1.0, ("b", 0): 1.0, ("b", 1): 1.0}),
        ]
    ).to_parquet(old)
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "combine_runs.py"),
            "--protocol",
            "16x8",
            "--reference",
            "auto",
            str(new),
            f"{old}:gp",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "16x8, val: 3 paired units" in out  # ("b", 1) has no auto unit: left out
    assert "| auto vs gp | 1/1/1 |" in out
    assert "tpe" not in out  # not chosen from the old run
