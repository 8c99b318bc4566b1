"""Behaviour at the edges, side by side with scikit-learn.

Mis-shaped fitted weights at every entry point that reaches a kernel (in a
child interpreter, since a kernel fed a wrong shape could abort it),
divergence under early stopping, every numeric dtype, the constructor
parameters after a failed fit, ConvergenceWarning raised as an error, the
dtype of later batches, Adam with an overflowing second moment, and the
messages that name the real cause.
"""

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.utils.validation import check_is_fitted

from numba_mlp import MLPClassifier, MLPRegressor, trace_step

rng = np.random.RandomState(0)
X = rng.randn(60, 4)
Y_REG = X @ rng.randn(4) + 0.1 * rng.randn(60)
Y_BIN = (Y_REG > 0).astype(int)
Y_3 = np.digitize(Y_REG, np.quantile(Y_REG, [1 / 3, 2 / 3]))


def quietly(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call()


# ---------------------------------------------------------------------------
# 0. mis-shaped weights never reach a kernel (child interpreter)
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
        capture_output=True, text=True, timeout=600,
        cwd=str(tmp_path_factory.mktemp("child")),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[-1] == "DONE"
    return [line.split("|", 3) for line in lines[:-1]]


def test_every_entry_point_refuses_every_mis_shaped_weight(mis_shaped_results):
    # 2 kinds x 15 edits x (6 or 8) entry points, all in one child that exits cleanly
    assert len(mis_shaped_results) == 15 * 6 + 15 * 8
    for kind, edit, point, outcome in mis_shaped_results:
        assert outcome.startswith("ValueError The fitted weights"), (kind, edit, point, outcome)


def test_mis_shaped_weights_are_reported_against_the_fitted_layer_sizes(mis_shaped_results):
    outcomes = {(kind, edit, point): outcome for kind, edit, point, outcome in mis_shaped_results}
    # the 2-3-1 regressor: the edited arrays do not change the sizes reported
    assert outcomes[("reg", "wrong fan-in", "predict")].endswith(
        "weight matrix 0 has shape (3, 3), expected (2, 3) for layer sizes [2, 3, 1].")
    assert outcomes[("reg", "transposed weights", "score")].endswith(
        "weight matrix 0 has shape (3, 2), expected (2, 3) for layer sizes [2, 3, 1].")
    assert "bias vector 0 has shape (0,), expected (3,) for layer sizes [2, 3, 1]" in (
        outcomes[("reg", "empty biases", "trace_step")])


def test_edited_coefs_reported_against_fitted_sizes_in_a_4_3_1_network():
    net = quietly(lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
                  .fit(X, Y_REG))
    net.coefs_ = [np.zeros((3, 4)), net.coefs_[1]]
    with pytest.raises(ValueError, match=r"shape \(3, 4\), expected \(4, 3\) for layer "
                                         r"sizes \[4, 3, 1\]"):
        net.predict(X)


@pytest.mark.parametrize("learning_rate", [np.nan, np.inf, -np.inf, -1.0, 0.0, "0.1", True])
def test_trace_step_refuses_bad_learning_rates(learning_rate):
    net = quietly(lambda: MLPRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0)
                  .fit(X, Y_REG))
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
# 1. divergence under early stopping: scikit-learn's #29504
# ---------------------------------------------------------------------------


def test_diverging_fit_with_early_stopping_matches_scikit_learn():
    X_iris, y_iris = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                  learning_rate_init=1, max_iter=20, early_stopping=True,
                  n_iter_no_change=10, random_state=0)
    fitted = []
    for cls in (SkRegressor, MLPRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(cls(**params).fit(X_iris, y_iris))
    sk, ours = fitted
    assert ours.n_iter_ == sk.n_iter_
    assert isinstance(ours.validation_scores_[-1], float)
    assert np.isnan(ours.validation_scores_[-1])
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-9)
    assert ours.best_validation_score_ == pytest.approx(sk.best_validation_score_, rel=1e-9)
    for ours_w, sk_w in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(ours_w, sk_w, rtol=1e-9, atol=1e-12)


def test_diverging_fit_without_early_stopping_still_raises():
    X_iris, y_iris = load_iris(return_X_y=True)
    est = MLPRegressor(hidden_layer_sizes=100, activation="identity", solver="sgd",
                       learning_rate_init=1, max_iter=20, random_state=0)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X_iris, y_iris)
    assert not hasattr(est, "coefs_")


# ---------------------------------------------------------------------------
# 2. every numeric dtype
# ---------------------------------------------------------------------------

REAL_DTYPES = [np.float16, np.float32, np.float64, np.longdouble, np.int8, np.int16,
               np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]
COMPLEX_DTYPES = [np.complex64, np.complex128, np.clongdouble]


