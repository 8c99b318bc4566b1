"""What more than one test module uses: data, builders and checkers.

Every test module imports these the same way, ``from helpers import ...``
(``tests`` is on the path: ``pythonpath`` in pyproject.toml); no test module
imports another. Fixtures are in ``conftest.py``; the NumPy reference of the
kernels is ``reference.py``.

- kernels (tests/kernels): tiny problems with packed parameters, the
  kernels' bundles, the kernels called directly, and the reference's loss,
  gradient and optimiser epoch on the same problem;
- hypothesis's settings for the property tests (kernels and estimators);
- estimators (tests/estimator): the data of the error and input tests, the
  exception scikit-learn raises on the same call, and the one check that a
  refused call left an estimator exactly as it was (``snapshot`` /
  ``assert_unchanged``, on its whole state, bitwise); the data of the edge
  tests;
- teaching (tests/teaching): the sigmoid written out.
"""

import math
import os
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, settings
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils.validation import check_is_fitted

from numba_mlp import MLPClassifier, MLPRegressor, kernels
from numba_mlp._network import read_only
from numba_mlp.kernels import codes
from numba_mlp.kernels.bundles import WHOLE

import reference as ref

# ===========================================================================
# kernels
# ===========================================================================

# Two hidden layers; n_samples > MAX_ROWS so predict_outputs works in chunks
# (loss_and_gradient takes all its rows as one batch).
N_SAMPLES = 7
MAX_ROWS = 3
LAYER_UNITS = [3, 5, 4, 3]
ALPHA = 0.1


def dense_data(X):
    X = read_only(np.ascontiguousarray(X))
    empty_int = np.empty(0, np.int64)
    return kernels.Data(X, np.empty(0, X.dtype), empty_int, empty_int.copy(), False)


def sparse_data(X):
    csr = sp.csr_matrix(X)
    return kernels.Data(
        read_only(np.empty((0, 0), X.dtype)),
        csr.data,
        csr.indices.astype(np.int64),
        csr.indptr.astype(np.int64),
        True,
    )


def make_net(layer_units, hidden, output, dropout_rates=()):
    return kernels.Net(
        layer_units=np.asarray(layer_units, dtype=np.int64),
        hidden_activation=codes.ACTIVATION_CODES[hidden],
        output_activation=codes.ACTIVATION_CODES[output],
        dropout_rates=np.asarray(dropout_rates, dtype=np.float64),
    )


def make_work(layer_units, max_rows, dtype, dropout=False, blocks=WHOLE):
    """A Work bundle that keeps every buffer, hidden net inputs included
    (and dropout factors if ``dropout``); large products in ``blocks``."""
    size = max_rows * sum(layer_units[1:])
    return kernels.Work(
        gathered_inputs=np.empty((max_rows, layer_units[0]), dtype),
        activations=np.empty(size, dtype),
        deltas=np.empty(size, dtype),
        net_inputs=np.empty(size, dtype),
        dropout_scales=np.empty(size if dropout else 0, dtype),
        output_net_inputs=np.empty((max_rows, layer_units[-1]), dtype),
        max_rows=max_rows,
        blocks=blocks,
    )


def problem_bundle(problem, alpha=None):
    """The kernels' Problem bundle of a test problem (dict from make_problem)."""
    dtype = problem["X"].dtype
    return kernels.Problem(
        targets=read_only(problem["y"]),
        sample_weight=read_only(problem["sw"]),
        loss_code=codes.LOSS_CODES[problem["loss"]],
        alpha=float(problem["alpha"] if alpha is None else alpha),
        probability_clip=float(np.finfo(dtype).eps),
        huber_delta=ref.HUBER_DELTA,
        quantile=ref.QUANTILE,
    )


