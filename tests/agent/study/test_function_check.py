"""``function:`` that cannot be found is refused before the study folder exists (and again at resume),
with the fix; what might work is never refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.spec import StudySpec, load_spec
from agent.errors import SpecError
from agent.study.function_check import function_problem
from agent.study.session import Session

OBJECTIVE = """
import math

def objective(params):
    return math.sqrt(params["x"])

try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    alias = objective
"""


def spec_for(function: str, workdir: Path) -> StudySpec:
    return load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "function": function,
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        },
        base_dir=workdir,
    )


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("nofile.py:objective", "function: file nofile.py not found in {w}; fix the path in function"),
        ("obj.py:objectiv", "function: obj.py has no function 'objectiv'; did you mean 'objective'?"),
        ("nomodule_xyz:objective", "function: module 'nomodule_xyz' not found in workdir {w} or on the Python path"),
        (
            "tests.agent.trial_funcs:quadratc",
            "tests.agent.trial_funcs has no function 'quadratc'; did you mean 'quadratic'?",
        ),
        (
            "tests.agent.trail_funcs:quadratic",
            "module 'tests.agent.trail_funcs' not found (no trail_funcs in tests.agent)",
        ),
        ("broken.py:objective", "function: broken.py does not compile (line 1: "),
    ],
)
def test_a_function_that_cannot_be_found_is_named_with_the_fix(tmp_path: Path, function: str, expected: str) -> None:
    (tmp_path / "obj.py").write_text(OBJECTIVE)
    (tmp_path / "broken.py").write_text("def objective(params:\n")
    problem = function_problem(spec_for(function, tmp_path))
    assert problem is not None and expected.format(w=tmp_path) in problem, problem
    assert "\n" not in problem


@pytest.mark.parametrize(
    "function",
    [
        "obj.py:objective",
        "obj.py:alias",  # bound under if/try
        "obj.py:math",
        "tests.agent.trial_funcs:quadratic",
        "json:dumps",
        "os.path:join",  # a module that is not a file of its package
    ],
)
def test_what_may_work_is_never_refused(tmp_path: Path, function: str) -> None:
    (tmp_path / "obj.py").write_text(OBJECTIVE)
    (tmp_path / "star.py").write_text("from math import *\n")
    assert function_problem(spec_for(function, tmp_path)) is None
    assert function_problem(spec_for("star.py:sqrt", tmp_path)) is None  # names it cannot see


def test_a_misspelt_function_fails_before_the_study_folder_exists_and_at_resume(tmp_path: Path) -> None:
    (tmp_path / "obj.py").write_text(OBJECTIVE)
    with pytest.raises(SpecError, match=r"has no function 'objectiv'; did you mean 'objective'\?"):
        Session.create(spec_for("obj.py:objectiv", tmp_path), tmp_path / "study")
    assert not (tmp_path / "study").exists()
    session = Session.create(spec_for("obj.py:objective", tmp_path), tmp_path / "study")
    (tmp_path / "obj.py").write_text(OBJECTIVE.replace("def objective", "def objectives"))  # renamed since
    with pytest.raises(SpecError, match="has no function 'objective'"):
        session.run()
    assert session.trials() == []
