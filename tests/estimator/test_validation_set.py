"""fit(..., X_val=, y_val=, sample_weight_val=): a validation set given to fit.

- With a validation set given, early stopping splits nothing off: all of X
  is trained on, and the random draws are those of a fit without early
  stopping (weights, then one shuffle per epoch). So epoch k's validation
  score is the accuracy (``sklearn.metrics.accuracy_score``) on X_val of a
  second model trained for k epochs without early stopping, and the
  weights kept are those of that model at the best epoch, bitwise.
- sample_weight_val weighs the validation score (weighted accuracy).
- The refusals: only one of X_val/y_val, sample_weight_val alone,
  early_stopping=False or L-BFGS, labels y has not got, the wrong number of
  outputs, a wrong number of features; each with a message naming the
  problem, and the estimator (unfitted or fitted) left bitwise as it was.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score

from numba_mlp import MLPClassifier, MLPRegressor

from helpers import (
    SMALL,
    Y_3,
    Y_REG,
    X,
    assert_bitwise_same_fit,
    assert_refused,
)

EPOCHS = 6
PARAMS = dict(SMALL, hidden_layer_sizes=(8,), learning_rate_init=0.03, batch_size=16)
_rng = np.random.RandomState(3)
X_VAL = X[:30] + 0.5 * _rng.randn(30, X.shape[1])
Y3_VAL = np.roll(Y_3[:30], 1)
YREG_VAL = Y_REG[:30] + 0.3 * _rng.randn(30)
SW_VAL = _rng.uniform(0.1, 3.0, 30)


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def trained_for(cls, epochs, y, **params):
    """A model of ``cls`` trained ``epochs`` epochs on all of X, no early stopping."""
    return quiet_fit(cls(**dict(PARAMS, max_iter=epochs, **params)), X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight_val"])
def test_scores_are_those_of_models_trained_on_all_of_X(solver, weighted):
    sw_val = SW_VAL if weighted else None
    est = quiet_fit(
        MLPClassifier(
            **dict(PARAMS, solver=solver, max_iter=EPOCHS),
            early_stopping=True,
            n_iter_no_change=EPOCHS,
        ),
        X,
        Y_3,
        X_val=X_VAL,
        y_val=Y3_VAL,
        sample_weight_val=sw_val,
    )
    assert est.n_iter_ == EPOCHS
    models = [trained_for(MLPClassifier, k, Y_3, solver=solver) for k in range(1, EPOCHS + 1)]
    expected = [
        accuracy_score(Y3_VAL, model.predict(X_VAL), sample_weight=sw_val) for model in models
    ]
    assert est.validation_scores_ == expected
    assert len(set(expected)) > 1  # the scores tell the epochs apart
    best = int(np.argmax(expected))  # the first of the best, as scikit-learn keeps
    assert est.best_validation_score_ == expected[best]
    assert_bitwise_same_fit(est, models[best])
    # trained on all of X: the samples seen are n_samples per epoch
    assert est.t_ == EPOCHS * X.shape[0]
    assert est.loss_curve_ == models[-1].loss_curve_


def test_regressor_scores_are_r2_of_models_trained_on_all_of_X():
    est = quiet_fit(
        MLPRegressor(**dict(PARAMS, max_iter=EPOCHS), early_stopping=True, n_iter_no_change=EPOCHS),
        X,
        Y_REG,
        X_val=X_VAL,
        y_val=YREG_VAL,
    )
    models = [trained_for(MLPRegressor, k, Y_REG) for k in range(1, EPOCHS + 1)]
    expected = [r2_score(YREG_VAL, model.predict(X_VAL)) for model in models]
    np.testing.assert_allclose(est.validation_scores_, expected, rtol=1e-12)
    assert_bitwise_same_fit(est, models[int(np.argmax(expected))])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_validation_set_accepts_lists_and_column_targets():
    params = dict(PARAMS, max_iter=3, early_stopping=True)
    a = MLPRegressor(**params).fit(X, Y_REG, X_val=X_VAL, y_val=YREG_VAL)
    with pytest.warns(DataConversionWarning, match="column-vector y"):  # as for y
        b = MLPRegressor(**params).fit(X, Y_REG, X_val=X_VAL.tolist(), y_val=YREG_VAL[:, None])
    assert a.validation_scores_ == b.validation_scores_


def fit_with(**fit_kwargs):
    def call(est):
        return est.fit(X, Y_3 if isinstance(est, MLPClassifier) else Y_REG, **fit_kwargs)

    return call


ES = {"early_stopping": True}


@pytest.mark.parametrize(
    "kind,call,params,match",
    [
        ("clf", fit_with(X_val=X_VAL), ES, r"X_val is provided, but y_val was not provided"),
        ("clf", fit_with(y_val=Y3_VAL), ES, r"y_val is provided, but X_val was not provided"),
        ("reg", fit_with(sample_weight_val=SW_VAL), ES, r"sample_weight_val is given without"),
        ("clf", fit_with(X_val=X_VAL, y_val=Y3_VAL), {}, r"early_stopping=False"),
        (
            "clf",
            fit_with(X_val=X_VAL, y_val=Y3_VAL),
            {"early_stopping": True, "solver": "lbfgs"},
            r"solver='lbfgs'",
        ),
        ("clf", fit_with(X_val=X_VAL, y_val=Y3_VAL + 5), ES, r"y_val has classes not seen in y"),
        (
            "reg",
            fit_with(X_val=X_VAL, y_val=np.column_stack([YREG_VAL, YREG_VAL])),
            ES,
            r"y_val has 2 output\(s\), but y has 1",
        ),
        ("reg", fit_with(X_val=X_VAL[:, :3], y_val=YREG_VAL), ES, r"3 features"),
        ("reg", fit_with(X_val=X_VAL, y_val=YREG_VAL[:-1]), ES, r"inconsistent numbers"),
        (
            "clf",
            fit_with(X_val=X_VAL, y_val=Y3_VAL, sample_weight_val=SW_VAL[:-1]),
            ES,
            r"sample_weight",
        ),
        ("reg", fit_with(X_val=X_VAL[:1], y_val=YREG_VAL[:1]), ES, r"at least 2"),
    ],
    ids=[
        "only_X_val",
        "only_y_val",
        "only_sample_weight_val",
        "no_early_stopping",
        "lbfgs",
        "unknown_class",
        "wrong_n_outputs",
        "wrong_n_features",
        "inconsistent_length",
        "wrong_sample_weight_val_length",
        "one_sample",
    ],
)
def test_refused_validation_set_leaves_estimator_unchanged(kind, call, params, match):
    assert_refused(kind, call, ValueError, match, params=params, sklearn=None)
