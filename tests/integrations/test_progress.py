"""Progress output: scikit-learn's lines at verbose=1, a tqdm bar at verbose>=2."""

import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor

from numba_mlp import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(150, 4)
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    return X, y


def printed(capsys, make, fit):
    """stdout and stderr of ``fit(make())`` (ConvergenceWarnings silenced)."""
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = fit(make())
    out, err = capsys.readouterr()
    return estimator, out, err


CASES = {
    "adam": dict(max_iter=8),
    "sgd-early-stopping": dict(
        solver="sgd", early_stopping=True, max_iter=30, n_iter_no_change=2, tol=0.5
    ),
    "sgd-no-improvement": dict(
        solver="sgd", learning_rate="adaptive", max_iter=40, n_iter_no_change=2, tol=0.1
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("verbose", [1, True])
def test_verbose_1_prints_scikit_learns_lines(data, capsys, case, verbose):
    X, y = data
    params = dict(hidden_layer_sizes=(5,), random_state=0, verbose=verbose, **CASES[case])
    ours, out, _ = printed(capsys, lambda: MLPClassifier(**params), lambda e: e.fit(X, y))
    _, expected, _ = printed(capsys, lambda: SklearnMLPClassifier(**params), lambda e: e.fit(X, y))
    assert out == expected
    assert out.count("Iteration ") == ours.n_iter_ >= 2
    if params.get("early_stopping"):
        assert out.count("Validation score: ") == ours.n_iter_


def test_verbose_1_partial_fit_lines(data, capsys):
    X, y = data

    def three_calls(estimator):
        for _ in range(3):
            estimator.partial_fit(X, X[:, 0])
        return estimator

    params = dict(hidden_layer_sizes=(5,), random_state=0, verbose=1)
    _, out, _ = printed(capsys, lambda: MLPRegressor(**params), three_calls)
    _, expected, _ = printed(capsys, lambda: SklearnMLPRegressor(**params), three_calls)
    assert out == expected and out.count("Iteration 1, loss = ") == 3


def test_verbose_2_shows_a_tqdm_bar_with_loss_and_validation_score(data, capsys):
    X, y = data
    clf, out, err = printed(
        capsys,
        lambda: MLPClassifier(
            hidden_layer_sizes=(5,),
            random_state=0,
            verbose=2,
            early_stopping=True,
            max_iter=12,
            n_iter_no_change=50,
        ),
        lambda e: e.fit(X, y),
    )
    assert "Iteration" not in out and "Validation score" not in out
    assert clf.n_iter_ == 12
    # the bar's last state: all epochs done, the final loss and validation score
    assert "MLPClassifier: 100%" in err
    assert "12/12" in err
    assert f"loss={clf.loss_:.6f}" in err
    assert f"validation score={clf.validation_scores_[-1]:.4f}" in err
    # one update per epoch: the counter went through every epoch
    counts = [int(n) for n in re.findall(r"(\d+)/12", err)]
    assert counts[0] == 0 and counts[-1] == 12 and counts == sorted(counts)


def test_verbose_2_bar_stops_where_training_stops(data, capsys):
    X, y = data
    clf, out, err = printed(
        capsys,
        lambda: MLPRegressor(
            hidden_layer_sizes=(5,),
            solver="sgd",
            random_state=0,
            verbose=3,
            max_iter=200,
            n_iter_no_change=2,
            tol=10.0,
        ),
        lambda e: e.fit(X, X[:, 0]),
    )
    assert clf.n_iter_ < 200
    assert f"{clf.n_iter_}/200" in err and f"loss={clf.loss_:.6f}" in err
    assert "validation score" not in err
    assert "Training loss did not improve" in out  # scikit-learn's stopping message


def test_verbose_2_without_tqdm_falls_back_to_the_lines(data, capsys, monkeypatch):
    X, y = data
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto fails
    params = dict(hidden_layer_sizes=(5,), random_state=0, verbose=2, max_iter=6)
    _, out, err = printed(capsys, lambda: MLPClassifier(**params), lambda e: e.fit(X, y))
    _, expected, _ = printed(capsys, lambda: SklearnMLPClassifier(**params), lambda e: e.fit(X, y))
    assert out == expected and out.count("Iteration") == 6
    assert "%|" not in err


def test_verbose_2_partial_fit_prints_lines_not_a_bar(data, capsys):
    X, y = data
    _, out, err = printed(
        capsys,
        lambda: MLPClassifier(hidden_layer_sizes=(5,), verbose=2, random_state=0),
        lambda e: e.partial_fit(X, y, classes=[0, 1]),
    )
    assert out.startswith("Iteration 1, loss = ") and "%|" not in err


@pytest.mark.slow
def test_verbose_2_messages_land_on_their_own_lines():
    """stdout and stderr into one stream, as in a terminal: the stopping message
    and the interrupted-training warning are lines of their own, not glued to
    the bar's last redraw."""
    import subprocess

    code = """
        import numpy as np, warnings
        from numba_mlp import MLPRegressor
        rng = np.random.RandomState(0)
        X = rng.randn(150, 4)
        MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", random_state=0, verbose=2,
                     max_iter=200, n_iter_no_change=2, tol=10.0).fit(X, X[:, 0])
    """
    import textwrap

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    lines = re.split(r"[\r\n]", result.stdout)
    message = (
        "Training loss did not improve more than tol=10.000000 for 2 consecutive epochs. Stopping."
    )
    assert message in lines, result.stdout
    assert any(line.startswith("MLPRegressor:") and "epoch" in line for line in lines)
