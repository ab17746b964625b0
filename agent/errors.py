"""tunesmith's exception tree.

Two families, kept apart everywhere (see STYLE.md):

    TunesmithError                 base: a user-facing problem with a one-line, actionable message
    ├── SpecError                  the study spec is malformed or the space is impossible (before anything runs)
    ├── ConfigError                a configuration does not fit the search space (LLM or user proposal)
    ├── StudyError                 the study folder is missing, locked by another process, read-only, full ...
    ├── DependencyError            an optional dependency is missing (message names the install command)
    ├── ResourceError              the machine or cluster lacks what the study asks for (GPUs, a Ray cluster)
    ├── SandboxError               the spec's isolation cannot be provided on this machine (checked before trial 1)
    └── LLMError                   the LLM endpoint failed (mapped from SDK errors at the adapter)
        ├── LLMTimeout
        ├── LLMRateLimited
        ├── LLMUnavailable         connection refused, 5xx, endpoint not configured
        ├── LLMBadResponse         the endpoint answered something we cannot use
        └── LLMBudgetExhausted     the study's token or cost budget for the LLM is spent (not retried)

A trial's own failure is *never* an exception: it is a Trial record with a state and a reason.
Anything else raised inside tunesmith is a bug and should fail fast.
"""

from __future__ import annotations


class TunesmithError(Exception):
    """Base class. ``str(err)`` is a single line that says what happened and how to fix it."""


class SpecError(TunesmithError):
    """The study spec (or a space edit) is invalid; raised before any trial runs."""


class ConfigError(TunesmithError):
    """A proposed configuration does not fit the search space."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class StudyError(TunesmithError):
    """The study folder cannot be used (missing, locked, read-only, disk full, corrupt)."""


class DependencyError(TunesmithError):
    """An optional dependency is missing."""


class ResourceError(TunesmithError):
    """The study asks for devices or a cluster that cannot be found or reached."""


class SandboxError(TunesmithError):
    """The isolation the spec asks for (strict sandbox, process limit) cannot be provided here; raised
    before the first trial, never answered by running trials with less isolation."""


class LLMError(TunesmithError):
    """The LLM endpoint failed. Adapters raise subclasses of this, never SDK exceptions."""


class LLMTimeout(LLMError):
    pass


class LLMRateLimited(LLMError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked us to wait, when it said


class LLMUnavailable(LLMError):
    pass


class LLMBadResponse(LLMError):
    pass


class LLMBudgetExhausted(LLMError):
    """The token or cost budget set for the LLM is spent; the strategy carries on alone."""


def require(module: str, extra: str) -> None:
    """Raise DependencyError naming the install command when ``module`` cannot be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DependencyError(
            f"this feature needs the '{module}' package; install it with: pip install 'tunesmith[{extra}]'"
        )
