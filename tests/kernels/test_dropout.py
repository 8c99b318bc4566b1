"""Dropout in the kernels, against the NumPy reference given the same masks.

Numba's ``np.random`` is NumPy's legacy Mersenne Twister, seeded the same
way, so a test can draw the very masks the kernels draw: ``train_epoch``
seeds it with its ``seed`` argument, and ``forward_pass`` draws one uniform
number per hidden node, layer after layer, sample after sample.
"""

import numpy as np
import pytest

from numba_mlp import kernels
from numba_mlp.kernels.dropout import drop_nodes

import reference as ref
from helpers import (
    assert_close,
    dense_data,
    make_net,
    make_problem,
    make_work,
    optimizer_bundle,
    problem_bundle,
)

UNITS = [3, 5, 4, 3]
RATES = [0.3, 0.5]


def _masks(seed, n_samples, units, rates):
    """The dropout factors the kernels draw for one batch of ``n_samples``."""
    rng = np.random.RandomState(seed)
    scales = []
    for n_nodes, rate in zip(units[1:-1], rates):
        drawn = rng.random_sample((n_samples, n_nodes))
        scales.append(np.where(drawn < rate, 0.0, 1.0 / (1.0 - rate)))
    return scales


def _one_full_batch_step(problem, params, rates, seed, learning_rate):
    """Plain SGD, one batch of every sample: returns the batch loss."""
    n = problem["X"].shape[0]
    zeros = np.zeros_like(params)
    accumulated = kernels.train_epoch(
        dense_data(problem["X"]),
        make_net(UNITS, problem["hidden"], problem["output"], rates),
        problem_bundle(problem),
        np.arange(n, dtype=np.int64),
        n,
        params,
        np.empty_like(params),
        make_work(UNITS, n, np.float64, dropout=True),
        optimizer_bundle(
            "sgd",
            zeros,
            zeros.copy(),
            np.zeros(1, dtype=np.int64),
            (learning_rate, 0.0, False, 0.9, 0.999, 1e-8),
        ),
        seed,
    )
    return accumulated / n


@pytest.mark.parametrize(
    "hidden,output,loss",
    [
        ("relu", "softmax", "log_loss"),
        ("tanh", "identity", "squared_error"),
        ("gelu", "logistic", "log_loss"),
        ("logistic", "identity", "huber"),
    ],
)
def test_a_step_with_dropout_is_the_reference_step_with_the_same_masks(hidden, output, loss):
    problem, params = make_problem(hidden, output, loss, seed=11, units=UNITS, n=9)
    seed, learning_rate = 2024, 0.5
    scales = _masks(seed, 9, UNITS, RATES)
    assert any((s == 0).any() for s in scales) and any((s > 1).any() for s in scales)
    coefs, intercepts = ref.unpack(params, UNITS)
    expected_loss, coef_grads, intercept_grads = ref.loss_and_gradient(
        problem["X"], problem["y"], problem["sw"], coefs, intercepts,
        hidden, output, loss, problem["alpha"], dropout_scales=scales,
    )  # fmt: skip
    expected = params - learning_rate * ref.pack(coef_grads, intercept_grads)

    batch_loss = _one_full_batch_step(problem, params, RATES, seed, learning_rate)

    np.testing.assert_allclose(batch_loss, expected_loss, rtol=1e-10)
    assert_close(params, expected, rtol=1e-10)


def test_the_reference_gradient_with_masks_is_the_finite_difference_gradient():
    """The masked reference used above is itself right: central differences of
    its loss, with the masks held fixed."""
    problem, params = make_problem("tanh", "identity", "squared_error", seed=3, units=UNITS)
    n = problem["X"].shape[0]
    scales = _masks(7, n, UNITS, RATES)

    def loss_at(w):
        coefs, intercepts = ref.unpack(w, UNITS)
        args = (problem["X"], problem["y"], problem["sw"], coefs, intercepts)
        value, _, _ = ref.loss_and_gradient(
            *args, "tanh", "identity", "squared_error", 0.0, dropout_scales=scales
        )
        return value * UNITS[-1]  # the gradient is of the loss summed over outputs

    coefs, intercepts = ref.unpack(params, UNITS)
    _, coef_grads, intercept_grads = ref.loss_and_gradient(
        problem["X"], problem["y"], problem["sw"], coefs, intercepts,
        "tanh", "identity", "squared_error", 0.0, dropout_scales=scales,
    )  # fmt: skip
    analytic = ref.pack(coef_grads, intercept_grads)
    h = 1e-6
    numeric = np.array(
        [(loss_at(params + h * e) - loss_at(params - h * e)) / (2 * h) for e in np.eye(params.size)]
    )
    assert np.abs(analytic - numeric).max() / np.abs(numeric).max() < 1e-6


def test_dropped_fraction_and_scale():
    nodes = np.ones((4000, 50))
    scales = np.empty_like(nodes)
    drop_nodes(nodes, 0.3, scales)
    dropped = scales == 0.0
    # 200,000 draws: the fraction's standard error is about 0.001
    assert abs(dropped.mean() - 0.3) < 0.005
    np.testing.assert_array_equal(nodes[~dropped], 1.0 / 0.7)
    np.testing.assert_array_equal(nodes[dropped], 0.0)


def test_no_dropout_rates_draw_nothing_and_change_nothing():
    """An empty rate array (the default) gives bitwise the step without any
    dropout buffer, whatever the seed."""
    problem, params = make_problem("relu", "softmax", "log_loss", seed=5, units=UNITS, n=9)
    first = params.copy()
    _one_full_batch_step(problem, first, [], 1, 0.5)
    second = params.copy()
    _one_full_batch_step(problem, second, [], 99, 0.5)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, params)
