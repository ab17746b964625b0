"""The bayesmark problem family, written from its published definitions (uber/bayesmark, sklearn_funcs.py).

A problem is ``MODEL_DATASET_METRIC`` (bayesmark's test-case name, e.g. ``SVM_wine_nll``): a scikit-learn
model with the search space bayesmark gives it, on a data set bundled with scikit-learn, scored by
5-fold cross-validation on the training split (80 %, shuffled with seed 0) -- the loss the optimizer
sees -- and, for the same configuration refit on the whole training split, on the held-out 20 %
("generalization"). Losses follow bayesmark: ``-accuracy``, log-loss, MAE, MSE, all lower-is-better.

Where today's libraries force a difference from bayesmark (each is deliberate and documented here):

* ``boston`` is gone from scikit-learn (removed in 1.2), so the regression data set is ``diabetes`` only:
  9 models x (4 classification data sets x 2 metrics + 1 regression data set x 2 metrics) = 90 problems.
* Every model that draws random numbers is seeded (``random_state=0``), so an evaluation is a
  deterministic function of its configuration; bayesmark left them unseeded.
* bayesmark's ``logit``-warped reals are plain linear floats here: our search space (like Optuna's)
  has linear and log scales only. The ranges are bayesmark's.
* ``normalize`` (removed from Lasso/Ridge in scikit-learn 1.2) is reproduced by centring the features
  and dividing them by their L2 norm on each training fold, which is what it did (only with an intercept).
* ``multi_class="ovr"`` (removed from LogisticRegression) is reproduced with ``OneVsRestClassifier`` for
  more than two classes, which is the same model and the same normalised probabilities.
* AdaBoost has only the SAMME algorithm now (SAMME.R was removed in scikit-learn 1.6).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np

from agent.core.space import SearchSpace
from evals.problems.base import Evaluation, EvaluationError, Problem

CV_SPLITS = 5
TEST_SIZE = 0.2
SHUFFLE_SEED = 0
MODEL_SEED = 0

MODELS = ("DT", "MLP-adam", "MLP-sgd", "RF", "SVM", "ada", "kNN", "lasso", "linear")
CLF_DATASETS = ("breast", "digits", "iris", "wine")
REG_DATASETS = ("diabetes",)
CLF_METRICS = ("acc", "nll")
REG_METRICS = ("mae", "mse")
_SCORERS = {"acc": "accuracy", "nll": "neg_log_loss", "mae": "neg_mean_absolute_error", "mse": "neg_mean_squared_error"}


def _f(low: float, high: float, log: bool = False) -> dict[str, Any]:
    return {"type": "float", "low": low, "high": high, "log": log}


def _i(low: int, high: int, log: bool = False) -> dict[str, Any]:
    return {"type": "int", "low": low, "high": high, "log": log}


_BOOL = {"type": "categorical", "choices": [False, True]}

# Search spaces: bayesmark's names and ranges ("logit" reals as linear floats, see the module docstring).
_TREE = {
    "max_depth": _i(1, 15),
    "min_samples_split": _f(0.01, 0.99),
    "min_samples_leaf": _f(0.01, 0.49),
    "min_weight_fraction_leaf": _f(0.01, 0.49),
    "max_features": _f(0.01, 0.99),
    "min_impurity_decrease": _f(0.0, 0.5),
}
_MLP = {
    "hidden_layer_sizes": _i(50, 200),
    "alpha": _f(1e-5, 1e1, True),
    "batch_size": _i(10, 250),
    "learning_rate_init": _f(1e-5, 1e-1, True),
}
SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "kNN": {"n_neighbors": _i(1, 25), "p": _i(1, 4)},
    "SVM": {"C": _f(1.0, 1e3, True), "gamma": _f(1e-4, 1e-3, True), "tol": _f(1e-5, 1e-1, True)},
    "DT": _TREE,
    "RF": _TREE,
    "MLP-adam": {
        **_MLP,
        "tol": _f(1e-5, 1e-1, True),
        "validation_fraction": _f(0.1, 0.9),
        "beta_1": _f(0.5, 0.99),
        "beta_2": _f(0.9, 1.0 - 1e-6),
        "epsilon": _f(1e-9, 1e-6, True),
    },
    "MLP-sgd": {
        **_MLP,
        "power_t": _f(0.1, 0.9),
        "tol": _f(1e-5, 1e-1, True),
        "momentum": _f(0.001, 0.999),
        "validation_fraction": _f(0.1, 0.9),
    },
    "ada": {"n_estimators": _i(10, 100), "learning_rate": _f(1e-4, 1e1, True)},
    "lasso": {"C": _f(1e-2, 1e2, True), "intercept_scaling": _f(1e-2, 1e2, True)},
    "linear": {"C": _f(1e-2, 1e2, True), "intercept_scaling": _f(1e-2, 1e2, True)},
}
SPACES_REG: dict[str, dict[str, dict[str, Any]]] = {
    **SPACES,
    "lasso": {
        "alpha": _f(1e-2, 1e2, True),
        "fit_intercept": _BOOL,
        "normalize": _BOOL,
        "max_iter": _i(10, 5000, True),
        "tol": _f(1e-5, 1e-1, True),
        "positive": _BOOL,
    },
    "linear": {
        "alpha": _f(1e-2, 1e2, True),
        "fit_intercept": _BOOL,
        "normalize": _BOOL,
        "max_iter": _i(10, 5000, True),
        "tol": _f(1e-4, 1e-1, True),
    },
}

# Defaults: scikit-learn's, projected into the space (a default outside the range becomes the nearest
# bound; ``None``/"unlimited" becomes the bound that means "least restricted").
_TREE_DEFAULT = {
    "max_depth": 15,
    "min_samples_split": 0.01,
    "min_samples_leaf": 0.01,
    "min_weight_fraction_leaf": 0.01,
    "max_features": 0.99,
    "min_impurity_decrease": 0.0,
}
_MLP_DEFAULT = {
    "hidden_layer_sizes": 100,
    "alpha": 1e-4,
    "batch_size": 200,
    "learning_rate_init": 1e-3,
    "tol": 1e-4,
    "validation_fraction": 0.1,
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "kNN": {"n_neighbors": 5, "p": 2},
    "SVM": {"C": 1.0, "gamma": None, "tol": 1e-3},  # gamma: "scale", computed from the data
    "DT": _TREE_DEFAULT,
    "RF": _TREE_DEFAULT,  # max_features: "sqrt" for classifiers, computed from the data
    "MLP-adam": {**_MLP_DEFAULT, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "MLP-sgd": {**_MLP_DEFAULT, "power_t": 0.5, "momentum": 0.9},
    "ada": {"n_estimators": 50, "learning_rate": 1.0},
    "lasso": {"C": 1.0, "intercept_scaling": 1.0},
    "linear": {"C": 1.0, "intercept_scaling": 1.0},
}
DEFAULTS_REG = {
    **DEFAULTS,
    "lasso": {
        "alpha": 1.0,
        "fit_intercept": True,
        "normalize": False,
        "max_iter": 1000,
        "tol": 1e-4,
        "positive": False,
    },
    "linear": {"alpha": 1.0, "fit_intercept": True, "normalize": False, "max_iter": 1000, "tol": 1e-4},
}


#: What each model is, as an ML engineer would name it (the LLM agent's task description).
MODEL_TEXT = {  # (classifier, regressor)
    "DT": ("DecisionTreeClassifier", "DecisionTreeRegressor"),
    "MLP-adam": ("MLPClassifier (Adam)", "MLPRegressor (Adam)"),
    "MLP-sgd": ("MLPClassifier (SGD with momentum)", "MLPRegressor (SGD with momentum)"),
    "RF": ("RandomForestClassifier", "RandomForestRegressor"),
    "SVM": ("SVC (RBF kernel)", "SVR (RBF kernel)"),
    "ada": ("AdaBoostClassifier", "AdaBoostRegressor"),
    "kNN": ("KNeighborsClassifier", "KNeighborsRegressor"),
    "lasso": ("LogisticRegression (L1 penalty)", "Lasso"),
    "linear": ("LogisticRegression (L2 penalty)", "Ridge"),
}
#: The bundled data sets: (samples, features, what is predicted).
DATA_TEXT = {
    "breast": (569, 30, "2 classes, breast cancer diagnosis"),
    "digits": (1797, 64, "10 classes, 8x8 images of handwritten digits"),
    "iris": (150, 4, "3 classes, iris species"),
    "wine": (178, 13, "3 classes, wine cultivars"),
    "diabetes": (442, 10, "a continuous target, disease progression"),
}
METRIC_TEXT = {
    "acc": "accuracy (the loss is -accuracy)",
    "nll": "log-loss",
    "mae": "mean absolute error",
    "mse": "mean squared error",
}


def problem_names() -> list[str]:
    """All 90 bayesmark problem names, in a fixed order."""
    names = [f"{m}_{d}_{s}" for m in MODELS for d in CLF_DATASETS for s in CLF_METRICS]
    names += [f"{m}_{d}_{s}" for m in MODELS for d in REG_DATASETS for s in REG_METRICS]
    return sorted(names)


@cache
def load_split(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test) of a bundled data set, split as bayesmark does (cached per process)."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loaders: dict[str, Callable[..., Any]] = {
        "breast": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }
    X, y = loaders[dataset](return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64 if dataset in CLF_DATASETS else np.float64)
    parts = train_test_split(X, y, test_size=TEST_SIZE, random_state=SHUFFLE_SEED, shuffle=True)
    return parts[0], parts[1], parts[2], parts[3]


def _normalizer() -> Any:
    """The removed ``normalize=True`` of Lasso/Ridge: centre, then divide each column by its L2 norm."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class L2Normalize(TransformerMixin, BaseEstimator):  # type: ignore[misc]
        def fit(self, X: np.ndarray, y: Any = None) -> L2Normalize:
            self.mean_ = X.mean(axis=0)
            norm = np.sqrt(((X - self.mean_) ** 2).sum(axis=0))
            self.norm_ = np.where(norm == 0.0, 1.0, norm)
            return self

        def transform(self, X: np.ndarray) -> np.ndarray:
            return np.asarray((X - self.mean_) / self.norm_)

    return L2Normalize()


