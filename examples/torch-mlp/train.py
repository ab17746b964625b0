"""A PyTorch MLP on scikit-learn's digits, reporting validation accuracy and loss every epoch.

Parameters (from tunesmith): lr, weight_decay, batch_size, hidden, depth, dropout, epochs; optionally
optimizer (adamw or sgd), momentum (sgd only) and log_every (how often to print progress).
Stops early when tunesmith asks (``tunesmith.should_stop()``), e.g. under an ASHA pruner.

Checkpoints (Population Based Training, and a study resumed after a kill): every epoch is saved with
``tunesmith.save_checkpoint`` (atomically), and a trial that is handed ``tunesmith.restore_from()``
continues that training; lr, weight decay and dropout then come from this trial's params, so PBT can
change them mid-training. After the first epoch the model's outputs on the validation set are reported
as its functional fingerprint (``tunesmith.fingerprint``): a trial that computes the same function as a
finished one (say momentum under adamw, which ignores it) is stopped and takes that trial's result.
"""

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import tunesmith

DEFAULTS = {
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "batch_size": 64,
    "hidden": 128,
    "depth": 2,
    "dropout": 0.1,
    "epochs": 20,
    "seed": 0,
    "optimizer": "adamw",
    "momentum": 0.0,
    "log_every": 0,
    "fingerprint": True,
}


def build(hidden: int, depth: int, dropout: float) -> nn.Module:
    layers: list[nn.Module] = []
    width = 64
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def optimizer(model: nn.Module, p: dict) -> torch.optim.Optimizer:
    if p["optimizer"] == "sgd":
        return torch.optim.SGD(model.parameters(), lr=float(p["lr"]), momentum=float(p["momentum"]))
    return torch.optim.AdamW(model.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"]))


def main() -> None:
    p = {**DEFAULTS, **tunesmith.params()}
    torch.manual_seed(int(p["seed"]))
    X, y = load_digits(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    X_tr, X_va = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(X_va, dtype=torch.float32)
    y_tr, y_va = torch.tensor(y_tr), torch.tensor(y_va)
    model = build(int(p["hidden"]), int(p["depth"]), float(p["dropout"]))
    opt = optimizer(model, p)
    start = 0
    path = tunesmith.restore_from()
    if path is not None:  # continue a training: another member's (PBT) or this study's own (resume)
        state = torch.load(path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        torch.set_rng_state(state["rng"])
        start = int(state["epoch"])
    for group in opt.param_groups:  # the params of this trial, which PBT may have changed since the checkpoint
        group["lr"] = float(p["lr"])
        if p["optimizer"] != "sgd":
            group["weight_decay"] = float(p["weight_decay"])
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = float(p["dropout"])
    loss_fn = nn.CrossEntropyLoss()
    bs, epochs = int(p["batch_size"]), int(p["epochs"])
    for epoch in range(start + 1, epochs + 1):
        model.train()
        order = torch.randperm(len(X_tr))
        for i in range(0, len(order), bs):
            idx = order[i : i + bs]
            opt.zero_grad()
            loss_fn(model(X_tr[idx]), y_tr[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(X_va)
            val_loss = float(loss_fn(logits, y_va))
            val_acc = float((logits.argmax(1) == y_va).float().mean())
        if epoch == 1 and p["fingerprint"]:
            tunesmith.fingerprint(logits, step=epoch)  # the function this trial computes, early
        with tunesmith.save_checkpoint(epoch) as out:  # save first, then report the step
            torch.save(
                {"model": model.state_dict(), "opt": opt.state_dict(), "rng": torch.get_rng_state(), "epoch": epoch},
                out,
            )
        tunesmith.report(step=epoch, val_acc=val_acc, val_loss=val_loss)
        if int(p["log_every"]) and epoch % int(p["log_every"]) == 0:
            print(f"epoch {epoch}: val_acc={val_acc:.4f}", flush=True)
        if epoch < epochs and tunesmith.should_stop():  # a stop after the last epoch changes nothing
            break


if __name__ == "__main__":
    main()
