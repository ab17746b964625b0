"""scripts/combine_runs.py: paired tables over contenders from different eval runs, on their common units."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
COMBINE = [sys.executable, str(ROOT / "scripts" / "combine_runs.py")]


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


def test_reports_the_cost_of_the_paired_units_from_each_runs_units_file(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    new, old = tmp_path / "new" / "scores.parquet", tmp_path / "old" / "scores.parquet"
    _scores("auto", {("a", 0): 100.0, ("b", 0): 80.0}).to_parquet(new)
    _scores("gp", {("a", 0): 95.0, ("b", 0): 85.0, ("b", 1): 70.0}).to_parquet(old)

    def units(contender: str, asks: dict[tuple[str, int], float]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"problem": p, "contender": contender, "seed": s, "protocol": "16x8", "evaluations": 128}
                | {"failed": 0, "invalid": 0, "ask_s": a, "eval_s": 1.0, "wall_s": a + 1, "tokens": None}
                for (p, s), a in asks.items()
            ]
        )

    units("auto", {("a", 0): 16.0, ("b", 0): 32.0}).to_parquet(tmp_path / "new" / "units.parquet")
    # ("b", 1) is not paired (no auto unit): its cost must not count in gp's mean
    units("gp", {("a", 0): 8.0, ("b", 0): 8.0, ("b", 1): 800.0}).to_csv(tmp_path / "old" / "units.csv")
    out = subprocess.run(
        [*COMBINE, "--protocol", "16x8", "--reference", "auto", str(new), f"{old}:gp"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "16x8, cost over the paired units" in out
    assert "| 16x8 | auto | 24.00 | 1.500 |" in out  # 24 s per unit over 16 rounds
    assert "| 16x8 | gp | 8.00 | 0.500 |" in out


def test_an_override_replaces_the_aliases_units_where_it_has_them(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    old, new = tmp_path / "old" / "scores.parquet", tmp_path / "new" / "scores.parquet"
    pd.concat(
        [
            _scores("auto", {("a", 0): 10.0, ("b", 0): 80.0}),
            _scores("gp", {("a", 0): 50.0, ("b", 0): 70.0}),
        ]
    ).to_parquet(old)
    # the new version ran only on problem "a" (and beside the old one, which must not join the table)
    pd.concat([_scores("auto@v9", {("a", 0): 90.0}), _scores("auto@v8", {("a", 0): 11.0})]).to_parquet(new)

    def units(rows: dict[tuple[str, str], float]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"problem": p, "contender": c, "seed": 0, "protocol": "16x8", "evaluations": 128}
                | {"failed": 0, "invalid": 0, "ask_s": a, "eval_s": 1.0, "wall_s": a + 1, "tokens": None}
                for (p, c), a in rows.items()
            ]
        )

    units({("a", "auto"): 800.0, ("b", "auto"): 16.0, ("a", "gp"): 8.0, ("b", "gp"): 8.0}).to_csv(
        tmp_path / "old" / "units.csv"
    )
    units({("a", "auto@v9"): 48.0, ("a", "auto@v8"): 900.0}).to_csv(tmp_path / "new" / "units.csv")
    out = subprocess.run(
        [*COMBINE, "--protocol", "16x8", "--reference", "auto", str(old), "--override", f"{new}:auto@v9=auto"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "16x8, val: 2 paired units" in out
    assert "| auto vs gp | 2/0/0 |" in out  # 90 > 50 on a (the override), 80 > 70 on b (the old unit)
    assert "| auto | 85.0 |" in out
    assert "auto@v8" not in out
    assert "| 16x8 | auto | 32.00 | 2.000 |" in out  # the cost follows the override: (48 + 16) / 2 units
    bad = subprocess.run(
        [*COMBINE, "--protocol", "16x8", "--reference", "auto", str(old), "--override", str(new)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "expected SCORES_PARQUET:contender=alias" in bad.stderr


def test_plots_and_the_per_problem_table_cover_the_paired_units_only(tmp_path: Path) -> None:
    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    _scores("auto", {("a", 0): 100.0, ("b", 0): 80.0}).to_parquet(new)
    # ("b", 1) has no auto unit: gp's 10 there must not pull its per-problem mean on b down to 45
    _scores("gp", {("a", 0): 90.0, ("b", 0): 80.0, ("b", 1): 10.0}).to_parquet(old)
    out = subprocess.run(
        [*COMBINE, "--protocol", "16x8", "--reference", "auto", str(new), str(old), "--plots", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "16x8, mean validation score per problem" in out
    assert "| a | 100.0 | 90.0 |" in out
    assert "| b | 80.0 | 80.0 |" in out
    assert (tmp_path / "p" / "curves-16x8.png").stat().st_size > 0
    assert (tmp_path / "p" / "heatmap-16x8.png").stat().st_size > 0
