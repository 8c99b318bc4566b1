"""Numerical edges of the kernels: overflow-safe activations and losses, and
fastmath that keeps IEEE results at the edges of the float range.

- Large-magnitude net inputs (up to 1e300) give finite outputs, losses and
  gradients wherever those are mathematically finite: the stable logistic,
  the max-shifted softmax and the clipped log of the log loss. Checked on
  the public kernels against the NumPy reference (tests/reference.py).
- Every kernel with a division or a square root gives, on the edges of the
  float64 range, the results of its source compiled without fastmath.

(Whole fits that diverge, and Ctrl-C during a fit:
tests/estimator/test_fit_numerics.py.)
"""

import functools

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import reference as ref
from helpers import assert_close, kernel_loss_grad, kernel_predict, make_problem

# ---------------------------------------------------------------------------
# overflow-safe activations and losses (kernels vs the reference)
# ---------------------------------------------------------------------------

# (hidden, output, loss) pairs whose loss and gradient stay finite however
# large the output net inputs are: bounded outputs, clipped logs.
BOUNDED = [
    (hidden, output, loss)
    for hidden, output, loss in ref.COMBINATIONS
    if output in ("logistic", "softmax") and loss in ("log_loss", "squared_error")
]


def _huge_problem(hidden, output, loss, scale, seed=0):
    """A problem whose output-layer net inputs reach about +-``scale``."""
    units = [3, 4, 3]
    # alpha=0: the L2 term of weights near 1e300 is itself beyond float64
    problem, _ = make_problem(hidden, output, loss, seed=seed, units=units, n=6, alpha=0.0)
    rng = np.random.default_rng(seed)
    # bounded hidden activations for tanh/logistic; scale the output layer
    problem["coefs"][-1] = rng.uniform(-1.0, 1.0, size=(4, 3)) * scale / 8
    problem["intercepts"][-1] = rng.uniform(-1.0, 1.0, size=3) * scale / 8
    if hidden in ("relu", "identity"):  # keep hidden activations O(1)
        problem["X"] = problem["X"] / (1.0 + np.abs(problem["X"]).max())
    return problem, ref.pack(problem["coefs"], problem["intercepts"])


@pytest.mark.parametrize("scale", [1e3, 1e30, 1e150])
@pytest.mark.parametrize("hidden,output,loss", BOUNDED, ids=["-".join(c) for c in BOUNDED])
def test_huge_net_inputs_give_finite_outputs_losses_and_gradients(hidden, output, loss, scale):
    problem, params = _huge_problem(hidden, output, loss, scale)
    with np.errstate(over="ignore", invalid="ignore"):
        coefs, intercepts = problem["coefs"], problem["intercepts"]
        expected_out = ref.forward(problem["X"], coefs, intercepts, hidden, output)[-1]
    out = kernel_predict(problem, params)
    assert np.isfinite(out).all()
    assert ((out >= 0) & (out <= 1)).all()
    assert_close(out, expected_out, rtol=1e-12)
    if output == "softmax":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    # the largest net inputs really saturate the outputs
    assert (out == 0.0).any() or (out == 1.0).any() or scale < 1e30
    _assert_finite_and_as_reference(problem, params)


def _reference_loss_grad(problem, params, dtype):
    """The NumPy reference's loss and packed gradient, computed in ``dtype``."""
    coefs, intercepts = ref.unpack(params, problem["units"])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value, coef_grads, intercept_grads = ref.loss_and_gradient(
            problem["X"].astype(dtype),
            problem["y"].astype(dtype),
            problem["sw"].astype(dtype),
            [c.astype(dtype) for c in coefs],
            [b.astype(dtype) for b in intercepts],
            problem["hidden"],
            problem["output"],
            problem["loss"],
            problem["alpha"],
        )
    return float(value), ref.pack(coef_grads, intercept_grads).astype(np.float64)


def _assert_finite_and_as_reference(problem, params):
    """Finite, and as accurate as the NumPy reference in float64.

    Saturated outputs make some gradients tiny differences of large terms,
    which float64 cannot resolve to 1e-10; the truth then comes from the
    reference in extended precision, and the kernels must be within 1e-10 of
    it or no further from it than twice float64 NumPy's own error.
    """
    value, grads = kernel_loss_grad(problem, params)
    assert np.isfinite(value) and np.isfinite(grads).all()
    # the value from float64 (log loss clips at float64's eps), the gradient from both
    _, true_grads = _reference_loss_grad(problem, params, np.longdouble)
    numpy_value, numpy_grads = _reference_loss_grad(problem, params, np.float64)
    scale = max(np.abs(true_grads).max(), np.finfo(np.float64).tiny)
    numpy_error = np.abs(numpy_grads - true_grads).max() / scale
    kernel_error = np.abs(grads - true_grads).max() / scale
    np.testing.assert_allclose(value, numpy_value, rtol=1e-10)
    assert kernel_error <= max(1e-10, 2 * numpy_error), (kernel_error, numpy_error)


