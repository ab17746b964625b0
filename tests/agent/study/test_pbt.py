"""Population Based Training: explore, the scheduler's decisions over a history, and whole populations run
through the engine with real processes (function trials that checkpoint through the trial-side helpers),
including kill -9 and resume, the explore hook of a proposer, and what refuses to run."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

import tunesmith
from agent.core.records import EventKind, Lineage, MetricPoint, ProposerKind, Trial, TrialDraft, TrialState
from agent.core.space import SearchSpace
from agent.core.spec import SchedulerSpec, StudySpec, load_spec
from agent.errors import SpecError, TunesmithError
from agent.faces.lineage import lineage_lines, schedule
from agent.study.doctor import Finding
from agent.study.pbt import CheckpointPaths, PopulationScheduler
from agent.study.pbt_explore import ExploreContext, explore
from agent.study.session import Session
from agent.study.store.memory import MemoryStore
from agent.study.wiring import ExecutorChoice, make_executor, preflight
from sandbox.checkpoint import checkpoint_name

ROOT = Path(__file__).resolve().parents[3]
SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
    "width": {"choices": [1, 2, 3]},
    "drop": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.05},
}
SEARCH_SPACE = SearchSpace.from_dict(SPACE)


def pbt_spec(fn: str = "decaying_lr", **extra: Any) -> StudySpec:
    data: dict[str, Any] = {
        "objective": {"metric": "score", "direction": "maximize"},
        "function": f"tests.agent.study.pbt_funcs:{fn}",
        "workdir": str(ROOT),
        "space": SPACE,
        "fixed": {"pause": 0.05},
        "scheduler": {"type": "pbt", "population": 4, "interval": 2, "mutable": ["lr", "drop"]},
        "workers": 2,
        "threads_per_trial": 1,
        "seed": 0,
        "strategy": "random",
    }
    data.update(extra)
    return load_spec(data)


# ---------------------------------------------------------------------------------------------- explore
def test_explore_changes_only_mutable_params_and_stays_in_the_space() -> None:
    space = SEARCH_SPACE
    base = {"lr": 0.5, "width": 2, "drop": 0.5}
    perturb = SchedulerSpec(mutable=["lr", "drop", "width"], resample_probability=0.0, perturb=[2.0])
    rng = random.Random(0)
    for _ in range(20):
        new, ops = explore(base, space, perturb, rng)
        assert space.validate_config(new) == [] and new["lr"] == 1.0 and new["drop"] == 0.5  # clipped
        assert new["width"] in (1, 3) and ops["width"] in ("shift left", "shift right")
        assert ops["lr"] == "* 2"
    lr_only = SchedulerSpec(mutable=["lr"], resample_probability=0.0, perturb=[0.8])
    new, ops = explore({"lr": 0.1, "width": 3, "drop": 0.15}, space, lr_only, rng)
    assert new == {"lr": pytest.approx(0.08), "width": 3, "drop": 0.15} and ops == {"lr": "* 0.8"}
    resample = SchedulerSpec(mutable=["lr", "drop"], resample_probability=1.0)
    new, ops = explore(base, space, resample, rng)
    assert ops == {"lr": "resample", "drop": "resample"} and space.validate_config(new) == []


# ------------------------------------------------------------------------------- decisions on a history
class History:
    """A hand-made population: segments with curves and checkpoints (files in ``paths``)."""

    def __init__(self, tmp_path: Path, population: int = 4, **pbt: Any) -> None:
        self.store = MemoryStore()
        self.paths = CheckpointPaths(tmp_path)
        self.spec = SchedulerSpec(population=population, mutable=["lr"], **pbt)
        self.scheduler = PopulationScheduler(
            self.spec, metric="score", direction="maximize", curves=self.store.metrics, paths=self.paths, seed=1
        )

    def segment(
        self,
        member: int,
        values: Sequence[float],
        *,
        start: int = 0,
        state: TrialState = TrialState.RUNNING,
        **info: Any,
    ) -> Trial:
        lineage = Lineage(member=member, kind="start" if start == 0 else "continue", start_step=start or None)
        t = self.store.create_trial(
            TrialDraft(
                params={"lr": 0.01 * (member + 1), "width": member}, proposer=ProposerKind.STRATEGY, lineage=lineage
            )
        )
        points = [MetricPoint(step=start + i + 1, values={"score": v}) for i, v in enumerate(values)]
        self.store.add_metrics(t.number, points)
        folder = self.paths.checkpoints(t.number)
        folder.mkdir(parents=True)
        for p in points[-1:]:
            assert p.step is not None
            (folder / checkpoint_name(p.step)).write_text("{}")
        t = t.model_copy(update={"state": state, "value": values[-1] if values else None, "info": info})
        self.store.update_trial(t)
        return t

    @property
    def trials(self) -> list[Trial]:
        return self.store.trials()


def fresh(n: int) -> list[TrialDraft]:
    return [TrialDraft(params={"lr": 0.5, "width": 1}, proposer=ProposerKind.STRATEGY) for _ in range(n)]


def test_a_member_pauses_when_less_trained_members_wait_for_its_slot(tmp_path: Path) -> None:
    h = History(tmp_path)
    a = h.segment(0, [1.0, 2.0])
    h.segment(1, [0.5, 1.0])
    decision = h.scheduler.on_report(a, 2, h.trials, free=0)  # members 2 and 3 have not started
    assert decision is not None and decision.action == "pause" and "waits its turn" in decision.reason
    assert h.scheduler.on_report(a, 2, h.trials, free=2) is None  # they get the free slots instead
    assert h.scheduler.on_report(a, 3, h.trials, free=0) is None  # not a decision step (interval 2)


def test_the_bottom_member_exploits_once_half_the_population_is_ranked(tmp_path: Path) -> None:
    h = History(tmp_path, quantile=0.25)
    first = h.segment(0, [1.0, 4.0])
    second = h.segment(1, [1.0])
    h.segment(2, [1.0])
    h.segment(3, [1.0])
    assert h.scheduler.on_report(first, 2, h.trials, free=0) is None  # 1 of 4 at step 2: too few to rank
    h.store.add_metrics(second.number, [MetricPoint(step=2, values={"score": 3.0})])
    decision = h.scheduler.on_report(second, 2, h.trials, free=0)  # 2 of 4: the bottom quarter is 1 member
    assert decision is not None and decision.action == "exploit" and "bottom 0.25 at step 2" in decision.reason
    assert h.scheduler.on_report(first, 2, h.trials, free=0) is None  # the top member keeps training


def test_the_quantile_follows_ray_tune() -> None:
    h = PopulationScheduler(
        SchedulerSpec(mutable=["lr"], quantile=0.5),
        metric="m",
        direction="minimize",
        curves=lambda n: [],
        paths=CheckpointPaths(Path("/x")),
    )
    assert [h._quantile(n) for n in (2, 3, 4, 8)] == [1, 1, 2, 4]  # ceil(n q), at most half (rounded down)


def test_next_starts_new_members_first_then_the_least_trained(tmp_path: Path) -> None:
    h = History(tmp_path, population=3)
    pbt = {"pbt": {"action": "pause", "step": 4}}
    h.segment(0, [1.0, 2.0, 3.0, 4.0], state=TrialState.PRUNED, **pbt)
    h.segment(1, [1.0, 2.5], state=TrialState.PRUNED, pbt={"action": "pause", "step": 2})
    drafts = h.scheduler.next(h.trials, 2, fresh, SEARCH_SPACE)
    assert not isinstance(drafts, Finding)
    assert [(d.lineage.member, d.lineage.kind) for d in drafts if d.lineage] == [(2, "start"), (1, "continue")]
    cont = drafts[1].lineage
    assert cont is not None and cont.start_step == 2 and cont.parent == 1 and cont.parent_member == 1
    assert cont.checkpoint is not None and cont.checkpoint.endswith(checkpoint_name(2))


def test_a_paused_member_without_a_checkpoint_stops_the_study_with_the_fix(tmp_path: Path) -> None:
    h = History(tmp_path, population=1 + 1)
    t = h.segment(0, [1.0, 2.0], state=TrialState.PRUNED, pbt={"action": "pause", "step": 2})
    for f in h.paths.checkpoints(t.number).iterdir():
        f.unlink()
    h.segment(1, [1.0, 2.0], state=TrialState.COMPLETE)
    found = h.scheduler.next(h.trials, 1, fresh, SEARCH_SPACE)
    assert isinstance(found, Finding) and found.kind is EventKind.NO_CHECKPOINT
    assert "tunesmith.save_checkpoint" in found.message and "restore_from" in found.message


# ----------------------------------------------------------------------------------- whole populations
def segments(session: Session) -> list[Trial]:
    return [t for t in session.trials() if t.lineage is not None]


def check_population(session: Session, population: int = 4) -> None:
    """Every member trained to its end; every continued segment restored its parent's checkpoint."""
    trials = {t.number: t for t in session.trials()}
    members: dict[int, list[Trial]] = {}
    for t in segments(session):
        assert t.lineage is not None
        members.setdefault(t.lineage.member, []).append(t)
    assert sorted(members) == list(range(population))
    for segs in members.values():
        assert segs[-1].state is TrialState.COMPLETE, [(s.number, s.state, s.reason) for s in segs]
    for t in segments(session):
        lin = t.lineage
        assert lin is not None
        if lin.kind == "start":
            continue
        if lin.start_step is None:  # re-run from scratch: interrupted before its first checkpoint
            assert lin.kind == "retry"
            continue
        assert lin.parent is not None and lin.checkpoint is not None
        parent = trials[lin.parent]
        assert parent.lineage is not None and parent.lineage.member == lin.parent_member
        curve = [p for p in session.metrics(t.number) if p.step is not None]
        if not curve:
            continue
        assert curve[0].step == lin.start_step + 1  # it continued where the checkpoint was
        before = [p.values["score"] for p in session.metrics(lin.parent) if p.step == lin.start_step]
        if before:
            assert curve[0].values["score"] > before[-1]  # the score accumulates: the checkpoint was loaded
        restored = CheckpointPaths(session.dir).restore(t.number) / checkpoint_name(lin.start_step)
        assert restored.exists()
        if lin.kind == "exploit":
            assert parent.params["width"] == t.params["width"]  # not mutable: the checkpoint's own
            assert set(lin.explore) <= {"lr", "drop"}


