"""``dropout`` through the public API.

- Reproducible: two fits with one random_state are bitwise equal; the masks
  come from random_state (from the same initial weights and no shuffling,
  two random_states train alike without dropout and differently with it).
- Prediction never drops: predict_proba is the NumPy reference's forward
  pass (tests/reference.py) of coefs_/intercepts_, and repeatable.
- dropout=0.0, or a rate of 0 for every layer, draws nothing: bitwise the
  fit without dropout, and scikit-learn's weights (to 1e-13).
- One rate per hidden layer; the refusals (wrong number of rates, a rate of
  1 or below 0, L-BFGS with dropout) raise ValueError before training and
  leave the estimator unchanged.
- Training with dropout changes the loss curve; on digits, (64,) hidden
  nodes with dropout=0.2 reach a test accuracy within 3 points of no dropout.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from numba_mlp import MLPClassifier, MLPRegressor

import reference as ref
from helpers import (
    SMALL,
    Y_3,
    Y_REG,
    X,
    assert_bitwise_same_fit,
    assert_refused,
)

TWO_LAYERS = dict(SMALL, hidden_layer_sizes=(6, 5), max_iter=8, batch_size=16)


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def weights_differ(a, b):
    return any(not np.array_equal(x, y) for x, y in zip(a.coefs_, b.coefs_))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("dropout", [0.3, [0.5, 0.1]], ids=["scalar", "per_layer"])
def test_reproducible_for_a_random_state(solver, dropout):
    params = dict(TWO_LAYERS, solver=solver, dropout=dropout)
    a = quiet_fit(MLPClassifier(**params), X, Y_3)
    b = quiet_fit(MLPClassifier(**params), X, Y_3)
    assert_bitwise_same_fit(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert weights_differ(a, quiet_fit(MLPClassifier(**dict(params, dropout=0.0)), X, Y_3))


def test_masks_come_from_random_state():
    rng = np.random.default_rng(0)
    coefs, intercepts = ref.random_parameters([4, 6, 5, 3], rng)
    init = dict(coefs_init=coefs, intercepts_init=intercepts)
    params = dict(TWO_LAYERS, shuffle=False)

    def fit(random_state, dropout):
        est = MLPClassifier(**dict(params, random_state=random_state, dropout=dropout))
        return quiet_fit(est, X, Y_3, **init)

    # without dropout the random_state is not used: same initial weights, no shuffling
    assert_bitwise_same_fit(fit(0, 0.0), fit(1, 0.0))
    assert weights_differ(fit(0, 0.3), fit(1, 0.3))
    assert_bitwise_same_fit(fit(0, 0.3), fit(0, 0.3))


def test_partial_fit_with_dropout_reproducible():
    runs = []
    for _ in range(2):
        est = MLPRegressor(**dict(TWO_LAYERS, dropout=0.4))
        for batch in np.array_split(np.arange(X.shape[0]), 3):
            est.partial_fit(X[batch], Y_REG[batch])
        runs.append(est)
    assert_bitwise_same_fit(*runs)
    plain = MLPRegressor(**TWO_LAYERS)
    for batch in np.array_split(np.arange(X.shape[0]), 3):
        plain.partial_fit(X[batch], Y_REG[batch])
    assert weights_differ(runs[0], plain)


@pytest.mark.parametrize("hidden", ["relu", "tanh", "gelu"])
def test_prediction_never_drops(hidden):
    est = quiet_fit(MLPClassifier(**dict(TWO_LAYERS, activation=hidden, dropout=0.5)), X, Y_3)
    expected = ref.forward(X, est.coefs_, est.intercepts_, hidden, "softmax")[-1]
    first = est.predict_proba(X)
    assert_allclose(first, expected, rtol=1e-12)
    assert_array_equal(est.predict_proba(X), first)
    assert_array_equal(est.predict(X), est.classes_[expected.argmax(axis=1)])


@pytest.mark.parametrize("dropout", [0.0, [0.0, 0.0]], ids=["scalar", "per_layer"])
@pytest.mark.parametrize(
    "sk_cls,nm_cls,y",
    [(SkMLPClassifier, MLPClassifier, Y_3), (SkMLPRegressor, MLPRegressor, Y_REG)],
    ids=["classifier", "regressor"],
)
def test_zero_dropout_is_scikit_learn(sk_cls, nm_cls, y, dropout):
    """No draw is made: bitwise the fit without the parameter, and
    scikit-learn's weights (to the last bit or two: the project's parity is
    1e-15, not bitwise, see tests/estimator/test_parity.py)."""
    sk = quiet_fit(sk_cls(**TWO_LAYERS), X, y)
    default = quiet_fit(nm_cls(**TWO_LAYERS), X, y)
    nm = quiet_fit(nm_cls(**TWO_LAYERS, dropout=dropout), X, y)
    assert_bitwise_same_fit(nm, default)
    assert nm.loss_curve_ == default.loss_curve_
    for ours, theirs in zip(nm.coefs_ + nm.intercepts_, sk.coefs_ + sk.intercepts_):
        assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)
    assert_allclose(nm.loss_curve_, sk.loss_curve_, rtol=1e-13)


def test_per_layer_rates_are_used_per_layer():
    """A rate for the first layer only trains differently from one for the
    second only, and from the same rate for both."""
    fits = {
        name: quiet_fit(MLPClassifier(**dict(TWO_LAYERS, dropout=rates)), X, Y_3)
        for name, rates in [("first", [0.4, 0.0]), ("second", [0.0, 0.4]), ("both", 0.4)]
    }
    assert weights_differ(fits["first"], fits["second"])
    assert weights_differ(fits["first"], fits["both"])
    assert weights_differ(fits["second"], fits["both"])
    for est in fits.values():
        assert np.isfinite(est.loss_)


def test_dropout_changes_loss_curve():
    plain = quiet_fit(MLPRegressor(**TWO_LAYERS), X, Y_REG)
    dropped = quiet_fit(MLPRegressor(**dict(TWO_LAYERS, dropout=0.3)), X, Y_REG)
    assert len(plain.loss_curve_) == len(dropped.loss_curve_)
    assert all(a != b for a, b in zip(plain.loss_curve_, dropped.loss_curve_))


def fit_with_dropout(est):
    return est.fit(X, Y_3 if isinstance(est, MLPClassifier) else Y_REG)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize(
    "params,exc,match",
    [
        ({"dropout": [0.1, 0.2]}, ValueError, r"dropout has 2 rates for 1 hidden layer"),
        ({"dropout": [0.1]}, ValueError, None),  # one rate per layer: accepted
        ({"dropout": 1.0}, InvalidParameterError, r"dropout"),
        ({"dropout": -0.1}, InvalidParameterError, r"dropout"),
        ({"dropout": [1.0]}, ValueError, r"must be in \[0, 1\)"),
        ({"dropout": [-0.1]}, ValueError, r"must be in \[0, 1\)"),
        ({"dropout": [np.nan]}, ValueError, r"must be in \[0, 1\)"),
        ({"dropout": 0.2, "solver": "lbfgs"}, ValueError, r"dropout needs a stochastic solver"),
    ],
    ids=[
        "too_many_rates",
        "one_rate_per_layer",
        "rate_one",
        "negative",
        "listed_rate_one",
        "listed_negative",
        "nan",
        "lbfgs",
    ],
)
def test_refused_dropout_leaves_estimator_unchanged(kind, params, exc, match):
    if match is None:
        cls = MLPClassifier if kind == "clf" else MLPRegressor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_with_dropout(cls(**SMALL, **params))
        return
    assert_refused(kind, fit_with_dropout, exc, match, params=params, sklearn=None)


def test_lbfgs_accepts_zero_dropout():
    est = quiet_fit(MLPClassifier(**dict(SMALL, solver="lbfgs", dropout=[0.0])), X, Y_3)
    sk = quiet_fit(SkMLPClassifier(**dict(SMALL, solver="lbfgs")), X, Y_3)
    for ours, theirs in zip(est.coefs_ + est.intercepts_, sk.coefs_ + sk.intercepts_):
        assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@pytest.mark.slow
def test_digits_accuracy_with_dropout_close_to_without():
    X_digits, y_digits = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X_digits, y_digits, test_size=0.3, random_state=0, stratify=y_digits
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    params = dict(hidden_layer_sizes=(64,), max_iter=40, random_state=0)
    plain = quiet_fit(MLPClassifier(**params), X_train, y_train)
    dropped = quiet_fit(MLPClassifier(**params, dropout=0.2), X_train, y_train)
    assert weights_differ(plain, dropped)
    plain_accuracy = plain.score(X_test, y_test)
    assert plain_accuracy > 0.9  # a model worth comparing with
    assert abs(dropped.score(X_test, y_test) - plain_accuracy) <= 0.03
