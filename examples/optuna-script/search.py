"""An Optuna search script, exactly as Optuna users write it: a PyTorch MLP on scikit-learn's digits whose
layers, widths, dropout and optimizer are suggested by the trial, with pruning by intermediate accuracy.

    python search.py                 # Optuna runs it (needs optuna)
    tunesmith tune search.py         # tunesmith runs it, unchanged: each trial in its own sandboxed process

tunesmith reads the space from the ``trial.suggest_*`` calls (the per-layer widths become conditional
params), the direction, pruner and budget from ``create_study`` / ``optimize``, and never runs the
``__main__`` block below.
"""

import optuna
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

EPOCHS = 10


def define_model(trial: optuna.Trial) -> nn.Module:
    n_layers = trial.suggest_int("n_layers", 1, 3)
    layers: list[nn.Module] = []
    width = 64
    for i in range(n_layers):
        out_features = trial.suggest_int(f"n_units_l{i}", 16, 256, log=True)
        layers += [nn.Linear(width, out_features), nn.ReLU()]
        p = trial.suggest_float(f"dropout_l{i}", 0.0, 0.5)
        layers.append(nn.Dropout(p))
        width = out_features
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def objective(trial: optuna.Trial) -> float:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0)
    x_train, x_val = torch.tensor(x_train, dtype=torch.float32), torch.tensor(x_val, dtype=torch.float32)
    y_train, y_val = torch.tensor(y_train), torch.tensor(y_val)

    model = define_model(trial)
    optimizer_name = trial.suggest_categorical("optimizer", ["Adam", "RMSprop", "SGD"])
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), lr=lr)

    accuracy = 0.0
    for epoch in range(EPOCHS):
        model.train()
        for batch in torch.randperm(len(x_train)).split(64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_val).argmax(1) == y_val).float().mean().item()
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


if __name__ == "__main__":
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, n_trials=30, timeout=600)
    print(f"best accuracy {study.best_value:.4f} with {study.best_params}")
