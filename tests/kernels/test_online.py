"""The per-example path (``kernels.online``, ``batch_size=1`` on dense data
without dropout) against the minibatch path it replaces, which the parity
tests hold to scikit-learn: the same weights bit for bit, the same loss
curve, whatever the optimiser, activation, loss, dtype or sample weights.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numba_mlp import MLPClassifier, MLPRegressor, _training
from numba_mlp.kernels import online, training

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((80, 6))
CLASSES = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
VALUES = np.column_stack([X @ RNG.standard_normal(6), np.abs(X[:, 2])])
WEIGHTS = RNG.uniform(0.2, 3.0, 80)
TARGETS = {"binary": (X[:, 0] > 0).astype(int), "one output": VALUES[:, 0]}

CASES = {
    "sgd nesterov": (MLPClassifier, dict(solver="sgd", momentum=0.9)),
    "sgd no momentum": (MLPClassifier, dict(solver="sgd", momentum=0.0, nesterovs_momentum=False)),
    "sgd momentum": (MLPClassifier, dict(solver="sgd", nesterovs_momentum=False)),
    "adam two layers": (MLPClassifier, dict(hidden_layer_sizes=(7, 5))),
    "gelu keeps net inputs": (MLPClassifier, dict(activation="gelu", hidden_layer_sizes=(7, 5))),
    "tanh regression": (MLPRegressor, dict(activation="tanh")),
    "huber": (MLPRegressor, dict(loss="huber", solver="sgd")),
    "alpha 0": (MLPRegressor, dict(alpha=0.0, activation="logistic")),
    # one output node (its weights changed as a column), sgd and adam
    "binary sgd": (MLPClassifier, dict(solver="sgd", y="binary")),
    "one output adam": (MLPRegressor, dict(y="one output")),
    # 6 x 700 and 700 x 70 multiply-adds a sample: products handed to BLAS
    "wide layers": (MLPClassifier, dict(hidden_layer_sizes=(700, 70), activation="tanh")),
}


def minibatches_of_one(data, net, problem, order, params, work, optimizer):
    """What ``train_examples`` replaces: ``train_epoch`` with batches of one."""
    grads = np.empty_like(params)
    return training.train_epoch(data, net, problem, order, 1, params, grads, work, optimizer, 0)


def _fit(estimator_class, params, kernel, monkeypatch, dtype=np.float64, sample_weight=None):
    """Fit with ``kernel`` as the per-example path; assert it ran every epoch."""
    calls = []

    def counted(*args):
        calls.append(1)
        return kernel(*args)

    monkeypatch.setattr(_training, "train_examples", counted)
    params = dict(params)
    y = TARGETS[params.pop("y")] if "y" in params else None
    if y is None:
        y = CLASSES if estimator_class is MLPClassifier else VALUES
    settings = dict(hidden_layer_sizes=(9,), batch_size=1, max_iter=3, random_state=0)
    estimator = estimator_class(**{**settings, **params})
    estimator.fit(X.astype(dtype), y, sample_weight=sample_weight)
    assert len(calls) == estimator.n_iter_
    return estimator


FLOAT32_CASES = ["sgd nesterov", "adam two layers"]


@pytest.mark.parametrize(
    "case, dtype",
    [(case, np.float64) for case in CASES] + [(case, np.float32) for case in FLOAT32_CASES],
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_same_weights_and_losses_as_the_minibatch_path(case, dtype, weighted, monkeypatch):
    estimator_class, params = CASES[case]
    sample_weight = WEIGHTS if weighted else None
    per_example = _fit(
        estimator_class, params, online.train_examples, monkeypatch, dtype, sample_weight
    )
    batches = _fit(estimator_class, params, minibatches_of_one, monkeypatch, dtype, sample_weight)
    for ours, theirs in zip(
        per_example.coefs_ + per_example.intercepts_, batches.coefs_ + batches.intercepts_
    ):
        assert ours.dtype == dtype
        assert_array_equal(ours, theirs)
    assert per_example.loss_curve_ == batches.loss_curve_
    assert per_example.n_iter_ == batches.n_iter_ == 3


def test_a_zero_sample_weight_fails_as_in_the_minibatch_path():
    weights = np.ones(80)
    weights[5] = 0.0
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        MLPClassifier(hidden_layer_sizes=(4,), batch_size=1, max_iter=1, shuffle=False).fit(
            X, CLASSES, sample_weight=weights
        )
