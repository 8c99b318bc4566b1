"""The Numba kernels, called directly, against the NumPy reference.

Expected values come from ``reference.py`` (an independent NumPy version of
the seeds' algorithm), from central finite differences of the loss, or from
the optimiser formulas of scikit-learn (written out in ``helpers.py``, beside
``reference_epoch``).
"""

import numpy as np
import pytest

from numba_mlp import kernels
from numba_mlp.kernels import codes

import reference as ref
from helpers import (
    N_SAMPLES,
    assert_close,
    dense_data,
    kernel_loss_grad,
    kernel_predict,
    make_net,
    make_problem,
    make_work,
    optimizer_bundle,
    problem_bundle,
    reference_epoch,
    reference_loss_grad,
    sparse_data,
)

COMBO_IDS = ["-".join(c) for c in ref.COMBINATIONS]
ALL_COMBINATIONS = ref.COMBINATIONS + ref.NEW_COMBINATIONS
ALL_COMBO_IDS = ["-".join(c) for c in ALL_COMBINATIONS]


def test_every_valid_combination_is_covered():
    # scikit-learn's: 4 hidden activations x (4 + 2 + 3) (output activation, loss) pairs
    assert len(ref.COMBINATIONS) == 36
    # numba-mlp's: 9 hidden activations x 11 pairs, less scikit-learn's 36
    assert len(ref.NEW_COMBINATIONS) == 9 * 11 - 36
    assert len(set(ALL_COMBINATIONS)) == 9 * 11


# ------------------------------------------- (a) forward, loss and gradient


@pytest.mark.parametrize("hidden,output,loss", ALL_COMBINATIONS, ids=ALL_COMBO_IDS)
def test_matches_reference(hidden, output, loss):
    problem, params = make_problem(hidden, output, loss)
    coefs, intercepts = problem["coefs"], problem["intercepts"]

    expected_out = ref.forward(problem["X"], coefs, intercepts, hidden, output)[-1]
    assert_close(kernel_predict(problem, params), expected_out, rtol=1e-12)

    expected_loss, expected_grad = reference_loss_grad(problem, params)
    params_before = params.copy()
    value, grads = kernel_loss_grad(problem, params)
    np.testing.assert_allclose(value, expected_loss, rtol=1e-10)
    assert_close(grads, expected_grad, rtol=1e-10)
    np.testing.assert_array_equal(params, params_before)  # params left untouched


@pytest.mark.parametrize("max_rows", [1, 2, N_SAMPLES, N_SAMPLES + 4])
def test_chunk_size_does_not_matter(max_rows):
    problem, params = make_problem("tanh", "softmax", "log_loss", seed=3)
    if max_rows >= N_SAMPLES:  # loss_and_gradient needs room for every row
        expected_loss, expected_grad = reference_loss_grad(problem, params)
        value, grads = kernel_loss_grad(problem, params, max_rows=max_rows)
        np.testing.assert_allclose(value, expected_loss, rtol=1e-10)
        assert_close(grads, expected_grad, rtol=1e-10)
    else:  # a buffer too small is refused, not overrun
        with pytest.raises(ValueError):
            kernel_loss_grad(problem, params, max_rows=max_rows)
    expected_out = ref.forward(
        problem["X"], problem["coefs"], problem["intercepts"], "tanh", "softmax"
    )[-1]
    assert_close(kernel_predict(problem, params, max_rows=max_rows), expected_out, 1e-12)


def test_rows_select_and_order_samples():
    # Loss and gradient over a permuted subset equal those of that subset alone.
    problem, params = make_problem("relu", "exp", "poisson", seed=4)
    rows = np.array([5, 0, 3, 6, 1], dtype=np.int64)
    expected_loss, expected_grad = reference_loss_grad(problem, params, rows=rows)
    value, grads = kernel_loss_grad(problem, params, rows=rows)
    np.testing.assert_allclose(value, expected_loss, rtol=1e-10)
    assert_close(grads, expected_grad, rtol=1e-10)


