"""Functional hashing in the engine: duplicates by canonical hash (refused, reused, replaced) and trials
stopped as equivalent by their functional fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.core.records import EventKind, ProposerKind, Trial, TrialDraft, TrialState
from agent.core.spec import StudySpec, load_spec
from agent.study.engine import StudyEngine
from agent.study.proposers import ProposalContext, Proposer
from agent.study.session import Session
from agent.study.store.memory import MemoryStore
from sandbox.fake import InProcessExecutor
from sandbox.report import FINGERPRINT_KEY

ROOT = Path(__file__).resolve().parents[3]


def spec(fn: str = "in_thread", **extra: Any) -> StudySpec:
    data: dict[str, Any] = {
        "objective": {"metric": "y", "direction": "maximize"},
        "function": f"tests.agent.study.dedupe_funcs:{fn}",
        "workdir": str(ROOT),
        "space": {
            "x": {"type": "float", "low": 0.0, "high": 1.0, "step": 0.1},
            "junk": {"type": "int", "low": 0, "high": 9},
        },
        "budget": {"max_trials": 3},
        "seed": 0,
    }
    data.update(extra)
    return load_spec(data)


class Scripted(Proposer):
    """Proposes the configurations it is given, in order (then repeats the last one)."""

    name = "scripted"

    def __init__(self, configs: Sequence[dict[str, Any]], kind: ProposerKind = ProposerKind.STRATEGY) -> None:
        self.configs = list(configs)
        self.kind = kind
        self.asked = 0
        self.observed: list[Trial] = []

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        out = []
        for _ in range(n):
            config = self.configs[min(self.asked, len(self.configs) - 1)]
            self.asked += 1
            out.append(TrialDraft(params=dict(config), proposer=self.kind))
        return out

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        self.observed.append(trial)


def run(study: StudySpec, proposer: Proposer, tmp_path: Path) -> MemoryStore:
    store = MemoryStore()
    StudyEngine(
        spec=study, store=store, executor=InProcessExecutor(1), proposer=proposer, study_dir=tmp_path, tick=0.02
    ).run()
    return store


def test_an_equivalent_trial_is_stopped_and_takes_the_earlier_result(tmp_path: Path) -> None:
    proposer = Scripted([{"x": 0.1, "junk": 1}, {"x": 0.1, "junk": 2}, {"x": 0.5, "junk": 1}])
    store = run(spec(), proposer, tmp_path)
    first, twin, other = store.trials()
    assert first.state is TrialState.COMPLETE and len(first.info["fingerprint"]) == 13
    assert twin.state is TrialState.COMPLETE and twin.value == first.value and twin.metrics == first.metrics
    assert twin.info["equivalent_to"] == 0 and twin.reason is not None and "equivalent to #0" in twin.reason
    assert len(store.metrics(twin.number)) < len(store.metrics(first.number))  # stopped after its fingerprint
    assert "equivalent_to" not in other.info and other.value != first.value
    for t in store.trials():  # a fingerprint is not a metric: not in a curve, not in a result
        assert FINGERPRINT_KEY not in t.metrics
        assert all(FINGERPRINT_KEY not in p.values for p in store.metrics(t.number))
    assert [t.number for t in proposer.observed] == [0, 1, 2] and proposer.observed[1].value == first.value
    assert [e.data["equivalent_to"] for e in store.events(EventKind.EQUIVALENT_TRIAL)] == [0]


def test_the_trial_side_helper_in_a_real_process(tmp_path: Path) -> None:
    study = spec("in_process", budget={"max_trials": 3})
    session = Session.create(study, tmp_path / "s")
    session.run(proposer=Scripted([{"x": 0.2, "junk": 1}, {"x": 0.2, "junk": 5}, {"x": 0.4, "junk": 5}]))
    first, twin, other = session.trials()
    assert twin.info.get("equivalent_to") == 0 and twin.value == first.value
    assert other.info.get("fingerprint") not in (None, first.info["fingerprint"])
    assert session.status()["duplicates"] == {"refused": 0, "reused": 0, "equivalent": 1}
    from typer.testing import CliRunner

    from agent.faces.cli.app import app

    shown = CliRunner().invoke(app, ["status", str(tmp_path / "s")])
    assert "1 trials stopped as equivalent (functional fingerprint)" in shown.output


def test_a_duplicate_is_refused_and_the_proposer_asked_again(tmp_path: Path) -> None:
    configs = [{"x": 0.3, "junk": 1}, {"x": 0.1 + 0.2, "junk": 1}, {"x": 0.3, "junk": 1.0}, {"x": 0.7, "junk": 1}]
    proposer = Scripted(configs)
    store = run(spec(budget={"max_trials": 2}), proposer, tmp_path)
    assert [t.params for t in store.trials()] == [{"x": 0.3, "junk": 1}, {"x": 0.7, "junk": 1}]
    refused = store.events(EventKind.DUPLICATE_PROPOSAL)
    assert [e.data["duplicate_of"] for e in refused] == [0, 0] and proposer.asked == 4


def test_reuse_duplicates_records_the_earlier_result_without_running(tmp_path: Path) -> None:
    proposer = Scripted([{"x": 0.3, "junk": 1}, {"x": 0.30000000000000004, "junk": 1}, {"x": 0.9, "junk": 1}])
    store = run(spec(reuse_duplicates=True), proposer, tmp_path)
    first, reused, other = store.trials()
    assert reused.info == {"duplicate_of": 0} and reused.state is TrialState.COMPLETE
    assert reused.value == first.value and reused.duration == 0.0 and not store.metrics(reused.number)
    assert reused.reason is not None and "duplicate of #0" in reused.reason
    assert other.params["x"] == 0.9 and reused in proposer.observed
    assert store.events(EventKind.DUPLICATE_PROPOSAL)[0].data["reused"] is True


def test_a_configuration_a_person_queues_always_runs(tmp_path: Path) -> None:
    store = run(spec(budget={"max_trials": 2}), Scripted([{"x": 0.3, "junk": 1}], ProposerKind.USER), tmp_path)
    assert [t.params for t in store.trials()] == [{"x": 0.3, "junk": 1}] * 2
    assert not store.events(EventKind.DUPLICATE_PROPOSAL)


def test_a_proposer_that_keeps_repeating_itself_is_replaced_by_untried_configurations(tmp_path: Path) -> None:
    store = run(spec(budget={"max_trials": 4}), Scripted([{"x": 0.3, "junk": 1}]), tmp_path)
    trials = store.trials()
    assert len(trials) == 4 and len({(t.params["x"], t.params["junk"]) for t in trials}) == 4
    assert all(t.strategy == "random" and t.proposer is ProposerKind.STRATEGY for t in trials[1:])
    assert len(store.events(EventKind.DUPLICATE_PROPOSAL)) >= 3


def test_the_tried_index_follows_the_study_without_a_pass_per_proposal() -> None:
    from agent.core.records import Trial, TrialState
    from agent.core.space import SearchSpace
    from agent.study.dedupe import TriedIndex

    space = SearchSpace.from_dict({"k": {"type": "int", "low": 0, "high": 9}})
    history = [Trial(number=i, params={"k": i}, state=TrialState.COMPLETE, value=1.0) for i in range(3)]
    index = TriedIndex()
    assert index.tried(space, history).find({"k": 1}) == (True, history[1])
    new = Trial(number=3, params={"k": 7}, state=TrialState.RUNNING)
    index.note(new)  # created: tried at once, without a rebuild
    assert index.tried(space, [*history, new]).find({"k": 7}) == (True, new)
    cancelled = new.model_copy(update={"state": TrialState.CANCELLED})
    index.note(cancelled)  # an interrupted trial no longer counts as tried
    assert index.tried(space, [*history, cancelled]).find({"k": 7}) == (False, None)
    edited = SearchSpace.from_dict({"k": {"type": "int", "low": 0, "high": 20}})
    assert index.tried(edited, history).find({"k": 2}) == (True, history[2])  # a new space: rebuilt
