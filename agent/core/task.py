"""What is being tuned, in the user's words: the spec's ``task:``.

An LLM adds to a tuning loop only what it knows about the task (the model family, the data, the hardware,
what a failure or a curve means), so the task is part of every prompt. Two forms are valid::

    task: "scikit-learn SVC on the digits data set (1,797 samples, 64 features); 3-fold CV accuracy"

    task:
      description: a 125M-parameter GPT-style language model trained from scratch on OpenWebText
      kind: llm_pretraining          # optional: enables the Step Law prior (agent/strategies/steplaw.py)
      model_params: 125M             # non-embedding parameters (N)
      tokens: 2.5B                   # training tokens (D)
      seq_len: 1024
      model_family: transformer
      data: OpenWebText, 2.5B tokens
      hardware: 1x A100 80GB

Sizes accept plain numbers or a suffix (``k``, ``M``, ``B``/``G``, ``T``). A natural-language request puts the
user's words in ``description``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

#: The longest description kept (a paragraph or two; the prompt's task section is bounded too).
DESCRIPTION_CHARS = 2000

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_size(value: Any) -> float | None:
    """``125M`` -> 1.25e8, ``2.5B`` -> 2.5e9, ``1e9`` -> 1e9; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a size must be a number or a string like '125M' or '2.5B'")
    if isinstance(value, int | float):
        number = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*", str(value).lower())
        if not m:
            raise ValueError(f"cannot read size {value!r}; write a number or e.g. '125M', '2.5B'")
        number = float(m.group(1)) * _SUFFIX[m.group(2)]
    if number <= 0:
        raise ValueError(f"a size must be > 0, got {value!r}")
    return number


Size = Annotated[float | None, BeforeValidator(parse_size)]


class TaskSpec(BaseModel):
    """The task a study tunes (module docstring). Every field but ``description`` is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1, max_length=DESCRIPTION_CHARS, description="what is trained, on what")
    kind: Literal["llm_pretraining"] | None = Field(default=None, description="a task kind tunesmith has priors for")
    model_family: str | None = Field(default=None, max_length=200, description="e.g. SVM, gradient boosting, CNN")
    data: str | None = Field(default=None, max_length=300, description="the data set and its size")
    hardware: str | None = Field(default=None, max_length=200, description="what one trial runs on")
    model_params: Size = Field(default=None, description="llm_pretraining: non-embedding parameters, e.g. 125M")
    tokens: Size = Field(default=None, description="llm_pretraining: training tokens, e.g. 2.5B")
    seq_len: int | None = Field(default=None, ge=1, description="llm_pretraining: tokens per sequence")

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"description": data}
        if data is not None and not isinstance(data, Mapping):
            raise ValueError("task must be a sentence or a mapping with description: (and optional facts)")
        return data

    @model_validator(mode="after")
    def _pretraining(self) -> TaskSpec:
        if self.kind == "llm_pretraining" and (self.model_params is None or self.tokens is None):
            raise ValueError(
                "kind: llm_pretraining needs model_params (non-embedding parameters, e.g. 125M) and tokens "
                "(training tokens, e.g. 2.5B)"
            )
        return self

    def facts(self) -> dict[str, Any]:
        """The optional facts, as the prompt shows them (None left out)."""
        data = self.model_dump(exclude_none=True, exclude={"description"})
        return {k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in data.items()}
