"""The evaluation harness: runs (problem, contender, seed, protocol) units in-process, in parallel, resumably.

One **unit** is one study: ``rounds = ceil(budget / batch)`` rounds; in each, the contender's proposer is
asked for ``batch`` configurations (``ProposalContext.history`` holds the finished trials and, for the
batch being filled, the ones already chosen as RUNNING), the problem evaluates them in this process,
and the finished trials join the history as ``agent.core.records.Trial`` records -- the same seam and history
the engine uses, without a subprocess per evaluation. A contender with ``default_first`` has the
problem's default as its first trial. Proposals that do not fit the space are dropped, as the engine
does. A failed evaluation is a FAILED trial (the strategy sees it as infeasible).

Held-out losses never reach the proposer: they are kept beside the trials, in the unit's result.

Each finished unit is written to ``OUT/units/<key>.json`` (atomically); a unit already there, with the
contender's current version, is not run again, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.core.records import FailureKind, ProposerKind, Trial, TrialDraft, TrialState
from agent.errors import TunesmithError
from agent.study.proposers import ProposalContext
from evals.contenders import ContenderContext, get_contender
from evals.problems import Problem, get_problem

DIRECTION = "minimize"  # every problem reports a loss
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Unit:
    problem: str
    contender: str
    seed: int
    budget: int
    batch: int

    @property
    def key(self) -> str:
        return f"{self.problem}__{self.contender}__s{self.seed}__{self.budget}x{self.batch}"

    @property
    def protocol(self) -> str:
        return f"{math.ceil(self.budget / self.batch)}x{self.batch}"

    def study_seed(self) -> int:
        """The seed handed to the contender: the same for every contender, different per problem."""
        digest = hashlib.sha256(f"{self.problem}:{self.seed}".encode()).digest()
        return int.from_bytes(digest[:4], "little") % 2**31


def run_unit(unit: Unit, problem: Problem | None = None) -> dict[str, Any]:
    """Run one unit to the end; the JSON-ready result (see ``_record``)."""
    problem = problem or get_problem(unit.problem)
    contender = get_contender(unit.contender)
    space = problem.space
    default = problem.default
    proposer = contender.build(
        ContenderContext(
            problem=unit.problem,
            space=space,
            default=default,
            direction=DIRECTION,
            seed=unit.study_seed(),
            budget=unit.budget,
            batch=unit.batch,
            task=problem.task,
        )
    )
    history: list[Trial] = []
    evals: list[dict[str, Any]] = []
    ask_s: list[float] = []
    invalid = 0
    started = time.perf_counter()
    try:
        for rnd in range(math.ceil(unit.budget / unit.batch)):
            want = min(unit.batch, unit.budget - len(history))
            drafts: list[TrialDraft] = []
            if contender.default_first and rnd == 0:
                drafts.append(TrialDraft(params=dict(default), proposer=ProposerKind.DEFAULT))
            pending = [Trial(number=len(history) + i, params=d.params) for i, d in enumerate(drafts)]
            t0 = time.perf_counter()
            if len(drafts) < want:
                ctx = ProposalContext(
                    space=space,
                    history=[*history, *pending],
                    direction=DIRECTION,
                    metric="loss",
                    remaining=unit.budget - len(history) - len(drafts),
                )
                for d in proposer.propose(ctx, want - len(drafts))[: want - len(drafts)]:
                    if space.validate_config(d.params):
                        invalid += 1
                        continue
                    drafts.append(d.model_copy(update={"params": space.normalise(d.params)}))
            ask_s.append(time.perf_counter() - t0)
            if not drafts:
                break
            finished = [_evaluate(problem, len(history) + i, d, rnd, evals) for i, d in enumerate(drafts)]
            history.extend(finished)
            for t in finished:
                proposer.observe(t, history)
    finally:
        proposer.close()
    return _record(unit, contender.version, evals, ask_s, invalid, time.perf_counter() - started, proposer)


def _evaluate(problem: Problem, number: int, draft: TrialDraft, rnd: int, evals: list[dict[str, Any]]) -> Trial:
    t0 = time.time()
    row: dict[str, Any] = {
        "n": number,
        "round": rnd,
        "proposer": draft.proposer.value,
        "strategy": draft.strategy,
        "params": draft.params,
    }
    try:
        result = problem.evaluate(draft.params)
    except Exception as exc:  # the objective's own failure is data (like a crashing training script)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        row.update(loss=None, test_loss=None, state="failed", reason=reason, eval_s=time.time() - t0)
        evals.append(row)
        return Trial(
            number=number,
            params=draft.params,
            state=TrialState.FAILED,
            proposer=draft.proposer,
            strategy=draft.strategy,
            rationale=draft.rationale,
            reason=reason,
            failure=FailureKind.CRASH,
            started_at=t0,
            finished_at=time.time(),
        )
    row.update(loss=result.loss, test_loss=result.test_loss, state="complete", eval_s=time.time() - t0)
    if result.curve:  # iterative problems (torch): the validation loss per epoch
        row["curve"] = result.curve
    evals.append(row)
    return Trial(
        number=number,
        params=draft.params,
        state=TrialState.COMPLETE,
        value=result.loss,
        proposer=draft.proposer,
        strategy=draft.strategy,
        rationale=draft.rationale,
        metrics={"loss": result.loss},
        last_step=len(result.curve) or None,
        started_at=t0,
        finished_at=time.time(),
    )


def _record(
    unit: Unit,
    version: str,
    evals: list[dict[str, Any]],
    ask_s: list[float],
    invalid: int,
    wall_s: float,
    proposer: object,
) -> dict[str, Any]:
    usage = getattr(proposer, "usage", None)
    tokens = None
    if usage is not None:
        tokens = {
            "prompt": int(getattr(usage, "prompt_tokens", 0)),
            "completion": int(getattr(usage, "completion_tokens", 0)),
        }
    return {
        **asdict(unit),
        "key": unit.key,
        "protocol": unit.protocol,
        "version": version,
        "evals": evals,
        "ask_s": ask_s,
        "invalid": invalid,
        "wall_s": wall_s,
        "tokens": tokens,
        "cost": getattr(proposer, "cost", None),
    }


# ------------------------------------------------------------------ running many units
def unit_path(out: Path, unit: Unit) -> Path:
    return out / "units" / f"{unit.key}.json"


def load_cached(out: Path, unit: Unit) -> dict[str, Any] | None:
    """The stored result of ``unit`` if it exists and was made by the contender's current version."""
    path = unit_path(out, unit)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != get_contender(unit.contender).version:
        return None
    if unit.contender == "agent" and (data.get("cost") or {}).get("model") != _configured_model():
        return None  # another model's run: an agent unit is cached per model
    return data