def optimizer_bundle(kind, first_moments, second_moments, step, settings):
    """The kernels' Optimizer bundle; ``settings = (learning_rate, momentum,
    nesterov, beta_1, beta_2, epsilon)``."""
    lr, momentum, nesterov, beta_1, beta_2, epsilon = settings
    return kernels.Optimizer(
        codes.OPTIMIZER_CODES[kind],
        first_moments,
        second_moments,
        step,
        float(lr),
        float(momentum),
        bool(nesterov),
        float(beta_1),
        float(beta_2),
        float(epsilon),
    )


def kernel_loss_grad(problem, params, data=None, rows=None, max_rows=None):
    """Loss and packed gradient from ``kernels.loss_and_gradient``."""
    X = problem["X"]
    units = problem["units"]
    if data is None:
        data = dense_data(X)
    if rows is None:
        rows = np.arange(X.shape[0], dtype=np.int64)
    if max_rows is None:
        max_rows = rows.shape[0]
    grads = np.full_like(params, np.nan)
    value = kernels.loss_and_gradient(
        data,
        make_net(units, problem["hidden"], problem["output"]),
        problem_bundle(problem),
        rows,
        params,
        grads,
        make_work(units, max_rows, X.dtype),
    )
    return value, grads


def kernel_predict(problem, params, data=None, max_rows=MAX_ROWS):
    X, units = problem["X"], problem["units"]
    if data is None:
        data = dense_data(X)
    outputs = np.full((X.shape[0], units[-1]), np.nan, dtype=X.dtype)
    kernels.predict_outputs(
        data,
        make_net(units, problem["hidden"], problem["output"]),
        params,
        make_work(units, max_rows, X.dtype),
        outputs,
    )
    return outputs


