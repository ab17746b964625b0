"""The hybrid loop with a scripted model: shares, mistakes, fallbacks, reflections, finish, budgets, edits."""

from __future__ import annotations

from pathlib import Path

from agent.core.records import ProposerKind
from agent.errors import LLMUnavailable
from agent.hybrid.proposer import HybridConfig
from agent.hybrid.share import ShareConfig
from agent.hybrid.space_edit import approve_all
from agent.llm.base import Completion
from agent.llm.usage import UsageMeter
from tests.agent.llm.helpers import Policy, PolicyClient, assert_sound, call, make_spec, nth_config, run_hybrid


def test_good_model_shares_the_study_with_the_strategy(tmp_path: Path) -> None:
    policy = Policy()
    store, _, _ = run_hybrid(PolicyClient(policy), tmp_path, spec=make_spec(budget={"max_trials": 12}))
    spec = make_spec(budget={"max_trials": 12})
    assert_sound(store, spec)
    trials = store.trials()
    kinds = [t.proposer for t in trials]
    assert kinds[0] is ProposerKind.DEFAULT
    assert kinds[1] is ProposerKind.LLM and kinds[2] is ProposerKind.LLM  # prior-knowledge first proposals
    assert ProposerKind.STRATEGY in kinds and kinds.count(ProposerKind.LLM) >= 3
    llm = [t for t in trials if t.proposer is ProposerKind.LLM]
    assert all(t.model == "scripted-model" and t.rationale == "prior knowledge: moderate lr" for t in llm)
    assert llm[0].params == nth_config(0)
    assert not store.events("fallback") and not store.events("llm_mistake")
    assert len(store.events("llm_decision")) == len(llm)
    reflections = store.events("reflection")
    assert reflections and "large batches" in reflections[0].data["text"]
    # later decisions see the notes, in summarised form
    later = [m for req in policy.requests for m in req if m.role == "user" and "Your notes" in (m.content or "")]
    assert later


def _misbehaves(tmp_path: Path, bad: list[Completion], kind: str) -> None:
    store, _, _ = run_hybrid(PolicyClient(Policy(before=bad)), tmp_path)
    assert_sound(store, make_spec())
    mistakes = store.events("llm_mistake")
    assert mistakes and all(e.data["kind"] == kind for e in mistakes[:3])
    fallbacks = store.events("fallback")
    assert fallbacks[0].data["kind"] == "mistakes" and "3 mistakes in a row" in fallbacks[0].data["reason"]
    # the LLM is asked again later and, behaving now, gets its trials
    assert store.events("llm_retry")
    assert any(t.proposer is ProposerKind.LLM for t in store.trials())


def test_malformed_json_three_times_falls_back(tmp_path: Path) -> None:
    bad = [Completion(tool_calls=[call("run_trials", '{"configs": [')])] * 3
    _misbehaves(tmp_path, bad, "malformed_arguments")


def test_unknown_tool_falls_back(tmp_path: Path) -> None:
    bad = [Completion(tool_calls=[call("launch_missiles", {"n": 1})])] * 3
    _misbehaves(tmp_path, bad, "unknown_tool")


def test_prose_without_tool_calls_falls_back(tmp_path: Path) -> None:
    bad = [Completion(text="I would try a learning rate of 1e-3.")] * 3
    _misbehaves(tmp_path, bad, "no_tool_call")


def test_out_of_range_and_hallucinated_params_are_refused_then_corrected(tmp_path: Path) -> None:
    bad = [
        Completion(
            tool_calls=[
                call(
                    "run_trials",
                    {"configs": [{"params": {"lr": 5.0, "batch_size": 64, "optimizer": "adam"}, "rationale": "r"}]},
                )
            ]
        ),
        Completion(
            tool_calls=[
                call(
                    "run_trials",
                    {
                        "configs": [
                            {
                                "params": {"lr": 0.001, "batch_size": 64, "optimizer": "adam", "dropout": 0.1},
                                "rationale": "r",
                            }
                        ]
                    },
                )
            ]
        ),
    ]
    policy = Policy(before=bad)
    store, _, _ = run_hybrid(PolicyClient(policy), tmp_path)
    assert_sound(store, make_spec())
    kinds = [e.data["kind"] for e in store.events("llm_mistake")]
    assert kinds == ["invalid_config", "invalid_config"]
    assert not store.events("fallback")  # two mistakes, then a valid proposal: no fallback
    # the model was told exactly what was wrong
    observations = [m.content or "" for req in policy.requests for m in req if m.role == "tool"]
    assert any("outside" in o for o in observations) and any("unknown parameter 'dropout'" in o for o in observations)


