"""A PyTorch MLP on scikit-learn's digits, reporting validation accuracy and loss every epoch.

Parameters (from tunesmith): lr, weight_decay, batch_size, hidden, depth, dropout, epochs.
Stops early when tunesmith asks (``tunesmith.should_stop()``), e.g. under an ASHA pruner.
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
}


def build(hidden: int, depth: int, dropout: float) -> nn.Module:
    layers: list[nn.Module] = []
    width = 64
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def main() -> None:
    p = {**DEFAULTS, **tunesmith.params()}
    torch.manual_seed(int(p["seed"]))
    X, y = load_digits(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    X_tr, X_va = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(X_va, dtype=torch.float32)
    y_tr, y_va = torch.tensor(y_tr), torch.tensor(y_va)
    model = build(int(p["hidden"]), int(p["depth"]), float(p["dropout"]))
    opt = torch.optim.AdamW(model.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"]))
    loss_fn = nn.CrossEntropyLoss()
    bs = int(p["batch_size"])
    for epoch in range(1, int(p["epochs"]) + 1):
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
        tunesmith.report(step=epoch, val_acc=val_acc, val_loss=val_loss)
        if tunesmith.should_stop():
            break


if __name__ == "__main__":
    main()