def build_model(model: str, classifier: bool, params: Mapping[str, Any], n_classes: int) -> Any:
    """The scikit-learn estimator of ``model`` with bayesmark's fixed params and ``params``."""
    from sklearn import ensemble, linear_model, multiclass, neighbors, neural_network, pipeline, svm, tree

    p = dict(params)
    seed = {"random_state": MODEL_SEED}
    if model == "kNN":
        return (neighbors.KNeighborsClassifier if classifier else neighbors.KNeighborsRegressor)(**p)
    if model == "SVM":
        if classifier:
            return svm.SVC(kernel="rbf", probability=True, **p, **seed)
        return svm.SVR(kernel="rbf", **p)
    if model == "DT":
        cls = tree.DecisionTreeClassifier if classifier else tree.DecisionTreeRegressor
        return cls(max_leaf_nodes=None, **p, **seed)
    if model == "RF":
        cls_rf = ensemble.RandomForestClassifier if classifier else ensemble.RandomForestRegressor
        return cls_rf(n_estimators=10, max_leaf_nodes=None, **p, **seed)
    if model in ("MLP-adam", "MLP-sgd"):
        cls_mlp = neural_network.MLPClassifier if classifier else neural_network.MLPRegressor
        fixed: dict[str, Any] = {"solver": "adam", "early_stopping": True}
        if model == "MLP-sgd":
            fixed = {"solver": "sgd", "early_stopping": True, "learning_rate": "invscaling", "nesterovs_momentum": True}
            if not classifier:
                fixed["activation"] = "tanh"  # bayesmark: regression crashes often with relu
        return cls_mlp(**fixed, **p, **seed)
    if model == "ada":
        cls_ada = ensemble.AdaBoostClassifier if classifier else ensemble.AdaBoostRegressor
        return cls_ada(**p, **seed)
    if classifier:  # lasso, linear: L1 / L2 logistic regression, liblinear, one-vs-rest
        penalty = "l1" if model == "lasso" else "l2"
        lr = linear_model.LogisticRegression(penalty=penalty, fit_intercept=True, solver="liblinear", **p, **seed)
        return multiclass.OneVsRestClassifier(lr) if n_classes > 2 else lr
    normalize = bool(p.pop("normalize"))
    reg = linear_model.Lasso(**p, **seed) if model == "lasso" else linear_model.Ridge(solver="auto", **p)
    if normalize and p["fit_intercept"]:
        return pipeline.make_pipeline(_normalizer(), reg)
    return reg


