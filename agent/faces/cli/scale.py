"""``--executor`` / ``--ray-address`` of ``tune`` and ``resume``: where a study's trials run.

The choice is stored in the study folder (meta ``executor``), so ``resume`` runs where ``tune`` ran
unless these options say otherwise. See agent/study/wiring.py for what each executor is.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent.errors import TunesmithError
from agent.study.session import Session
from agent.study.wiring import EXECUTORS, ExecutorChoice

ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="where trials run: local (this machine) or ray (an existing Ray cluster); "
        "default: local, or what the study used before",
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="the Ray cluster: auto (the one this machine belongs to, or RAY_ADDRESS) or HOST:PORT; "
        "implies --executor ray",
    ),
]


def executor_choice(executor: str | None, ray_address: str | None) -> ExecutorChoice | None:
    """The choice the options make (None: keep the study's). Raises ``TunesmithError`` for bad combinations."""
    if executor is None and ray_address is None:
        return None
    kind = (executor or "ray").strip().lower()
    if kind not in EXECUTORS:
        raise TunesmithError(f"unknown --executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    if kind == "local":
        if ray_address is not None:
            raise TunesmithError("--ray-address needs --executor ray (or leave --executor out)")
        return ExecutorChoice(kind="local")
    return ExecutorChoice(kind="ray", ray_address=(ray_address or "auto").strip())


def apply_executor_choice(session: Session, choice: ExecutorChoice | None) -> None:
    """Store ``choice`` in the study folder (nothing when None)."""
    if choice is not None:
        session.store.set_meta("executor", choice.model_dump())