@pytest.mark.parametrize("hidden,output,loss", ref.COMBINATIONS[::5])
def test_unfinished_sums_over_parts_add_up_to_the_whole(hidden, output, loss):
    # loss_and_gradient_sums over three parts of the rows, added and finished once
    # (as numba_mlp.dask does across chunks), give the loss and gradient of all rows
    problem, params = make_problem(hidden, output, loss, seed=5)
    units, dtype = problem["units"], problem["X"].dtype
    net = make_net(units, hidden, output)
    loss_sum, grad_sum = 0.0, np.zeros_like(params)
    for rows in (np.array([0, 1, 2]), np.array([3]), np.array([4, 5, 6])):
        grads = np.full_like(params, np.nan)
        loss_sum += kernels.loss_and_gradient_sums(
            dense_data(problem["X"]),
            net,
            problem_bundle(problem),
            rows.astype(np.int64),
            params,
            grads,
            make_work(units, rows.shape[0], dtype),
        )
        grad_sum += grads
    total_weight = problem["sw"].sum()
    kernels.finish_gradients(net, params, grad_sum, problem["alpha"], total_weight)
    value = kernels.regularised_loss(
        codes.LOSS_CODES[loss],
        units[-1],
        loss_sum,
        problem["alpha"],
        kernels.squared_weights(params, np.asarray(units, dtype=np.int64)),
        total_weight,
    )
    expected_loss, expected_grad = reference_loss_grad(problem, params)
    np.testing.assert_allclose(value, expected_loss, rtol=1e-10)
    assert_close(grad_sum, expected_grad, rtol=1e-10)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_log_loss_probabilities_are_clipped(n_outputs):
    # A saturated logistic output (a == 1.0 exactly) with target 0 must cost
    # -log(eps), not infinity; the gradient is still a - y.
    units = [2, 3, n_outputs]
    problem, _ = make_problem("tanh", "logistic", "log_loss", units=units, seed=5)
    problem["coefs"][-1][:] = 40.0
    problem["intercepts"][-1][:] = 40.0
    problem["X"] = np.abs(problem["X"])
    problem["hidden"] = "relu"
    problem["y"][:] = 0.0
    params = ref.pack(problem["coefs"], problem["intercepts"])
    expected_loss, expected_grad = reference_loss_grad(problem, params)
    assert np.isfinite(expected_loss) and expected_loss > 30.0  # really clipped
    value, grads = kernel_loss_grad(problem, params)
    np.testing.assert_allclose(value, expected_loss, rtol=1e-10)
    assert_close(grads, expected_grad, rtol=1e-10)


def test_squared_error_loss_is_averaged_over_outputs():
    # Identity output, zero weights: every output is 0, so the reported loss is
    # 0.5 * weighted mean over samples of the MEAN over outputs of y**2.
    problem, params = make_problem("relu", "identity", "squared_error", alpha=0.0)
    params[:] = 0.0
    y, sw = problem["y"], problem["sw"]
    by_hand = 0.5 * np.sum(sw * (y**2).mean(axis=1)) / sw.sum()
    value, _ = kernel_loss_grad(problem, params)
    np.testing.assert_allclose(value, by_hand, rtol=1e-12)


# ----------------------------------------- (b) central finite differences


def away_from_kinks(problem, params):
    """Distance to the nearest kink: of a hidden (leaky) ReLU node's net
    input from 0, of a residual y - a from 0 (pinball loss) or from
    +-delta (Huber's second derivative); inf where there is none."""
    coefs, intercepts = ref.unpack(params, problem["units"])
    distances = [np.inf]
    if problem["hidden"] in ("relu", "leaky_relu"):
        nets = ref.net_inputs(problem["X"], coefs, intercepts, problem["hidden"])
        distances += [np.abs(net).min() for net in nets]
    outputs = ref.forward(problem["X"], coefs, intercepts, problem["hidden"], problem["output"])[-1]
    residuals = np.abs(problem["y"] - outputs)
    if problem["loss"] == "quantile":
        distances.append(residuals.min())
    if problem["loss"] == "huber":
        distances.append(np.abs(residuals - ref.HUBER_DELTA).min())
    return min(distances)