def _as(dtype, values):
    if dtype is np.bool_:
        return values > 0
    if np.issubdtype(dtype, np.unsignedinteger):
        return np.abs(np.round(values * 3)).astype(dtype)
    if np.issubdtype(dtype, np.integer):
        return np.round(values * 3).astype(dtype)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", REAL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_every_real_dtype_fits_and_predicts_as_its_float64_copy(dtype, kind):
    X_typed = _as(dtype, X)
    X_float = X_typed.astype(np.float64)
    y = Y_3 if kind == "clf" else Y_REG
    make = MLPClassifier if kind == "clf" else MLPRegressor
    expected_dtype = np.float32 if dtype is np.float32 else np.float64
    for method in ("fit", "partial_fit"):
        args = {"classes": [0, 1, 2]} if (kind == "clf" and method == "partial_fit") else {}
        est = quietly(lambda: getattr(make(hidden_layer_sizes=(5,), max_iter=3,
                                           random_state=0), method)(X_typed, y, **args))
        ref = quietly(lambda: getattr(make(hidden_layer_sizes=(5,), max_iter=3,
                                           random_state=0), method)(
            X_float.astype(expected_dtype), y, **args))
        assert est.coefs_[0].dtype == expected_dtype
        for a, b in zip(est.coefs_, ref.coefs_):
            np.testing.assert_array_equal(a, b)
        # predicting: as the float64 copy (float32 stays float32)
        X_expected = X_typed.astype(expected_dtype)
        np.testing.assert_array_equal(est.predict(X_typed), ref.predict(X_expected))
        np.testing.assert_array_equal(est.predict(X_float), ref.predict(X_float))
        assert est.score(X_typed, y) == ref.score(X_expected, y)
        if kind == "clf":
            np.testing.assert_array_equal(est.predict_proba(X_typed),
                                          ref.predict_proba(X_expected))


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
# 3. constructor parameters after a failed fit; ConvergenceWarning as an error
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["nan in X", "divergence"])
def test_failed_fit_keeps_the_callers_parameter_objects(failure):
    random_state = np.random.RandomState(0)
    hidden_layer_sizes = [3]
    est = MLPRegressor(hidden_layer_sizes=hidden_layer_sizes, random_state=random_state,
                       solver="sgd", learning_rate_init=10.0, activation="identity",
                       max_iter=50)
    X_bad = X.copy()
    if failure == "nan in X":
        X_bad[0, 0] = np.nan
    else:
        X_bad = X * 1e150
    with pytest.raises(ValueError):
        est.fit(X_bad, Y_REG)
    params = est.get_params()
    assert params["random_state"] is random_state
    assert params["hidden_layer_sizes"] is hidden_layer_sizes
    assert not hasattr(est, "coefs_")


def test_shared_random_state_continues_its_sequence_after_a_failed_fit():
    # NaN in X fails before any draw in both libraries; then a good fit draws
    # from where the shared RandomState is, so both give the same weights
    coefs = []
    for cls in (SkRegressor, MLPRegressor):
        random_state = np.random.RandomState(0)
        random_state.uniform(size=3)
        est = cls(hidden_layer_sizes=(3,), random_state=random_state, max_iter=2)
        X_nan = X.copy()
        X_nan[0, 0] = np.nan
        with pytest.raises(ValueError):
            est.fit(X_nan, Y_REG)
        quietly(lambda: est.fit(X, Y_REG))
        coefs.append(est.coefs_[0])
        assert est.random_state is random_state
    np.testing.assert_allclose(coefs[0], coefs[1], rtol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_convergence_warning_as_error_leaves_a_fitted_model(solver, early_stopping):
    if solver == "lbfgs" and early_stopping:
        pytest.skip("early stopping is for the stochastic solvers")
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=2, random_state=0,
                  early_stopping=early_stopping)
    fitted = []
    for cls in (SkClassifier, MLPClassifier):
        est = cls(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            with pytest.raises(ConvergenceWarning):
                est.fit(X, Y_3)
        check_is_fitted(est)
        fitted.append(est)
    sk, ours = fitted
    # ours is complete: it is the same fit as without the filter
    ref = quietly(lambda: MLPClassifier(**params).fit(X, Y_3))
    assert ours.n_iter_ == ref.n_iter_ == 2
    np.testing.assert_array_equal(ours.predict_proba(X), ref.predict_proba(X))
    if solver != "lbfgs" and not early_stopping:
        # scikit-learn's too (its L-BFGS raises before unpacking its weights,
        # and it restores no best weights under early stopping)
        assert sk.n_iter_ == 2
        np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-9)


# ---------------------------------------------------------------------------
# 5. Adam's second moment overflowing to inf
# ---------------------------------------------------------------------------


