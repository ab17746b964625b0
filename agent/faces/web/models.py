"""Request bodies of the web app, validated at the boundary (FastAPI answers 422 with one line otherwise)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.faces.catalog import NAME

Name = Field(pattern=NAME.pattern, max_length=200)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    spec: str = Field(pattern=NAME.pattern, max_length=200, description="a spec name from /api/info")
    strategy: Literal["auto", "random", "qmc", "tpe", "gp", "cmaes", "grid"] | None = None
    trials: int | None = Field(default=None, ge=1, le=100_000)
    workers: int | None = Field(default=None, ge=1, le=64)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class ControlBody(_Body):
    action: Literal["stop", "pause", "resume"]


class ChatBody(_Body):
    text: str = Field(min_length=1, max_length=4000)
    study: str | None = Field(default=None, pattern=NAME.pattern, max_length=200)
