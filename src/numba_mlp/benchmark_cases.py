"""The benchmark cases, defined once for ``python -m numba_mlp bench`` and asv.

Each case is a shape of the performance table with its target speed-up over
scikit-learn; the data, the estimators' parameters, the timers, the
machine's matrix-product rate and the busy core of the "under load" runs are
the same for both tools, so the bench command's report and asv's history
speak of the same measurements.
"""

import platform
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
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
    """Time of one call of a binary classifier's ``method`` (``predict`` or
    ``predict_proba``) on ``n_samples`` rows."""

    n_samples: int
    n_features: int
    hidden: tuple
    target: float
    method: str = "predict"

    @property
    def name(self):
        rows = f"{self.n_samples:,} row{'s' if self.n_samples > 1 else ''}"
        return f"{self.method} {rows} x {self.n_features}, {self.hidden}"


FIT_CASES = (
    FitCase(2_000, 20, (100,), target=4.0),
    FitCase(20_000, 20, (100,), target=4.0),
    FitCase(20_000, 100, (256, 128), target=2.0),
    FitCase(5_000, 784, (512,), target=1.2),
    FitCase(60_000, 784, (256,), target=1.2),
    FitCase(20_000, 20, (32,), target=150.0, batch_size=1, solver="sgd"),
)
FLOAT32_CASES = (
    FitCase(5_000, 784, (512,), target=1.7, dtype=np.float32),
    FitCase(60_000, 784, (256,), target=1.7, dtype=np.float32),
)
PREDICT_CASES = (
    PredictCase(1, 20, (100,), target=25.0),
    PredictCase(1, 20, (100,), target=25.0, method="predict_proba"),
    PredictCase(100_000, 784, (256,), target=1.2),
)

#: scikit-learn's online SGD is slow per example: time it on this many and scale.
SKLEARN_ONLINE_SAMPLES = 2_000


@dataclass(frozen=True)
class GridSearchCase:
    """Wall time of a whole ``GridSearchCV`` of MLPClassifier: each value of
    ``alphas`` on each of ``cv`` folds, then the refit of the best, every fit
    exactly ``epochs`` epochs (``tol=0``), so both libraries do the same work.

    ``target`` is the speed-up over scikit-learn's same search with
    ``n_jobs=2``, ``parallel_target`` that of ``n_jobs=2`` over our own
    ``n_jobs=1``.
    """

    n_samples: int
    n_features: int
    hidden: tuple
    alphas: tuple
    cv: int
    epochs: int
    target: float
    parallel_target: float
    batch_size: object = "auto"
    solver: str = "adam"

    @property
    def name(self):
        return (
            f"GridSearchCV of {len(self.alphas)} alphas x {self.cv} folds + refit, "
            f"{self.n_samples:,} x {self.n_features}, {self.hidden}, {self.epochs} epochs a fit"
        )

    def search(self, estimator_class, n_jobs=1):
        """The unfitted search of ``estimator_class`` (an MLPClassifier)."""
        from sklearn.model_selection import GridSearchCV

        estimator = estimator_class(**fit_parameters(self, self.epochs))
        return GridSearchCV(estimator, {"alpha": list(self.alphas)}, cv=self.cv, n_jobs=n_jobs)

    def run(self, estimator_class, X, y, backend=None):
        """Fit the search on X, y: with ``n_jobs=1`` when ``backend`` is None,
        else with ``n_jobs=2`` on joblib's ``backend`` ('threading' or 'loky')."""
        from joblib import parallel_config

        if backend is None:
            return self.search(estimator_class).fit(X, y)
        with parallel_config(backend=backend):
            return self.search(estimator_class, n_jobs=2).fit(X, y)


