"""Keep secrets out of trial processes.

A trial runs user code with whatever it inherits, so tunesmith's own credentials (the LLM API key above
all) must not reach it by accident. ``scrub`` drops every variable that looks like a secret; a trial that
really needs one names it in the spec's ``env.passthrough`` (``TrialRequest.pass_env``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: A variable whose upper-cased name contains one of these is treated as a secret.
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
#: A variable whose upper-cased name starts with one of these is dropped too. ``TUNESMITH_`` covers an
#: outer trial's variables (tunesmith run inside a trial), which the executor sets afresh anyway.
DROPPED_PREFIXES = ("OPENAI_", "ANTHROPIC_", "TUNESMITH_")

__all__ = ["DROPPED_PREFIXES", "SECRET_WORDS", "is_secret", "scrub"]


def is_secret(name: str) -> bool:
    """Whether ``scrub`` drops ``name`` when it is not passed explicitly."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS) or upper.startswith(DROPPED_PREFIXES)


def scrub(environ: Mapping[str, str], pass_names: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``environ`` without secret-looking variables, except those named in ``pass_names``
    (exact, case-sensitive names as they appear in ``environ``)."""
    keep = set(pass_names)
    return {name: value for name, value in environ.items() if name in keep or not is_secret(name)}
