"""Property-based tests of the kernels: hypothesis draws the network and the data.

Drawn: numbers of features, hidden layers and nodes, outputs and samples;
float64 or float32; dense or sparse input; every valid (hidden activation,
output activation, loss) combination; batch sizes and optimiser settings.
Checked:

- the kernels' forward pass, loss and gradient equal those of the NumPy
  reference (tests/reference.py) on the same numbers;
- one epoch of optimiser steps (SGD with or without (Nesterov) momentum, or
  Adam; one or several minibatches) equals the reference optimiser fed the
  reference gradients.

(Whole estimator fits against scikit-learn's, drawn the same way:
tests/estimator/test_parity_properties.py.)

Data come from a drawn seed (not raw floats), so the examples stay in the
range where float64 results agree to rounding. The number of examples and
their derandomisation in CI: ``PROPERTY_SETTINGS`` in helpers.py.
"""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from numba_mlp import kernels

import reference as ref
from helpers import (
    PROPERTY_SETTINGS,
    assert_close,
    dense_data,
    kernel_loss_grad,
    kernel_predict,
    make_net,
    make_work,
    optimizer_bundle,
    problem_bundle,
    reference_epoch,
    sparse_data,
)

# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------


@st.composite
def problems(draw, dtypes=(np.float64, np.float32)):
    """A network, its data and parameters, as the kernel tests' ``problem``."""
    hidden, output, loss = draw(st.sampled_from(ref.COMBINATIONS))
    n_features = draw(st.integers(1, 5))
    hidden_sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    n_outputs = draw(st.integers(2 if output == "softmax" else 1, 4))
    n_samples = draw(st.integers(2, 12))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    units = [n_features, *hidden_sizes, n_outputs]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    if draw(st.booleans()):  # some exact zeros (sparse input stores fewer entries)
        X[rng.random(X.shape) < 0.4] = 0.0
    y = ref.random_targets(loss, output, n_samples, n_outputs, rng)
    sw = rng.uniform(0.5, 2.0, n_samples) if draw(st.booleans()) else np.ones(n_samples)
    coefs, intercepts = ref.random_parameters(units, rng)
    alpha = draw(st.sampled_from([0.0, 1e-4, 0.1]))
    problem = dict(
        X=X.astype(dtype),
        y=y.astype(dtype),
        sw=sw.astype(dtype),
        units=units,
        hidden=hidden,
        output=output,
        loss=loss,
        alpha=alpha,
        coefs=[c.astype(dtype) for c in coefs],
        intercepts=[b.astype(dtype) for b in intercepts],
    )
    return problem, draw(st.booleans())  # (problem, sparse input?)


def _away_from_edges(problem, dtype):
    """Keep relu nodes off their kink and log-loss outputs off the clipping
    bounds, where float32 and float64 may legitimately take different sides."""
    X64 = problem["X"].astype(np.float64)
    coefs = [c.astype(np.float64) for c in problem["coefs"]]
    intercepts = [b.astype(np.float64) for b in problem["intercepts"]]
    margin = 1e-3 if dtype == np.float32 else 1e-9
    if problem["hidden"] == "relu":
        nets = ref.net_inputs(X64, coefs, intercepts, "relu")
        if nets and min(np.abs(n).min() for n in nets) < margin:
            return False
    if problem["loss"] == "log_loss" and dtype == np.float32:
        out = ref.forward(X64, coefs, intercepts, problem["hidden"], problem["output"])[-1]
        if ((out < 1e-5) | (out > 1 - 1e-5)).any():
            return False
    return True


def _reference64(problem):
    """The reference's loss and packed gradient, computed in float64."""
    coefs = [c.astype(np.float64) for c in problem["coefs"]]
    intercepts = [b.astype(np.float64) for b in problem["intercepts"]]
    value, cg, ig = ref.loss_and_gradient(
        problem["X"].astype(np.float64),
        problem["y"].astype(np.float64),
        problem["sw"].astype(np.float64),
        coefs,
        intercepts,
        problem["hidden"],
        problem["output"],
        problem["loss"],
        problem["alpha"],
    )
    out = ref.forward(
        problem["X"].astype(np.float64), coefs, intercepts, problem["hidden"], problem["output"]
    )[-1]
    return out, value, ref.pack(cg, ig)


