"""An SVM on scikit-learn's digits: one tunesmith trial.

Reads its parameters from tunesmith (``TUNESMITH_PARAMS``) and reports the mean 3-fold
cross-validation accuracy as ``val_acc``. Run alone it uses the defaults below.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

import tunesmith

DEFAULTS = {"C": 1.0, "gamma": 0.1, "kernel": "rbf", "degree": 3}


def main() -> None:
    params = {**DEFAULTS, **tunesmith.params()}
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    model = SVC(C=params["C"], gamma=params["gamma"], kernel=params["kernel"], degree=params["degree"])
    scores = cross_val_score(model, X, y, cv=3)
    tunesmith.report(val_acc=float(scores.mean()), val_acc_std=float(scores.std()))


if __name__ == "__main__":
    main()