def test_a_population_trains_every_member_to_its_end(tmp_path: Path) -> None:
    session = Session.create(pbt_spec(), tmp_path / "s")
    summary = session.run()
    assert summary.reason == "budget"
    check_population(session)
    lin = [t.lineage for t in segments(session)]
    assert any(x is not None and x.kind == "continue" for x in lin)  # 4 members on 2 workers take turns
    assert any(e.data.get("action") == "pause" for e in session.events(EventKind.PBT_DECISION))
    lines = lineage_lines(session.trials(), session.metrics, metric="score", direction="maximize", mutable=["lr"])
    assert lines[0].startswith("population: 4 members") and any("schedule of the best" in x for x in lines)
    best = session.best()
    assert best is not None
    stretches = schedule(best, session.trials(), session.metrics, "score")
    assert stretches[0].first == 1 and stretches[-1].last == 8
    assert all(a.last + 1 == b.first for a, b in itertools.pairwise(stretches))
    df = tunesmith.load(tmp_path / "s").to_dataframe()
    assert {"member", "segment", "parent", "parent_member", "start_step"} <= set(df.columns)
    from typer.testing import CliRunner

    from agent.faces.cli.app import app

    shown = CliRunner().invoke(app, ["show", str(tmp_path / "s"), "--lineage"])
    assert shown.exit_code == 0 and "member 3" in shown.output and "schedule of the best result" in shown.output