class BayesmarkProblem(Problem):
    """One bayesmark test case: ``model`` on ``dataset`` scored by ``metric``."""

    family = "bayesmark"

    def __init__(self, model: str, dataset: str, metric: str) -> None:
        classifier = dataset in CLF_DATASETS
        if model not in MODELS or dataset not in CLF_DATASETS + REG_DATASETS:
            raise ValueError(f"unknown bayesmark problem {model}_{dataset}_{metric}")
        if metric not in (CLF_METRICS if classifier else REG_METRICS):
            raise ValueError(f"metric {metric} does not fit data set {dataset}")
        self.model, self.dataset, self.metric, self.classifier = model, dataset, metric, classifier
        self.name = f"{model}_{dataset}_{metric}"
        self.group = model
        self._space = SearchSpace.from_dict((SPACES if classifier else SPACES_REG)[model])

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def task(self) -> str:
        n, d, target = DATA_TEXT[self.dataset]
        return (
            f"scikit-learn {MODEL_TEXT[self.model][0 if self.classifier else 1]} on the {self.dataset} data set "
            f"({n} samples, {d} features, "
            f"{target}); the loss is the {CV_SPLITS}-fold cross-validated {METRIC_TEXT[self.metric]} on an 80 % "
            "training split"
        )

    @property
    def default(self) -> dict[str, Any]:
        config = dict((DEFAULTS if self.classifier else DEFAULTS_REG)[self.model])
        X, _, _, _ = load_split(self.dataset)
        if self.model == "SVM":  # gamma="scale" is 1 / (n_features * X.var())
            config["gamma"] = 1.0 / (X.shape[1] * X.var())
        if self.model == "RF" and self.classifier:  # max_features="sqrt"
            config["max_features"] = math.sqrt(X.shape[1]) / X.shape[1]
        for name, value in config.items():  # project into the space
            p = self._space.params[name]
            if p.type != "categorical":
                config[name] = min(max(value, p.low), p.high)  # type: ignore[union-attr]
        return self._space.check_config(config)

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        from sklearn.metrics import get_scorer
        from sklearn.model_selection import cross_val_score

        X, Xt, y, yt = load_split(self.dataset)
        scorer = get_scorer(_SCORERS[self.metric])
        n_classes = len(np.unique(y)) if self.classifier else 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and numerical warnings: BO tries odd corners
            try:
                cv = cross_val_score(
                    build_model(self.model, self.classifier, params, n_classes),
                    X,
                    y,
                    scoring=scorer,
                    cv=CV_SPLITS,
                    error_score="raise",
                )
                final = build_model(self.model, self.classifier, params, n_classes).fit(X, y)
                test = scorer(final, Xt, yt)
            except (ValueError, FloatingPointError, ArithmeticError) as exc:
                raise EvaluationError(f"{type(exc).__name__}: {exc}") from exc
        # scorers are "higher is better"; bayesmark's losses are their negation
        return Evaluation(loss=-float(np.mean(cv)), test_loss=-float(test))


def make(name: str) -> BayesmarkProblem:
    model, dataset, metric = name.split("_")
    return BayesmarkProblem(model, dataset, metric)
