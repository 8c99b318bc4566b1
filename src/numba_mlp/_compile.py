"""``python -m numba_mlp compile``: the kernels compiled ahead of time.

Each kind of fit runs kernels compiled for it: its dtype (float64 or
float32), its input (a dense array or a CSR matrix) and its way of training
(minibatches of adam or sgd, online learning with ``batch_size=1``, or
L-BFGS). The first fit of a kind in an empty kernel cache compiles them, and
later processes load them from the cache (docs/usage.md, "Set-up").

This command pays that ahead of time, for an image build, a CI cache or the
workers of a cluster: it fits a tiny problem of each chosen kind, as a
user's fit would, so that exactly the kernels a real fit of that kind runs
are compiled into the cache. The kinds compile in separate processes, as many
at once as ``jobs`` says (the cache serialises its writers), each counting
what it compiled through Numba's compile events.
"""

import itertools
import json
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed

DTYPES = ("float64", "float32")
INPUTS = ("dense", "sparse")
TRAININGS = ("minibatch", "online", "lbfgs")


def kinds(dtypes=DTYPES, inputs=INPUTS, trainings=TRAININGS):
    """The kinds of fit (``dtype-input-training`` names) of the given choices.

    Sparse input has no online kind of its own: with ``batch_size=1`` it
    trains through the minibatch kernels.
    """
    return [
        "-".join(choice)
        for choice in itertools.product(dtypes, inputs, trainings)
        if choice[1:] != ("sparse", "online")
    ]


def tiny_fits(kind):
    """Fit and predict tiny problems of ``kind``, as users' fits of it would."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning

    from . import MLPClassifier, MLPRegressor

    dtype, input_kind, training = kind.split("-")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5)).astype(dtype)
    if input_kind == "sparse":
        X = sp.csr_matrix(X)
    classes = np.arange(60) % 3
    targets = rng.standard_normal(60)
    settings = {
        "minibatch": [
            {"solver": "adam"},
            {"solver": "sgd", "early_stopping": True, "scoring": "loss"},
        ],
        "online": [{"solver": "adam", "batch_size": 1}, {"solver": "sgd", "batch_size": 1}],
        "lbfgs": [{"solver": "lbfgs"}],
    }[training]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for parameters in settings:
            common = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0, **parameters}
            MLPClassifier(**common).fit(X, classes).predict_proba(X)
            MLPRegressor(**common).fit(X, targets).predict(X)


def compile_kind(kind):
    """Child process: ``tiny_fits(kind)``; print the seconds it took and the
    number of kernels Numba compiled (0: the cache held them all)."""
    from numba.core import event

    start = time.perf_counter()
    with event.install_recorder("numba:compile") as compiled:
        tiny_fits(kind)
    seconds = time.perf_counter() - start
    count = sum(1 for _, record in compiled.buffer if record.is_start)
    print(json.dumps({"kind": kind, "seconds": seconds, "compiled": count}))


def _compile_in_child(kind):
    """Run ``compile_kind(kind)`` in a fresh interpreter; its report, or its error."""
    code = f"from numba_mlp._compile import compile_kind; compile_kind({kind!r})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return {"kind": kind, "error": result.stderr.strip()[-2000:] or f"exit {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def cache_location():
    """Where the kernels' cache entries go, in words."""
    import numba

    if numba.config.CACHE_DIR:
        return numba.config.CACHE_DIR
    return "__pycache__ beside the installed kernels, or Numba's user-wide cache if unwritable"


def _progress_bar(total):
    """A tqdm bar over the kinds, or None without tqdm (extra ``progress``)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="compiling", unit="kind", dynamic_ncols=True)


def run_compile(kind_names, jobs, out=None):
    """Compile ``kind_names`` in ``jobs`` processes at a time, reporting each as
    it finishes; return 0, or 1 if any kind failed."""
    out = sys.stdout if out is None else out
    jobs = max(1, min(jobs, len(kind_names)))
    print(
        f"compiling {len(kind_names)} kind{'s' * (len(kind_names) != 1)} of fit, "
        f"{jobs} at a time, into {cache_location()}",
        file=out,
        flush=True,
    )
    bar = _progress_bar(len(kind_names)) if out is sys.stdout else None
    say = bar.write if bar is not None else (lambda line: print(line, file=out, flush=True))
    start = time.perf_counter()
    failed = []
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(_compile_in_child, kind) for kind in kind_names]
        for done, future in enumerate(as_completed(futures), 1):
            report = future.result()
            if "error" in report:
                failed.append(report["kind"])
                say(f"[{done}/{len(kind_names)}] {report['kind']}: FAILED\n{report['error']}")
            else:
                say(
                    f"[{done}/{len(kind_names)}] {report['kind']}: {report['seconds']:.1f} s, "
                    f"{report['compiled']} kernel{'s' * (report['compiled'] != 1)} compiled"
                )
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - start
    if failed:
        print(f"{len(failed)} kind(s) failed: {', '.join(failed)}", file=out, flush=True)
        return 1
    print(f"done in {elapsed:.1f} s: later fits of these kinds load their kernels", file=out)
    return 0


def default_jobs():
    """One process per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