@pytest.mark.parametrize(
    "hidden,output,loss",
    [c for c in BOUNDED if c[0] in ("identity", "relu")],
    ids=["-".join(c) for c in BOUNDED if c[0] in ("identity", "relu")],
)
def test_net_inputs_of_1e300_from_huge_inputs(hidden, output, loss):
    # X ~ 1e300 and weights O(1): hidden (identity/relu) activations and the
    # output net inputs reach ~1e300, the outputs saturate, nothing overflows
    problem, params = make_problem(hidden, output, loss, seed=5, units=[3, 4, 3], n=6)
    problem["X"] = np.where(problem["X"] > 0, 1e300, -1e300)
    out = kernel_predict(problem, params)
    assert np.isfinite(out).all() and ((out == 0.0) | (out == 1.0)).any()
    _assert_finite_and_as_reference(problem, params)


@pytest.mark.parametrize("hidden", ["tanh", "logistic"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_saturated_hidden_nodes_stay_finite(hidden, sign):
    # hidden net inputs of +-1e300: tanh -> +-1, logistic -> 0 or 1 (no exp overflow)
    problem, params = make_problem(
        hidden, "identity", "squared_error", seed=2, units=[3, 4, 2], n=5
    )
    problem["X"] = sign * 1e300 * np.sign(problem["X"])
    value, grads = kernel_loss_grad(problem, params)
    assert np.isfinite(value) and np.isfinite(grads).all()
    out = kernel_predict(problem, params)
    assert np.isfinite(out).all()


def test_log_loss_of_certain_wrong_prediction_is_clipped_not_infinite():
    # logistic output exactly 1.0 for a target 0: -log(eps), finite
    problem, _ = _huge_problem("tanh", "logistic", "log_loss", 1e150, seed=3)
    problem["y"][:] = 1.0 - (
        kernel_predict(problem, ref.pack(problem["coefs"], problem["intercepts"])) > 0.5
    )
    params = ref.pack(problem["coefs"], problem["intercepts"])
    value, grads = kernel_loss_grad(problem, params)
    eps = np.finfo(np.float64).eps
    assert np.isfinite(value) and value >= 0.9 * -np.log(eps)
    assert np.isfinite(grads).all()


def test_poisson_loss_with_underflowing_exp_output_is_finite():
    # logistic hidden activations are in (0, 1): output net inputs below -500,
    # so exp(net) underflows to 0 while the loss y (log y - net) + a - y is finite
    problem, params = make_problem("logistic", "exp", "poisson", seed=4, units=[3, 4, 1], n=5)
    problem["coefs"][-1][:] = -500.0
    problem["intercepts"][-1][:] = -500.0
    params = ref.pack(problem["coefs"], problem["intercepts"])
    value, grads = kernel_loss_grad(problem, params)
    assert np.isfinite(value) and np.isfinite(grads).all()

    # the same loss written from the net inputs in NumPy
    hidden = ref.forward(problem["X"], problem["coefs"], problem["intercepts"], "logistic", "exp")[
        -2
    ]
    net = hidden @ problem["coefs"][-1] + problem["intercepts"][-1]
    assert (np.exp(net) == 0.0).all()
    y, sw = problem["y"], problem["sw"]
    per_sample = (
        np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - net), 0.0) + np.exp(net) - y
    ).sum(axis=1)
    squared = sum((c**2).sum() for c in problem["coefs"])
    expected = (sw @ per_sample + 0.5 * problem["alpha"] * squared) / sw.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# fastmath keeps IEEE results at the edges of the float range
# ---------------------------------------------------------------------------
# Every kernel with a division or a square root, run on values at the edges
# of float64 (0, subnormals, 1e+-300, the largest float, inf, NaN), against
# the same Python source compiled with no fastmath flag at all: the same
# NaNs, the same infinities (with their signs), and finite values equal to
# the rounding that reassociation may change.

EDGES = np.array(
    [
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        1e-300,
        -1e-300,
        1.0,
        -1.0,
        0.5,
        1e300,
        -1e300,
        np.finfo(np.float64).max,
        -np.finfo(np.float64).max,
        np.inf,
        -np.inf,
        np.nan,
    ]
)


@functools.cache
def _ieee(kernel):
    """``kernel``'s Python source compiled with IEEE semantics (no fastmath)."""
    from numba import njit

    return njit(error_model="numpy")(kernel.py_func)


def _flat(results):
    """Every number in nested lists/tuples of arrays and scalars, as one array."""
    if isinstance(results, (list, tuple)):
        return np.concatenate([_flat(item) for item in results] or [np.empty(0)])
    return np.ravel(np.asarray(results, dtype=float))


def _assert_same_ieee_results(fast, exact):
    fast, exact = np.asarray(fast, dtype=float), np.asarray(exact, dtype=float)
    assert_array_equal(np.isnan(fast), np.isnan(exact))
    assert_array_equal(np.isposinf(fast), np.isposinf(exact))
    assert_array_equal(np.isneginf(fast), np.isneginf(exact))
    finite = np.isfinite(exact)
    np.testing.assert_allclose(fast[finite], exact[finite], rtol=1e-12, atol=0)


