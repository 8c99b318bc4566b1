"""Errors that depend on the estimator's state, and fits that fail midway.

Against the installed scikit-learn's exception (type and message) on the
same call (``assert_same_error``): predicting before fitting, data with
another number of features than the fit, partial_fit and warm_start misuse
(L-BFGS, classes, early stopping), and fits that diverge. A refused call
leaves no half-fitted model, and one after a good fit leaves that model
bitwise as it was (``snapshot`` / ``assert_unchanged``).
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from numba_mlp import MLPClassifier, MLPRegressor

from helpers import (
    CLASSES,
    SMALL,
    TARGETS,
    Y_3,
    Y_BIN,
    Y_REG,
    X,
    assert_not_fitted,
    assert_same_error,
    assert_unchanged,
    raised,
    snapshot,
    with_value,
)

pytestmark = pytest.mark.filterwarnings("ignore")

# ---------------------------------------------------------------------------
# fitted-state errors
# ---------------------------------------------------------------------------


CLF_METHODS = ["predict", "predict_proba", "predict_log_proba", "score"]
REG_METHODS = ["predict", "score"]


@pytest.mark.parametrize(
    "kind, method",
    [("clf", m) for m in CLF_METHODS + ["partial_fit"]]
    + [("reg", m) for m in REG_METHODS + ["partial_fit"]],
)
def test_wrong_n_features(kind, method):
    X3 = X[:, :3]

    def call(est):
        if method in ("score", "partial_fit"):
            getattr(est, method)(X3, TARGETS[kind])
        else:
            getattr(est, method)(X3)

    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    assert_same_error(
        kind,
        call,
        fitted_with=lambda e: e.fit(X, TARGETS[kind]),
        match=re.escape(f"X has 3 features, but {name} is expecting 4 features as input"),
    )


@pytest.mark.parametrize(
    "kind, method",
    [("clf", m) for m in CLF_METHODS] + [("reg", m) for m in REG_METHODS],
)
def test_not_fitted(kind, method):
    def call(est):
        if method == "score":
            est.score(X, TARGETS[kind])
        else:
            getattr(est, method)(X)

    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    assert_same_error(kind, call, match=re.escape(f"This {name} instance is not fitted yet"))


# ---------------------------------------------------------------------------
# partial_fit / warm_start
# ---------------------------------------------------------------------------


def test_partial_fit_lbfgs_classifier():
    sk = SkMLPClassifier(solver="lbfgs")
    nm = MLPClassifier(solver="lbfgs")
    assert not hasattr(sk, "partial_fit")
    assert not hasattr(nm, "partial_fit")
    assert_same_error(
        "clf",
        lambda est: est.partial_fit(X, Y_BIN, classes=[0, 1]),
        params={"solver": "lbfgs"},
        match=re.escape("has no attribute 'partial_fit'"),
    )


def test_partial_fit_lbfgs_regressor():
    # scikit-learn 1.9.1's MLPRegressor guards partial_fit with
    # ``available_if(lambda est: est._check_solver)`` (the method is never
    # called, so the guard is always truthy) and then silently runs lbfgs.
    # numba_mlp follows the documented intent instead, as MLPClassifier does:
    # no partial_fit for a non-stochastic solver.
    assert hasattr(SkMLPRegressor(solver="lbfgs"), "partial_fit")  # the quirk
    nm = MLPRegressor(solver="lbfgs", **SMALL)
    assert not hasattr(nm, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        nm.partial_fit(X, Y_REG)
    assert_not_fitted(nm)


def _pf3(est):
    est.partial_fit(X, Y_3, classes=[0, 1, 2])


def test_partial_fit_unseen_class():
    y_bad = Y_3.copy()
    y_bad[-1] = 5
    nm = MLPClassifier(**SMALL)
    _pf3(nm)
    snap = snapshot(nm)
    assert_same_error("clf", lambda est: est.partial_fit(X, y_bad), fitted_with=_pf3)
    with pytest.raises(ValueError):
        nm.partial_fit(X, y_bad)
    assert_unchanged(nm, snap)
    assert_array_equal(nm.classes_, [0, 1, 2])


def test_partial_fit_different_classes_argument():
    nm = MLPClassifier(**SMALL)
    _pf3(nm)
    snap = snapshot(nm)
    assert_same_error(
        "clf",
        lambda est: est.partial_fit(X, Y_BIN, classes=[0, 1]),
        fitted_with=_pf3,
        match=re.escape("is not the same as on last call to partial_fit"),
    )
    with pytest.raises(ValueError):
        nm.partial_fit(X, Y_BIN, classes=[0, 1])
    assert_unchanged(nm, snap)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_early_stopping(kind):
    kw = {"classes": [0, 1]} if kind == "clf" else {}
    nm = assert_same_error(
        kind,
        lambda est: est.partial_fit(X, TARGETS[kind], **kw),
        params={"early_stopping": True},
        match=re.escape("partial_fit does not support early_stopping=True"),
    )
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_bad_input_after_fit_keeps_model(kind):
    nm = CLASSES[kind][1](**SMALL).fit(X, TARGETS[kind])
    snap = snapshot(nm)
    with pytest.raises(ValueError):
        nm.partial_fit(with_value(X, (0, 0), np.nan), TARGETS[kind])
    with pytest.raises(ValueError):
        nm.partial_fit(X[:, :3], TARGETS[kind])
    assert_unchanged(nm, snap)


def test_warm_start_different_classes():
    params = {**SMALL, "warm_start": True}
    nm = MLPClassifier(**params).fit(X, Y_3)
    snap = snapshot(nm)
    assert_same_error(
        "clf",
        lambda est: est.fit(X, Y_BIN),
        params={"warm_start": True},
        fitted_with=lambda e: e.fit(X, Y_3),
        match=re.escape(
            "warm_start can only be used where `y` has the same classes "
            "as in the previous call to fit."
        ),
    )
    with pytest.raises(ValueError):
        nm.fit(X, Y_BIN)
    assert_unchanged(nm, snap)
    assert_array_equal(nm.classes_, [0, 1, 2])


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------

DIVERGING = [
    ("reg", dict(solver="sgd", learning_rate_init=1e10), 1.0),
    ("clf", dict(solver="sgd", learning_rate_init=1.0), 1e300),
    ("reg", dict(solver="adam"), 1e300),
]


@pytest.mark.parametrize("kind, params, scale", DIVERGING)
def test_diverging_fit_raises(kind, params, scale):
    y = TARGETS[kind].copy()
    Xs = X * scale
    X0, y0 = Xs.copy(), y.copy()
    nm = assert_same_error(kind, lambda est: est.fit(Xs, y), params=params, match="non-finite")
    assert_not_fitted(nm)
    assert_array_equal(Xs, X0)
    assert_array_equal(y, y0)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_diverging_continuation_keeps_model(kind, how):
    # a large step that is still fine on the scaled data, but blows up once
    # the continuation sees huge inputs
    params = dict(
        SMALL,
        solver="sgd",
        learning_rate_init=1e10 if kind == "clf" else 1.0,
        warm_start=(how == "warm_start"),
    )

    def continue_(est):
        if how == "warm_start":
            est.fit(X * 1e300, TARGETS[kind])
        else:
            est.partial_fit(X * 1e300, TARGETS[kind])

    # scikit-learn diverges too on this continuation
    sk = CLASSES[kind][0](**params).fit(X, TARGETS[kind])
    assert "non-finite" in str(raised(lambda: continue_(sk)))

    nm = CLASSES[kind][1](**params)
    nm.fit(X, TARGETS[kind])
    snap = snapshot(nm)
    with pytest.raises(ValueError, match="non-finite"):
        continue_(nm)
    assert_unchanged(nm, snap)
