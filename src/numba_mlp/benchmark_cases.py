"""The benchmark cases, defined once for ``python -m numba_mlp bench`` and asv.

Each case is a shape of the performance table with its target speed-up over
scikit-learn; the data, the estimators' parameters, the timer and the
machine's matrix-product rate are the same for both tools, so the bench
command's report and asv's history speak of the same measurements.
"""

import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FitCase:
    """Per-epoch fit time on ``n_samples x n_features`` data."""

    n_samples: int
    n_features: int
    hidden: tuple
    target: float
    batch_size: object = "auto"
    solver: str = "adam"
    dtype: type = np.float64

    @property
    def name(self):
        text = f"fit {self.n_samples:,} x {self.n_features}, {self.hidden}"
        if self.batch_size != "auto":
            text += f", {self.solver} batch_size={self.batch_size}"
        if self.dtype is np.float32:
            text += ", float32"
        return text

    @property
    def key(self):
        """A short identifier, e.g. '2000x20_h100' (asv's parameter values)."""
        text = f"{self.n_samples}x{self.n_features}_h{'-'.join(map(str, self.hidden))}"
        if self.batch_size != "auto":
            text += f"_{self.solver}{self.batch_size}"
        if self.dtype is np.float32:
            text += "_f32"
        return text

    @property
    def flops(self):
        """Floating-point operations of the products of one epoch, per sample
        one multiply-add (2 flops) per weight for each of: the weighted sums,
        the back signals (not into the input layer: no one computes those)
        and the gradient sums. The rest (activations, deltas, optimiser) is
        linear in the nodes and weights and left out."""
        units = [self.n_features, *self.hidden, 1]
        weights = sum(a * b for a, b in zip(units[:-1], units[1:]))
        first_layer = units[0] * units[1]
        return (6 * weights - 2 * first_layer) * self.n_samples


@dataclass(frozen=True)
class PredictCase:
    """Time of one ``predict`` call on ``n_samples`` rows."""

    n_samples: int
    n_features: int
    hidden: tuple
    target: float

    @property
    def name(self):
        rows = f"{self.n_samples:,} row{'s' if self.n_samples > 1 else ''}"
        return f"predict {rows} x {self.n_features}, {self.hidden}"


FIT_CASES = (
    FitCase(2_000, 20, (100,), target=4.0),
    FitCase(20_000, 20, (100,), target=4.0),
    FitCase(20_000, 100, (256, 128), target=2.0),
    FitCase(5_000, 784, (512,), target=1.2),
    FitCase(60_000, 784, (256,), target=1.2),
    FitCase(20_000, 20, (32,), target=100.0, batch_size=1, solver="sgd"),
)
FLOAT32_CASES = (
    FitCase(5_000, 784, (512,), target=1.7, dtype=np.float32),
    FitCase(60_000, 784, (256,), target=1.7, dtype=np.float32),
)
PREDICT_CASES = (
    PredictCase(1, 20, (100,), target=20.0),
    PredictCase(100_000, 784, (256,), target=1.2),
)

#: scikit-learn's online SGD is slow per example: time it on this many and scale.
SKLEARN_ONLINE_SAMPLES = 2_000


def median_time(function, repeats=3):
    """Median wall time of ``repeats`` calls of ``function``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_data(n_samples, n_features, dtype=np.float64, seed=0):
    """Deterministic, learnable binary data: ``(X, y)``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def gemm_rate(dtype=np.float64, size=1500, repeats=3):
    """numpy's matrix-product rate in GFLOP/s: the machine's practical peak."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    a @ b
    return 2 * size**3 / median_time(lambda: a @ b, repeats) / 1e9


def fit_parameters(case, epochs):
    """Parameters of both libraries' MLPClassifier for ``case``: exactly
    ``epochs`` epochs (no early stop), seeded."""
    return dict(
        hidden_layer_sizes=case.hidden,
        solver=case.solver,
        batch_size=case.batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )


def processor_name():
    """The CPU's model name where the system tells it, else its architecture."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
