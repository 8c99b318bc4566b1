"""``python -m numba_mlp bench``: numba-mlp against scikit-learn, shape by shape.

Every figure is measured in the same process, both libraries on the same data
with the same parameters (float64, adam, default batch size, same
``random_state``), as the median of several runs: a ratio is only meaningful
between two numbers taken side by side on a shared, noisy machine. PyTorch
(CPU) and JAX columns appear when those libraries are installed.

The report has three parts: the fit and predict cases on a quiet machine;
the same cases again while another process keeps one core busy (the machine
as it often is when shared); and a small grid search, serial and with
``n_jobs=2`` on threads and on worker processes.

The cases (and their targets) are defined once, in ``numba_mlp.benchmark_cases``,
which the asv suite in ``benchmarks/`` times too.
"""

import dataclasses
import functools
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np

from ._text import text_table
from .benchmark_cases import (
    FIT_CASES,
    FLOAT32_CASES,
    GRID_SEARCH_BACKENDS,
    GRID_SEARCH_CASE,
    PREDICT_CASES,
    SETTLE_SECONDS,
    SKLEARN_ONLINE_SAMPLES,
    busy_core,
    epoch_products,
    fit_parameters,
    gemm_rate,
    interleaved_medians,
    make_data,
    median_time,
    processor_name,
    products_time,
)


def _classifiers():
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from numba_mlp import MLPClassifier as NumbaMLP

    return {"numba_mlp": NumbaMLP, "sklearn": SklearnMLP}


#: Our fits time at least this many epochs past the first (scikit-learn's
#: large fits one): with one core busy, the difference of two fits of one
#: and two epochs moves by as much as an epoch.
OUR_LEAST_EXTRA_EPOCHS = 3

#: The runs key of our fit with BLAS limited to one thread
#: (``threadpoolctl.threadpool_limits(1)``): what the thread policy must not
#: lose to by more than 10%.
ONE_THREAD = "numba_mlp, 1 thread"


def time_fits(case, repeats, runs):
    """``{library: (seconds per epoch, peak traced MB)}`` of each library's fit.

    ``runs`` maps a library (or ``ONE_THREAD``) to the ``(X, y,
    extra_epochs)`` it is timed on.
    An epoch's time is the difference between fits of ``1 + extra_epochs``
    epochs and of one epoch, divided by ``extra_epochs``: what a fit costs
    whatever the number of epochs (validation, label encoding, set-up) is
    left out, for both libraries alike. All the fits, both libraries and
    both lengths, are interleaved round by round, so that a busy moment of
    the machine falls on all of them alike, each followed by an untimed
    pause (``SETTLE_SECONDS``), so that none is slowed by the BLAS threads
    the one before left spinning.
    """
    from threadpoolctl import threadpool_limits

    classes = _classifiers()

    def fit(library, epochs):
        X, y, _ = runs[library]
        if library == ONE_THREAD:
            with threadpool_limits(1):
                return classes["numba_mlp"](**fit_parameters(case, epochs)).fit(X, y)
        return classes[library](**fit_parameters(case, epochs)).fit(X, y)

    fits = {
        (library, epochs): functools.partial(fit, library, epochs)
        for library, (_, _, extra_epochs) in runs.items()
        for epochs in (1, 1 + extra_epochs)
    }
    seconds = interleaved_medians(fits, repeats, pause=SETTLE_SECONDS)
    results = {}
    for library, (_, _, extra_epochs) in runs.items():
        peak = float("nan")
        if library != ONE_THREAD:
            tracemalloc.start()
            fit(library, 1)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        one, more = seconds[library, 1], seconds[library, 1 + extra_epochs]
        # more <= one: the machine was too noisy to tell an epoch apart
        epoch = (more - one) / extra_epochs if more > one else float("nan")
        results[library] = (epoch, peak)
    return results


