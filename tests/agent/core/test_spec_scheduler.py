"""The spec's ``scheduler: {type: pbt}`` section and ``reuse_duplicates``: one line per mistake, up front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import load_spec
from agent.errors import SpecError


def spec(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "objective": {"metric": "acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {
            "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "opt": {"choices": ["sgd", "adam"]},
            "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"opt": ["sgd"]}},
            "hidden": {"type": "int", "low": 16, "high": 256},
        },
    }
    data.update(extra)
    return data


def test_a_pbt_section_with_defaults_round_trips(tmp_path: Path) -> None:
    loaded = load_spec(spec(scheduler={"type": "pbt", "mutable": ["lr"], "checkpoint_root": "ck"}), base_dir=tmp_path)
    pbt = loaded.scheduler
    assert pbt is not None and pbt.population == 8 and pbt.interval == 2 and pbt.quantile == 0.25
    assert pbt.perturb == [0.8, 1.2] and pbt.resample_probability == 0.25
    assert pbt.checkpoint_root == str(tmp_path / "ck")  # relative to the spec file
    assert load_spec(loaded.to_dict()) == loaded
    assert load_spec(spec(reuse_duplicates=True)).reuse_duplicates is True


@pytest.mark.parametrize(
    ("scheduler", "extra", "message"),
    [
        ({"mutable": ["lr", "wd"]}, {}, "scheduler.mutable names 'wd', which is not in the space"),
        ({"mutable": ["momentum"]}, {}, "'momentum' is conditional"),
        ({"mutable": ["opt"]}, {}, "'opt' decides whether momentum is active"),
        ({"mutable": ["lr"]}, {"pruner": {"type": "asha"}}, "drop the pruner"),
        ({"mutable": ["lr"], "checkpoint_root": "/x"}, {"isolation": "strict"}, "use isolation: process"),
        ({"mutable": []}, {}, "scheduler.mutable"),
        ({"mutable": ["lr"], "quantile": 0.7}, {}, "scheduler.quantile"),
        ({"mutable": ["lr"], "perturb": [0.8, -1]}, {}, "perturb factors must be > 0"),
        ({"mutable": ["lr"], "population": 1}, {}, "scheduler.population"),
        ({"mutable": ["lr"], "type": "asha"}, {}, "scheduler.type"),
    ],
)
def test_mistakes_fail_with_one_line(scheduler: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        load_spec(spec(scheduler={"type": "pbt", **scheduler}, **extra))
    assert "\n" not in str(info.value)
