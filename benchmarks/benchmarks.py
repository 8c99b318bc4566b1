"""asv suite: numba-mlp's MLPClassifier against scikit-learn's, side by side.

Classes are parametrised over ``backend`` (numba_mlp, sklearn) so one
``asv run`` shows both; shapes are the performance table's (``common.SHAPES``).
``setup`` builds the data once per process and warms the JIT, so compilation
is never timed. A timed fit runs ``common.EPOCHS`` epochs (10 and 3 on the
two small shapes, so that a fit's fixed cost does not swamp the epochs; one
elsewhere), ``tol=0``; lbfgs runs as many iterations. ``track_`` benchmarks measure the
speed-up and GFLOP/s within one process. ``GridSearch`` times the bench command's
grid search, serial and with ``n_jobs=2``.
"""

import numpy as np

from .common import (
    BACKENDS,
    EPOCHS,
    GRID_SEARCH,
    GRID_SEARCH_JOBS,
    SHAPES,
    SMALL_SHAPES,
    epoch_flops,
    estimator_class,
    grid_search_data,
    make_data,
    make_estimator,
    median_time,
    preload_numba_mlp,
    silence_warnings,
    warm_up,
)

silence_warnings()


class _Timed:
    """One call per sample, a few samples, one process: fits take up to ~1 s."""

    number = 1
    repeat = (1, 3, 30.0)
    processes = 1
    warmup_time = 0.0
    timeout = 600


class Fit(_Timed):
    """One epoch (one L-BFGS iteration) of fit, per solver."""

    params = (list(BACKENDS), list(SHAPES), ["adam", "sgd", "lbfgs"])
    param_names = ["backend", "shape", "solver"]

    def setup(self, backend, shape, solver):
        silence_warnings()
        estimator_class(backend)  # NotImplementedError -> skipped
        preload_numba_mlp()
        self.X, self.y = make_data(shape)
        hidden = SHAPES[shape][2]
        warm_up(backend, self.X, self.y, hidden, solver=solver)
        self.estimator = make_estimator(
            backend, hidden, solver=solver, max_iter=EPOCHS.get(shape, 1)
        )

    def time_fit(self, backend, shape, solver):
        self.estimator.fit(self.X, self.y)

    def peakmem_fit(self, backend, shape, solver):
        self.estimator.fit(self.X, self.y)


class PartialFit(_Timed):
    """One partial_fit call over the whole data set (one epoch of adam)."""

    params = (list(BACKENDS), list(SMALL_SHAPES))
    param_names = ["backend", "shape"]

    def setup(self, backend, shape):
        silence_warnings()
        estimator_class(backend)
        self.X, self.y = make_data(shape)
        hidden = SHAPES[shape][2]
        warm_up(backend, self.X, self.y, hidden)
        self.estimator = make_estimator(backend, hidden)
        self.estimator.partial_fit(self.X[:200], self.y[:200], classes=[0, 1])

    def time_partial_fit(self, backend, shape):
        self.estimator.partial_fit(self.X, self.y)


class OnlineSGD(_Timed):
    """The handouts' algorithm: SGD one example at a time (batch_size=1), one
    epoch over 2,000 examples of 20 features, hidden (32,)."""

    params = (list(BACKENDS),)
    param_names = ["backend"]

    def setup(self, backend):
        silence_warnings()
        estimator_class(backend)
        X, y = make_data("2000x20_h100")
        self.X, self.y = X, y
        warm_up(backend, X, y, (32,), solver="sgd", batch_size=1)
        self.estimator = make_estimator(backend, (32,), solver="sgd", batch_size=1)

    def time_online_epoch(self, backend):
        self.estimator.fit(self.X, self.y)


