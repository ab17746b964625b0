"""Hypothesis strategies shared by the fuzz tests: arbitrary JSON, and specs one mutation away from valid.

``FUZZ`` runs ``TUNESMITH_FUZZ_EXAMPLES`` examples per test (default 60, to keep the default test run
short); .ci/run runs the fuzz tests once more with 500.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=int(os.environ.get("TUNESMITH_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
KEYS = st.text(max_size=12) | st.sampled_from(
    [
        "type",
        "low",
        "high",
        "log",
        "step",
        "choices",
        "values",
        "when",
        "min",
        "max",
        "metric",
        "direction",
        "name",
        "goal",
        "space",
        "params",
        "budget",
        "command",
        "function",
        "objective",
        "default",
        "fixed",
        "workers",
        "isolation",
        "network",
        "read_paths",
        "env",
        "pass",
        "set",
        "max_trials",
        "trial_timeout",
        "max_processes",
        "memory_mb",
        "pruner",
        "gpus",
        "strategy",
        "seed",
        "x",
        "lr",
        "kernel",
    ]
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=25
)

VALID: dict[str, Any] = {
    "name": "fuzz",
    "objective": {"metric": "acc", "direction": "maximize"},
    "command": ["python", "train.py"],
    "space": {
        "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
        "kernel": {"type": "categorical", "choices": ["rbf", "poly"]},
        "degree": {"type": "int", "low": 2, "high": 5, "when": {"kernel": ["poly"]}},
    },
    "default": {"lr": 0.01, "kernel": "rbf"},
    "budget": {"max_trials": 5, "trial_timeout": "2m"},
    "workers": 2,
    "isolation": "strict",
    "network": False,
    "read_paths": ["data"],
    "env": {"pass": ["HF_HOME"]},
}


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    """The valid spec with one to three places replaced by arbitrary JSON, deleted, or given an extra key."""
    import copy

    spec: Any = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(spec)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            spec = draw(JSON) if action == "replace" else spec
            continue
        parent = spec
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(JSON)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][draw(KEYS)] = draw(JSON)
    return spec
