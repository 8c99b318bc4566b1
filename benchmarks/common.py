"""Shared pieces of the asv suite: problem sizes, data, estimators, warm-up.

Kept free of asv so the same helpers can be imported by a quick script.
"""

import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

BACKENDS = ("numba_mlp", "sklearn")

# name -> (n_samples, n_features, hidden_layer_sizes). Names are what asv shows.
SHAPES = {
    "2000x20_h100": (2000, 20, (100,)),
    "5000x100_h256-128": (5000, 100, (256, 128)),
}

N_CLASSES = 3
MAX_ITER = 10  # fixed number of epochs: tol=0 and no early stopping
WARMUP_SAMPLES = 64


def silence_warnings():
    """Benchmarks stop on max_iter on purpose: hide ConvergenceWarning."""
    warnings.simplefilter("ignore", ConvergenceWarning)


def make_data(shape, task="classification"):
    """Deterministic, learnable data for ``shape`` (a key of ``SHAPES``)."""
    n_samples, n_features, _ = SHAPES[shape]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, n_features))
    if task == "classification":
        W = rng.standard_normal((n_features, N_CLASSES))
        y = np.argmax(X @ W + 0.5 * rng.standard_normal((n_samples, N_CLASSES)), axis=1)
    else:
        w = rng.standard_normal(n_features) / np.sqrt(n_features)
        y = np.tanh(X @ w) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def estimator_class(backend, task="classification"):
    """The MLP class of ``backend``; NotImplementedError (asv: skip) if absent."""
    if backend == "sklearn":
        from sklearn import neural_network as module
    elif backend == "numba_mlp":
        try:
            import numba_mlp as module
        except ImportError as exc:  # pragma: no cover - package not built yet
            raise NotImplementedError(f"numba_mlp not importable: {exc}") from exc
    else:
        raise ValueError(f"unknown backend {backend!r}")
    name = "MLPClassifier" if task == "classification" else "MLPRegressor"
    try:
        return getattr(module, name)
    except AttributeError as exc:  # pragma: no cover
        raise NotImplementedError(f"{backend} has no {name}") from exc


def make_estimator(backend, shape, task="classification", max_iter=MAX_ITER):
    """Same parameters for both backends: adam, fixed epochs, seeded."""
    return estimator_class(backend, task)(
        hidden_layer_sizes=SHAPES[shape][2],
        solver="adam",
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=max_iter + 1,
        random_state=0,
    )


def preload_numba_mlp():
    """Import numba_mlp (numba, llvmlite) if possible, whatever the backend.

    peakmem_ benchmarks measure the whole process's peak RSS; with both
    libraries loaded in every process the difference is the fit's own memory,
    not the ~100 MB that importing Numba costs.
    """
    try:
        import numba_mlp  # noqa: F401
    except ImportError:  # pragma: no cover
        pass


def warm_up(backend, shape, X, y, task="classification"):
    """Fit once on a few rows so Numba's JIT (or cache load) is not timed."""
    est = make_estimator(backend, shape, task, max_iter=2)
    est.fit(X[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES])
    est.predict(X[:WARMUP_SAMPLES])


def median_fit_time(est, X, y, repeats=3):
    """Median wall time of ``repeats`` fits of ``est`` (time.perf_counter)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
