"""Large products in fixed blocks of rows or columns
(``products.matrix_product``): the same bits whether the blocks are shared
out over threads or computed in turn, and the product NumPy computes, to
rounding; and an epoch run in two parts (as the driver times the two ways)
is the same epoch."""

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from numba_mlp import kernels
from numba_mlp.kernels.bundles import Blocks
from numba_mlp.kernels.products import SPLIT_PRODUCT, block_bounds, matrix_product

from helpers import make_net, make_work

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("n_rows,n_blocks", [(200, 2), (201, 2), (7, 3), (5, 5), (1000, 7)])
def test_blocks_cover_every_row_once(n_rows, n_blocks):
    rows = [r for b in range(n_blocks) for r in range(*block_bounds(n_rows, n_blocks, b))]
    assert rows == list(range(n_rows))


# (result rows, inner size, result columns): the three products of a layer;
# the first is split by columns (fewer result rows than columns), the others
# by rows
SHAPES = [(200, 784, 512), (256, 300, 97), (784, 200, 64)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("left_transposed", [False, True])
@pytest.mark.parametrize("right_transposed", [False, True])
def test_blocks_shared_or_in_turn_give_the_same_bits(
    shape, left_transposed, right_transposed, dtype
):
    n_rows, inner, n_cols = shape
    assert n_rows * inner * n_cols >= SPLIT_PRODUCT  # large enough to be split
    # the gradient's product reads its left operand transposed (inputs.T),
    # the back signals their right one (weights.T)
    left = (
        RNG.standard_normal((inner, n_rows)).T
        if left_transposed
        else RNG.standard_normal((n_rows, inner))
    )
    right = (
        RNG.standard_normal((n_cols, inner)).T
        if right_transposed
        else RNG.standard_normal((inner, n_cols))
    )
    left, right = left.astype(dtype), right.astype(dtype)
    results = {}
    previous = numba.get_num_threads()
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
                numba.set_num_threads(threads)
                for rows in (2, 3):
                    for shared in (False, True):
                        out = np.full((n_rows, n_cols), np.nan, dtype=dtype)
                        matrix_product(left, right, out, Blocks(rows, shared))
                        results[threads, rows, shared] = out
    finally:
        numba.set_num_threads(previous)
    for (_, rows, _), out in results.items():
        np.testing.assert_array_equal(out, results[1, rows, False])
    expected = left.astype(np.float64) @ right.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    for out in results.values():
        np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def test_small_products_are_never_split():
    # below SPLIT_PRODUCT a product is one BLAS call, whatever the blocks say:
    # an out buffer whose rows cannot be split (fewer rows than blocks) is fine
    left, right = RNG.standard_normal((2, 50)), RNG.standard_normal((50, 40))
    out = np.empty((2, 40))
    matrix_product(left, right, out, Blocks(4, True))
    np.testing.assert_allclose(out, left @ right, rtol=1e-13)


def classification_epoch(layer_units, n_samples, scale, dropout=0.0):
    """Dense data, a relu/softmax net, log-loss problem, starting weights and a
    shuffled order for one epoch of ``train_epoch``."""
    X = RNG.standard_normal((n_samples, layer_units[0]))
    targets = np.eye(layer_units[-1])[RNG.integers(0, layer_units[-1], n_samples)]
    net = make_net(layer_units, "relu", "softmax", dropout_rates=[dropout] if dropout else ())
    data = kernels.Data(X, np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), False)
    problem = kernels.Problem(targets, np.ones(n_samples), kernels.codes.LOG_LOSS, 1e-4,
                              1e-12, 1.0, 0.5)  # fmt: skip
    n_params = sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))
    start = RNG.standard_normal(n_params) * scale
    order = RNG.permutation(n_samples).astype(np.int64)
    return data, net, problem, start, order


def test_an_epoch_gives_the_same_bits_in_blocks_shared_or_in_turn():
    # a whole epoch (forward, deltas, gradients) through the public kernel
    layer_units = [300, 256, 128, 3]
    batch = 200
    data, net, problem, start, order = classification_epoch(layer_units, 600, 0.05)
    n_params = start.shape[0]
    results = []
    with threadpool_limits(limits=1, user_api="blas"):
        ways = (Blocks(1, False), Blocks(2, False), Blocks(2, True), Blocks(3, False),
                Blocks(3, True))  # fmt: skip
        for blocks in ways:
            params = start.copy()
            optimizer = kernels.Optimizer(kernels.codes.SGD, np.zeros(n_params), np.empty(0),
                                          np.zeros(1, np.int64), 0.01, 0.9, True, 0.9, 0.999,
                                          1e-8)  # fmt: skip
            work = make_work(layer_units, batch, np.float64, blocks=blocks)
            loss = kernels.train_epoch(data, net, problem, order, batch, params,
                                       np.empty(n_params), work, optimizer, 0)  # fmt: skip
            results.append((blocks, loss, params))
    # the same blocks, shared or in turn: the same bits
    for in_turn, shared in ((results[1], results[2]), (results[3], results[4])):
        assert in_turn[0].count == shared[0].count and shared[0].shared
        assert shared[1] == in_turn[1]
        np.testing.assert_array_equal(shared[2], in_turn[2])
    first_params = results[1][2]
    # whole products round as OpenBLAS pleases; to rounding they agree
    np.testing.assert_allclose(results[0][2], first_params, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_an_epoch_run_in_two_parts_is_the_same_epoch(dropout):
    # the driver times the two ways on parts of an epoch: a later part goes
    # on with the losses summed so far and the dropout masks' stream
    layer_units = [20, 30, 2]
    batch = 200
    data, net, problem, start, order = classification_epoch(layer_units, 1000, 0.1, dropout)
    n_params = start.shape[0]

    def run(parts):
        params = start.copy()
        optimizer = kernels.Optimizer(kernels.codes.ADAM, np.zeros(n_params),
                                      np.zeros(n_params), np.zeros(1, np.int64), 0.001, 0.9,
                                      True, 0.9, 0.999, 1e-8)  # fmt: skip
        work = make_work(layer_units, batch, np.float64, dropout=bool(dropout))
        loss, seed = 0.0, 12345
        for part in parts:
            loss = kernels.train_epoch(data, net, problem, part, batch, params,
                                       np.empty(n_params), work, optimizer, seed,
                                       loss)  # fmt: skip
            seed = -1
        return loss, params

    whole_loss, whole_params = run([order])
    parts_loss, parts_params = run([order[:400], order[400:]])  # 2 batches, then 3
    assert parts_loss == whole_loss
    np.testing.assert_array_equal(parts_params, whole_params)


@pytest.mark.parametrize("shared", [False, True])
def test_blocks_of_a_one_feature_input_made_with_none(shared):
    # x[:, None] has a step of 0 along its length-1 axis, and NumPy still calls
    # it contiguous: its blocks, and its transpose's (the gradient), go to BLAS
    # as they are
    x = RNG.standard_normal(4096)
    X = x[:, None]
    assert X.strides[1] == 0 and X.flags.c_contiguous
    weights, deltas = RNG.standard_normal((1, 256)), RNG.standard_normal((4096, 256))
    for left, right in ((X, weights), (X.T, deltas)):
        assert left.shape[0] * left.shape[1] * right.shape[1] >= SPLIT_PRODUCT
        out = np.full((left.shape[0], right.shape[1]), np.nan)
        with threadpool_limits(limits=1, user_api="blas"):
            matrix_product(left, right, out, Blocks(2, shared))
        np.testing.assert_allclose(out, np.asarray(left) @ right, rtol=1e-12, atol=1e-12)