@pytest.mark.parametrize("hidden,output,loss", ALL_COMBINATIONS, ids=ALL_COMBO_IDS)
def test_gradient_matches_finite_differences(hidden, output, loss):
    problem, params = make_problem(hidden, output, loss, seed=1)
    h = 1e-6
    assert away_from_kinks(problem, params) > 1e-3  # a step of h never crosses a kink
    # The gradient is of the data loss SUMMED over outputs (squared error and
    # the robust losses report the mean over outputs) plus the unscaled L2 term.
    averaged = loss in ("squared_error", "huber", "quantile")
    scale = problem["units"][-1] if averaged else 1.0
    n_weights = sum(a * b for a, b in zip(problem["units"][:-1], problem["units"][1:]))

    def l2(w):
        return 0.5 * problem["alpha"] * np.sum(w[:n_weights] ** 2) / problem["sw"].sum()

    def summed_loss(w):
        return scale * (kernel_loss_grad(problem, w)[0] - l2(w)) + l2(w)

    _, grads = kernel_loss_grad(problem, params)
    numeric = np.empty_like(params)
    for p in range(params.size):
        step = np.zeros_like(params)
        step[p] = h
        numeric[p] = (summed_loss(params + step) - summed_loss(params - step)) / (2 * h)
    relative_error = np.abs(grads - numeric).max() / np.abs(numeric).max()
    assert relative_error < 1e-6


# --------------------------------------------------------- (c) sparse input


@pytest.mark.parametrize(
    "hidden,output,loss",
    [
        ("relu", "softmax", "log_loss"),
        ("tanh", "identity", "squared_error"),
        ("logistic", "exp", "poisson"),
    ],
)
def test_sparse_equals_dense(hidden, output, loss):
    problem, params = make_problem(hidden, output, loss, seed=2)
    X = problem["X"]
    X[np.abs(X) < 0.7] = 0.0
    X[2] = 0.0  # a sample with no stored entries
    assert 0 < np.count_nonzero(X) < X.size
    sparse = sparse_data(X)

    np.testing.assert_allclose(
        kernel_predict(problem, params, data=sparse),
        kernel_predict(problem, params),
        rtol=1e-13,
        atol=1e-15,
    )
    dense_loss, dense_grad = kernel_loss_grad(problem, params)
    sparse_loss, sparse_grad = kernel_loss_grad(problem, params, data=sparse)
    np.testing.assert_allclose(sparse_loss, dense_loss, rtol=1e-13)
    assert_close(sparse_grad, dense_grad, rtol=1e-12)

    rows = np.array([6, 2, 0, 4], dtype=np.int64)
    _, dense_grad = kernel_loss_grad(problem, params, rows=rows)
    _, sparse_grad = kernel_loss_grad(problem, params, data=sparse, rows=rows)
    assert_close(sparse_grad, dense_grad, rtol=1e-12)
    # and both are right, not merely equal
    assert_close(sparse_grad, reference_loss_grad(problem, params, rows=rows)[1], 1e-10)


# --------------------------------------------------------------- (d) float32