# ---------------------------------------------------------------------------
# kernels vs the reference
# ---------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(problems())
def test_forward_loss_and_gradient_match_the_reference(drawn):
    problem, sparse = drawn
    dtype = problem["X"].dtype.type
    assume(_away_from_edges(problem, dtype))
    params = ref.pack(problem["coefs"], problem["intercepts"])
    data = sparse_data(problem["X"]) if sparse else None
    rtol = 2e-3 if dtype == np.float32 else 1e-9

    expected_out, expected_loss, expected_grad = _reference64(problem)
    out = kernel_predict(problem, params, data=data)
    assert out.dtype == dtype
    assert_close(out, expected_out, rtol=rtol)

    before = params.copy()
    value, grads = kernel_loss_grad(problem, params, data=data)
    assert grads.dtype == dtype
    np.testing.assert_allclose(value, expected_loss, rtol=rtol, atol=rtol * 1e-3)
    assert_close(grads, expected_grad, rtol=rtol)
    np.testing.assert_array_equal(params, before)


@PROPERTY_SETTINGS
@given(
    problems(dtypes=(np.float64,)),
    st.data(),
    st.sampled_from(["sgd", "adam"]),
)
def test_optimiser_epoch_matches_the_reference(drawn, data, optimizer):
    problem, sparse = drawn
    assume(_away_from_edges(problem, np.float64))
    n = problem["X"].shape[0]
    batch_size = data.draw(st.integers(1, n), label="batch_size")
    order = np.asarray(data.draw(st.permutations(range(n)), label="order"), dtype=np.int64)
    lr = data.draw(st.sampled_from([1e-3, 0.01, 0.1]), label="learning_rate")
    momentum = data.draw(st.sampled_from([0.0, 0.5, 0.9]), label="momentum")
    nesterov = data.draw(st.booleans(), label="nesterov")
    beta_1 = data.draw(st.sampled_from([0.8, 0.9]), label="beta_1")
    beta_2 = data.draw(st.sampled_from([0.99, 0.999]), label="beta_2")
    settings_ = (lr, momentum, 1.0 if nesterov else 0.0, beta_1, beta_2, 1e-8)

    units = problem["units"]
    params = ref.pack(problem["coefs"], problem["intercepts"])
    m1, m2 = np.zeros_like(params), np.zeros_like(params)
    step = np.zeros(1, dtype=np.int64)
    state = dict(v=np.zeros_like(params), m=np.zeros_like(params), t=0)
    with np.errstate(all="ignore"):
        expected, expected_sum = reference_epoch(
            problem, params, order, batch_size, optimizer, state, settings_
        )
    assume(np.isfinite(expected).all() and np.isfinite(expected_sum))  # no divergence
    accumulated = kernels.train_epoch(
        sparse_data(problem["X"]) if sparse else dense_data(problem["X"]),
        make_net(units, problem["hidden"], problem["output"]),
        problem_bundle(problem),
        order,
        batch_size,
        params,
        np.empty_like(params),
        make_work(units, batch_size, np.float64),
        optimizer_bundle(optimizer, m1, m2, step, settings_),
        0,  # dropout seed: nothing dropped
    )
    np.testing.assert_allclose(accumulated, expected_sum, rtol=1e-9)
    assert_close(params, expected, rtol=1e-9)
    if optimizer == "adam":
        assert step[0] == state["t"] == -(-n // batch_size)
        assert_close(m1, state["m"], rtol=1e-8)
        assert_close(m2, state["v"], rtol=1e-8)
    else:
        assert_close(m1, state["v"], rtol=1e-8)
