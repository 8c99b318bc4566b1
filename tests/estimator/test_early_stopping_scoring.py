"""``scoring``: what early stopping watches, against sklearn.metrics.

Every epoch's validation score is checked against the metric of a second
model trained for that many epochs on all of X without early stopping (a
validation set given to fit splits nothing off, so the two train alike),
and the best score against the metric of the model early stopping keeps:

- 'loss': the negative mean validation data loss, without the L2 term
  (alpha is large here, so the term would show): ``log_loss`` (with
  sample_weight_val too), half ``mean_squared_error`` averaged over
  outputs, half ``mean_poisson_deviance``, ``mean_pinball_loss``;
- a scorer name ('balanced_accuracy'): ``balanced_accuracy_score``;
- a callable: called once per epoch with the estimator and the validation
  set, and what it returns is recorded;
- None: scikit-learn's own ``validation_scores_`` (its MLPClassifier and
  MLPRegressor on the same data and random_state).
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    balanced_accuracy_score,
    log_loss,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_error,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import numba_mlp._multilayer_perceptron as mlp_module
from numba_mlp import MLPClassifier, MLPRegressor

from helpers import SMALL, Y_3, Y_BIN, Y_POISSON, Y_REG, X, assert_bitwise_same_fit

EPOCHS = 5
PARAMS = dict(SMALL, hidden_layer_sizes=(8,), learning_rate_init=0.03, batch_size=16, alpha=1.0)
_rng = np.random.RandomState(5)
VAL = slice(0, 30)
X_VAL = X[VAL] + 0.5 * _rng.randn(30, X.shape[1])
SW_VAL = _rng.uniform(0.1, 3.0, 30)
Y_2OUT = np.column_stack([Y_REG, np.sin(3 * Y_REG)])


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def fit_and_models(cls, y, y_val, scoring, sample_weight_val=None, **params):
    """The early-stopping fit scored by ``scoring`` on (X_VAL, y_val), and the
    models trained 1, ..., EPOCHS epochs on all of X without early stopping."""
    params = dict(PARAMS, **params)
    est = quiet_fit(
        cls(**dict(params, max_iter=EPOCHS), early_stopping=True, n_iter_no_change=EPOCHS,
            scoring=scoring),
        X,
        y,
        X_val=X_VAL,
        y_val=y_val,
        sample_weight_val=sample_weight_val,
    )  # fmt: skip
    assert est.n_iter_ == EPOCHS
    models = [quiet_fit(cls(**dict(params, max_iter=k)), X, y) for k in range(1, EPOCHS + 1)]
    return est, models


def assert_scores(est, models, metric, rtol=1e-10):
    expected = [metric(model) for model in models]
    assert_allclose(est.validation_scores_, expected, rtol=rtol)
    best = int(np.argmax(expected))
    assert_bitwise_same_fit(est, models[best])
    assert_allclose(est.best_validation_score_, expected[best], rtol=rtol)


@pytest.mark.parametrize("y", [Y_BIN, Y_3], ids=["binary", "multiclass"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight_val"])
def test_classifier_loss_is_negative_log_loss(y, weighted):
    sw_val = SW_VAL if weighted else None
    y_val = np.roll(y[VAL], 2)
    est, models = fit_and_models(MLPClassifier, y, y_val, "loss", sample_weight_val=sw_val)
    assert_scores(
        est,
        models,
        lambda m: -log_loss(y_val, m.predict_proba(X_VAL), sample_weight=sw_val, labels=m.classes_),
    )


def test_regressor_loss_is_negative_half_mse_averaged_over_outputs():
    y_val = Y_2OUT[VAL] + 0.2
    est, models = fit_and_models(MLPRegressor, Y_2OUT, y_val, "loss")
    assert_scores(est, models, lambda m: -0.5 * mean_squared_error(y_val, m.predict(X_VAL)))


def test_poisson_loss_is_negative_half_mean_poisson_deviance():
    y_val = Y_POISSON[VAL][::-1].copy()
    est, models = fit_and_models(MLPRegressor, Y_POISSON, y_val, "loss", loss="poisson")
    assert_scores(est, models, lambda m: -0.5 * mean_poisson_deviance(y_val, m.predict(X_VAL)))


def test_quantile_loss_is_negative_mean_pinball_loss():
    y_val = Y_2OUT[VAL] - 0.3
    est, models = fit_and_models(
        MLPRegressor, Y_2OUT, y_val, "loss", sample_weight_val=SW_VAL, loss="quantile",
        quantile=0.7,
    )  # fmt: skip
    assert_scores(
        est,
        models,
        lambda m: -mean_pinball_loss(y_val, m.predict(X_VAL), alpha=0.7, sample_weight=SW_VAL),
    )


def test_loss_of_internal_split_equals_log_loss_of_best_model(monkeypatch):
    """Without a given validation set: the best score is the log loss of the
    kept model on the samples the split set aside (caught on their way out
    of train_test_split)."""
    splits = []

    def recording_split(*arrays, **options):
        result = train_test_split(*arrays, **options)
        splits.append(result)
        return result

    monkeypatch.setattr(mlp_module, "train_test_split", recording_split)
    params = dict(PARAMS, max_iter=EPOCHS, early_stopping=True, validation_fraction=0.3)
    est = quiet_fit(MLPClassifier(**params, scoring="loss"), X, Y_3)
    (split,) = splits
    X_val, y_val = split[1], split[3]  # y_val binarized, one column per class
    assert X_val.shape[0] == 18
    expected = -log_loss(y_val.argmax(axis=1), est.predict_proba(X_val), labels=[0, 1, 2])
    assert_allclose(est.best_validation_score_, expected, rtol=1e-10)
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_balanced_accuracy_scorer_name():
    y = np.where(np.arange(X.shape[0]) % 5 == 0, 2, Y_BIN)  # unbalanced
    y_val = np.roll(y[VAL], 3)
    est, models = fit_and_models(MLPClassifier, y, y_val, "balanced_accuracy", alpha=1e-4)
    assert_scores(est, models, lambda m: balanced_accuracy_score(y_val, m.predict(X_VAL)))


def test_callable_scorer_called_with_estimator_and_validation_set():
    calls = []

    def scorer(estimator, X, y, sample_weight=None):
        calls.append((estimator, np.array(X), np.array(y), sample_weight))
        return float(np.sum(estimator.coefs_[-1]))  # any number the model determines

    y_val = Y_3[VAL]
    est, models = fit_and_models(MLPClassifier, Y_3, y_val, scorer, sample_weight_val=SW_VAL)
    assert len(calls) == EPOCHS
    for estimator, X_seen, y_seen, sw_seen in calls:
        assert estimator is est
        assert_array_equal(X_seen, X_VAL)
        assert_array_equal(y_seen, y_val)
        assert_array_equal(sw_seen, SW_VAL)
    assert_scores(est, models, lambda m: float(np.sum(m.coefs_[-1])), rtol=0)


def test_callable_scorer_without_sample_weight_parameter():
    """The documented signature ``scorer(estimator, X, y)``, no sample weights."""

    def scorer(estimator, X, y):
        return -float(np.abs(estimator.predict(X) - y).mean())

    y_val = Y_REG[VAL]
    est, models = fit_and_models(MLPRegressor, Y_REG, y_val, scorer)
    assert_scores(est, models, lambda m: scorer(m, X_VAL, y_val))


@pytest.mark.parametrize(
    "sk_cls,nm_cls,y",
    [(SkMLPClassifier, MLPClassifier, Y_3), (SkMLPRegressor, MLPRegressor, Y_REG)],
    ids=["classifier", "regressor"],
)
@pytest.mark.parametrize("with_sample_weight", [False, True], ids=["no_sw", "sw"])
def test_scoring_none_is_scikit_learn(sk_cls, nm_cls, y, with_sample_weight):
    sample_weight = np.linspace(0.5, 2.0, X.shape[0]) if with_sample_weight else None
    params = dict(PARAMS, max_iter=8, early_stopping=True, validation_fraction=0.3)
    sk = quiet_fit(sk_cls(**params), X, y, sample_weight=sample_weight)
    nm = quiet_fit(nm_cls(**params, scoring=None), X, y, sample_weight=sample_weight)
    assert_allclose(nm.validation_scores_, sk.validation_scores_, rtol=1e-12)
    assert nm.n_iter_ == sk.n_iter_
