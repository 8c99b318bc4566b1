"""asv suite: numba-mlp's MLPs against scikit-learn's, same parameters.

Every class is parametrised over the backend (``numba_mlp`` or ``sklearn``)
and a couple of small problem shapes; ``setup`` builds the data once with
``np.random.default_rng(0)`` and fits once on a few rows so Numba's JIT
compilation is never timed. Fits run a fixed number of Adam epochs
(``max_iter=10``, ``tol=0``).
"""

from .common import (
    BACKENDS,
    SHAPES,
    estimator_class,
    make_data,
    make_estimator,
    median_fit_time,
    preload_numba_mlp,
    silence_warnings,
    warm_up,
)

silence_warnings()


class _Base:
    task = "classification"
    params = (list(BACKENDS), list(SHAPES))
    param_names = ["backend", "shape"]
    timeout = 180
    # A fit takes up to ~1 s: one call per sample, a handful of samples.
    number = 1
    repeat = (1, 5, 20.0)
    warmup_time = 0.0

    def setup(self, backend, shape):
        silence_warnings()
        estimator_class(backend, self.task)  # NotImplementedError -> skipped
        preload_numba_mlp()
        self.X, self.y = make_data(shape, self.task)
        warm_up(backend, shape, self.X, self.y, self.task)
        self.estimator = make_estimator(backend, shape, self.task)


class MLPClassifierFit(_Base):
    """Fit: 10 Adam epochs, minibatches of 200."""

    def time_fit(self, backend, shape):
        self.estimator.fit(self.X, self.y)

    def peakmem_fit(self, backend, shape):
        # Peak RSS of the process; numba_mlp is imported for both backends.
        self.estimator.fit(self.X, self.y)


class MLPClassifierPredict(_Base):
    """Predict the training set with a fitted classifier."""

    def setup(self, backend, shape):
        super().setup(backend, shape)
        self.estimator.fit(self.X, self.y)

    def time_predict(self, backend, shape):
        self.estimator.predict(self.X)

    def time_predict_proba(self, backend, shape):
        self.estimator.predict_proba(self.X)


class MLPRegressorFit(_Base):
    """Fit a regressor (squared error, identity output): 10 Adam epochs."""

    task = "regression"

    def time_fit(self, backend, shape):
        self.estimator.fit(self.X, self.y)


class FitSpeedup:
    """sklearn fit time / numba_mlp fit time, measured in one process.

    Median of 3 fits per backend, after a warm-up fit of each. Above 1 means
    numba_mlp is faster.
    """

    params = (list(SHAPES),)
    param_names = ["shape"]
    unit = "ratio"
    timeout = 300
    repeats = 3

    def setup(self, shape):
        silence_warnings()
        estimator_class("numba_mlp")  # NotImplementedError -> skipped
        self.X, self.y = make_data(shape)
        for backend in BACKENDS:
            warm_up(backend, shape, self.X, self.y)

    def track_fit_speedup(self, shape):
        times = {
            backend: median_fit_time(make_estimator(backend, shape), self.X, self.y, self.repeats)
            for backend in BACKENDS
        }
        return times["sklearn"] / times["numba_mlp"]