def _configured_model() -> str | None:
    from agent.llm.settings import resolve_settings

    try:
        return resolve_settings().model
    except Exception:  # a broken config file: the agent contender reports it when it is built
        return None


def _save(out: Path, unit: Unit, result: dict[str, Any]) -> None:
    path = unit_path(out, unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, default=repr), encoding="utf-8")
    tmp.replace(path)


class UnitFailed(RuntimeError):
    """A unit raised: a bug in a strategy or the harness (an objective's own failure never raises)."""


def _work(unit: Unit, out: str) -> dict[str, Any]:
    """Worker-process entry: run one unit and store it; returns the result."""
    try:
        result = run_unit(unit)
    except Exception as exc:
        raise UnitFailed(f"unit {unit.key} failed: {type(exc).__name__}: {exc}") from exc
    _save(Path(out), unit, result)
    return result


def run_units(
    units: Sequence[Unit],
    out: Path,
    *,
    workers: int = 1,
    on_done: Callable[[Unit, dict[str, Any], bool], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every unit not cached in ``out``; returns all results in ``units`` order.

    ``on_done(unit, result, cached)`` is called as each unit finishes (for progress bars). With
    ``workers > 1`` units run in spawned processes, each limited to one BLAS/OpenMP thread; contenders
    must therefore be registered at import time of ``evals.contenders`` (or a module it imports).
    """
    if workers < 1:
        raise TunesmithError(f"--workers must be >= 1, got {workers}")
    out.mkdir(parents=True, exist_ok=True)
    results: dict[Unit, dict[str, Any]] = {}
    todo: list[Unit] = []
    for unit in units:
        cached = load_cached(out, unit)
        if cached is not None:
            results[unit] = cached
            if on_done:
                on_done(unit, cached, True)
        else:
            todo.append(unit)
    if workers == 1:
        for unit in todo:
            results[unit] = _work(unit, str(out))
            if on_done:
                on_done(unit, results[unit], False)
    else:
        _run_parallel(todo, out, workers, results, on_done)
    return [results[u] for u in units]


def die_with_parent(parent: int) -> None:
    """Worker initializer: on Linux the kernel sends this worker SIGTERM when the process that started it
    (pid ``parent``) dies (``PR_SET_PDEATHSIG``), so a ``tunesmith eval`` killed by a signal (SIGTERM, SIGKILL:
    no ``finally`` runs) leaves no worker computing a unit nobody will read. Elsewhere, or without a usable
    libc, a no-op. The parent must start its workers from a thread that lives as long as the pool (the signal
    follows the starting thread): ``_run_parallel`` submits, and so spawns, from the thread that shuts the pool
    down."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError, ImportError):  # no usable libc (as sandbox.supervisor): work on unguarded
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The eval's process pool: spawned workers (no inherited locks or torch state) that die with this process."""
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def _run_parallel(
    todo: Iterable[Unit],
    out: Path,
    workers: int,
    results: dict[Unit, dict[str, Any]],
    on_done: Callable[[Unit, dict[str, Any], bool], None] | None,
) -> None:
    for var in THREAD_VARS:  # children inherit the environment: one thread each, no oversubscription
        os.environ.setdefault(var, "1")
    pool = worker_pool(workers)
    pending: dict[Future[dict[str, Any]], Unit] = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < 2 * workers:  # a short queue keeps Ctrl-C responsive
                unit = queue.pop(0)
                pending[pool.submit(_work, unit, str(out))] = unit
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                unit = pending.pop(fut)
                results[unit] = fut.result()
                if on_done:
                    on_done(unit, results[unit], False)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