def test_workers_for_the_whole_population_decide_at_reports(tmp_path: Path) -> None:
    spec = pbt_spec(workers=4, fixed={"pause": 0.15})
    session = Session.create(spec, tmp_path / "s")
    assert session.run().reason == "budget"
    check_population(session)
    decisions = session.events(EventKind.PBT_DECISION)
    assert decisions and all(e.data["action"] == "exploit" for e in decisions)  # nobody waits for a slot


def test_a_training_that_saves_no_checkpoint_stops_the_study(tmp_path: Path) -> None:
    session = Session.create(pbt_spec("no_checkpoint"), tmp_path / "s")
    summary = session.run()
    assert summary.reason == "broken_setup"
    assert summary.message is not None and "tunesmith.save_checkpoint" in summary.message
    assert session.stop_message() == summary.message


class Explorer(tunesmith.Proposer):
    """Explores like an LLM would: first an answer that changes a non-mutable param (refused), then halving lr."""

    name = "scripted"

    def __init__(self) -> None:
        self.asked: list[ExploreContext] = []

    def propose(self, ctx: Any, n: int) -> list[TrialDraft]:
        rng = random.Random(len(ctx.history))
        return [
            TrialDraft(
                params={"lr": 10 ** rng.uniform(-5, 0), "width": 1 + i % 3, "drop": 0.0}, proposer=ProposerKind.STRATEGY
            )
            for i in range(n)
        ]

    def explore(self, ctx: ExploreContext) -> TrialDraft | None:
        self.asked.append(ctx)
        params = {**ctx.donor_params, "lr": ctx.donor_params["lr"] / 2}
        if len(self.asked) == 1:
            params["width"] = 3 if ctx.donor_params["width"] != 3 else 1
        return TrialDraft(params=params, proposer=ProposerKind.LLM, rationale="the curve flattens: halve lr")


