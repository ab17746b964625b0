"""The chat's own tools, beside the agent's (agent_tools.py): status, importance, steering, budget, studies.

The chat's model sees both sets: the agent's ``query_history``, ``inspect_trial`` and ``edit_space`` (the
same tools the hybrid loop uses), and these, which only make sense when a person is talking to a study.
Each has a pydantic argument model (its JSON schema is what the model sees) and returns text. They act
through the same ``StudyHandle`` as the slash-commands, so a tool can do nothing a person could not do with
/commands. Contract: no tool has a side effect the person has not approved — stopping, pausing, resuming,
budget changes and new studies only become proposals that wait for /approve (approvals.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.faces.catalog import NAME
from agent.faces.chat import approvals, slash
from agent.faces.chat.slash import UserError

if TYPE_CHECKING:
    from agent.faces.chat.conversation import Conversation


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(_Args):
    pass


class SteerArgs(_Args):
    action: Literal["stop", "pause", "resume"]
    rationale: str = Field(default="", max_length=500, description="why, in one sentence")


class BudgetArgs(_Args):
    max_trials: int | None = Field(default=None, ge=1, description="total trials to run")
    max_time: str | None = Field(default=None, description="total wall-clock, e.g. '2h'")
    trial_timeout: str | None = Field(default=None, description="limit for one trial, e.g. '10m'")
    rationale: str = Field(max_length=500, description="why, in one sentence")


class StartArgs(_Args):
    spec: str = Field(
        pattern=NAME.pattern,
        max_length=200,
        description="name of a known spec (see the list in this tool's description)",
    )
    strategy: Literal["auto", "random", "qmc", "tpe", "gp", "cmaes", "grid"] | None = None
    trials: int | None = Field(default=None, ge=1, le=10_000)


@dataclass(frozen=True)
class ChatTool:
    name: str
    description: str
    args: type[BaseModel]
    run: Callable[[Any], str]

    def __call__(self, args: BaseModel) -> str:
        return self.run(args)


def _study(conv: Conversation) -> Any:
    if conv.handle is None:
        raise UserError("no study is open; ask the person to /open or /start one")
    return conv.handle


def _budget(conv: Conversation, a: BudgetArgs) -> str:
    changes = {k: v for k, v in a.model_dump(exclude={"rationale"}).items() if v is not None}
    if not changes:
        raise UserError("give at least one of max_trials, max_time, trial_timeout")
    from agent.study.steering import merged_budget

    h = _study(conv)
    merged_budget(h.spec.budget, changes)
    summary = "budget " + ", ".join(f"{k}={v}" for k, v in changes.items()) + f" — {a.rationale}"
    return approvals.propose(h, "set_budget", {"budget": changes, "rationale": a.rationale}, summary, by="model")


STEERING = {
    "stop": "stop the study (running trials re-run once on resume)",
    "pause": "pause the study (running trials finish, no new ones start)",
    "resume": "resume the study",
}


def _steer(conv: Conversation, a: SteerArgs) -> str:
    summary = STEERING[a.action] + (f" — {a.rationale}" if a.rationale else "")
    return approvals.propose(_study(conv), a.action, {}, summary, by="model")


def _start(conv: Conversation, a: StartArgs) -> str:
    overrides = {k: v for k, v in (("strategy", a.strategy), ("trials", a.trials)) if v is not None}
    return conv.propose_start(conv.load_spec(a.spec, overrides, paths=False))


def chat_tools(conv: Conversation) -> list[ChatTool]:
    known = ", ".join(conv.catalog.names()) or "none"
    return [
        ChatTool(
            "study_status",
            "Progress, best trial, states and where the study runs.",
            NoArgs,
            lambda a: slash.cmd_status(conv, []),
        ),
        ChatTool(
            "parameter_importance",
            "Which parameters matter most (fANOVA over complete trials).",
            NoArgs,
            lambda a: slash.cmd_importance(conv, []),
        ),
        ChatTool(
            "steer",
            "Propose to stop, pause or resume the study; the person must /approve it.",
            SteerArgs,
            lambda a: _steer(conv, a),
        ),
        ChatTool(
            "propose_budget",
            "Propose a budget change; the person must /approve it.",
            BudgetArgs,
            lambda a: _budget(conv, a),
        ),
        ChatTool(
            "start_study",
            f"Propose a new study from a known spec ({known}); the person must /approve it.",
            StartArgs,
            lambda a: _start(conv, a),
        ),
    ]