def test_a_repeated_configuration_is_refused(tmp_path: Path) -> None:
    dup = {"configs": [{"params": {"lr": 0.001, "batch_size": 64, "optimizer": "adam"}, "rationale": "same"}]}
    policy = Policy(before=[Completion(tool_calls=[call("run_trials", dup)])])
    store, _, _ = run_hybrid(PolicyClient(policy), tmp_path)
    assert_sound(store, make_spec())
    assert [e.data["kind"] for e in store.events("llm_mistake")] == ["duplicate_config"]
    assert sum(t.params == dup["configs"][0]["params"] for t in store.trials()) == 1  # only the default


def test_conditional_parameter_rules_are_enforced(tmp_path: Path) -> None:
    bad = {
        "configs": [
            {
                "params": {"lr": 0.001, "batch_size": 32, "optimizer": "adam", "momentum": 0.9},
                "rationale": "momentum without sgd",
            }
        ]
    }
    store, _, _ = run_hybrid(PolicyClient(Policy(before=[Completion(tool_calls=[call("run_trials", bad)])])), tmp_path)
    assert_sound(store, make_spec())
    assert "inactive" in store.events("llm_mistake")[0].data["detail"]


def test_endpoint_failure_falls_back_and_the_llm_is_retried(tmp_path: Path) -> None:
    down = LLMUnavailable("the LLM endpoint failed (HTTP 500)")
    store, _, _ = run_hybrid(
        PolicyClient(Policy(before=[down, down])), tmp_path, spec=make_spec(budget={"max_trials": 12})
    )
    assert_sound(store, make_spec(budget={"max_trials": 12}))
    fallbacks = store.events("fallback")
    assert [f.data["kind"] for f in fallbacks] == ["endpoint", "endpoint"]
    assert len(store.events("llm_retry")) >= 2
    fallback_trial = store.trials()[1]
    assert fallback_trial.proposer is ProposerKind.STRATEGY and "fell back" in (fallback_trial.rationale or "")
    assert any(t.proposer is ProposerKind.LLM for t in store.trials())


def test_model_that_finishes_early_lets_the_strategy_finish(tmp_path: Path) -> None:
    done = Completion(tool_calls=[call("finish", {"recommendation": "lr=1e-3 adam is fine", "best_trial": 0})])
    store, summary, _ = run_hybrid(PolicyClient(Policy(before=[done])), tmp_path)
    assert_sound(store, make_spec())
    assert summary.reason == "budget"
    assert store.events("llm_finished")[0].data["recommendation"] == "lr=1e-3 adam is fine"
    assert [t.proposer for t in store.trials()][1:] == [ProposerKind.STRATEGY] * 7


def test_model_that_finishes_can_stop_the_study_when_told(tmp_path: Path) -> None:
    done = Completion(tool_calls=[call("finish", {"recommendation": "enough"})])
    spec = make_spec(llm={"stop_on_finish": True})
    store, summary, _ = run_hybrid(PolicyClient(Policy(before=[done])), tmp_path, spec=spec)
    assert summary.reason == "stopped" and len(store.trials()) < 8


def test_token_budget_stops_llm_use_and_the_strategy_continues(tmp_path: Path) -> None:
    meter = UsageMeter(max_tokens=1500)
    store, summary, hybrid = run_hybrid(
        PolicyClient(Policy()), tmp_path, meter=meter, spec=make_spec(budget={"max_trials": 12})
    )
    assert_sound(store, make_spec(budget={"max_trials": 12}))
    assert summary.reason == "budget"
    assert store.events("llm_budget_exhausted")
    assert store.events("fallback")[-1].data["kind"] == "budget"
    usage = store.get_meta("usage")
    assert usage["total_tokens"] >= 1500 and usage["calls"] == meter.totals["calls"]
    assert hybrid.disabled
    last_llm = max(t.number for t in store.trials() if t.proposer is ProposerKind.LLM)
    assert last_llm < 11


def test_space_edit_applied_with_approval(tmp_path: Path) -> None:
    edit = Completion(
        tool_calls=[
            call(
                "edit_space",
                {
                    "action": "narrow",
                    "param": "batch_size",
                    "choices": [16, 32, 64, 128],
                    "rationale": "256 and 512 ran out of memory",
                },
            )
        ]
    )
    store, _, _ = run_hybrid(
        PolicyClient(Policy(before=[edit])),
        tmp_path,
        approve=approve_all,
        spec=make_spec(strategy="random", budget={"max_trials": 12}),
    )
    assert_sound(store, make_spec(budget={"max_trials": 12}), edited=True)
    edited = store.events("space_edited")
    assert edited and edited[0].data["source"] == "llm" and "ran out of memory" in edited[0].data["rationale"]
    after = [t for t in store.trials() if t.number > 1]
    assert all(t.params["batch_size"] <= 128 for t in after)


