"""Numerical parity of numba_mlp's estimators with scikit-learn's.

Every expected value is produced by the installed scikit-learn, fitted on the
same data with the same parameters and random_state.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from numba_mlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore")

RTOL = 1e-6
ATOL = 1e-9
N = 70  # number of samples; batch_size=16 does not divide it
BATCH = 16

# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _X(n=N, p=4, seed=0):
    return np.random.RandomState(seed).randn(n, p)


def make_data(target, n=N, seed=0):
    """Return (kind, X, y, extra_params) for one kind of target."""
    rng = np.random.RandomState(seed + 100)
    X = _X(n, seed=seed)
    lin = X @ np.array([1.0, -0.7, 0.5, 0.2]) + 0.3 * rng.randn(n)
    if target == "binary":
        return "clf", X, (lin > 0).astype(int), {}
    if target == "multiclass":
        idx = np.digitize(lin, [-0.5, 0.5])
        return "clf", X, np.array(["ant", "bee", "cat"])[idx], {}
    if target == "multilabel":
        Y = np.column_stack(
            [lin > 0, X[:, 1] + 0.3 * rng.randn(n) > 0, X[:, 2] - X[:, 3] > 0.2]
        ).astype(int)
        return "clf", X, Y, {}
    if target == "reg":
        return "reg", X, lin, {}
    if target == "reg_multi":
        Y = np.column_stack([lin, 0.5 * X[:, 2] ** 2 + 0.1 * rng.randn(n)])
        return "reg", X, Y, {}
    if target == "poisson":
        y = np.exp(0.4 * lin) * rng.uniform(0.5, 1.5, size=n)
        assert (y > 0).all()
        return "reg", X, y, {"loss": "poisson"}
    raise ValueError(target)


TARGETS = ["binary", "multiclass", "multilabel", "reg", "reg_multi", "poisson"]

SOLVERS = {
    "sgd-nesterov": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.05
    ),
    "sgd-momentum": dict(
        solver="sgd", momentum=0.8, nesterovs_momentum=False, learning_rate_init=0.05
    ),
    "sgd-plain": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate="invscaling", power_t=0.3, learning_rate_init=0.1
    ),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "adam-betas": dict(
        solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6, learning_rate_init=0.02
    ),
}


def _sklearn_early_stops_on_string_labels():
    """Whether the installed MLPClassifier can early-stop on string labels.

    scikit-learn 1.8's ``_score_with_function`` calls ``np.isnan`` on the
    predicted labels, which raises TypeError for string classes; 1.9 checks
    finiteness only for float predictions. Detected by trying it.
    """
    X = np.arange(8.0).reshape(-1, 1)
    y = np.array(["a", "b"] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            SkMLPClassifier(
                hidden_layer_sizes=(1,),
                max_iter=1,
                early_stopping=True,
                validation_fraction=0.5,
                random_state=0,
            ).fit(X, y)
        except TypeError:
            return False
    return True


if not _sklearn_early_stops_on_string_labels():
    _SkMLPClassifier = SkMLPClassifier

    class SkMLPClassifier(_SkMLPClassifier):
        """scikit-learn 1.8's MLPClassifier scoring its validation set as 1.9 does.

        That scoring is the only difference between the two releases' MLP
        module; numba_mlp scores string labels as 1.9 does, so the reference
        gets the same fix. (1.8's ``_score`` calls ``super()._score_with_function``,
        so ``_score`` itself is what must be replaced.)
        """

        def _score(self, X, y, sample_weight=None):
            y_pred = self._predict(X, check_input=False)
            if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
                return np.nan
            return accuracy_score(y, y_pred, sample_weight=sample_weight)

    # messages that name the estimator (feature-name warnings) stay the same
    SkMLPClassifier.__name__ = SkMLPClassifier.__qualname__ = "MLPClassifier"


def pair(kind, **params):
    if kind == "clf":
        return SkMLPClassifier(**params), MLPClassifier(**params)
    return SkMLPRegressor(**params), MLPRegressor(**params)


def fit_pair(kind, X, y, sample_weight=None, **params):
    sk, nm = pair(kind, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y, sample_weight=sample_weight)
        nm.fit(X, y, sample_weight=sample_weight)
    return sk, nm


def base_params(**kw):
    p = dict(hidden_layer_sizes=(5,), max_iter=10, tol=0.0, random_state=0)
    p.update(kw)
    return p


# ---------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------


def assert_list_close(a, b, rtol=RTOL, atol=ATOL, what=""):
    assert len(a) == len(b), what
    for i, (x, y) in enumerate(zip(a, b)):
        assert np.shape(x) == np.shape(y), f"{what}[{i}] shape"
        assert np.asarray(x).dtype == np.asarray(y).dtype, f"{what}[{i}] dtype"
        assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")


def assert_same_fit(
    sk, nm, rtol=RTOL, atol=ATOL, coef_rtol=None, coef_atol=None, compare_weights=True
):
    coef_rtol = rtol if coef_rtol is None else coef_rtol
    coef_atol = atol if coef_atol is None else coef_atol
    # sanity: the reference itself is a finite model
    assert all(np.isfinite(c).all() for c in sk.coefs_)
    if compare_weights:
        assert_list_close(nm.coefs_, sk.coefs_, coef_rtol, coef_atol, "coefs_")
        assert_list_close(nm.intercepts_, sk.intercepts_, coef_rtol, coef_atol, "intercepts_")
    assert nm.n_iter_ == sk.n_iter_
    assert nm.t_ == sk.t_
    assert nm.n_layers_ == sk.n_layers_
    assert nm.n_outputs_ == sk.n_outputs_
    assert nm.out_activation_ == sk.out_activation_
    assert nm.n_features_in_ == sk.n_features_in_
    assert_allclose(nm.loss_, sk.loss_, rtol=rtol)
    if hasattr(sk, "classes_"):
        assert_array_equal(nm.classes_, sk.classes_)
        assert nm.classes_.dtype == sk.classes_.dtype
    if sk.solver in ("sgd", "adam"):
        assert len(nm.loss_curve_) == len(sk.loss_curve_)
        assert_allclose(nm.loss_curve_, sk.loss_curve_, rtol=rtol)
        if sk.early_stopping:
            assert_allclose(nm.validation_scores_, sk.validation_scores_, rtol=rtol)
            assert_allclose(nm.best_validation_score_, sk.best_validation_score_, rtol=rtol)
            assert nm.best_loss_ is None
        else:
            assert nm.validation_scores_ is None
            assert nm.best_validation_score_ is None
            assert_allclose(nm.best_loss_, sk.best_loss_, rtol=rtol)


def refit_keeping_best(sk, nm, fit_both):
    """Refit both with warm_start; check the one documented difference.

    After an early-stopping fit, scikit-learn's ``coefs_`` *is* its list of
    best weights, so a warm-start refit updates the "best" weights in place
    and, when the refit never beats the earlier best validation score, ends
    on the last iterate instead of the best one. numba-mlp keeps a real copy
    and restores the best weights (README, "Deliberate differences").
    Everything else must still match scikit-learn.
    """
    nm_best = [c.copy() for c in nm.coefs_ + nm.intercepts_]
    best_before = nm.best_validation_score_ if nm.early_stopping else None
    fit_both()
    improved = best_before is None or nm.best_validation_score_ > best_before
    assert_same_fit(sk, nm, compare_weights=improved)
    if not improved:
        assert_list_close(nm.coefs_ + nm.intercepts_, nm_best, 0, 0, "best weights")
    return improved


def assert_same_predictions(sk, nm, X, y, rtol=RTOL, atol=ATOL):
    p_sk, p_nm = sk.predict(X), nm.predict(X)
    assert p_nm.shape == p_sk.shape
    assert p_nm.dtype == p_sk.dtype
    if hasattr(sk, "classes_"):
        assert_array_equal(p_nm, p_sk)
        pp_sk, pp_nm = sk.predict_proba(X), nm.predict_proba(X)
        assert pp_nm.shape == pp_sk.shape and pp_nm.dtype == pp_sk.dtype
        assert_allclose(pp_nm, pp_sk, rtol=rtol, atol=atol)
        lp_sk, lp_nm = sk.predict_log_proba(X), nm.predict_log_proba(X)
        assert lp_nm.dtype == lp_sk.dtype
        assert_allclose(lp_nm, lp_sk, rtol=rtol, atol=1e-7)
        assert nm.score(X, y) == sk.score(X, y)
    else:
        assert_allclose(p_nm, p_sk, rtol=rtol, atol=atol)
        assert_allclose(nm.score(X, y), sk.score(X, y), rtol=rtol, atol=atol)
    sw = np.linspace(0.5, 2.0, X.shape[0])
    assert_allclose(
        nm.score(X, y, sample_weight=sw), sk.score(X, y, sample_weight=sw), rtol=rtol, atol=atol
    )


# ---------------------------------------------------------------------------
# stochastic solvers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [(5,), (4, 3)], ids=["h5", "h4-3"])
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("target", TARGETS)
def test_stochastic_parity(target, solver, hidden):
    kind, X, y, extra = make_data(target)
    params = base_params(hidden_layer_sizes=hidden, batch_size=BATCH, **SOLVERS[solver], **extra)
    sk, nm = fit_pair(kind, X, y, **params)
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


OPTIONS = {
    "noshuffle": dict(shuffle=False),
    "early_stopping": dict(early_stopping=True, validation_fraction=0.2),
    "sample_weight": dict(),
    "es+sample_weight": dict(early_stopping=True, validation_fraction=0.25),
    "batch_auto": dict(batch_size="auto"),
    "batch_1": dict(batch_size=1, max_iter=3, learning_rate_init=0.002),
    "batch_gt_n": dict(batch_size=500),
    "alpha": dict(alpha=0.1),
}


@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("target", TARGETS)
def test_stochastic_options_parity(target, option, solver):
    kind, X, y, extra = make_data(target)
    params = base_params(batch_size=BATCH, **SOLVERS[solver], **extra)
    params.update(OPTIONS[option])
    sw = None
    if "sample_weight" in option:
        sw = np.random.RandomState(5).uniform(0.1, 3.0, size=X.shape[0])
    sw_copy = None if sw is None else sw.copy()
    sk, nm = fit_pair(kind, X, y, sample_weight=sw, **params)
    if sw is not None:
        assert_array_equal(sw, sw_copy)
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "lbfgs"])
@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_activation_parity(target, solver, activation):
    kind, X, y, extra = make_data(target)
    if solver == "lbfgs":
        params = base_params(solver="lbfgs")
        coef_tol = dict(coef_rtol=1e-5, coef_atol=1e-7)
    else:
        params = base_params(batch_size=BATCH, **SOLVERS[solver])
        coef_tol = {}
    params.update(activation=activation, hidden_layer_sizes=(4, 3))
    sk, nm = fit_pair(kind, X, y, **params)
    assert_same_fit(sk, nm, **coef_tol)
    assert_same_predictions(sk, nm, X, y, rtol=1e-5)


@pytest.mark.parametrize(
    "target, params",
    [
        # training-loss based stopping (no improvement by tol)
        ("binary", dict(solver="sgd", learning_rate_init=0.05, tol=0.05)),
        ("reg", dict(solver="adam", learning_rate_init=0.01, tol=0.05)),
        # adaptive learning rate: divided by 5 when stalling, stops at 1e-6
        (
            "multiclass",
            dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.5, tol=0.2),
        ),
        ("reg", dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05, tol=1.0)),
        # validation-score based stopping
        (
            "multiclass",
            dict(
                solver="adam",
                learning_rate_init=0.01,
                tol=0.05,
                early_stopping=True,
                validation_fraction=0.2,
            ),
        ),
        (
            "reg_multi",
            dict(
                solver="sgd",
                learning_rate_init=0.01,
                tol=0.05,
                early_stopping=True,
                validation_fraction=0.2,
            ),
        ),
    ],
)
def test_no_improvement_stopping_parity(target, params):
    kind, X, y, extra = make_data(target)
    p = base_params(batch_size=BATCH, max_iter=60, n_iter_no_change=2, **extra)
    p.update(params)
    sk, nm = fit_pair(kind, X, y, **p)
    # the scenario is meaningful: scikit-learn stopped before max_iter
    assert sk.n_iter_ < p["max_iter"]
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)
    if p.get("learning_rate") == "adaptive":
        # meaningful: scikit-learn did divide its learning rate
        assert sk._optimizer.learning_rate < p["learning_rate_init"]


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_convergence_warning_parity(kind):
    _, X, y, _ = make_data("binary" if kind == "clf" else "reg")
    sk, nm = pair(kind, **base_params(max_iter=3))
    with pytest.warns(ConvergenceWarning):
        sk.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        nm.fit(X, y)
    assert_same_fit(sk, nm)


# ---------------------------------------------------------------------------
# lbfgs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limits",
    [dict(max_iter=10), dict(max_iter=25), dict(max_iter=200, max_fun=7)],
    ids=["iter10", "iter25", "maxfun7"],
)
@pytest.mark.parametrize("target", TARGETS)
def test_lbfgs_parity(target, limits):
    kind, X, y, extra = make_data(target)
    params = base_params(solver="lbfgs", **extra)
    params.update(limits)
    sk, nm = fit_pair(kind, X, y, **params)
    if "max_fun" in limits:
        # scikit-learn stopped because of max_fun, not max_iter
        assert sk.n_iter_ < limits["max_iter"]
    else:
        assert sk.n_iter_ == limits["max_iter"]
    assert_same_fit(sk, nm, coef_rtol=1e-5, coef_atol=1e-7)
    assert not hasattr(nm, "loss_curve_")
    assert_same_predictions(sk, nm, X, y, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("target", ["binary", "reg"])
def test_lbfgs_sample_weight_parity(target):
    kind, X, y, extra = make_data(target)
    sw = np.random.RandomState(1).uniform(0.0, 2.0, size=X.shape[0])
    sk, nm = fit_pair(kind, X, y, sample_weight=sw, **base_params(solver="lbfgs"))
    assert_same_fit(sk, nm, coef_rtol=1e-5, coef_atol=1e-7)
    assert_same_predictions(sk, nm, X, y, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# partial_fit and warm_start
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd-nesterov", "sgd-invscaling", "adam"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("use_sw", [False, True])
def test_partial_fit_classifier_parity(target, solver, use_sw):
    kind, X, y, _ = make_data(target)
    params = base_params(batch_size=BATCH, **SOLVERS[solver])
    sk, nm = pair(kind, **params)
    if target == "multilabel":
        classes = np.arange(y.shape[1])
    else:
        classes = np.unique(y)
    sw = np.random.RandomState(2).uniform(0.2, 2.0, size=N) if use_sw else None
    # the first chunk lacks one class (for single-output targets)
    if y.ndim == 1:
        first = np.flatnonzero(y != classes[-1])[:25]
    else:
        first = np.arange(25)
    rest = np.setdiff1d(np.arange(N), first)
    chunks = [first, rest[:20], rest[20:], np.arange(N)]
    for i, idx in enumerate(chunks):
        kw = {"classes": classes} if i == 0 else {}
        if sw is not None:
            kw["sample_weight"] = sw[idx]
        sk.partial_fit(X[idx], y[idx], **kw)
        nm.partial_fit(X[idx], y[idx], **kw)
        assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


@pytest.mark.parametrize("solver", ["sgd-momentum", "sgd-adaptive", "adam"])
@pytest.mark.parametrize("target", ["reg", "reg_multi", "poisson"])
def test_partial_fit_regressor_parity(target, solver):
    kind, X, y, extra = make_data(target)
    params = base_params(batch_size=BATCH, **SOLVERS[solver], **extra)
    sk, nm = pair(kind, **params)
    for idx in [np.arange(0, 30), np.arange(30, N), np.arange(N), np.arange(N)]:
        sk.partial_fit(X[idx], y[idx])
        nm.partial_fit(X[idx], y[idx])
        assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_partial_fit_after_fit_parity(target):
    kind, X, y, extra = make_data(target)
    sk, nm = fit_pair(kind, X, y, **base_params(batch_size=BATCH, **SOLVERS["adam"]))
    for _ in range(2):
        sk.partial_fit(X[:40], y[:40])
        nm.partial_fit(X[:40], y[:40])
        assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


@pytest.mark.parametrize(
    "solver, extra_params",
    [
        ("adam", {}),
        ("sgd-nesterov", {}),
        ("sgd-nesterov", dict(early_stopping=True, validation_fraction=0.2)),
        ("lbfgs", {}),
    ],
)
@pytest.mark.parametrize("target", ["binary", "multiclass", "reg_multi", "poisson"])
def test_warm_start_parity(target, solver, extra_params):
    kind, X, y, extra = make_data(target)
    if solver == "lbfgs":
        params = base_params(solver="lbfgs", max_iter=5, **extra)
        tol = dict(coef_rtol=1e-5, coef_atol=1e-7)
    else:
        params = base_params(batch_size=BATCH, max_iter=5, **SOLVERS[solver], **extra)
        tol = {}
    params.update(extra_params)
    sk, nm = fit_pair(kind, X, y, warm_start=True, **params)
    assert_same_fit(sk, nm, **tol)
    # second fit continues from the first one's weights

    def refit():
        for est in (sk, nm):
            est.set_params(max_iter=7)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X[5:], y[5:])

    if params.get("early_stopping"):
        if refit_keeping_best(sk, nm, refit):
            assert_same_predictions(sk, nm, X, y)
        return
    refit()
    assert_same_fit(sk, nm, **tol)
    assert_same_predictions(sk, nm, X, y, rtol=1e-5 if solver == "lbfgs" else RTOL)


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_random_state_instance_stream_parity(target, warm_start, early_stopping):
    """A RandomState instance is shared across fits: both libraries must consume
    it in the same order (init, shuffling, validation split)."""
    kind, X, y, extra = make_data(target)
    params = base_params(batch_size=BATCH, max_iter=4, **SOLVERS["adam"])
    params.update(warm_start=warm_start, early_stopping=early_stopping)
    sk, _ = pair(kind, **{**params, "random_state": np.random.RandomState(7)})
    _, nm = pair(kind, **{**params, "random_state": np.random.RandomState(7)})
    assert sk.random_state is not nm.random_state

    def fit_both():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk.fit(X, y)
            nm.fit(X, y)

    fit_both()
    assert_same_fit(sk, nm)
    for _ in range(2):
        if warm_start and early_stopping:
            if not refit_keeping_best(sk, nm, fit_both):
                break  # the libraries' weights now differ by design
        else:
            fit_both()
            assert_same_fit(sk, nm)
    # the generator states are in the same position afterwards
    assert_array_equal(
        sk.random_state.randint(0, 2**31 - 1, size=5), nm.random_state.randint(0, 2**31 - 1, size=5)
    )


def test_refit_without_warm_start_restarts():
    kind, X, y, _ = make_data("multiclass")
    params = base_params(batch_size=BATCH, **SOLVERS["adam"])
    sk, nm = fit_pair(kind, X, y, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X[:50], y[:50])
        nm.fit(X[:50], y[:50])
    assert_same_fit(sk, nm)


# ---------------------------------------------------------------------------
# dtypes, sparse, pandas
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "reg", "reg_multi"])
def test_float32_parity(target, solver):
    kind, X, y, extra = make_data(target)
    X32 = X.astype(np.float32)
    params = base_params(batch_size=BATCH, **SOLVERS[solver], **extra)
    sk, nm = fit_pair(kind, X32, y, **params)
    assert all(c.dtype == np.float32 for c in sk.coefs_)  # reference behaviour
    for c in nm.coefs_ + nm.intercepts_:
        assert c.dtype == np.float32
    assert_list_close(nm.coefs_, sk.coefs_, rtol=1e-3, atol=1e-4, what="coefs_")
    assert_list_close(nm.intercepts_, sk.intercepts_, rtol=1e-3, atol=1e-4, what="intercepts_")
    assert nm.n_iter_ == sk.n_iter_
    assert_allclose(nm.loss_curve_, sk.loss_curve_, rtol=1e-3)
    if kind == "clf":
        proba = nm.predict_proba(X32)
        assert proba.dtype == sk.predict_proba(X32).dtype == np.float32
        assert_allclose(proba, sk.predict_proba(X32), rtol=1e-3, atol=1e-4)
    else:
        pred = nm.predict(X32)
        assert pred.dtype == sk.predict(X32).dtype == np.float32
        assert_allclose(pred, sk.predict(X32), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "lbfgs", "adam-es"])
@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_sparse_parity(target, solver, fmt):
    kind, X, y, extra = make_data(target)
    X = X.copy()
    X[np.abs(X) < 0.6] = 0.0  # roughly half zeros
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    Xs_copy = Xs.copy()
    if solver == "lbfgs":
        params = base_params(solver="lbfgs")
        tol = dict(coef_rtol=1e-5, coef_atol=1e-7)
    elif solver == "adam-es":
        params = base_params(
            batch_size=BATCH, early_stopping=True, validation_fraction=0.2, **SOLVERS["adam"]
        )
        tol = {}
    else:
        params = base_params(batch_size=BATCH, **SOLVERS[solver])
        tol = {}
    sk_dense, nm_dense = fit_pair(kind, X, y, **params)
    sk_sparse, nm_sparse = fit_pair(kind, Xs, y, **params)
    assert (Xs != Xs_copy).nnz == 0 and Xs.format == fmt
    assert_same_fit(sk_dense, nm_sparse, **tol)
    assert_same_fit(sk_sparse, nm_sparse, **tol)
    assert_same_predictions(sk_sparse, nm_sparse, Xs, y, rtol=1e-5)
    assert_same_predictions(sk_dense, nm_sparse, X, y, rtol=1e-5)
    # other sparse formats at predict time are converted like scikit-learn does
    assert_same_predictions(sk_sparse, nm_sparse, Xs.tocoo(), y, rtol=1e-5)
    # and numba_mlp's sparse fit equals its own dense fit
    rt, at = tol.get("coef_rtol", RTOL), tol.get("coef_atol", ATOL)
    assert_list_close(nm_sparse.coefs_, nm_dense.coefs_, rt, at, "coefs_")
    assert_list_close(nm_sparse.intercepts_, nm_dense.intercepts_, rt, at, "intercepts_")


@pytest.mark.parametrize("target", ["binary", "reg"])
def test_pandas_feature_names_parity(target):
    pd = pytest.importorskip("pandas")
    kind, X, y, extra = make_data(target)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    sk, nm = fit_pair(kind, df, y, **base_params())
    assert_array_equal(nm.feature_names_in_, sk.feature_names_in_)
    assert nm.feature_names_in_.dtype == sk.feature_names_in_.dtype
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, df, y)
    # predicting with a plain array after fitting on a DataFrame: same warning
    with warnings.catch_warnings(record=True) as rec_sk:
        warnings.simplefilter("always")
        sk.predict(X)
    with warnings.catch_warnings(record=True) as rec_nm:
        warnings.simplefilter("always")
        nm.predict(X)
    msgs_sk = sorted(str(w.message) for w in rec_sk)
    msgs_nm = sorted(str(w.message) for w in rec_nm)
    assert msgs_sk and msgs_nm == msgs_sk
    # fitted on an array: no feature_names_in_
    sk2, nm2 = fit_pair(kind, X, y, **base_params())
    assert not hasattr(sk2, "feature_names_in_")
    assert not hasattr(nm2, "feature_names_in_")


# ---------------------------------------------------------------------------
# numba_mlp extras that reduce to scikit-learn's behaviour
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, out_activation",
    [
        ("binary", "logistic"),
        ("multilabel", "logistic"),
        ("multiclass", "softmax"),
        ("reg", "identity"),
        ("poisson", "exp"),
    ],
)
def test_explicit_default_out_activation_parity(target, out_activation):
    kind, X, y, extra = make_data(target)
    params = base_params(batch_size=BATCH, **SOLVERS["adam"], **extra)
    sk, _ = fit_pair(kind, X, y, **params)
    assert sk.out_activation_ == out_activation
    nm_cls = MLPClassifier if kind == "clf" else MLPRegressor
    nm = nm_cls(out_activation=out_activation, **params)
    nm.fit(X, y)
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "lbfgs"])
@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_coefs_init_parity(target, solver):
    """coefs_init/intercepts_init equal to scikit-learn's own initial weights
    reproduce scikit-learn's fit (shuffle=False: no other randomness)."""
    kind, X, y, extra = make_data(target)
    # scikit-learn's initial weights: one sgd step with a negligible learning
    # rate leaves them bit-for-bit unchanged
    probe_cls = SkMLPClassifier if kind == "clf" else SkMLPRegressor
    probe = probe_cls(
        hidden_layer_sizes=(4, 3),
        solver="sgd",
        max_iter=1,
        learning_rate_init=1e-300,
        random_state=0,
        shuffle=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.fit(X, y)
    coefs0 = [c.copy() for c in probe.coefs_]
    inter0 = [c.copy() for c in probe.intercepts_]
    if solver == "lbfgs":
        params = base_params(solver="lbfgs", hidden_layer_sizes=(4, 3))
        tol = dict(coef_rtol=1e-5, coef_atol=1e-7)
    else:
        params = base_params(
            batch_size=BATCH, shuffle=False, hidden_layer_sizes=(4, 3), **SOLVERS[solver]
        )
        tol = {}
    sk, _ = pair(kind, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
    nm = (MLPClassifier if kind == "clf" else MLPRegressor)(**{**params, "random_state": 12345})
    c_in = [c.copy() for c in coefs0]
    i_in = [c.copy() for c in inter0]
    nm.fit(X, y, coefs_init=c_in, intercepts_init=i_in)
    assert_same_fit(sk, nm, **tol)
    # the arrays passed in are not modified
    assert_list_close(c_in, coefs0, rtol=0, atol=0)
    assert_list_close(i_in, inter0, rtol=0, atol=0)


def test_inputs_not_modified():
    kind, X, y, _ = make_data("multiclass")
    sw = np.random.RandomState(0).uniform(0.5, 1.5, N)
    X0, y0, sw0 = X.copy(), y.copy(), sw.copy()
    nm = MLPClassifier(**base_params(batch_size=BATCH))
    nm.fit(X, y, sample_weight=sw)
    nm.partial_fit(X, y, sample_weight=sw)
    nm.predict(X)
    nm.predict_proba(X)
    nm.score(X, y, sample_weight=sw)
    assert_array_equal(X, X0)
    assert_array_equal(y, y0)
    assert_array_equal(sw, sw0)


def test_column_vector_y_parity():
    from sklearn.exceptions import DataConversionWarning

    kind, X, y, _ = make_data("reg")
    sk, nm = pair(kind, **base_params(batch_size=BATCH))
    with pytest.warns(DataConversionWarning):
        sk.fit(X, y.reshape(-1, 1))
    with pytest.warns(DataConversionWarning):
        nm.fit(X, y.reshape(-1, 1))
    assert_same_fit(sk, nm)
    assert nm.predict(X).shape == sk.predict(X).shape == (N,)


@pytest.mark.parametrize(
    "target, params",
    [
        (
            "multiclass",
            dict(
                solver="sgd",
                learning_rate="adaptive",
                learning_rate_init=0.5,
                tol=0.2,
                n_iter_no_change=2,
                max_iter=40,
            ),
        ),
        (
            "reg",
            dict(
                solver="adam",
                learning_rate_init=0.01,
                early_stopping=True,
                validation_fraction=0.2,
                max_iter=8,
            ),
        ),
    ],
)
def test_verbose_output_parity(target, params, capsys):
    kind, X, y, extra = make_data(target)
    sk, nm = pair(kind, **base_params(batch_size=BATCH, verbose=True, **params))
    sk.fit(X, y)
    out_sk = capsys.readouterr().out
    nm.fit(X, y)
    out_nm = capsys.readouterr().out
    assert "Iteration 1, loss = " in out_sk
    assert out_nm == out_sk


@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
@pytest.mark.parametrize("target", ["multiclass", "reg"])
def test_sparse_partial_fit_parity(target, solver):
    kind, X, y, extra = make_data(target)
    X = X.copy()
    X[np.abs(X) < 0.6] = 0.0
    Xs = sp.csr_matrix(X)
    sk, nm = pair(kind, **base_params(batch_size=BATCH, **SOLVERS[solver]))
    kw = {"classes": np.unique(y)} if kind == "clf" else {}
    for idx in [np.arange(40), np.arange(40, N)]:
        sk.partial_fit(Xs[idx], y[idx], **kw)
        nm.partial_fit(Xs[idx], y[idx], **kw)
        kw = {}
        assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, Xs, y)


@pytest.mark.parametrize(
    "hidden",
    [[], (), 5, np.array([4, 3]), [3, 3, 2]],
    ids=["empty-list", "empty-tuple", "int", "ndarray", "three-layers"],
)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("target", ["binary", "reg_multi"])
def test_hidden_layer_sizes_forms_parity(target, solver, hidden):
    kind, X, y, extra = make_data(target)
    params = base_params(solver=solver, hidden_layer_sizes=hidden)
    if solver == "adam":
        params.update(batch_size=BATCH, learning_rate_init=0.01)
        tol = {}
    else:
        tol = dict(coef_rtol=1e-5, coef_atol=1e-7)
    sk, nm = fit_pair(kind, X, y, **params)
    assert_same_fit(sk, nm, **tol)
    assert_same_predictions(sk, nm, X, y, rtol=1e-5)


@pytest.mark.parametrize(
    "labels",
    [[-3, 7], [False, True], ["no", "yes"], [1.0, 2.0]],
    ids=["ints", "bools", "strings", "floats"],
)
def test_binary_label_types_parity(labels):
    _, X, y, _ = make_data("binary")
    y_lab = np.array(labels)[y]
    sk, nm = fit_pair("clf", X, y_lab, **base_params(batch_size=BATCH))
    assert_same_fit(sk, nm)
    assert_same_predictions(sk, nm, X, y_lab)


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "lbfgs"])
def test_poisson_with_zero_targets_parity(solver):
    kind, X, y, extra = make_data("poisson")
    y = np.floor(y)  # many exact zeros
    assert (y == 0).sum() > 5
    if solver == "lbfgs":
        params, tol = base_params(solver="lbfgs", **extra), dict(coef_rtol=1e-5, coef_atol=1e-7)
    else:
        params, tol = base_params(batch_size=BATCH, **SOLVERS[solver], **extra), {}
    sk, nm = fit_pair(kind, X, y, **params)
    assert_same_fit(sk, nm, **tol)
    assert_same_predictions(sk, nm, X, y, rtol=1e-5)


def test_batch_size_clipping_warning_parity():
    kind, X, y, _ = make_data("reg")
    sk, nm = pair(kind, **base_params(batch_size=N + 1))
    with warnings.catch_warnings(record=True) as rec_sk:
        warnings.simplefilter("always")
        sk.fit(X, y)
    with warnings.catch_warnings(record=True) as rec_nm:
        warnings.simplefilter("always")
        nm.fit(X, y)
    sk_msgs = sorted((w.category.__name__, str(w.message)) for w in rec_sk)
    nm_msgs = sorted((w.category.__name__, str(w.message)) for w in rec_nm)
    assert any("clipped" in m for _, m in sk_msgs)
    assert nm_msgs == sk_msgs
    assert_same_fit(sk, nm)