def test_a_proposer_may_explore_and_perturbation_is_the_fallback(tmp_path: Path) -> None:
    session = Session.create(pbt_spec(), tmp_path / "s")
    proposer = Explorer()
    session.run(proposer=proposer)
    check_population(session)
    exploits = [t for t in segments(session) if t.lineage is not None and t.lineage.kind == "exploit"]
    assert proposer.asked and len(exploits) == len(proposer.asked)
    first = exploits[0]
    assert first.proposer is ProposerKind.STRATEGY and first.strategy == "pbt"  # refused: perturbed instead
    refused = [e for e in session.events(EventKind.INVALID_PROPOSAL) if e.data.get("pbt")]
    assert len(refused) == 1 and "'width' is not mutable" in refused[0].data["problems"][0]
    for t in exploits[1:]:
        assert t.proposer is ProposerKind.LLM and t.rationale == "the curve flattens: halve lr"
        assert t.lineage is not None and t.lineage.explore == {"lr": "llm"}


def test_pbt_refuses_a_script_that_does_not_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import tunesmith\nfor e in range(3):\n    tunesmith.report(step=e, acc=0.5)\n")
    data = pbt_spec().to_dict()
    data.pop("function")
    data.update(command=["python", "train.py"], workdir=str(tmp_path))
    with pytest.raises(SpecError, match=r"train.py does not checkpoint; save a checkpoint each step .*restore_from"):
        Session.create(load_spec(data), tmp_path / "s")
    example = load_spec(ROOT / "examples/torch-mlp/spec-pbt.yaml")
    from agent.study.script import checkpoint_problem

    assert example.scheduler is not None and checkpoint_problem(example) is None


def test_pbt_on_ray_needs_a_shared_checkpoint_root(tmp_path: Path) -> None:
    ray = ExecutorChoice(kind="ray", ray_address="127.0.0.1:1")
    for call in (lambda: preflight(pbt_spec(), ray, tmp_path / "s"), lambda: make_executor(pbt_spec(), ray)):
        with pytest.raises(SpecError, match=r"pbt on --executor ray needs .*scheduler.checkpoint_root") as info:
            call()
        assert "\n" not in str(info.value)
    from agent.study.wiring import executor_problem

    shared = pbt_spec(scheduler={"type": "pbt", "mutable": ["lr"], "checkpoint_root": str(tmp_path / "ck")})
    assert executor_problem(shared, ray) is None and executor_problem(pbt_spec(), ExecutorChoice()) is None
    paths = CheckpointPaths(tmp_path / "study", Path(str(tmp_path / "ck")))
    assert paths.checkpoints(3) == tmp_path / "ck" / "study" / "0003" / "checkpoints"


