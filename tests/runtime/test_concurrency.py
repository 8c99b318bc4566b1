"""Concurrency: every kernel releases the GIL, threads sharing an estimator,
threads fitting side by side, and a soak of grid searches on the threading
and the process (loky) backends.

The kernels release the GIL (``nogil=True``), so these really run at the
same time; every result must be bitwise the single-threaded one.
"""

import threading
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV, KFold

from numba_mlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore")

_rng = np.random.RandomState(0)
X = _rng.randn(3000, 20)
Y_REG = X @ _rng.randn(20) + 0.1 * _rng.randn(3000)
Y_CLF = np.digitize(Y_REG, np.quantile(Y_REG, [0.33, 0.66]))


def run_at_once(functions):
    """Run each function in its own thread, released together; return results."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def worker(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def weights(est):
    return [a.copy() for a in est.coefs_ + est.intercepts_]


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        assert_array_equal(x, y)


# ---------------------------------------------------------------------------
# the kernels release the GIL
# ---------------------------------------------------------------------------


def test_every_kernel_releases_the_gil():
    """Threads can train at once: every compiled kernel releases the GIL.

    (How much faster two threads are is measured by the benchmarks, not
    asserted here: wall time on a shared machine is not a test.)
    """
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import numba_mlp.kernels as kernels

    dispatchers = {}
    for module_info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"numba_mlp.kernels.{module_info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                dispatchers[f"{module_info.name}.{name}"] = obj
    assert len(dispatchers) > 30, sorted(dispatchers)
    holding_the_gil = [name for name, d in dispatchers.items() if not d.targetoptions["nogil"]]
    assert holding_the_gil == []


# ---------------------------------------------------------------------------
# 8 threads predict with one fitted estimator
# ---------------------------------------------------------------------------

PREDICT_CASES = {
    "classifier-dense": (MLPClassifier, Y_CLF, lambda A: A, "predict_proba"),
    "classifier-float32": (MLPClassifier, Y_CLF, lambda A: A.astype(np.float32), "predict_proba"),
    "classifier-sparse": (
        MLPClassifier,
        Y_CLF,
        lambda A: sp.csr_matrix(np.where(np.abs(A) > 1, A, 0)),
        "predict",
    ),
    "regressor-dense": (MLPRegressor, Y_REG, lambda A: A, "predict"),
}


@pytest.mark.parametrize("case", sorted(PREDICT_CASES))
def test_eight_threads_predict_exactly_as_one(case):
    cls, y, convert, method = PREDICT_CASES[case]
    Xc = convert(X)
    est = cls(hidden_layer_sizes=(64, 32), max_iter=5, random_state=0).fit(Xc[:1000], y[:1000])
    expected = getattr(est, method)(Xc)
    state_before = weights(est)

    def predict_many():
        return [getattr(est, method)(Xc) for _ in range(10)]

    for outputs in run_at_once([predict_many] * 8):
        for out in outputs:
            assert_array_equal(out, expected)
    assert_same_weights(weights(est), state_before)


def test_threads_predicting_while_another_thread_refits_a_clone():
    # predicting with one estimator while another fits on other threads
    est = MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, Y_CLF)
    expected = est.predict_proba(X)
    other = MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=1)
    results = run_at_once([lambda: est.predict_proba(X)] * 6 + [lambda: other.fit(X, Y_CLF)])
    for out in results[:6]:
        assert_array_equal(out, expected)


# ---------------------------------------------------------------------------
# 4 threads fit 4 estimators at once
# ---------------------------------------------------------------------------

FIT_CASES = [
    (MLPClassifier, dict(solver="adam", hidden_layer_sizes=(32,)), "dense"),
    (
        MLPRegressor,
        dict(solver="sgd", hidden_layer_sizes=(16, 8), learning_rate_init=0.01),
        "dense",
    ),
    (MLPClassifier, dict(solver="lbfgs", hidden_layer_sizes=(16,), max_iter=30), "sparse"),
    (MLPRegressor, dict(solver="adam", hidden_layer_sizes=(24,), early_stopping=True), "float32"),
]


def _fit_case(i):
    cls, params, data = FIT_CASES[i]
    Xc = {
        "dense": X,
        "sparse": sp.csr_matrix(np.where(np.abs(X) > 1, X, 0)),
        "float32": X.astype(np.float32),
    }[data]
    y = Y_CLF if cls is MLPClassifier else Y_REG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(random_state=i, **{"max_iter": 8, **params}).fit(Xc, y)
    return weights(est), est.loss_curve_ if hasattr(est, "loss_curve_") else est.loss_


def test_four_threads_fit_exactly_as_alone():
    alone = [_fit_case(i) for i in range(4)]
    for _ in range(3):
        together = run_at_once([lambda i=i: _fit_case(i) for i in range(4)])
        for (w_alone, c_alone), (w_together, c_together) in zip(alone, together):
            assert_same_weights(w_together, w_alone)
            assert c_together == c_alone


def test_same_estimator_class_in_many_threads_with_partial_fit():
    # 4 threads each stream batches into their own estimator with partial_fit
    def stream(seed):
        est = MLPClassifier(hidden_layer_sizes=(16,), random_state=seed)
        for start in range(0, 3000, 500):
            est.partial_fit(X[start : start + 500], Y_CLF[start : start + 500], classes=[0, 1, 2])
        return weights(est)

    alone = [stream(s) for s in range(4)]
    together = run_at_once([lambda s=s: stream(s) for s in range(4)])
    for a, b in zip(alone, together):
        assert_same_weights(a, b)


# ---------------------------------------------------------------------------
# soak: grid searches on threads and on processes
# ---------------------------------------------------------------------------

SOAK_GRID = {
    "hidden_layer_sizes": [(4,), (8,), (4, 4), (6, 3)],
    "alpha": [1e-4, 1e-2],
    "solver": ["adam", "sgd", "lbfgs"],
    "activation": ["relu", "tanh"],
}  # 48 candidates


def _soak_search(backend, n_jobs, estimator, X_, y_):
    search = GridSearchCV(
        estimator,
        SOAK_GRID,
        cv=KFold(5, shuffle=True, random_state=0),
        n_jobs=n_jobs,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if backend is None:
            search.fit(X_, y_)
        else:
            with parallel_config(backend=backend, n_jobs=n_jobs):
                search.fit(X_, y_)
    return search


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_soak_grid_search_threads_and_processes_agree(kind):
    Xs, y = X[:150, :6], (Y_CLF if kind == "classifier" else Y_REG)[:150]
    est = (MLPClassifier if kind == "classifier" else MLPRegressor)(max_iter=15, random_state=0)
    timings, searches = {}, {}
    for backend, n_jobs in [(None, 1), ("threading", 4), ("loky", 2)]:
        start = time.perf_counter()
        searches[backend] = _soak_search(backend, n_jobs, est, Xs, y)
        timings[backend] = time.perf_counter() - start
    n_fits = len(SOAK_GRID["hidden_layer_sizes"]) * 2 * 3 * 2 * 5
    assert n_fits >= 200
    serial = searches[None]
    # threads: bitwise. loky workers run BLAS on one thread each, and OpenBLAS
    # may then pick another product kernel: equal to rounding.
    for backend, rtol in (("threading", 0.0), ("loky", 1e-7)):
        search = searches[backend]
        for key in [f"split{i}_test_score" for i in range(5)] + ["mean_test_score"]:
            np.testing.assert_allclose(
                search.cv_results_[key], serial.cv_results_[key], rtol=rtol, atol=0
            )
        assert search.best_params_ == serial.best_params_
        for x, y in zip(weights(search.best_estimator_), weights(serial.best_estimator_)):
            assert x.dtype == y.dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * 1e-3)
    assert np.isfinite(serial.cv_results_["mean_test_score"]).all()
    print(f"soak {kind}: {n_fits} fits per backend (+1 refit), x3 backends; seconds {timings}")