GRID_SEARCH_CASE = GridSearchCase(
    2_000,
    20,
    (100,),
    alphas=(1e-5, 1e-4, 1e-3, 1e-2),
    cv=3,
    epochs=20,
    target=4.0,
    parallel_target=1.6,
)
#: joblib backends of the ``n_jobs=2`` searches: threads, and worker processes
GRID_SEARCH_BACKENDS = ("threading", "loky")


#: Seconds to wait, untimed, after each timed fit: OpenBLAS's threads spin for
#: about a tenth of a second after a product before they sleep, and while they
#: spin they take the core the next fit would run on.
SETTLE_SECONDS = 0.2


def interleaved_medians(functions, repeats=3, pause=0.0):
    """Median wall time of each of ``functions`` (a dict name -> callable),
    waiting ``pause`` seconds (untimed) after each call.

    The functions are called in turn, ``repeats`` rounds of one call each,
    so that a busy moment of a shared machine falls on all of them alike
    rather than on whichever happened to be running. After the first, each
    round calls them in a shuffled order (seeded: the same in every run), so
    that what a function leaves behind (BLAS threads still spinning after a
    scikit-learn fit) does not always fall on the same next one.
    """
    times = {name: [] for name in functions}
    shuffler = random.Random(0)
    for round_ in range(repeats):
        order = list(functions)
        if round_:
            shuffler.shuffle(order)
        for name in order:
            function = functions[name]
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
            time.sleep(pause)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def median_time(function, repeats=3):
    """Median wall time of ``repeats`` calls of ``function``."""
    return interleaved_medians({"": function}, repeats)[""]


#: The busy process: it says it has started, spins, and stops by itself once
#: its parent is gone (a parent killed outright runs no ``finally``). Ctrl-C
#: is left to the parent, which kills it.
BUSY_LOOP = """\
import os, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
parent = os.getppid()
print("spinning", flush=True)
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""


@contextmanager
def busy_core():
    """Keep one core busy while the block runs, as another user's job would.

    The load is a child Python process spinning in a loop; it is running
    before the block starts, and it is killed and waited for when the block
    ends, whether normally, by an exception or by KeyboardInterrupt. Yields
    the child's ``subprocess.Popen``.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY_LOOP],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if process.stdout.readline() != "spinning\n":
            raise RuntimeError(f"the busy process stopped at start (exit code {process.wait()})")
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


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


def epoch_products(case, n_samples):
    """The matrix products one epoch of ``case`` on ``n_samples`` rows
    computes, as ``(rows, inner, columns)`` shapes: per minibatch, each
    layer's weighted sums and gradient sums, and its back signal except into
    the input layer (the products ``FitCase.flops`` counts)."""
    batch = min(200, n_samples) if case.batch_size == "auto" else case.batch_size
    units = [case.n_features, *case.hidden, 1]
    shapes = []
    for start in range(0, n_samples, batch):
        rows = min(batch, n_samples - start)
        for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            shapes.append((rows, fan_in, fan_out))  # weighted sums
            shapes.append((fan_in, rows, fan_out))  # gradient sums
            if layer > 0:
                shapes.append((rows, fan_out, fan_in))  # back signals
    return shapes


def products_time(shapes, dtype=np.float64, repeats=3):
    """numpy's time for the matrix products ``shapes`` (``epoch_products``),
    each into a buffer made beforehand: the GEMM bound of an epoch, the time
    the machine's BLAS needs for the products the epoch cannot do without,
    at the shapes the epoch computes them. The fastest of ``repeats`` runs:
    a bound is what the machine can do, not what it did on average."""
    rng = np.random.default_rng(0)
    operands = {}
    for shape in set(shapes):
        rows, inner, columns = shape
        operands[shape] = (
            rng.standard_normal((rows, inner)).astype(dtype),
            rng.standard_normal((inner, columns)).astype(dtype),
            np.empty((rows, columns), dtype=dtype),
        )
    products = [operands[shape] for shape in shapes]

    def compute():
        for left, right, out in products:
            np.matmul(left, right, out=out)

    compute()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return min(times)


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