@pytest.mark.parametrize(
    "hidden,output,loss",
    [
        ("relu", "softmax", "log_loss"),
        ("logistic", "logistic", "log_loss"),
        ("tanh", "exp", "poisson"),
        ("identity", "identity", "squared_error"),
    ],
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_float32_stays_float32_and_agrees_with_float64(hidden, output, loss, sparse):
    problem64, params64 = make_problem(hidden, output, loss, seed=6)
    problem32 = dict(problem64)
    for key in ("X", "y", "sw"):
        problem32[key] = problem64[key].astype(np.float32)
    params32 = params64.astype(np.float32)
    data32 = sparse_data(problem32["X"]) if sparse else None
    assert data32 is None or data32[1].dtype == np.float32

    out32 = kernel_predict(problem32, params32, data=data32)
    assert out32.dtype == np.float32
    assert_close(out32, kernel_predict(problem64, params64), rtol=1e-4)

    value32, grads32 = kernel_loss_grad(problem32, params32, data=data32)
    value64, grads64 = kernel_loss_grad(problem64, params64)
    assert grads32.dtype == np.float32 and np.isfinite(value32)
    np.testing.assert_allclose(value32, value64, rtol=1e-4)
    assert_close(grads32, grads64, rtol=1e-4)


# ---------------------------------------------- (e) train_epoch vs optimiser


@pytest.mark.parametrize(
    "optimizer,nesterov,hidden,output,loss",
    [
        ("sgd", False, "relu", "identity", "squared_error"),
        ("sgd", True, "tanh", "softmax", "log_loss"),
        ("sgd", True, "logistic", "logistic", "squared_error"),
        ("adam", False, "tanh", "softmax", "log_loss"),
        ("adam", False, "relu", "exp", "poisson"),
    ],
)
def test_train_epoch_matches_reference_optimiser(optimizer, nesterov, hidden, output, loss):
    problem, params = make_problem(hidden, output, loss, seed=7)
    units = problem["units"]
    order = np.array([3, 0, 6, 2, 5, 1, 4], dtype=np.int64)  # shuffled visit order
    batch_size = 3  # batches of 3, 3 and 1 samples
    settings = (0.05, 0.9, 1.0 if nesterov else 0.0, 0.9, 0.999, 1e-8)
    m1 = np.zeros_like(params)
    m2 = np.zeros_like(params)
    step = np.zeros(1, dtype=np.int64)
    grads = np.empty_like(params)
    state = dict(v=np.zeros_like(params), m=np.zeros_like(params), t=0)
    expected = params.copy()

    # Two epochs, so the second starts from non-zero velocities / moments.
    for _ in range(2):
        accumulated = kernels.train_epoch(
            dense_data(problem["X"]),
            make_net(units, hidden, output),
            problem_bundle(problem),
            order,
            batch_size,
            params,
            grads,
            make_work(units, batch_size, np.float64),
            optimizer_bundle(optimizer, m1, m2, step, settings),
            0,  # dropout seed: nothing dropped
        )
        expected, expected_accumulated = reference_epoch(
            problem, expected, order, batch_size, optimizer, state, settings
        )
        np.testing.assert_allclose(accumulated, expected_accumulated, rtol=1e-10)
        assert_close(params, expected, rtol=1e-10)

    if optimizer == "sgd":
        assert_close(m1, state["v"], rtol=1e-9)
        assert step[0] == 0
    else:
        assert step[0] == state["t"] == 6
        assert_close(m1, state["m"], rtol=1e-9)
        assert_close(m2, state["v"], rtol=1e-9)


def test_train_epoch_plain_sgd_is_one_gradient_step():
    # One batch holding every sample, no momentum: w <- w - lr * gradient.
    problem, params = make_problem("logistic", "logistic", "log_loss", seed=8)
    units = problem["units"]
    n = problem["X"].shape[0]
    _, expected_grad = reference_loss_grad(problem, params)
    expected = params - 0.1 * expected_grad
    zeros = np.zeros_like(params)
    kernels.train_epoch(
        dense_data(problem["X"]),
        make_net(units, "logistic", "logistic"),
        problem_bundle(problem),
        np.arange(n, dtype=np.int64),
        n,
        params,
        np.empty_like(params),
        make_work(units, n, np.float64),
        optimizer_bundle(
            "sgd",
            zeros,
            zeros.copy(),
            np.zeros(1, dtype=np.int64),
            (0.1, 0.0, False, 0.9, 0.999, 1e-8),
        ),
        0,  # dropout seed: nothing dropped
    )
    assert_close(params, expected, rtol=1e-12)
