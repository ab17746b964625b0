"""A hand-built Population Based Training history (no training runs): four members, exploits between them,
a member continuing its own checkpoint, and segments that report past the step their successor started at.

Steps reported (score, maximize; ``lr`` is mutable, ``width`` is not):

    member 0: #0 start 1-4 (paused at 4)          #4 continue #0@4, 5-8 -> 6
    member 1: #1 start 1-5 (exploited at 4)       #3 exploit #0@4 (lr * 1.2), 5-8 -> 9
    member 2: #2 start 1-6 (exploited at 6)       #5 exploit #3@6 (lr * 0.8), 7-8 -> 10 (the best)
    member 3: #6 start 1-4 (exploited at 4)       #7 exploit #2@4 (lr * 1.2), 5-8 -> 4

The best result, #5, descends from #3 (steps 5-6) and #0 (steps 1-4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.core.records import Lineage, MetricPoint, ProposerKind, Trial, TrialDraft, TrialState
from agent.core.spec import StudySpec, load_spec
from agent.study.session import Session
from agent.study.store.base import TrialStore

#: (member, lineage kind, parent, start step, params, explore, scores from step start + 1, state, pbt action)
SEGMENTS: list[tuple[int, str, int | None, int | None, dict[str, Any], dict[str, str], list[float], str, str]] = [
    (0, "start", None, None, {"lr": 0.01, "width": 1}, {}, [1, 2, 3, 4], "pruned", "pause"),
    (1, "start", None, None, {"lr": 0.1, "width": 2}, {}, [0.5, 1, 1.5, 2, 2.5], "pruned", "exploit"),
    (2, "start", None, None, {"lr": 0.001, "width": 3}, {}, [0.5, 1, 1.5, 2, 2.5, 3], "pruned", "exploit"),
    (1, "exploit", 0, 4, {"lr": 0.012, "width": 1}, {"lr": "* 1.2"}, [5, 6, 7, 9], "complete", ""),
    (0, "continue", 0, 4, {"lr": 0.01, "width": 1}, {}, [4.5, 5, 5.5, 6], "complete", ""),
    (2, "exploit", 3, 6, {"lr": 0.0096, "width": 1}, {"lr": "* 0.8"}, [9.5, 10], "complete", ""),
    (3, "start", None, None, {"lr": 0.5, "width": 2}, {}, [0.1, 0.2, 0.3, 0.4], "pruned", "exploit"),
    (3, "exploit", 2, 4, {"lr": 0.0012, "width": 3}, {"lr": "* 1.2"}, [2.5, 3, 3.5, 4], "complete", ""),
]
BEST = 5


def pbt_spec() -> StudySpec:
    return load_spec(
        {
            "name": "pbt-demo",
            "objective": {"metric": "score", "direction": "maximize"},
            "function": "tests.agent.study.pbt_funcs:decaying_lr",
            "space": {
                "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
                "width": {"choices": [1, 2, 3]},
            },
            "scheduler": {"type": "pbt", "population": 4, "interval": 2, "mutable": ["lr"]},
            "strategy": "random",
            "seed": 0,
        }
    )


def build_population(store: TrialStore) -> list[Trial]:
    """Write ``SEGMENTS`` into ``store`` as trials with lineage and curves; the trials, in number order."""
    numbers: list[int] = []
    for member, kind, parent, start, params, ops, scores, state, action in SEGMENTS:
        lineage = Lineage(
            member=member,
            kind=kind,  # type: ignore[arg-type]
            parent=None if parent is None else numbers[parent],
            parent_member=None if parent is None else SEGMENTS[parent][0],
            start_step=start,
            checkpoint=None if start is None else f"/made/up/{parent}/step-{start}",
            explore=ops,
        )
        t = store.create_trial(TrialDraft(params=params, proposer=ProposerKind.STRATEGY, lineage=lineage))
        numbers.append(t.number)
        first = (start or 0) + 1
        store.add_metrics(t.number, [MetricPoint(step=first + i, values={"score": v}) for i, v in enumerate(scores)])
        info = {"pbt": {"action": action}} if action else {}
        store.update_trial(t.model_copy(update={"state": TrialState(state), "value": scores[-1], "info": info}))
    return store.trials()


def pbt_study(root: Path, name: str = "pbt-demo") -> Path:
    """A finished Population Based Training study folder ``root/name`` holding the hand-built history."""
    session = Session.create(pbt_spec(), root / name)
    try:
        build_population(session.store)
        session.store.set_meta("status", "finished")
    finally:
        session.close()
    return session.dir
