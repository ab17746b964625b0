"""A PyTorch task: a multi-layer perceptron trained on scikit-learn's digits, with a per-epoch curve.

Data: bayesmark's digits split (80 % train / 20 % held-out test, seed 0); the training part is split
again (80 / 20, seed 1) into fit and validation sets, features scaled to [0, 1]. The model trains for
``EPOCHS`` epochs with AdamW on one CPU thread, seeded, so an evaluation is deterministic. The loss the
optimizer sees is the validation loss after the last epoch (``nll``: cross-entropy; ``acc``:
``-accuracy``), the curve holds it per epoch, and the test loss is the same metric on the held-out split.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from agent.core.space import SearchSpace
from evals.problems.base import Evaluation, EvaluationError, Problem
from evals.problems.bayesmark import load_split

EPOCHS = 12
SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-1, "log": True},
    "width": {"type": "int", "low": 16, "high": 512, "log": True},
    "depth": {"type": "int", "low": 1, "high": 4},
    "dropout": {"type": "float", "low": 0.0, "high": 0.6},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128, 256]},
}
DEFAULT = {"lr": 1e-3, "weight_decay": 1e-2, "width": 128, "depth": 2, "dropout": 0.0, "batch_size": 64}


@cache
def _data() -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    X, Xt, y, yt = load_split("digits")
    Xf, Xv, yf, yv = train_test_split(X, y, test_size=0.2, random_state=1, shuffle=True)
    return Xf / 16.0, Xv / 16.0, Xt / 16.0, yf, yv, yt


class TorchMLPProblem(Problem):
    family = "torch"
    group = "torch"

    def __init__(self, metric: str = "nll") -> None:
        if metric not in ("nll", "acc"):
            raise ValueError(f"unknown metric {metric}; choose nll or acc")
        self.metric = metric
        self.name = f"torch-mlp_digits_{metric}"
        self._space = SearchSpace.from_dict(SPACE)

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def default(self) -> dict[str, Any]:
        return dict(DEFAULT)

    @property
    def task(self) -> str:
        what = "cross-entropy" if self.metric == "nll" else "accuracy (the loss is -accuracy)"
        return (
            f"a PyTorch MLP (ReLU, dropout, AdamW) trained {EPOCHS} epochs on scikit-learn's digits "
            f"(1,797 8x8 images, 10 classes; about 1,150 to fit, 290 to validate) on one CPU thread; the loss is "
            f"the validation {what} after the last epoch"
        )

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        import torch
        from torch import nn

        torch.set_num_threads(1)
        gen = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        Xf, Xv, Xt, yf, yv, yt = (torch.as_tensor(a) for a in _data())
        Xf, Xv, Xt = Xf.float(), Xv.float(), Xt.float()
        layers: list[nn.Module] = []
        width_in = Xf.shape[1]
        for _ in range(int(params["depth"])):
            layers += [nn.Linear(width_in, int(params["width"])), nn.ReLU(), nn.Dropout(float(params["dropout"]))]
            width_in = int(params["width"])
        model = nn.Sequential(*layers, nn.Linear(width_in, 10))
        opt = torch.optim.AdamW(model.parameters(), lr=float(params["lr"]), weight_decay=float(params["weight_decay"]))
        loss_fn = nn.CrossEntropyLoss()
        batch = int(params["batch_size"])

        def measure(X: torch.Tensor, y: torch.Tensor) -> float:
            model.eval()
            with torch.no_grad():
                logits = model(X)
            model.train()
            if self.metric == "nll":
                return float(loss_fn(logits, y))
            return -float((logits.argmax(dim=1) == y).float().mean())

        curve: list[float] = []
        for _ in range(EPOCHS):
            order = torch.randperm(len(Xf), generator=gen)
            for start in range(0, len(Xf), batch):
                idx = order[start : start + batch]
                opt.zero_grad()
                loss = loss_fn(model(Xf[idx]), yf[idx])
                loss.backward()
                opt.step()
            value = measure(Xv, yv)
            if not math.isfinite(value):
                raise EvaluationError(f"validation loss diverged ({value}) at epoch {len(curve) + 1}")
            curve.append(value)
        return Evaluation(loss=curve[-1], test_loss=measure(Xt, yt), curve=curve)
