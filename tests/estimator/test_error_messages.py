"""numba-mlp's own error messages: the ones that name the real cause where
scikit-learn has no such check.

Mis-shaped fitted weights at every entry point that reaches a kernel (in a
child interpreter, since a kernel fed a wrong shape could abort it), reported
against the fitted layer sizes; trace_step's and the trace command's
learning rate; complex input refused before any kernel; Poisson targets;
changing the loss of a fitted model; a classifier's output activation; and
scikit-learn's private L-BFGS objective fed data of another shape.
"""

import sys

import numpy as np
import pytest

from numba_mlp import MLPClassifier, MLPRegressor, trace_step

from helpers import edges_data, quietly

_, X, Y_REG, Y_BIN, _ = edges_data()

# ---------------------------------------------------------------------------
# mis-shaped weights never reach a kernel (child interpreter)
# ---------------------------------------------------------------------------

MIS_SHAPED_WEIGHTS = r"""
import warnings
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from numba_mlp import MLPClassifier, MLPRegressor, trace_step
warnings.simplefilter("ignore", ConvergenceWarning)

X = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
y = np.array([0.0, 1.0, 1.0, 0.0])

EDITS = {
    "empty biases": lambda c, i: (c, [np.zeros(0), np.zeros(0)]),
    "short bias": lambda c, i: (c, [i[0][:1], i[1]]),
    "long bias": lambda c, i: (c, [np.zeros(5), i[1]]),
    "transposed weights": lambda c, i: ([c[0].T.copy(), c[1]], i),
    "wrong fan-in": lambda c, i: ([np.zeros((3, 3)), c[1]], i),
    "wrong fan-out": lambda c, i: ([c[0], np.zeros((3, 2))], i),
    "1-D weights": lambda c, i: ([c[0].ravel(), c[1]], i),
    "3-D weights": lambda c, i: ([c[0][None], c[1]], i),
    "scalar weights": lambda c, i: ([np.float64(1.0), c[1]], i),
    "too few layers": lambda c, i: (c[:1], i[:1]),
    "too many layers": lambda c, i: (c + [np.zeros((1, 1))], i + [np.zeros(1)]),
    "object weights": lambda c, i: ([c[0].astype(object), c[1]], i),
    "string weights": lambda c, i: ([c[0].astype(str), c[1]], i),
    "weights not a list": lambda c, i: (None, i),
    "biases a dict": lambda c, i: (c, {0: i[0], 1: i[1]}),
}

def entry_points(kind):
    points = {
        "predict": lambda est: est.predict(X),
        "score": lambda est: est.score(X, y if kind == "reg" else y.astype(int)),
        "trace_step": lambda est: trace_step(est, X[0], y[0] if kind == "reg" else 0),
        "partial_fit": lambda est: est.partial_fit(X, y if kind == "reg" else y.astype(int)),
        "warm_start fit": lambda est: est.set_params(warm_start=True).fit(
            X, y if kind == "reg" else y.astype(int)),
        # scikit-learn's private L-BFGS objective, which its own tests call
        "_loss_grad_lbfgs": lambda est: est._loss_grad_lbfgs(
            np.zeros(13), X, y, None, [], [], [], []),
    }
    if kind == "clf":
        points["predict_proba"] = lambda est: est.predict_proba(X)
        points["predict_log_proba"] = lambda est: est.predict_log_proba(X)
    return points

results = []
for kind, make in (("reg", lambda: MLPRegressor(hidden_layer_sizes=(3,), solver="sgd",
                                                  max_iter=1, random_state=0)),
                   ("clf", lambda: MLPClassifier(hidden_layer_sizes=(3,), solver="sgd",
                                                   max_iter=1, random_state=0))):
    for edit_name, edit in EDITS.items():
        for point_name, point in entry_points(kind).items():
            est = make().fit(X, y if kind == "reg" else y.astype(int))
            est.coefs_, est.intercepts_ = edit(est.coefs_, est.intercepts_)
            try:
                point(est)
                outcome = "no error"
            except ValueError as error:
                outcome = "ValueError " + str(error)
            except Exception as error:
                outcome = f"{type(error).__name__} {error}"
            results.append((kind, edit_name, point_name, outcome))
for row in results:
    print("|".join(row))
print("DONE")
"""


@pytest.fixture(scope="module")
def mis_shaped_results(tmp_path_factory):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", MIS_SHAPED_WEIGHTS],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(tmp_path_factory.mktemp("child")),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[-1] == "DONE"
    return [line.split("|", 3) for line in lines[:-1]]


@pytest.mark.slow
def test_every_entry_point_refuses_every_mis_shaped_weight(mis_shaped_results):
    # 2 kinds x 15 edits x (6 or 8) entry points, all in one child that exits cleanly
    assert len(mis_shaped_results) == 15 * 6 + 15 * 8
    for kind, edit, point, outcome in mis_shaped_results:
        assert outcome.startswith("ValueError The fitted weights"), (kind, edit, point, outcome)


@pytest.mark.slow  # shares the child process above
def test_mis_shaped_weights_are_reported_against_the_fitted_layer_sizes(mis_shaped_results):
    outcomes = {(kind, edit, point): outcome for kind, edit, point, outcome in mis_shaped_results}
    # the 2-3-1 regressor: the edited arrays do not change the sizes reported
    assert outcomes[("reg", "wrong fan-in", "predict")].endswith(
        "weight matrix 0 has shape (3, 3), expected (2, 3) for layer sizes [2, 3, 1]."
    )
    assert outcomes[("reg", "transposed weights", "score")].endswith(
        "weight matrix 0 has shape (3, 2), expected (2, 3) for layer sizes [2, 3, 1]."
    )
    assert (
        "bias vector 0 has shape (0,), expected (3,) for layer sizes [2, 3, 1]"
        in (outcomes[("reg", "empty biases", "trace_step")])
    )


