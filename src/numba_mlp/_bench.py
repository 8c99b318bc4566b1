"""``python -m numba_mlp bench``: numba-mlp against scikit-learn, shape by shape.

Every figure is measured in the same process, both libraries on the same data
with the same parameters (float64, adam, default batch size, same
``random_state``), as the median of several runs: a ratio is only meaningful
between two numbers taken side by side on a shared, noisy machine. PyTorch
(CPU) and JAX columns appear when those libraries are installed.

The cases (and their targets) are defined once, in ``numba_mlp.benchmark_cases``,
which the asv suite in ``benchmarks/`` times too.
"""

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np

from ._text import text_table
from .benchmark_cases import (
    FIT_CASES,
    FLOAT32_CASES,
    PREDICT_CASES,
    SKLEARN_ONLINE_SAMPLES,
    PredictCase,
    fit_parameters,
    gemm_rate,
    make_data,
    median_time,
    processor_name,
)


def _classifiers():
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from numba_mlp import MLPClassifier as NumbaMLP

    return {"numba_mlp": NumbaMLP, "sklearn": SklearnMLP}


def time_fit(case, library, repeats, extra_epochs, X, y):
    """(seconds per epoch, peak traced MB) of ``library``'s fit on X, y.

    An epoch's time is the difference between fits of ``1 + extra_epochs``
    epochs and of one epoch, divided by ``extra_epochs``: what a fit costs
    whatever the number of epochs (validation, label encoding, set-up) is
    left out, for both libraries alike.
    """
    estimator_class = _classifiers()[library]

    def fit(epochs):
        return estimator_class(**fit_parameters(case, epochs)).fit(X, y)

    one = median_time(lambda: fit(1), repeats)
    more = median_time(lambda: fit(1 + extra_epochs), repeats)
    tracemalloc.start()
    fit(1)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    if more <= one:  # the machine was too noisy to tell an epoch apart
        return float("nan"), peak
    return (more - one) / extra_epochs, peak


