"""``pass_args`` of a spec: whether, and in which style, params are also passed as command-line arguments.

``true`` (or ``flags``): ``--name value``; ``name=value`` (or ``hydra``): Hydra overrides; ``--name=value``:
Python literals (nanoGPT's configurator.py, python-fire); ``false``: the params file only. The spec's
``arg_style`` names the style; sandbox/launch.py's ``build_argv`` writes it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

_ARG_STYLES = {
    "flags": True,
    "--name value": True,
    "name=value": "name=value",
    "hydra": "name=value",
    "--name=value": "--name=value",
}


def _pass_args(value: Any) -> Any:
    """``pass_args``: a bool, or a style by name (``flags`` is ``true``; ``hydra`` is ``name=value``)."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "false", "no", "off"):
            return text in ("true", "yes", "on")
        if text in _ARG_STYLES:
            return _ARG_STYLES[text]
    raise ValueError(
        f"{value!r} is not a way to pass params; use true (--name value flags), name=value (Hydra-style "
        "overrides), --name=value (Python literals: nanoGPT's configurator, python-fire) or false (the params file "
        "only)"
    )


#: the field type: a bool, or the style by name (normalised by ``_pass_args``)
PassArgs = Annotated[bool | Literal["name=value", "--name=value"], BeforeValidator(_pass_args)]
