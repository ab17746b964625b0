"""The Python API behind the ``tunesmith`` facade.

    import tunesmith
    study = tunesmith.tune("examples/sklearn-digits/spec.yaml", trials=10)
    study.best_value, study.best_params, study.trials, study.to_dataframe()

``objective`` specs may name a Python callable directly (``function=my_objective``): it must be defined
at the top level of an importable module or script (it runs in a child process under the trial
contract; a script's ``if __name__ == "__main__":`` block is not re-run there).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial
from agent.core.spec import StudySpec, load_spec, with_overrides
from agent.errors import SpecError
from agent.study.session import Session

if TYPE_CHECKING:
    import pandas as pd


class Study:
    """A finished (or running) study, read from its folder."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.dir = session.dir
        self.spec = session.spec

    @property
    def trials(self) -> list[Trial]:
        return self._session.trials()

    @property
    def best_trial(self) -> Trial | None:
        return self._session.best()

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return None if best is None else dict(best.params)

    def curve(self, number: int) -> list[MetricPoint]:
        """Every report of trial ``number`` (its learning curve), in order."""
        return self._session.metrics(number)

    def to_dataframe(self) -> pd.DataFrame:
        from agent.study.export import to_dataframe

        return to_dataframe(self.trials)

    def status(self) -> dict[str, Any]:
        return self._session.status()

    def __repr__(self) -> str:
        return f"Study(dir={str(self.dir)!r}, trials={len(self.trials)}, best_value={self.best_value!r})"


def _callable_ref(fn: Callable[..., Any]) -> str:
    module = inspect.getmodule(fn)
    name = getattr(fn, "__qualname__", "")
    if module is None or "<" in name or "." in name:
        raise SpecError(
            "function: pass a function defined at the top level of a module or script "
            "(lambdas and nested functions cannot run in a child process)"
        )
    if module.__name__ == "__main__":
        path = getattr(module, "__file__", None)
        if not path:
            raise SpecError(
                "function: objectives defined in an interactive session cannot run in a child "
                "process; put it in a .py file"
            )
        return f"{Path(path).resolve()}:{name}"
    return f"{module.__name__}:{name}"


def tune(
    spec: str | Path | Mapping[str, Any] | StudySpec | Callable[..., Any],
    *,
    direction: str | None = None,
    dir: str | Path | None = None,
    trials: int | None = None,
    workers: int | None = None,
    strategy: str | None = None,
    seed: int | None = None,
    quiet: bool = True,
    llm: Any = None,
    approve_edits: bool = False,
) -> Study:
    """Run a study to the end of its budget and return it. Raises ``SpecError`` for bad specs.

    ``llm`` brings in the LLM hybrid: a model name (endpoint from ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` or the
    config file), a LangChain chat model (anything with ``bind_tools``), or an ``agent.llm.LLMClient``. A spec with
    an ``llm`` section uses it too. With an LLM, ``spec`` may also be a request in plain words.
    ``approve_edits`` applies the model's search-space edits (otherwise they wait for approval).

    ``spec`` may be an Optuna objective itself (``def objective(trial): ...``): its space is read from its
    ``trial.suggest_*`` calls and what it returns is the metric ``value``, minimized unless ``direction`` says
    ``maximize`` (as ``optuna.create_study(direction=...)``).
    """
    if callable(spec):
        spec = {"function": spec, "objective": {"metric": "value", "direction": direction or "minimize"}}
    elif direction is not None:
        raise SpecError("direction= is for an objective function passed as the spec; a spec names its own objective")
    if isinstance(spec, Mapping) and callable(spec.get("function")):
        spec = {**spec, "function": _callable_ref(spec["function"])}
    request = spec if isinstance(spec, str) and " " in spec.strip() and not Path(spec).is_file() else None
    stack = None
    loaded = None if request is not None else load_spec(spec)
    if llm is not None or loaded is None or loaded.llm is not None:
        from agent.hybrid.setup import python_stack

        stack, loaded = python_stack(loaded or spec, llm, request=request, trials=trials)
    updates = {"workers": workers, "strategy": strategy, "seed": seed}
    if trials is not None or any(v is not None for v in updates.values()):
        loaded = with_overrides(loaded, max_trials=trials, **updates)
    from agent.study.wiring import preflight

    folder = Path(dir) if dir is not None else None
    preflight(loaded, None, folder)  # what would fail every trial fails here, before a folder exists
    session = Session.create(loaded, folder, request=request)
    proposer = None
    if stack is not None:
        from agent.hybrid.setup import approver, make_hybrid

        stack.cache.record_to(session.dir)
        proposer = make_hybrid(session, stack, approve=approver(yes=approve_edits))
    if quiet:
        session.run(proposer=proposer)
    else:
        from agent.faces.live import run_live

        run_live(session, quiet=False, as_json=False, proposer=proposer)
    return Study(session)


def load(dir: str | Path) -> Study:
    """Open an existing study folder read-only."""
    return Study(Session.open(Path(dir), readonly=True))


def resume(dir: str | Path) -> Study:
    """Finish the budget of an interrupted study."""
    session = Session.open(Path(dir))
    session.run()
    return Study(session)


def langchain_tools(dir: str | Path, *, read_only: bool = False) -> list[Any]:
    """tunesmith's tools over a study folder as LangChain ``StructuredTool``s (query_history, run_trials,
    inspect_trial, ask_optimizer, edit_space, finish), for a LangChain or LangGraph agent.

    Proposals are queued into the study (they run when it runs); space edits wait for a person's approval.
    ``read_only`` offers only the reading tools.
    """
    from agent.hybrid.actions import session_toolbox
    from tools.langchain import to_langchain

    session = Session.open(Path(dir), readonly=read_only)
    return to_langchain(session_toolbox(session, read_only=read_only))
