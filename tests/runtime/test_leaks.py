"""No leaks: 1,000 fit/predict cycles grow resident memory by less than 50 MB.

Run in a fresh interpreter so that nothing else the test session holds moves
the measurement. Resident memory is read from /proc/self/statm (Linux),
after a warm-up that loads every kernel, and with the garbage collector run
before each reading. The cycles mix classifiers and regressors, the three
solvers, dense, sparse and float32 input, partial_fit, early stopping and
failed fits (whose state is rolled back).
"""

import json
import sys

import pytest

LEAK_SCRIPT = r"""
import gc, json, os, resource, time, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from numba_mlp import MLPClassifier, MLPRegressor

PAGE = os.sysconf("SC_PAGE_SIZE")

def rss_mb():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20

rng = np.random.RandomState(0)
X = rng.randn(40, 5); y = np.arange(40) % 3; yr = X @ rng.randn(5)
Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0)); X32 = X.astype(np.float32)

def cycle(i):
    kind = i % 6
    if kind == 0:
        est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=i).fit(X, y)
        est.predict_proba(X)
    elif kind == 1:
        est = MLPRegressor(hidden_layer_sizes=(4, 3), solver="sgd", max_iter=3,
                           random_state=i).fit(Xs, yr)
        est.predict(Xs)
    elif kind == 2:
        est = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5,
                           random_state=i).fit(X32, yr)
        est.predict(X32)
    elif kind == 3:
        est = MLPClassifier(hidden_layer_sizes=(5,), random_state=i)
        for start in range(0, 40, 10):
            est.partial_fit(X[start:start + 10], y[start:start + 10], classes=[0, 1, 2])
        est.predict(X)
    elif kind == 4:
        est = MLPClassifier(hidden_layer_sizes=(5,), early_stopping=True, max_iter=4,
                            random_state=i).fit(X, y)
        est.score(X, y)
    else:
        est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=i).fit(X, yr)
        try:  # a failed refit rolls the estimator back
            est.fit(X * 1e300, yr)
        except ValueError:
            pass
        est.predict(X)

for i in range(60):  # warm-up: every kernel loaded, allocator pools settled
    cycle(i)
before = rss_mb()
start = time.perf_counter()
for i in range(1000):
    cycle(i)
seconds = time.perf_counter() - start
after = rss_mb()
print(json.dumps({"before_mb": before, "after_mb": after, "growth_mb": after - before,
                  "cycles": 1000, "seconds": seconds}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_thousand_fit_predict_cycles_do_not_grow_memory(run_python):
    result = run_python(LEAK_SCRIPT, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"leak check: {report}")
    assert report["growth_mb"] < 50, report
