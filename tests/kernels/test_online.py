"""The per-example path (batch_size=1): ``learn_from_example`` changes each
weight as soon as its gradient is known. It must give bitwise what the
minibatch path gives for a batch of one example: ``backward_pass`` into a
gradient buffer, then ``take_step`` over the whole buffer."""

import numba
import numpy as np
import pytest

from numba_mlp import kernels
from numba_mlp.kernels.network import backward_pass, forward_pass
from numba_mlp.kernels.optimizers import take_step

from helpers import (
    dense_data,
    make_net,
    make_problem,
    make_work,
    optimizer_bundle,
    problem_bundle,
)

UNITS = [3, 5, 4, 3]


@numba.njit
def _minibatch_path_one_example_at_a_time(data, net, problem, order, params, grads, work, opt):
    n_weights = 0
    for i in range(net.layer_units.shape[0] - 1):
        n_weights += net.layer_units[i] * net.layer_units[i + 1]
    for start in range(order.shape[0]):
        rows = order[start : start + 1]
        forward_pass(data, net, params, work, rows, 1)
        backward_pass(data, net, problem, params, grads, work, rows, 1)
        take_step(opt, params, grads, n_weights, problem.alpha, problem.sample_weight[rows[0]])


@pytest.mark.parametrize(
    "optimizer,nesterov,hidden,output,loss,dtype,rates",
    [
        ("sgd", True, "relu", "softmax", "log_loss", np.float64, ()),
        ("sgd", False, "tanh", "identity", "squared_error", np.float64, ()),
        ("adam", False, "gelu", "logistic", "log_loss", np.float64, ()),
        ("adam", False, "silu", "identity", "huber", np.float32, ()),
        ("sgd", True, "logistic", "exp", "poisson", np.float64, ()),
        ("adam", False, "elu", "softmax", "log_loss", np.float64, (0.3, 0.5)),
    ],
)
def test_per_example_path_is_bitwise_the_minibatch_path(
    optimizer, nesterov, hidden, output, loss, dtype, rates
):
    problem, params = make_problem(hidden, output, loss, seed=9, units=UNITS, n=11)
    for key in ("X", "y", "sw"):
        problem[key] = problem[key].astype(dtype)
    params = params.astype(dtype)
    order = np.random.default_rng(0).permutation(11).astype(np.int64)
    settings = (0.05, 0.9, nesterov, 0.9, 0.999, 1e-8)
    net = make_net(UNITS, hidden, output, rates)
    results = []
    for path in ("per example", "minibatch"):
        p = params.copy()
        m1, m2 = np.zeros_like(p), np.zeros_like(p)
        step = np.zeros(1, dtype=np.int64)
        opt = optimizer_bundle(optimizer, m1, m2, step, settings)
        work = make_work(UNITS, 1, dtype, dropout=bool(rates))
        args = (dense_data(problem["X"]), net, problem_bundle(problem), order)
        if path == "per example":
            kernels.train_epoch(*args, 1, p, np.empty_like(p), work, opt, 5)
        else:
            np.random.seed(5)  # the kernels' generator is seeded here, in the same process
            _seed_numba(5)
            _minibatch_path_one_example_at_a_time(*args, p, np.empty_like(p), work, opt)
        results.append((p, m1, m2, step))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(results[0][0], params)


@numba.njit
def _seed_numba(seed):
    np.random.seed(seed)