def time_predicts(case, repeats):
    """Seconds per ``case.method`` call of each library's fitted classifier,
    by library; the two libraries' calls interleaved."""
    X, y = make_data(max(case.n_samples, 200), case.n_features)
    rows = X[: case.n_samples]
    calls = max(1, 2000 // case.n_samples)  # one row: time many calls
    functions = {}
    for library, estimator_class in _classifiers().items():
        estimator = estimator_class(hidden_layer_sizes=case.hidden, max_iter=1, random_state=0)
        estimator.fit(X[:2000], y[:2000])

        method = getattr(estimator, case.method)

        def predict_many(method=method):
            for _ in range(calls):
                method(rows)

        predict_many()  # the first call is not timed
        functions[library] = predict_many
    return {
        library: seconds / calls
        for library, seconds in interleaved_medians(functions, repeats).items()
    }


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


def _format_seconds(seconds):
    if not np.isfinite(seconds):
        return "noisy: rerun"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def _format_number(value, pattern):
    """``value`` written with ``pattern``, or '-' when it is not finite (a noisy time)."""
    return pattern.format(value) if np.isfinite(value) else "-"


#: The columns of the fit and predict tables, quiet and under load.
CASE_HEADER = [
    "case",
    "numba_mlp",
    "sklearn",
    "speed-up",
    "target",
    "GFLOP/s",
    "% peak",
    "% GEMM bound",
    "vs our 1 thread",
    "peak MB (ours/sk)",
]


def quick_samples(case):
    """Rows of a fit case under ``--quick``: minibatch shapes cut to 5,000."""
    if case.n_samples > 5_000 and case.batch_size == "auto":
        return 5_000
    return case.n_samples


def fit_rows(cases, repeats, quick, gemm_rates, bounds, extra):
    """One table row per fit case: both libraries' epoch times, the speed-up
    (float32: over our float64 row of the same shape), our GFLOP/s and its
    share of numpy's peak GEMM rate for the case's dtype (``gemm_rates``,
    GFLOP/s by dtype), the epoch's GEMM bound as a share of its time, peak
    memory, and the optional libraries ``extra``.

    ``bounds`` maps a case to numpy's time for its epoch's products; cases
    not in it are timed and added, so that a second table (under load) is
    held to the bounds of the first. Online cases have none: there numpy's
    cost per call, not the arithmetic, would be timed."""
    rows = []
    float64_epoch = {}
    for case in cases:
        n_samples = quick_samples(case) if quick else case.n_samples
        X, y = make_data(n_samples, case.n_features, case.dtype)
        work = n_samples * case.n_features
        epochs = 1 if work > 10**6 else (3 if work > 10**5 else 10)
        # our epochs are short enough to time over more of them: the ratio of
        # our two ways ("vs our 1 thread") must not rest on one noisy epoch
        our_epochs = max(epochs, OUR_LEAST_EXTRA_EPOCHS)
        runs = {"numba_mlp": (X, y, our_epochs), "sklearn": (X, y, epochs)}
        if case.batch_size == 1:  # scikit-learn's online loop: time a subset
            subset = SKLEARN_ONLINE_SAMPLES
            runs["sklearn"] = (X[:subset], y[:subset], 1)
        else:  # online learning computes no product BLAS could share
            runs[ONE_THREAD] = (X, y, our_epochs)
        times = time_fits(case, repeats, runs)
        (ours, our_peak), (theirs, their_peak) = times["numba_mlp"], times["sklearn"]
        one_thread = times.get(ONE_THREAD, (float("nan"), None))[0]
        if case.batch_size == 1:
            theirs *= n_samples / subset
        if case.dtype is np.float32:
            baseline = float64_epoch.get((case.n_samples, case.n_features, case.hidden))
            ratio = _format_number(baseline / ours, "{:.2f}x vs f64") if baseline else "-"
        else:
            float64_epoch[(case.n_samples, case.n_features, case.hidden)] = ours
            ratio = _format_number(theirs / ours, "{:.2f}x")
        gflops = case.flops * n_samples / case.n_samples / ours / 1e9
        if case.batch_size != 1 and case not in bounds:
            shapes = epoch_products(case, n_samples)
            bounds[case] = products_time(shapes, case.dtype, repeats)
        bound = bounds.get(case)
        name = case.name if n_samples == case.n_samples else case.name + f" [quick: {n_samples:,}]"
        row = [
            name,
            _format_seconds(ours),
            _format_seconds(theirs),
            ratio,
            f">= {case.target:g}x",
            _format_number(gflops, "{:.1f}"),
            _format_number(100 * gflops / gemm_rates[case.dtype], "{:.0f}%"),
            _format_number(100 * bound / ours, "{:.0f}%") if bound else "-",
            _format_number(one_thread / ours, "{:.2f}x"),
            f"{our_peak:.0f} / {their_peak:.0f}",
        ]
        for library in extra:
            timer = _torch_epoch_time if library == "torch" else _jax_epoch_time
            try:
                row.append(_format_seconds(timer(case, X, y, repeats, epochs)))
            except Exception as error:  # an optional column must not stop the bench
                row.append(f"failed: {type(error).__name__}")
        rows.append(row)
    return rows


def predict_rows(cases, repeats, quick, extra):
    """One table row per predict case (under ``--quick``, at most 10,000 rows)."""
    rows = []
    for case in cases:
        if quick and case.n_samples > 10_000:
            case = dataclasses.replace(case, n_samples=10_000)
        times = time_predicts(case, repeats)
        ours, theirs = times["numba_mlp"], times["sklearn"]
        rows.append(
            [
                case.name,
                _format_seconds(ours),
                _format_seconds(theirs),
                f"{theirs / ours:.2f}x",
                f">= {case.target:g}x",
                "-",
                "-",
                "-",
                "-",
                "-",
            ]
            + ["-"] * len(extra)
        )
    return rows


def under_load_cases(fit_cases, predict_cases, quick):
    """The cases re-run with one core busy: all of them, but under ``--quick``
    only those of at most 20,000 rows and not the online SGD row (scikit-learn's
    one-example loop alone takes seconds), to keep the quick run short."""
    if not quick:
        return fit_cases, predict_cases
    return (
        tuple(c for c in fit_cases if c.n_samples <= 20_000 and c.batch_size == "auto"),
        tuple(c for c in predict_cases if c.n_samples <= 20_000),
    )


def time_grid_searches(case, repeats):
    """Median seconds of ``case``'s whole search, by (library, backend);
    backend None is ``n_jobs=1``. All the searches are interleaved; those on
    worker processes are run once untimed first, since the first pays the
    workers' start-up and their loading of the compiled kernels."""
    X, y = make_data(case.n_samples, case.n_features)
    classifiers = _classifiers()
    for estimator_class in classifiers.values():
        case.run(estimator_class, X, y, backend="loky")
    searches = {
        (library, backend): functools.partial(case.run, estimator_class, X, y, backend)
        for backend in (None, *GRID_SEARCH_BACKENDS)
        for library, estimator_class in classifiers.items()
    }
    return interleaved_medians(searches, repeats)


def grid_search_rows(case, repeats):
    """One row per search: n_jobs=1, then n_jobs=2 on each joblib backend,
    with the speed-up over scikit-learn's same search and over our n_jobs=1."""
    seconds = time_grid_searches(case, repeats)
    our_serial = seconds["numba_mlp", None]
    rows = []
    for backend in (None, *GRID_SEARCH_BACKENDS):
        ours, theirs = seconds["numba_mlp", backend], seconds["sklearn", backend]
        serial = backend is None
        rows.append(
            [
                "GridSearchCV n_jobs=1" if serial else f"GridSearchCV n_jobs=2 {backend}",
                _format_seconds(ours),
                _format_seconds(theirs),
                f"{theirs / ours:.2f}x",
                "-" if serial else f">= {case.target:g}x",
                "-" if serial else f"{our_serial / ours:.2f}x",
                "-" if serial else f">= {case.parallel_target:g}x",
            ]
        )
    return rows


def run_bench(quick=False, load=True, out=None, compile_only=False):
    """Run every case, print the report to ``out`` (stdout); return 0.

    ``load=False`` leaves out the section timed with one core busy;
    ``compile_only`` runs the compile section alone (``_bench_compile``).
    """
    import numba
    import sklearn
    from sklearn.exceptions import ConvergenceWarning

    out = sys.stdout if out is None else out

    def say(text=""):
        print(text, file=out, flush=True)

    repeats = 3 if quick else 5
    flags = (" --compile" if compile_only else "") + (" --quick" if quick else "")
    say(
        f"numba-mlp bench{flags}: {time.strftime('%Y-%m-%d')}, "
        f"{processor_name()}, {os.cpu_count()} cores, "
        f"numba {numba.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    )
    if compile_only:
        from ._bench_compile import run_compile_section

        run_compile_section(1 if quick else 3, load, say)
        return 0
    extra = _optional_libraries()
    gemm_rates = {dtype: gemm_rate(dtype) for dtype in (np.float64, np.float32)}
    say(
        f"numpy GEMM rate: float64 {gemm_rates[np.float64]:.1f} GFLOP/s, "
        f"float32 {gemm_rates[np.float32]:.1f} GFLOP/s"
    )
    say(
        "fit: time per epoch = (fit of 1 + k epochs - fit of 1 epoch) / k (k = 1, 3 or 10 "
        f"by size; ours at least {OUR_LEAST_EXTRA_EPOCHS}), medians of "
        f"{repeats} fit{'s' if repeats > 1 else ''}, the two libraries' fits taking turns; "
        "both libraries on the same data; "
        "% peak = GFLOP/s / numpy's GEMM rate above; % GEMM bound = numpy's time for the "
        "epoch's products at their own shapes / the epoch's time; vs our 1 thread = our "
        "epoch under threadpool_limits(1) / our epoch, timed in the same turns "
        "(the thread policy's target: >= 0.91x); the kernels are compiled before anything "
        "is timed (compile time: python -m numba_mlp bench --compile)"
    )
    say()

    header = CASE_HEADER + extra
    fit_cases = FIT_CASES + (() if quick else FLOAT32_CASES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # warm the JIT (float64 and float32, dense): compilation is not timed
        for dtype in (np.float64, np.float32):
            X, y = make_data(300, 20, dtype)
            _classifiers()["numba_mlp"](max_iter=2).fit(X, y).predict(X)
        bounds = {}
        rows = fit_rows(fit_cases, repeats, quick, gemm_rates, bounds, extra)
        rows += predict_rows(PREDICT_CASES, repeats, quick, extra)
        say(text_table(header, rows))

        if load:
            loaded_fits, loaded_predicts = under_load_cases(fit_cases, PREDICT_CASES, quick)
            with busy_core():
                busy_gemm = gemm_rate(np.float64)
                rows = fit_rows(loaded_fits, repeats, quick, gemm_rates, bounds, extra)
                rows += predict_rows(loaded_predicts, repeats, quick, extra)
            say()
            say(
                "under load (one core busy): the same cases while another process spins on "
                f"one core; numpy GEMM rate now float64 {busy_gemm:.1f} GFLOP/s "
                "(% peak and % GEMM bound stay against the quiet machine's)"
            )
            say(text_table(header, rows))

        case = GRID_SEARCH_CASE
        say()
        say(
            f"grid search: {case.name}; whole searches, medians of {repeats}, "
            "the libraries' runs interleaved"
        )
        say(
            text_table(
                ["case", "numba_mlp", "sklearn", "speed-up", "target", "vs our n_jobs=1", "target"],
                grid_search_rows(case, repeats),
            )
        )
    return 0