def test_space_edit_without_approval_stays_pending(tmp_path: Path) -> None:
    edit = Completion(
        tool_calls=[call("edit_space", {"action": "widen", "param": "lr", "high": 0.5, "rationale": "try larger"})]
    )
    store, _, _ = run_hybrid(PolicyClient(Policy(before=[edit])), tmp_path)
    assert_sound(store, make_spec())
    assert store.events("space_edit_proposed") and not store.events("space_edited")


def test_oom_failure_reaches_the_model_and_it_moves_away(tmp_path: Path) -> None:
    """A default that runs out of memory: the next prompt shows it, and a model reading it avoids big batches."""
    seen: list[str] = []

    def careful(messages, tools):  # type: ignore[no-untyped-def]
        prompt = messages[1].content or ""
        seen.append(prompt)
        oom = "ran out of memory" in prompt and '"batch_size":512' in prompt
        size = 32 if oom else 512
        return Completion(
            tool_calls=[
                call(
                    "run_trials",
                    {
                        "configs": [
                            {
                                "params": {"lr": 0.003 * (1 + len(seen) / 10), "batch_size": size, "optimizer": "adam"},
                                "rationale": "smaller batch after the out-of-memory failure" if oom else "big batch",
                            }
                        ]
                    },
                )
            ]
        )

    spec = make_spec(
        default={"lr": 0.001, "batch_size": 512, "optimizer": "adam"}, budget={"max_trials": 4}, llm={"first_trials": 2}
    )
    store, _, _ = run_hybrid(PolicyClient(Policy(then=careful)), tmp_path, spec=spec)
    trials = store.trials()
    assert trials[0].failure is not None and trials[0].failure.value == "oom"
    assert trials[1].proposer is ProposerKind.LLM and trials[1].params["batch_size"] == 32
    assert "out-of-memory" in (trials[1].rationale or "")


def test_share_adapts_toward_the_proposer_that_improves() -> None:
    from agent.core.records import Trial, TrialState
    from agent.hybrid.share import llm_share

    def hist(llm_wins: bool) -> list[Trial]:
        out = [Trial(number=0, params={}, state=TrialState.COMPLETE, value=0.0, proposer=ProposerKind.DEFAULT)]
        best = 0.0
        for i in range(1, 21):
            who = ProposerKind.LLM if i % 2 else ProposerKind.STRATEGY
            wins = (who is ProposerKind.LLM) == llm_wins
            value = best + 1 if wins else best - 1
            best = max(best, value)
            out.append(Trial(number=i, params={}, state=TrialState.COMPLETE, value=value, proposer=who))
        return out

    cfg = ShareConfig(base=0.3, floor=0.1)
    assert llm_share([], "maximize", cfg) == 0.3
    assert llm_share(hist(True), "maximize", cfg) == 0.9  # capped: the strategy keeps its floor
    assert llm_share(hist(False), "maximize", cfg) == 0.1  # the LLM keeps its floor
    assert HybridConfig.from_spec(make_spec(llm={"share": 0.5}).llm).share.base == 0.5


def test_parallel_workers_get_batches_and_partial_batches_are_completed(tmp_path: Path) -> None:
    """Three workers: decisions ask for several configurations; a short batch gets a nudge for the rest."""
    from tests.agent.llm.helpers import wanted

    n = iter(range(1000))
    seen: list[int] = []

    nudged: list[bool] = []

    def one_at_a_time(messages, tools):  # type: ignore[no-untyped-def]
        seen.append(wanted(messages))
        nudged.append("more configuration" in (messages[-1].content or ""))
        return Completion(
            tool_calls=[call("run_trials", {"configs": [{"params": nth_config(next(n)), "rationale": "one"}]})]
        )

    spec = make_spec(budget={"max_trials": 12}, llm={"share": 0.6, "first_trials": 3})
    store, _, _ = run_hybrid(PolicyClient(Policy(then=one_at_a_time)), tmp_path, spec=spec, workers=3)
    assert_sound(store, spec)
    assert max(seen) >= 2 and any(nudged)  # a batch was asked for, the rest nudged
    assert not store.events("fallback") and not store.events("llm_mistake")
    assert sum(t.proposer is ProposerKind.LLM for t in store.trials()) >= 5
