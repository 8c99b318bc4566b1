"""Shared pieces of the asv suite: the performance table's shapes, data,
estimators, warm-up. Kept free of asv so a script can import them too.

The cases, their data, the estimators' parameters and the timer come from
``numba_mlp.benchmark_cases``, the one definition the ``bench`` command uses
too, so asv history and the bench command speak of the same cases.
"""

import functools
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from numba_mlp import benchmark_cases
from numba_mlp.benchmark_cases import FIT_CASES

BACKENDS = ("numba_mlp", "sklearn")

# key -> case: the performance table's float64 minibatch fits (the bench command's)
CASES = {case.key: case for case in FIT_CASES if case.batch_size == "auto"}
# key -> (n_samples, n_features, hidden_layer_sizes)
SHAPES = {key: (c.n_samples, c.n_features, c.hidden) for key, c in CASES.items()}
SMALL_SHAPES = ("2000x20_h100", "20000x20_h100", "20000x100_h256-128")
# the bench command's grid search, serial and with n_jobs=2 on each joblib backend
GRID_SEARCH = benchmark_cases.GRID_SEARCH_CASE
GRID_SEARCH_JOBS = ("n_jobs=1", *benchmark_cases.GRID_SEARCH_BACKENDS)
# epochs per timed fit: enough that a fit's fixed cost does not swamp an epoch
EPOCHS = {"2000x20_h100": 10, "20000x20_h100": 3}
WARMUP_SAMPLES = 64


def silence_warnings():
    """Benchmarks stop on max_iter on purpose: hide ConvergenceWarning."""
    warnings.simplefilter("ignore", ConvergenceWarning)


@functools.lru_cache(maxsize=2)
def make_data(shape, dtype=np.float64):
    """The bench command's data for ``shape`` (a key of SHAPES)."""
    n_samples, n_features, _ = SHAPES[shape]
    return benchmark_cases.make_data(n_samples, n_features, dtype)


def grid_search_data():
    """The bench command's data for its grid search (``GRID_SEARCH``)."""
    return benchmark_cases.make_data(GRID_SEARCH.n_samples, GRID_SEARCH.n_features)


def estimator_class(backend):
    """The MLPClassifier of ``backend``; NotImplementedError (asv: skip) if absent."""
    if backend == "sklearn":
        from sklearn.neural_network import MLPClassifier
    elif backend == "numba_mlp":
        try:
            from numba_mlp import MLPClassifier
        except ImportError as exc:  # pragma: no cover - package not installed
            raise NotImplementedError(f"numba_mlp not importable: {exc}") from exc
    else:
        raise ValueError(f"unknown backend {backend!r}")
    return MLPClassifier


def make_estimator(backend, hidden, solver="adam", max_iter=1, **params):
    """Same parameters for both backends: fixed epochs, seeded, no early stop."""
    return estimator_class(backend)(
        hidden_layer_sizes=hidden,
        solver=solver,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=max_iter + 1,
        random_state=0,
        **params,
    )


def preload_numba_mlp():
    """Import numba_mlp whatever the backend, so that peakmem_ benchmarks
    compare the fits' own memory, not the ~100 MB of importing Numba."""
    try:
        import numba_mlp  # noqa: F401
    except ImportError:  # pragma: no cover
        pass


def warm_up(backend, X, y, hidden, **params):
    """Fit once on a few rows so Numba's JIT (or cache load) is not timed."""
    est = make_estimator(backend, hidden, max_iter=2, **params)
    est.fit(X[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES])
    est.predict(X[:WARMUP_SAMPLES])


median_time = benchmark_cases.median_time


def epoch_flops(shape):
    """Floating-point operations of one epoch, counted as the bench command does."""
    return CASES[shape].flops