def make_problem(hidden, output, loss, seed=0, units=LAYER_UNITS, n=N_SAMPLES, alpha=ALPHA):
    """Tiny data, sample weights not all 1, and packed random parameters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, units[0]))
    y = ref.random_targets(loss, output, n, units[-1], rng)
    sw = rng.uniform(0.5, 2.0, n)
    coefs, intercepts = ref.random_parameters(units, rng)
    problem = dict(
        X=X,
        y=y,
        sw=sw,
        units=list(units),
        hidden=hidden,
        output=output,
        loss=loss,
        alpha=alpha,
        coefs=coefs,
        intercepts=intercepts,
    )
    return problem, ref.pack(coefs, intercepts)


def reference_loss_grad(problem, params, rows=None):
    rows = np.arange(problem["X"].shape[0]) if rows is None else rows
    coefs, intercepts = ref.unpack(params, problem["units"])
    value, cg, ig = ref.loss_and_gradient(
        problem["X"][rows],
        problem["y"][rows],
        problem["sw"][rows],
        coefs,
        intercepts,
        problem["hidden"],
        problem["output"],
        problem["loss"],
        problem["alpha"],
    )
    return value, ref.pack(cg, ig)


def assert_close(actual, expected, rtol):
    """Relative agreement, entries near zero judged against the largest entry."""
    expected = np.asarray(expected)
    atol = rtol * max(np.abs(expected).max(), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# scikit-learn's _stochastic_optimizers, written out:
#   SGD:  v <- momentum * v - lr * g;  step = v, or with Nesterov
#         step = momentum * v - lr * g (using the new v);  w <- w + step
#   Adam: t <- t + 1;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g**2
#         lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t);  w <- w - lr_t m / (sqrt(v) + eps)


def reference_epoch(problem, params, order, batch_size, optimizer, state, settings):
    """One epoch of minibatch steps with the reference gradient; updates state."""
    lr, momentum, nesterov, beta_1, beta_2, epsilon = settings
    params = params.copy()
    accumulated = 0.0
    for start in range(0, order.size, batch_size):
        rows = order[start : start + batch_size]
        value, g = reference_loss_grad(problem, params, rows=rows)
        accumulated += value * rows.size
        if optimizer == "sgd":
            state["v"] = momentum * state["v"] - lr * g
            update = momentum * state["v"] - lr * g if nesterov else state["v"]
        else:
            state["t"] += 1
            state["m"] = beta_1 * state["m"] + (1 - beta_1) * g
            state["v"] = beta_2 * state["v"] + (1 - beta_2) * g**2
            lr_t = lr * np.sqrt(1 - beta_2 ** state["t"]) / (1 - beta_1 ** state["t"])
            update = -lr_t * state["m"] / (np.sqrt(state["v"]) + epsilon)
        params += update
    return params, accumulated


# ===========================================================================
# hypothesis (tests/kernels/test_kernel_properties.py,
# tests/estimator/test_parity_properties.py)
# ===========================================================================

# In CI (``CI`` set) the examples are derandomised, so a run is reproducible;
# locally each run explores new ones. ``HYPOTHESIS_MAX_EXAMPLES=4000``
# explores more (30 by default; 12 runs of 4,000 examples per test passed
# before this was committed).
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 30)),
    deadline=None,
    database=None,  # nothing written into the work tree
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ===========================================================================
# estimators: the error and input tests' data and checkers
# ===========================================================================

N = 60
_rng = np.random.RandomState(0)
X = _rng.randn(N, 4)
Y_REG = X @ np.array([1.0, -0.5, 0.3, 0.0]) + 0.1 * _rng.randn(N)
Y_BIN = (Y_REG > 0).astype(int)
Y_3 = np.arange(N) % 3
Y_POISSON = np.arange(N) % 4 + 0.5
SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
NON_FINITE = "^Solver produced non-finite parameter weights"

CLASSES = {"clf": (SkMLPClassifier, MLPClassifier), "reg": (SkMLPRegressor, MLPRegressor)}
TARGETS = {"clf": Y_BIN, "reg": Y_REG}


def with_value(arr, idx, value):
    arr = np.array(arr, dtype=float)
    arr[idx] = value
    return arr


def raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - we want whatever sklearn raises
            return exc
    raise AssertionError("scikit-learn did not raise; the test case is wrong")


def assert_same_error(kind, call, params=None, match=None, fitted_with=None):
    """Run ``call(est)`` on scikit-learn's and on numba_mlp's estimator.

    numba_mlp must raise exactly the exception type scikit-learn raises, with
    a message matching ``match`` (which must match scikit-learn's message;
    by default scikit-learn's whole message, escaped).
    """
    params = {**SMALL, **(params or {})}
    sk_cls, nm_cls = CLASSES[kind]
    sk, nm = sk_cls(**params), nm_cls(**params)
    if fitted_with is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted_with(sk)
            fitted_with(nm)
    sk_exc = raised(lambda: call(sk))
    if match is None:
        match = re.escape(str(sk_exc))
    assert re.search(match, str(sk_exc)), (match, str(sk_exc))
    with pytest.raises(Exception) as excinfo:
        call(nm)
    assert type(excinfo.value) is type(sk_exc), (
        f"numba_mlp raised {type(excinfo.value).__name__}: {excinfo.value}; "
        f"scikit-learn raised {type(sk_exc).__name__}: {sk_exc}"
    )
    assert re.search(match, str(excinfo.value)), (match, str(excinfo.value))
    return nm


def assert_not_fitted(est):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(X)


def frozen(obj):
    """A comparable snapshot of an object's whole state (arrays by bytes)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return ("object-array", obj.shape, tuple(frozen(x) for x in obj.ravel()))
        return ("array", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, dict):
        return ("dict", tuple((k, frozen(obj[k])) for k in sorted(obj)))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(frozen(x) for x in obj))
    if isinstance(obj, np.random.RandomState):
        return ("RandomState", frozen(obj.get_state()))
    if isinstance(obj, (float, np.floating)) and np.isnan(obj):
        return ("nan",)
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic, type)):
        return (type(obj).__name__, obj)
    if hasattr(obj, "__dict__"):
        return (type(obj).__name__, frozen(vars(obj)))
    return (type(obj).__name__, repr(obj))


