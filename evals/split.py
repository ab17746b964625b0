"""The dev/test split of the benchmark problems: deterministic, stratified, documented.

``auto`` may be designed and tuned on the **dev** split only; the **test** split is for reporting.

Rule: problems are grouped by ``Problem.group`` (bayesmark: the model, so every model family is on both
sides; synthetic and torch: their family). Within a group, problems are sorted by the SHA-256 of their
name; positions 0, 2, 4, ... go to **test**, positions 1, 3, 5, ... to **dev**. Adding a problem to a
group can move others, so the split is pinned by a test (tests/evals/test_split.py).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from agent.errors import TunesmithError
from evals.problems import SUITES, get_problem

SPLITS = ("dev", "test")


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def split_of(names: Iterable[str] | None = None) -> dict[str, str]:
    """``{problem: "dev" | "test"}`` over every known problem (default) or over ``names``.

    The split of a problem depends on its whole group, so callers select from the full split.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for name in SUITES["all"] if names is None else names:
        groups[get_problem(name).group].append(name)
    out = {}
    for members in groups.values():
        for i, name in enumerate(sorted(members, key=_hash)):
            out[name] = "test" if i % 2 == 0 else "dev"
    return out


def select(names: list[str], split: str) -> list[str]:
    """The problems of ``names`` in ``split``, in the order given."""
    if split not in SPLITS:
        raise TunesmithError(f"unknown split '{split}'; choose dev or test")
    which = split_of()
    return [n for n in names if which[n] == split]