class GridSearch(_Timed):
    """The bench command's whole GridSearchCV (``GRID_SEARCH``: every candidate
    on every fold, then the refit), with n_jobs=1 and with n_jobs=2 on joblib's
    threading and loky backends. ``setup`` runs the search once, so the loky
    workers' start-up and their loading of the kernels are not timed."""

    params = (list(BACKENDS), list(GRID_SEARCH_JOBS))
    param_names = ["backend", "jobs"]

    def setup(self, backend, jobs):
        silence_warnings()
        self.estimator_class = estimator_class(backend)
        preload_numba_mlp()
        self.X, self.y = grid_search_data()
        self.joblib_backend = None if jobs == "n_jobs=1" else jobs
        self.time_search(backend, jobs)

    def time_search(self, backend, jobs):
        GRID_SEARCH.run(self.estimator_class, self.X, self.y, backend=self.joblib_backend)


class Predict(_Timed):
    """predict and predict_proba of one row (20 features, hidden (100,)) and
    of 100,000 rows (784 features, hidden (256,)); 200 calls of one row."""

    params = (list(BACKENDS), ["1_row", "100000_rows"])
    param_names = ["backend", "rows"]

    def setup(self, backend, rows):
        silence_warnings()
        estimator_class(backend)
        preload_numba_mlp()
        n_features, hidden = (20, (100,)) if rows == "1_row" else (784, (256,))
        rng = np.random.default_rng(0)
        n_rows = 1 if rows == "1_row" else 100_000
        self.X = rng.standard_normal((n_rows, n_features))
        X_fit = rng.standard_normal((500, n_features))
        y_fit = (X_fit[:, 0] > 0).astype(np.int64)
        self.estimator = make_estimator(backend, hidden).fit(X_fit, y_fit)
        self.estimator.predict(self.X[:1])
        self.calls = 200 if n_rows == 1 else 1

    def time_predict(self, backend, rows):
        for _ in range(self.calls):
            self.estimator.predict(self.X)

    def time_predict_proba(self, backend, rows):
        for _ in range(self.calls):
            self.estimator.predict_proba(self.X)

    def peakmem_predict(self, backend, rows):
        self.estimator.predict(self.X)


class Speedup:
    """Ratios and rates measured within one process (medians of 3)."""

    params = (list(SHAPES),)
    param_names = ["shape"]
    timeout = 900
    processes = 1
    repeat = 1
    number = 1

    def setup(self, shape):
        silence_warnings()
        estimator_class("numba_mlp")
        self.X, self.y = make_data(shape)
        self.shape = shape
        self.hidden = SHAPES[shape][2]
        for backend in BACKENDS:
            warm_up(backend, self.X, self.y, self.hidden)

    def _epoch_time(self, backend):
        epochs = EPOCHS.get(self.shape, 1)
        estimator = make_estimator(backend, self.hidden, max_iter=epochs)
        return median_time(lambda: estimator.fit(self.X, self.y)) / epochs

    def track_fit_speedup(self, shape):
        return self._epoch_time("sklearn") / self._epoch_time("numba_mlp")

    track_fit_speedup.unit = "ratio"

    def track_numba_mlp_gflops(self, shape):
        return epoch_flops(shape) / self._epoch_time("numba_mlp") / 1e9

    track_numba_mlp_gflops.unit = "GFLOP/s"

    def track_gemm_gflops(self, shape):
        """numpy's float64 GEMM rate, the machine's practical peak."""
        from numba_mlp.benchmark_cases import gemm_rate

        return gemm_rate(np.float64)

    track_gemm_gflops.unit = "GFLOP/s"


class Additions(_Timed):
    """What numba-mlp adds, at the 20,000 x 20, (100,) shape, 3 epochs of adam:
    each hidden activation (relu is scikit-learn's default, for comparison)
    and dropout (0.0 is the default, for comparison). numba-mlp only."""

    params = (
        ["relu", "leaky_relu", "elu", "gelu", "softplus", "silu"],
        [0.0, 0.2],
    )
    param_names = ["activation", "dropout"]

    def setup(self, activation, dropout):
        silence_warnings()
        preload_numba_mlp()
        self.X, self.y = make_data("20000x20_h100")
        params = dict(activation=activation, dropout=dropout)
        warm_up("numba_mlp", self.X, self.y, (100,), **params)
        self.estimator = make_estimator("numba_mlp", (100,), max_iter=3, **params)

    def time_fit(self, activation, dropout):
        self.estimator.fit(self.X, self.y)