def _loss_problem(loss_code):
    """A Problem bundle carrying only a loss and its settings."""
    from numba_mlp.kernels import Problem

    empty = np.empty(0)
    return Problem(
        targets=empty.reshape(0, 1),
        sample_weight=empty,
        loss_code=loss_code,
        alpha=0.0,
        probability_clip=float(np.finfo(np.float64).eps),
        huber_delta=1.0,
        quantile=0.3,
    )


def _edge_pairs():
    a, b = np.meshgrid(EDGES, EDGES)
    return a.ravel(), b.ravel()


@pytest.mark.slow  # compiles every kernel again with IEEE semantics
def test_fastmath_keeps_ieee_results_of_scalar_kernels():
    from numba_mlp.kernels import activations, codes, losses, optimizers

    fast, exact = [], []
    for x in EDGES:
        fast.append(activations.logistic(x))
        exact.append(_ieee(activations.logistic)(x))
    for loss in (codes.SQUARED_ERROR, codes.LOG_LOSS, codes.POISSON, codes.HUBER, codes.QUANTILE):
        problem = _loss_problem(loss)
        for a, y in zip(*_edge_pairs()):
            fast.append(losses.loss_derivative(problem, a, y))
            exact.append(_ieee(losses.loss_derivative)(problem, a, y))
        for loss_sum, weight in zip(*_edge_pairs()):
            for alpha in (0.0, 1e-4, 1e300):
                args = (loss, 3, loss_sum, alpha, 1e300, weight)
                fast.append(losses.regularised_loss(*args))
                exact.append(_ieee(losses.regularised_loss)(*args))
    for beta_2 in (0.999, 1.0 - 1e-16, 0.0):
        for step in (1, 10, 10**6, 10**9):
            args = (1e-3, 0.9, beta_2, step)
            fast.append(optimizers.adam_learning_rate(*args))
            exact.append(_ieee(optimizers.adam_learning_rate)(*args))
    _assert_same_ieee_results(fast, exact)


@pytest.mark.slow  # compiles every kernel again with IEEE semantics
def test_fastmath_keeps_ieee_results_of_array_kernels():
    from numba_mlp.kernels import activations, backward, codes, losses, optimizers

    a, b = _edge_pairs()
    for kernel, run in [
        (
            activations.softmax_row,
            lambda k: [k(row) or row for row in [np.array([x, y, 0.0]) for x, y in zip(a, b)]],
        ),
        (
            backward.finish_gradient,
            lambda k: [
                (k(w.reshape(16, 16), g.reshape(16, 16), bias, alpha, weight), g, bias)[1:]
                for alpha in (0.0, 1e-4)
                for weight in (1.0, 5e-324, 1e300, np.inf)
                for w, g, bias in [(a.copy(), b.copy(), EDGES.copy())]
            ],
        ),
        (
            optimizers.sgd_step,
            lambda k: [
                (k(p, g, v, alpha, weight, lr, 0.9, nesterov), p, v)[1:]
                for alpha in (0.0, 1e-4)
                for weight in (1.0, 1e300)
                for lr in (0.1, 1e300)
                for nesterov in (False, True)
                for p, g, v in [(a.copy(), b.copy(), np.flip(a).copy())]
            ],
        ),
        (
            optimizers.adam_step,
            lambda k: [
                (
                    k(
                        p,
                        g,
                        m,
                        v,
                        alpha,
                        weight,
                        1e-3,
                        0.9,
                        0.999,
                        1e-8,
                        (0.1, 1e-3),
                    ),
                    p,
                    m,
                    v,
                )[1:]
                for alpha in (0.0, 1e-4)
                for weight in (1.0, 1e300)
                for p, g, m, v in [(a.copy(), b.copy(), np.flip(b).copy(), np.abs(a))]
            ],
        ),
    ]:
        _assert_same_ieee_results(_flat(run(kernel)), _flat(run(_ieee(kernel))))

    for loss, output in [
        (codes.SQUARED_ERROR, codes.IDENTITY),
        (codes.LOG_LOSS, codes.LOGISTIC),
        (codes.LOG_LOSS, codes.SOFTMAX),
        (codes.POISSON, codes.EXP),
        (codes.POISSON, codes.LOGISTIC),
        (codes.HUBER, codes.IDENTITY),
        (codes.QUANTILE, codes.IDENTITY),
    ]:
        rows = [
            (np.array([x, y]), np.array([y, x]), np.abs(np.array([y, 1.0]))) for x, y in zip(a, b)
        ]
        problem = _loss_problem(loss)
        fast = [losses.sample_loss(problem, output, act, net, t) for act, net, t in rows]
        exact = [_ieee(losses.sample_loss)(problem, output, act, net, t) for act, net, t in rows]
        _assert_same_ieee_results(fast, exact)