def test_an_interrupted_trial_is_re_run_from_its_checkpoint(tmp_path: Path) -> None:
    """Not only PBT: a trial that checkpoints and is interrupted continues where it was on resume."""
    data = pbt_spec().to_dict()
    data.pop("scheduler")
    data["budget"] = {"max_trials": 1}
    session = Session.create(load_spec(data), tmp_path / "s")
    cut = session.store.create_trial(
        TrialDraft(params={"lr": 0.01, "width": 1, "drop": 0.0}, proposer=ProposerKind.STRATEGY)
    )
    folder = CheckpointPaths(session.dir).checkpoints(cut.number)
    folder.mkdir(parents=True)
    (folder / checkpoint_name(5)).write_text(json.dumps({"step": 5, "score": 100.0}))
    session.run()
    retry = session.trials()[-1]
    assert retry.retry_of == cut.number and retry.state is TrialState.COMPLETE
    assert [p.step for p in session.metrics(retry.number)] == [6, 7, 8]
    assert retry.value is not None and retry.value > 100.0
    restored = CheckpointPaths(session.dir).restore(retry.number) / checkpoint_name(5)
    assert json.loads(restored.read_text())["step"] == 5


@pytest.mark.slow
def test_kill_9_at_any_point_and_resume_continue_the_population(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    data = pbt_spec(fixed={"pause": 0.2}).to_dict()
    spec_file.write_text(yaml.safe_dump(data))
    study = tmp_path / "s"
    for kill_at in (3, 7, 11):  # trials created when the runner is killed
        args = [sys.executable, "-m", "tunesmith", "tune" if kill_at == 3 else "resume"]
        args += [str(spec_file), "--dir", str(study), "--quiet"] if kill_at == 3 else [str(study), "--quiet"]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if len(Session.open(study, readonly=True).trials()) >= kill_at:
                    break
            except TunesmithError:  # the folder is still being created
                pass
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    session = Session.open(study)
    assert session.run().reason == "budget"
    check_population(session)
    retried = [t for t in segments(session) if t.lineage is not None and t.lineage.kind == "retry"]
    assert retried and all(t.retry_of is not None for t in retried)


def test_the_llm_hybrid_takes_explore_steps_and_perturbation_covers_the_rest(tmp_path: Path) -> None:
    """The hybrid proposes PBT's explore step on its share of the steps; its answers are validated."""
    from agent.hybrid.setup import make_hybrid, open_stack
    from agent.llm.base import Completion, ToolCall
    from agent.llm.settings import LLMSettings

    answers = iter(
        [
            {"params": {"width": 3}, "rationale": "wider"},  # not mutable: refused, perturbation instead
            {"params": {"lr": 1e-3}, "rationale": "later in training a lower lr"},
        ]
    )

    class Model:
        model = "scripted"

        def complete(self, messages: Any, tools: Any = (), **kw: Any) -> Completion:
            names = [t.name for t in tools]
            if "explore" in names:
                args = next(answers, {"params": {"lr": 2e-4}, "rationale": "decay further"})
                return Completion(tool_calls=[ToolCall(id="e", name="explore", arguments=args)], model=self.model)
            return Completion(text="nothing to add", model=self.model)

        def close(self) -> None:
            pass

    session = Session.create(pbt_spec(llm={"model": "scripted", "share": 0.5}), tmp_path / "s")
    stack = open_stack(LLMSettings(model="scripted"), session.spec, adapter=Model())  # type: ignore[arg-type]
    session.run(proposer=make_hybrid(session, stack))
    check_population(session)
    exploits = [t for t in segments(session) if t.lineage is not None and t.lineage.kind == "exploit"]
    by_llm = [t for t in exploits if t.proposer is ProposerKind.LLM]
    assert by_llm and all(t.lineage is not None and set(t.lineage.explore) <= {"lr", "drop"} for t in by_llm)
    assert any(t.rationale == "later in training a lower lr" for t in by_llm)
    assert any(t.strategy == "pbt" for t in exploits)  # the refused answer and the strategy's share
    decisions = [e for e in session.events(EventKind.LLM_DECISION) if e.data.get("explore")]
    assert any(e.data["accepted"] == 0 and "width" in (e.data["problem"] or "") for e in decisions)