def test_edited_coefs_reported_against_fitted_sizes_in_a_4_3_1_network():
    net = quietly(
        lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, Y_REG)
    )
    net.coefs_ = [np.zeros((3, 4)), net.coefs_[1]]
    with pytest.raises(
        ValueError,
        match=r"shape \(3, 4\), expected \(4, 3\) for layer "
        r"sizes \[4, 3, 1\]",
    ):
        net.predict(X)


def test_loss_grad_lbfgs_refuses_data_of_another_shape():
    net = quietly(
        lambda: MLPRegressor(
            hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2, random_state=0
        ).fit(X, Y_REG)
    )
    theta = np.concatenate([a.ravel() for a in net.coefs_ + net.intercepts_])
    with pytest.raises(ValueError, match=r"X has shape \(60, 3\), expected \(60, 4\)"):
        net._loss_grad_lbfgs(theta, X[:, :3], Y_REG, None, [], [], [], [])
    with pytest.raises(ValueError, match=r"y has shape \(59, 1\), expected \(60, 1\)"):
        net._loss_grad_lbfgs(theta, X, Y_REG[:59], None, [], [], [], [])
    with pytest.raises(ValueError, match=r"packed parameters have shape \(10,\)"):
        net._loss_grad_lbfgs(theta[:10], X, Y_REG, None, [], [], [], [])
    # at the fitted parameters: the loss L-BFGS ended on
    loss, grad = net._loss_grad_lbfgs(theta, X, Y_REG, None, [], [], [], [])
    assert loss == pytest.approx(net.loss_, rel=1e-12)
    assert grad.shape == theta.shape


# ---------------------------------------------------------------------------
# the teaching trace's learning rate
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learning_rate", [np.nan, np.inf, -np.inf, -1.0, 0.0, "0.1", True])
def test_trace_step_refuses_bad_learning_rates(learning_rate):
    net = quietly(
        lambda: MLPRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0).fit(X, Y_REG)
    )
    with pytest.raises(ValueError, match="learning_rate must be a positive, finite number"):
        trace_step(net, X[0], Y_REG[0], learning_rate=learning_rate)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "abc"])
def test_trace_command_refuses_bad_learning_rates(value, capsys):
    from numba_mlp.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["trace", "--learning-rate", value])
    assert exit_info.value.code == 2
    assert f"expected a positive, finite number, got '{value}'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# complex input
# ---------------------------------------------------------------------------

COMPLEX_DTYPES = [np.complex64, np.complex128, np.clongdouble]


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES, ids=lambda d: np.dtype(d).name)
def test_complex_input_is_refused_before_any_kernel(dtype):
    X_complex = X.astype(dtype)
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.fit(X_complex, Y_REG)
    quietly(lambda: est.fit(X, Y_REG))
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.predict(X_complex)
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.score(X_complex, Y_REG)


# ---------------------------------------------------------------------------
# messages that name the real cause
# ---------------------------------------------------------------------------


def test_poisson_refuses_negative_targets_up_front():
    est = MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=2)
    y = np.abs(Y_REG)
    y[[3, 7]] = [-1.5, -0.25]
    with pytest.raises(
        ValueError,
        match=r"loss='poisson' needs non-negative targets .* 2 "
        r"negative value\(s\), the smallest -1\.5",
    ):
        est.fit(X, y)
    with pytest.raises(ValueError, match="non-negative targets"):
        est.partial_fit(X, y)
    assert not hasattr(est, "coefs_")


def test_changing_the_loss_of_a_fitted_model_names_the_fitted_output_activation():
    est = quietly(
        lambda: MLPRegressor(
            hidden_layer_sizes=(3,), max_iter=2, random_state=0, warm_start=True
        ).fit(X, Y_REG)
    )
    est.set_params(loss="poisson")
    with pytest.raises(
        ValueError,
        match=r"output activation 'identity' \(out_activation_\) "
        r"was fixed when it was first fitted",
    ):
        est.fit(X, np.abs(Y_REG))
    with pytest.raises(ValueError, match="fixed when it was first fitted"):
        est.partial_fit(X, np.abs(Y_REG))
    # a new fit (warm_start=False) may change it
    est.set_params(warm_start=False)
    assert quietly(lambda: est.fit(X, np.abs(Y_REG))).out_activation_ == "exp"


@pytest.mark.parametrize("out_activation", ["identity", "exp"])
def test_classifier_refuses_output_activations_that_are_not_probabilities(out_activation):
    est = MLPClassifier(loss="squared_error", out_activation=out_activation, max_iter=2)
    with pytest.raises(
        ValueError, match=f"out_activation='{out_activation}' does not give probabilities"
    ):
        est.fit(X, Y_BIN)
    assert not hasattr(est, "coefs_")


def test_set_callbacks_says_it_needs_scikit_learn_1_9():
    """With scikit-learn 1.8 (no sklearn.callback), set_callbacks explains."""
    try:
        import sklearn.callback  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("this scikit-learn has callbacks (tested in tests/integrations)")
    with pytest.raises(ImportError, match="new in scikit-learn 1.9"):
        MLPClassifier().set_callbacks(object())