def test_adam_with_an_overflowing_second_moment_matches_scikit_learn():
    X_huge = np.hstack([rng.randn(100, 4), np.full((100, 1), 1e300)])
    y = (X_huge[:, 0] > 0).astype(int)
    fitted = []
    for cls in (SkClassifier, MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(cls(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
                          .fit(X_huge, y))
    sk, ours = fitted
    for ours_w, sk_w in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        assert np.isfinite(ours_w).all()
        np.testing.assert_allclose(ours_w, sk_w, rtol=1e-12)


# ---------------------------------------------------------------------------
# 6. later batches keep the dtype the model was fitted in
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("first, later", [(np.float64, np.float32), (np.float32, np.float64)])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("sparse", [False, True])
def test_later_batches_keep_the_models_dtype(first, later, how, sparse):
    convert = sp.csr_matrix if sparse else np.asarray
    results = {}
    for cls in (SkRegressor, MLPRegressor):
        est = cls(hidden_layer_sizes=(5,), max_iter=2, random_state=0,
                  warm_start=how == "warm_start")
        step = est.partial_fit if how == "partial_fit" else est.fit
        quietly(lambda: step(convert(X.astype(first)), Y_REG))
        quietly(lambda: step(convert(X.astype(later)), Y_REG))
        results[cls] = est
        assert all(c.dtype == first for c in est.coefs_ + est.intercepts_)
    if first == np.float64:  # scikit-learn computes a float32 batch in float64 too
        for a, b in zip(results[MLPRegressor].coefs_, results[SkRegressor].coefs_):
            np.testing.assert_allclose(a, b, rtol=1e-10)


# ---------------------------------------------------------------------------
# 7. messages that name the real cause
# ---------------------------------------------------------------------------


def test_poisson_refuses_negative_targets_up_front():
    est = MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=2)
    y = np.abs(Y_REG)
    y[[3, 7]] = [-1.5, -0.25]
    with pytest.raises(ValueError, match=r"loss='poisson' needs non-negative targets .* 2 "
                                         r"negative value\(s\), the smallest -1\.5"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="non-negative targets"):
        est.partial_fit(X, y)
    assert not hasattr(est, "coefs_")


def test_changing_the_loss_of_a_fitted_model_names_the_fitted_output_activation():
    est = quietly(lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0,
                                       warm_start=True).fit(X, Y_REG))
    est.set_params(loss="poisson")
    with pytest.raises(ValueError, match=r"output activation 'identity' \(out_activation_\) "
                                         r"was fixed when it was first fitted"):
        est.fit(X, np.abs(Y_REG))
    with pytest.raises(ValueError, match="fixed when it was first fitted"):
        est.partial_fit(X, np.abs(Y_REG))
    # a new fit (warm_start=False) may change it
    est.set_params(warm_start=False)
    assert quietly(lambda: est.fit(X, np.abs(Y_REG))).out_activation_ == "exp"


@pytest.mark.parametrize("out_activation", ["identity", "exp"])
def test_classifier_refuses_output_activations_that_are_not_probabilities(out_activation):
    est = MLPClassifier(loss="squared_error", out_activation=out_activation, max_iter=2)
    with pytest.raises(ValueError, match=f"out_activation='{out_activation}' does not give "
                                         "probabilities"):
        est.fit(X, Y_BIN)
    assert not hasattr(est, "coefs_")


def test_loss_grad_lbfgs_refuses_data_of_another_shape():
    net = quietly(lambda: MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2,
                                       random_state=0).fit(X, Y_REG))
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
# 8. supported scikit-learn versions
# ---------------------------------------------------------------------------


def test_installed_scikit_learn_is_in_the_tested_window():
    import sklearn

    from numba_mlp._versions import untested_scikit_learn_message

    assert untested_scikit_learn_message(sklearn.__version__) is None


@pytest.mark.parametrize("version, warned", [
    ("1.8.0", False), ("1.9.1", False), ("1.9.0rc1", False), ("1.10.0", True),
    ("1.7.2", True), ("2.0.0", True), ("1.10.dev0", True),
])
def test_untested_scikit_learn_releases_are_named_in_a_warning(version, warned, run_python):
    from numba_mlp._versions import untested_scikit_learn_message

    message = untested_scikit_learn_message(version)
    assert (message is not None) == warned
    if warned:
        assert f"scikit-learn {version} is installed" in message
        assert 'pip install "scikit-learn>=1.8,<1.10"' in message


def test_importing_with_an_untested_scikit_learn_warns(run_python):
    result = run_python("""
        import warnings
        import sklearn
        sklearn.__version__ = "1.10.0"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import numba_mlp
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
    """)
    assert result.returncode == 0, result.stderr
    assert "scikit-learn 1.10.0 is installed: results may differ" in result.stdout
