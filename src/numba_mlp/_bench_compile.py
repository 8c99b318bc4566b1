"""``python -m numba_mlp bench --compile``: what compiling costs a user.

Every figure comes from fresh interpreters, as a user meets it:

- cold: ``import numba_mlp`` and a first ``MLPClassifier().fit`` on the
  digits data set (standardised), with an empty kernel cache;
- each further kind of fit, first time, in a cache that the cold fit filled
  (a copy of it per kind): what that kind adds, measured as its first fit
  minus its second fit in the same process, with the kernels it compiled;
- warm: the first fit in a new process over the second (loading the kernels
  from the cache);
- ``import numba_mlp`` against ``import sklearn.neural_network``.

Each is the median of ``repeats`` fresh processes, the cases taking turns.
The asv suite's ``benchmarks/compile.py`` tracks the same cases.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

#: Further kinds of fit: name -> (parameters, input) of ``FIT_SCRIPT``.
FURTHER_KINDS = {
    "float32": ({}, "float32"),
    "float32, sparse": ({}, "float32 sparse"),
    "float32, lbfgs": ({"solver": "lbfgs"}, "float32"),
    "sparse": ({}, "sparse"),
    "lbfgs": ({"solver": "lbfgs"}, "dense"),
    "sgd, batch_size=1": ({"solver": "sgd", "batch_size": 1}, "dense"),
    "early_stopping": ({"early_stopping": True}, "dense"),
    "MLPRegressor": ({"estimator": "MLPRegressor"}, "dense"),
    "activation='tanh'": ({"activation": "tanh"}, "dense"),
    "activation='gelu'": ({"activation": "gelu"}, "dense"),
    "dropout=0.2": ({"dropout": 0.2}, "dense"),
}

#: One case in a fresh interpreter: import, then two fits of the digits data
#: set with the given parameters and input; prints the seconds of each step
#: and the kernels Numba compiled during the first fit.
FIT_SCRIPT = """
import json, sys, time, warnings
start = time.perf_counter()
import numba_mlp
imported = time.perf_counter() - start
import numpy as np, scipy.sparse as sp
from numba.core import event
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

parameters, input_kind = json.loads(sys.argv[1])
estimator = getattr(numba_mlp, parameters.pop("estimator", "MLPClassifier"))
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X).astype("float32" if "float32" in input_kind else "float64")
if "sparse" in input_kind:
    X = sp.csr_matrix(X)
if estimator is numba_mlp.MLPRegressor:
    y = y.astype(float)
if parameters:  # a further kind: a few epochs, since only what they add counts
    parameters.setdefault("max_iter", 5)
warnings.simplefilter("ignore")

def fit():
    start = time.perf_counter()
    estimator(random_state=0, **parameters).fit(X, y)
    return time.perf_counter() - start

with event.install_recorder("numba:compile") as compiled:
    first = fit()
second = fit()
print(json.dumps({"import": imported, "first": first, "second": second,
                  "compiled": sum(1 for _, r in compiled.buffer if r.is_start)}))
"""

IMPORT_SCRIPT = (
    "import sys, time; start = time.perf_counter(); __import__(sys.argv[1]); "
    "print(time.perf_counter() - start)"
)


def run_case(parameters, input_kind, cache_dir):
    """One fresh interpreter running ``FIT_SCRIPT``; its report (a dict)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [sys.executable, "-c", FIT_SCRIPT, json.dumps([parameters, input_kind])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_seconds(module):
    """Seconds ``import module`` takes in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, module], capture_output=True, text=True, check=True
    )
    return float(result.stdout)


def cold_and_warm(scratch):
    """(cold report, warm report, the warm cache directory): a default fit in
    an empty cache, then again in a new process with the cache it filled."""
    cache = tempfile.mkdtemp(dir=scratch)
    cold = run_case({}, "dense", cache)
    warm = run_case({}, "dense", cache)
    return cold, warm, cache


def further_kind(name, warm_cache, scratch):
    """The report of kind ``name``'s first fits, in a copy of ``warm_cache``."""
    cache = tempfile.mkdtemp(dir=scratch)
    shutil.copytree(warm_cache, cache, dirs_exist_ok=True)
    parameters, input_kind = FURTHER_KINDS[name]
    return run_case(dict(parameters), input_kind, cache)


def compile_profile(repeats):
    """Every case of the section, ``repeats`` rounds of each in turn; returns
    {case: list of reports} and {module: list of import seconds}."""
    reports = {"cold": [], "warm": [], **{name: [] for name in FURTHER_KINDS}}
    imports = {"numba_mlp": [], "sklearn.neural_network": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeats):
            cold, warm, cache = cold_and_warm(scratch)
            reports["cold"].append(cold)
            reports["warm"].append(warm)
            for name in FURTHER_KINDS:
                reports[name].append(further_kind(name, cache, scratch))
            shutil.rmtree(cache)
            for module, times in imports.items():
                times.append(import_seconds(module))
    return reports, imports


def profile_rows(reports):
    """The table's rows: case, seconds, kernels compiled (medians)."""

    def median(case, value):
        return statistics.median(value(report) for report in reports[case])

    def compiled(case):
        return f"{median(case, lambda r: r['compiled']):.0f}"

    rows = [
        [
            "cold: import + first MLPClassifier().fit (digits)",
            f"{median('cold', lambda r: r['import'] + r['first']):.1f} s",
            compiled("cold"),
        ]
    ]
    for name in FURTHER_KINDS:
        rows.append(
            [
                f"then, first {name} fit: over its second",
                f"+{median(name, lambda r: r['first'] - r['second']):.1f} s",
                compiled(name),
            ]
        )
    rows.append(
        [
            "warm: first fit in a new process, over its second",
            f"+{median('warm', lambda r: r['first'] - r['second']):.2f} s",
            compiled("warm"),
        ]
    )
    return rows


def cold_under_load(repeats):
    """The cold case's seconds (import + first fit), ``repeats`` times, while
    another process keeps one core busy."""
    from .benchmark_cases import busy_core

    times = []
    with tempfile.TemporaryDirectory() as scratch, busy_core():
        for _ in range(repeats):
            report = run_case({}, "dense", tempfile.mkdtemp(dir=scratch))
            times.append(report["import"] + report["first"])
    return times


def run_compile_section(repeats, load, say):
    """Measure and print the section (``load``: the cold case with one core
    busy too)."""
    from ._text import text_table

    reports, imports = compile_profile(repeats)
    say(
        f"compile time: fresh processes, an empty kernel cache (NUMBA_CACHE_DIR) for the cold "
        f"fit and a copy of the cache it filled for each further kind; medians of {repeats}"
    )
    rows = profile_rows(reports)
    if load:
        seconds = statistics.median(cold_under_load(repeats))
        rows.insert(1, ["cold, with one core busy", f"{seconds:.1f} s", rows[0][2]])
    say(text_table(["case", "seconds", "kernels compiled"], rows))
    ours = statistics.median(imports["numba_mlp"])
    theirs = statistics.median(imports["sklearn.neural_network"])
    say(f"import numba_mlp: {ours:.2f} s; import sklearn.neural_network: {theirs:.2f} s")
