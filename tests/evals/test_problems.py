"""Benchmark problems: bayesmark definitions, determinism, defaults inside the space, failures."""

from __future__ import annotations

import pytest

from agent.errors import TunesmithError
from evals.problems import SUITES, EvaluationError, get_problem
from evals.problems.base import Evaluation
from evals.problems.bayesmark import SPACES, build_model
from evals.problems.synthetic import FUNCTIONS, SyntheticProblem


def test_suites_have_the_expected_sizes() -> None:
    assert len(SUITES["bayesmark"]) == 90
    assert len(SUITES["all"]) == len(set(SUITES["all"])) == 96


def test_every_default_is_valid_for_its_space() -> None:
    for name in SUITES["all"]:
        p = get_problem(name)
        assert p.space.validate_config(p.default) == [], name


def test_bayesmark_spaces_follow_the_published_ranges() -> None:
    svm = get_problem("SVM_wine_nll").space.params
    assert (svm["C"].low, svm["C"].high, svm["C"].log) == (1.0, 1e3, True)
    assert (svm["gamma"].low, svm["gamma"].high) == (1e-4, 1e-3)
    lasso_reg = get_problem("lasso_diabetes_mae").space.params
    assert set(lasso_reg) == {"alpha", "fit_intercept", "normalize", "max_iter", "tol", "positive"}
    assert lasso_reg["max_iter"].log and (lasso_reg["max_iter"].low, lasso_reg["max_iter"].high) == (10, 5000)
    assert set(SPACES["MLP-adam"]) >= {"beta_1", "beta_2", "epsilon", "validation_fraction"}


def test_evaluation_is_deterministic_and_has_a_test_loss() -> None:
    p = get_problem("DT_iris_acc")
    a, b = p.evaluate(p.default), p.evaluate(p.default)
    assert a == b
    assert -1.0 <= a.loss <= 0.0 and a.test_loss is not None and -1.0 <= a.test_loss <= 0.0


def test_regression_with_the_removed_normalize_option_runs() -> None:
    p = get_problem("linear_diabetes_mse")
    config = {**p.default, "normalize": True}
    plain, normed = p.evaluate(p.default), p.evaluate(config)
    assert plain.loss > 0 and normed.loss > 0 and plain.loss != normed.loss


def test_multiclass_logistic_regression_is_one_vs_rest() -> None:
    from sklearn.multiclass import OneVsRestClassifier

    model = build_model("lasso", True, {"C": 1.0, "intercept_scaling": 1.0}, n_classes=3)
    assert isinstance(model, OneVsRestClassifier) and model.estimator.penalty == "l1"


def test_synthetic_functions_reach_their_known_minimum() -> None:
    assert FUNCTIONS["branin"][0]([3.14159265, 2.275]) == pytest.approx(0.397887, abs=1e-5)
    assert FUNCTIONS["hartmann6"][0]([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]) == pytest.approx(
        -3.32237, abs=1e-4
    )
    assert FUNCTIONS["rosenbrock10"][0]([1.0] * 10) == 0.0
    for name in FUNCTIONS:  # the default (the centre) is not the optimum: no free win for default-first
        p = SyntheticProblem(name)
        assert p.evaluate(p.default).loss > p.minimum + 0.1


def test_non_finite_losses_are_evaluation_errors() -> None:
    with pytest.raises(EvaluationError, match="not finite"):
        Evaluation(loss=float("nan"))


def test_unknown_problem_gets_a_hint() -> None:
    with pytest.raises(TunesmithError, match="did you mean 'SVM_wine_nll'"):
        get_problem("SVM_wine_nl")


def test_torch_task_reports_a_curve() -> None:
    p = get_problem("torch-mlp_digits_nll")
    e = p.evaluate({**p.default, "width": 16, "depth": 1})
    assert len(e.curve) == 12 and e.curve[-1] == e.loss and e.test_loss is not None


def test_every_problem_tells_the_agent_its_task() -> None:
    for name in SUITES["all"]:
        task = get_problem(name).task
        assert (len(task) > 40 and name not in task) or "synthetic" in task, (name, task)
    svm = get_problem("SVM_wine_nll").task
    assert "SVC" in svm and "wine" in svm and "178 samples" in svm and "log-loss" in svm
    assert "Regressor" in get_problem("kNN_diabetes_mae").task


def test_the_agent_contender_puts_the_task_in_its_prompt() -> None:
    from agent.core.records import Trial, TrialState
    from agent.llm.base import Completion
    from agent.llm.scripted import ScriptedClient
    from agent.study.proposers import ProposalContext
    from evals.contenders import ContenderContext
    from evals.llm_contender import make_eval_proposer

    problem = get_problem("SVM_wine_nll")
    ctx = ContenderContext(
        problem=problem.name,
        space=problem.space,
        default=problem.default,
        direction="minimize",
        seed=1,
        budget=4,
        batch=1,
        task=problem.task,
    )
    client = ScriptedClient([], exhausted=Completion(content="no tool call"))
    proposer = make_eval_proposer(ctx, client=client)
    try:
        first = Trial(number=0, params=dict(problem.default), state=TrialState.COMPLETE, value=0.5)
        proposer.observe(first, [first])
        proposer.propose(
            ProposalContext(space=problem.space, history=[first], direction="minimize", metric="loss", remaining=3), 1
        )
    finally:
        proposer.close()
    system = client.requests[0][0][0].content or ""
    assert problem.task in system and "evals.problems:SVM_wine_nll" in system