def time_predict(case, library, repeats):
    """Seconds per ``predict`` call of a fitted ``library`` classifier."""
    X, y = make_data(max(case.n_samples, 200), case.n_features)
    estimator = _classifiers()[library](
        hidden_layer_sizes=case.hidden, max_iter=1, random_state=0
    ).fit(X[:2000], y[:2000])
    rows = X[: case.n_samples]
    calls = max(1, 2000 // case.n_samples)  # one row: time many calls

    def predict_many():
        for _ in range(calls):
            estimator.predict(rows)

    return median_time(predict_many, repeats) / calls


def _torch_epoch_time(case, X, y, repeats, epochs):
    """Per-epoch time of the same network trained by PyTorch on the CPU."""
    import torch

    dtype = torch.float32 if case.dtype is np.float32 else torch.float64
    X_t = torch.as_tensor(X, dtype=dtype)
    y_t = torch.as_tensor(y.reshape(-1, 1), dtype=dtype)
    batch = min(200, len(X)) if case.batch_size == "auto" else case.batch_size

    def train():
        torch.manual_seed(0)
        layers, width = [], X.shape[1]
        for units in case.hidden:
            layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
            width = units
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1)).to(dtype)
        optimizer = (
            torch.optim.Adam(model.parameters(), lr=1e-3)
            if case.solver == "adam"
            else torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(epochs):
            order = torch.randperm(len(X_t))
            for start in range(0, len(X_t), batch):
                index = order[start : start + batch]
                optimizer.zero_grad()
                loss_fn(model(X_t[index]), y_t[index]).backward()
                optimizer.step()

    return median_time(train, repeats) / epochs


def _jax_epoch_time(case, X, y, repeats, epochs):
    """Per-epoch time of the same network trained with JAX (jit, plain Adam)."""
    import jax
    import jax.numpy as jnp

    if case.dtype is np.float64:
        jax.config.update("jax_enable_x64", True)
    batch = min(200, len(X)) if case.batch_size == "auto" else case.batch_size
    units = [X.shape[1], *case.hidden, 1]
    key = jax.random.PRNGKey(0)
    params = []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        key, sub = jax.random.split(key)
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(
            (
                jax.random.uniform(sub, (fan_in, fan_out), case.dtype, -bound, bound),
                jnp.zeros(fan_out, case.dtype),
            )
        )

    def loss(params, xb, yb):
        a = xb
        for w, b in params[:-1]:
            a = jax.nn.relu(a @ w + b)
        w, b = params[-1]
        z = (a @ w + b).ravel()
        return jnp.mean(jnp.logaddexp(0.0, z) - yb * z)

    @jax.jit
    def step(params, m, v, t, xb, yb):
        g = jax.grad(loss)(params, xb, yb)
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        lr = 1e-3 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * m / (jnp.sqrt(v) + 1e-8), params, m, v
        )
        return params, m, v

    X_j, y_j = jnp.asarray(X), jnp.asarray(y, dtype=case.dtype)
    n_full = (len(X) // batch) * batch  # whole batches only: one compiled shape

    def train():
        p = params
        m = jax.tree_util.tree_map(jnp.zeros_like, p)
        v = jax.tree_util.tree_map(jnp.zeros_like, p)
        t = 0
        for _ in range(epochs):
            for start in range(0, n_full, batch):
                t += 1
                p, m, v = step(p, m, v, t, X_j[start : start + batch], y_j[start : start + batch])
        jax.block_until_ready(p)

    train()  # compile
    return median_time(train, repeats) / epochs


def _optional_libraries():
    """Names of the optional comparison libraries that are importable."""
    found = []
    for name in ("torch", "jax"):
        try:
            __import__(name)
            found.append(name)
        except ImportError:
            pass
    return found


def first_fit_overheads():
    """(seconds a first fit in a new process adds with a warm cache,
    seconds of a cold compile of what a default fit needs)."""
    script = (
        "import time, warnings; warnings.simplefilter('ignore');"
        "import numpy as np; from numba_mlp import MLPClassifier;"
        "rng = np.random.default_rng(0); X = rng.standard_normal((500, 20));"
        "y = (X[:, 0] > 0).astype(int);"
        "t = time.perf_counter(); MLPClassifier(max_iter=5).fit(X, y).predict(X);"
        "first = time.perf_counter() - t;"
        "t = time.perf_counter(); MLPClassifier(max_iter=5).fit(X, y).predict(X);"
        "print(first, time.perf_counter() - t)"
    )

    def run(env):
        output = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        first, steady = float(output[0]), float(output[1])
        return first - steady

    with tempfile.TemporaryDirectory() as cache:
        cold_env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = run(cold_env)
        warm = run(cold_env)  # same cache dir, now filled
    return warm, cold


def _format_seconds(seconds):
    if not np.isfinite(seconds):
        return "noisy: rerun"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def run_bench(quick=False, out=None):
    """Run every case, print the report to ``out`` (stdout); return 0."""
    import numba
    import sklearn
    from sklearn.exceptions import ConvergenceWarning

    out = sys.stdout if out is None else out

    def say(text=""):
        print(text, file=out, flush=True)

    repeats = 3 if quick else 5
    extra = _optional_libraries()
    say(
        f"numba-mlp bench{' --quick' if quick else ''}: {time.strftime('%Y-%m-%d')}, "
        f"{processor_name()}, {os.cpu_count()} cores, "
        f"numba {numba.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    )
    gemm64, gemm32 = gemm_rate(np.float64), gemm_rate(np.float32)
    say(f"numpy GEMM rate: float64 {gemm64:.1f} GFLOP/s, float32 {gemm32:.1f} GFLOP/s")
    say(
        "fit: time per epoch = (fit of 1 + k epochs - fit of 1 epoch) / k, medians of "
        f"{repeats} fit{'s' if repeats > 1 else ''}; both libraries on the same data"
    )
    say()

    header = ["case", "numba_mlp", "sklearn", "speed-up", "target", "GFLOP/s", "peak MB (ours/sk)"]
    header += extra
    rows = []
    float64_epoch = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # warm the JIT (float64 and float32, dense): compilation is not timed
        for dtype in (np.float64, np.float32):
            X, y = make_data(300, 20, dtype)
            _classifiers()["numba_mlp"](max_iter=2).fit(X, y).predict(X)
        cases = FIT_CASES + (() if quick else FLOAT32_CASES)
        for case in cases:
            n_samples = case.n_samples
            if quick and case.n_samples > 5_000 and case.batch_size == "auto":
                n_samples = 5_000
            X, y = make_data(n_samples, case.n_features, case.dtype)
            work = n_samples * case.n_features
            epochs = 1 if work > 10**6 else (3 if work > 10**5 else 10)
            ours, our_peak = time_fit(case, "numba_mlp", repeats, epochs, X, y)
            if case.batch_size == 1:  # scikit-learn's online loop: time a subset
                X_sk, y_sk = X[:SKLEARN_ONLINE_SAMPLES], y[:SKLEARN_ONLINE_SAMPLES]
                theirs, their_peak = time_fit(case, "sklearn", 1, 1, X_sk, y_sk)
                theirs *= n_samples / SKLEARN_ONLINE_SAMPLES
            else:
                theirs, their_peak = time_fit(case, "sklearn", repeats, epochs, X, y)
            if case.dtype is np.float32:
                baseline = float64_epoch.get((case.n_samples, case.n_features, case.hidden))
                ratio = f"{baseline / ours:.2f}x vs f64" if baseline else "-"
            else:
                float64_epoch[(case.n_samples, case.n_features, case.hidden)] = ours
                ratio = f"{theirs / ours:.2f}x"
            flops = case.flops * n_samples / case.n_samples
            name = (
                case.name if n_samples == case.n_samples else case.name + f" [quick: {n_samples:,}]"
            )
            row = [
                name,
                _format_seconds(ours),
                _format_seconds(theirs),
                ratio,
                f">= {case.target:g}x",
                f"{flops / ours / 1e9:.1f}",
                f"{our_peak:.0f} / {their_peak:.0f}",
            ]
            for library in extra:
                timer = _torch_epoch_time if library == "torch" else _jax_epoch_time
                try:
                    row.append(_format_seconds(timer(case, X, y, repeats, epochs)))
                except Exception as error:  # an optional column must not stop the bench
                    row.append(f"failed: {type(error).__name__}")
            rows.append(row)
        for case in PREDICT_CASES:
            if quick and case.n_samples > 10_000:
                case = PredictCase(10_000, case.n_features, case.hidden, case.target)
            ours = time_predict(case, "numba_mlp", repeats)
            theirs = time_predict(case, "sklearn", repeats)
            rows.append(
                [
                    case.name,
                    _format_seconds(ours),
                    _format_seconds(theirs),
                    f"{theirs / ours:.2f}x",
                    f">= {case.target:g}x",
                    "-",
                    "-",
                ]
                + ["-"] * len(extra)
            )
    say(text_table(header, rows))
    if not quick:
        warm, cold = first_fit_overheads()
        say()
        say(
            f"first fit in a new process, warm cache: +{warm:.2f} s over a steady fit "
            "(target < 1 s)"
        )
        say(f"cold compile of a default fit (empty cache): +{cold:.1f} s (target < 30 s)")
    return 0