def snapshot(est):
    """The estimator's whole state (``frozen``), to compare after a call."""
    return frozen(est)


def assert_unchanged(est, snap, message="the failed call changed the estimator"):
    """``est`` is bitwise as it was when ``snap = snapshot(est)`` was taken."""
    assert frozen(est) == snap, message


def prepared(cls, kind, state, params):
    """An estimator of ``cls`` in ``state``: "unfitted", "fit" or "partial_fit"."""
    est = cls(**{**SMALL, **params}) if state == "unfitted" else cls(**SMALL)
    if state == "partial_fit":
        kw = {"classes": np.unique(Y_BIN)} if kind == "clf" else {}
        est.partial_fit(X, TARGETS[kind], **kw)
    elif state == "fit":
        est.fit(X, TARGETS[kind])
    return est.set_params(**params)


def sklearn_error(kind, call, params, state):
    """The exception scikit-learn raises on ``call``, or None if it accepts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = prepared(CLASSES[kind][0], kind, state, params)
        try:
            call(est)
        except Exception as exc:  # noqa: BLE001 - whatever scikit-learn raises
            return exc
    return None


def assert_refused(kind, call, exc, match, params=None, states=("unfitted", "fit"), sklearn="same"):
    """``call`` raises ``exc`` (message matching ``match``) and changes nothing.

    Checked on a numba_mlp estimator in each of ``states`` ("unfitted", or
    after a good "fit" or "partial_fit"): its whole state afterwards is
    bitwise what it was. ``sklearn="same"``: scikit-learn (in the first
    state) raises the same type with a message matching ``match``;
    ``sklearn=None``: not run on scikit-learn; a type: scikit-learn raises
    that type instead (a deliberate difference, documented in the README).
    """
    params = params or {}
    if sklearn is not None:
        sk_exc = sklearn_error(kind, call, params, states[0])
        expected = exc if sklearn == "same" else sklearn
        assert type(sk_exc) is expected, f"scikit-learn raised {sk_exc!r}"
        if sklearn == "same":
            assert re.search(match, str(sk_exc)), (match, str(sk_exc))
    for state in states:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = prepared(CLASSES[kind][1], kind, state, params)
        before = snapshot(est)
        with pytest.raises(exc, match=match) as excinfo:
            call(est)
        assert type(excinfo.value) is exc  # not merely a subclass
        assert_unchanged(est, before, f"the failed call changed the {state} estimator")


def assert_same_fit(a, b, rtol=1e-6, atol=1e-9):
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        assert_allclose(x, y, rtol=rtol, atol=atol)


def assert_bitwise_same_fit(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        assert_array_equal(x, y)


def both_fit(kind, Xin, y=None, params=None, **fit_kw):
    """(scikit-learn's, numba_mlp's) estimators fitted on the same input."""
    y = TARGETS[kind] if y is None else y
    params = {**SMALL, **(params or {})}
    sk_cls, nm_cls = CLASSES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = sk_cls(**params).fit(Xin, y, **fit_kw)
        nm = nm_cls(**params).fit(Xin, y, **fit_kw)
    return sk, nm


# ===========================================================================
# estimators: the edge tests' data
# ===========================================================================


def edges_data():
    """(rng, X, Y_REG, Y_BIN, Y_3) of the edge tests; ``rng`` is a new
    generator each call, where those draws leave it."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    Y_REG = X @ rng.randn(4) + 0.1 * rng.randn(60)
    Y_BIN = (Y_REG > 0).astype(int)
    Y_3 = np.digitize(Y_REG, np.quantile(Y_REG, [1 / 3, 2 / 3]))
    return rng, X, Y_REG, Y_BIN, Y_3


def quietly(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call()


# ===========================================================================
# teaching
# ===========================================================================


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))
