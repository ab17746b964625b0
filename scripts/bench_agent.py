"""Prompt size and agent-side time per LLM decision as the history grows (``make bench-agent``).

With the scripted client (no network, no model latency), on this machine, at 10, 100 and 500 stored
trials (a conditional 4-parameter space; 1 in 8 trials failed with a reason and a stderr tail; a third
proposed by the LLM):

  A. bounded prompt: the prompt tokens (characters / 4) of one decision as the hybrid builds it
     (system + study summary with top-k, recent, failures and notes), plus its reflection request;
  B. baseline: the same system prompt with the *whole* history (every trial, compact) instead of the
     summary, i.e. what a prompt linear in the history would cost;
  C. agent-side time of one decision: ``HybridProposer.propose`` minus the time spent inside the client
     (a reflection and a decision, tool call validation included), against the classical strategy's own
     ``ask`` (random sampler) measured in the same run.

Reports medians over ``--repeat`` decisions and writes them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128, 256]},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"optimizer": ["sgd"]}},
}


def history(n: int, seed: int = 0) -> list[Any]:
    from agent.core.records import FailureKind, ProposerKind, Trial, TrialState

    rng = random.Random(seed)
    out = []
    for i in range(n):
        opt = rng.choice(["adam", "sgd"])
        params: dict[str, Any] = {
            "lr": 10 ** rng.uniform(-5, -1),
            "batch_size": rng.choice([16, 32, 64, 128, 256]),
            "optimizer": opt,
        }
        if opt == "sgd":
            params["momentum"] = rng.uniform(0, 0.99)
        who = ProposerKind.DEFAULT if i == 0 else (ProposerKind.LLM if i % 3 == 1 else ProposerKind.STRATEGY)
        failed = i % 8 == 7
        out.append(
            Trial(
                number=i,
                params=params,
                proposer=who,
                state=TrialState.FAILED if failed else TrialState.COMPLETE,
                value=None if failed else rng.uniform(0.5, 0.95),
                model="scripted" if who is ProposerKind.LLM else None,
                rationale="a moderate learning rate for this batch size" if who is ProposerKind.LLM else None,
                failure=FailureKind.CRASH if failed else None,
                last_step=20,
                reason="exited with code 1: RuntimeError: loss is NaN at step 12" if failed else None,
                stderr_tail="Traceback (most recent call last):\n  ...\nRuntimeError: loss is NaN at step 12"
                if failed
                else None,
                started_at=1.0,
                finished_at=2.0,
            )
        )
    return out


class Timed:
    """A scripted model that answers instantly and times what is spent inside it."""

    def __init__(self) -> None:
        from agent.llm.base import LLMClient

        self.inside = 0.0
        self.requests: list[tuple[list[Any], list[Any]]] = []
        self.n = 0
        outer = self

        class Client(LLMClient):
            model = "scripted"

            def complete(self, messages: Sequence[Any], tools: Sequence[Any] = (), **kw: Any) -> Any:
                t0 = time.perf_counter()
                result = outer.answer(list(messages), list(tools))
                outer.inside += time.perf_counter() - t0
                return result

        self.client = Client()

    def answer(self, messages: list[Any], tools: list[Any]) -> Any:
        from agent.llm.base import Completion, ToolCall

        self.requests.append((messages, tools))
        if not tools:
            return Completion(text="Adam with lr near 1e-3 does best; sgd needs momentum above 0.5.")
        self.n += 1
        params = {"lr": 0.00123 + self.n * 1e-7, "batch_size": 32, "optimizer": "adam"}
        args = {"configs": [{"params": params, "rationale": "near the best adam runs"}]}
        call = ToolCall(id="c", name="run_trials", arguments=args, raw_arguments=json.dumps(args))
        return Completion(tool_calls=[call])


def measure(n: int, repeat: int, folder: Path) -> dict[str, float]:
    from agent.core.events import Reflection
    from agent.core.spec import load_spec
    from agent.hybrid.prompting import render
    from agent.hybrid.proposer import HybridProposer
    from agent.llm.wire import estimate_tokens
    from agent.strategies.registry import make_strategy
    from agent.study.engine import StudyEngine
    from agent.study.proposers import ProposalContext, StrategyProposer
    from agent.study.store.memory import MemoryStore
    from sandbox.fake import InProcessExecutor
    from tools.summary import compact

    spec = load_spec(
        {
            "name": "bench",
            "objective": {"metric": "val_acc", "direction": "maximize"},
            "function": "m:f",
            "space": SPACE,
            "budget": {"max_trials": n + 1000},
            "strategy": "random",
            "seed": 0,
            "llm": {"model": "scripted"},
        }
    )
    store = MemoryStore()
    for t in history(n):
        store.create_trial(t)  # type: ignore[arg-type]
        store.update_trial(t)
    for i in range(12):
        store.record(Reflection(text=f"note {i}: adam near 1e-3 leads; sgd with low momentum lags.", trials=[i]))
    strategy = make_strategy("random", direction="maximize", seed=0)
    timed = Timed()
    hybrid = HybridProposer(client=timed.client, fallback=StrategyProposer(strategy))
    engine = StudyEngine(spec=spec, store=store, executor=InProcessExecutor(), proposer=hybrid, study_dir=folder)
    engine.recover()
    trials = engine.history
    hybrid.decisions = 1  # so every decision writes its reflection first, as in a study
    agent_times, strategy_times, decision_tokens, reflect_tokens = [], [], [], []
    for r in range(repeat):
        hybrid.reflected = {t.number for t in trials[:-5]}  # the last 5 trials are new since the last note
        hybrid.breaker.success()
        ctx = ProposalContext(
            space=engine.space, history=list(trials), direction="maximize", metric="val_acc", remaining=100
        )
        timed.inside, timed.requests = 0.0, []
        t0 = time.perf_counter()
        drafts = hybrid._ask_llm(ctx, 1, r)[0]
        total = time.perf_counter() - t0
        assert len(drafts) == 1, "the scripted decision must be accepted"
        agent_times.append(total - timed.inside)
        for messages, tools in timed.requests:
            (decision_tokens if tools else reflect_tokens).append(estimate_tokens(messages, tools))
        t0 = time.perf_counter()
        strategy.ask(engine.space, trials, 1)
        strategy_times.append(time.perf_counter() - t0)
    system = timed.requests[-1][0][0]
    from agent.hybrid.actions import trial_view
    from agent.llm.base import Message

    naive = Message(
        role="user",
        content=render(
            "hybrid_reflect", trials=[compact(trial_view(t), rationale=True) for t in trials], best=None, limit=600
        ),
    )
    baseline = estimate_tokens([system, naive], timed.requests[-1][1])
    return {
        "n": n,
        "decision": statistics.median(decision_tokens),
        "reflect": statistics.median(reflect_tokens),
        "baseline": baseline,
        "agent_ms": 1000 * statistics.median(agent_times),
        "strategy_ms": 1000 * statistics.median(strategy_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    rows = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, args.repeat, Path(tmp)))
    lines = [
        "| stored trials | decision prompt (tokens) | reflection prompt (tokens) | whole-history prompt "
        "(tokens, baseline) | bounded / baseline | agent time per decision (ms) | strategy ask (ms) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['decision']:.0f} | {r['reflect']:.0f} | {r['baseline']:.0f} | "
            f"{r['decision'] / r['baseline']:.2f} | {r['agent_ms']:.1f} | {r['strategy_ms']:.1f} |"
        )
    growth = rows[-1]["decision"] / rows[0]["decision"]
    base_growth = rows[-1]["baseline"] / rows[0]["baseline"]
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; `python scripts/bench_agent.py --repeat "
            f"{args.repeat}` (scripted client, no model latency; tokens = characters / 4 of the request as sent; "
            f"medians of {args.repeat} decisions, one synthetic history per size, seed 0). The machine was shared: "
            f"1-minute load average {load:.1f} on {os.cpu_count()} cores when the run started, so the times are "
            "upper bounds.",
            "",
            *lines,
            "",
            f"From {rows[0]['n']} to {rows[-1]['n']} trials the decision prompt grows {growth:.2f}x while a prompt "
            f"with the whole history grows {base_growth:.1f}x. Agent time is the hybrid's own work per decision "
            "(summary, prompt rendering, tool-call validation, reflection bookkeeping), excluding the model's "
            "latency; the classical strategy's ask is shown for scale.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Agent: prompt size and overhead per LLM decision", body)


if __name__ == "__main__":
    main()
