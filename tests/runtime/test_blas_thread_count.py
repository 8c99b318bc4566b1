"""What docs/performance.md promises about BLAS's thread count: under the
default thread policy a fit whose products are computed whole (under
``SPLIT_PRODUCT`` multiply-adds) gives the same weights and predictions, to
the bit, whatever ``OPENBLAS_NUM_THREADS`` is (the count is read when
OpenBLAS loads, so each count is a fresh interpreter). Larger products are
split into one block per thread allowed, and
``NUMBA_MLP_BLAS_THREADS=unchanged`` leaves every product to BLAS as
configured: there the results may follow the count (as scikit-learn's do),
which the page says and no test asserts either way."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters

FIT_SCRIPT = """
import hashlib
import warnings

import numpy as np
from threadpoolctl import threadpool_info

from numba_mlp import MLPClassifier

warnings.simplefilter("ignore")  # the fits stop at max_iter
rng = np.random.RandomState(0)
digest = hashlib.sha256()
# every product handed to BLAS (over SMALL_PRODUCT) and computed whole (under
# SPLIT_PRODUCT): L-BFGS's 400 x 64 x 32, the minibatches' 200 x 64 x 32
X = rng.randn(400, 64)
y = (X[:, 0] + X[:, 1] > 0).astype(int)
for solver in ["adam", "sgd", "lbfgs"]:
    model = MLPClassifier((32,), solver=solver, max_iter=5, random_state=0).fit(X, y)
    for array in model.coefs_ + model.intercepts_ + [model.predict_proba(X)]:
        digest.update(np.ascontiguousarray(array).tobytes())
threads = max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
print(threads, digest.hexdigest())
"""


def fit_with_blas_threads(count):
    """(BLAS threads the child had, digest of its weights and predictions)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_MLP_BLAS_THREADS"}
    env["OPENBLAS_NUM_THREADS"] = str(count)
    run = subprocess.run(
        [sys.executable, "-c", FIT_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    threads, digest = run.stdout.split()
    return int(threads), digest


def test_under_the_default_policy_whole_products_do_not_follow_blas_threads():
    one = fit_with_blas_threads(1)
    two = fit_with_blas_threads(2)
    if two[0] < 2:
        pytest.skip("OpenBLAS runs one thread here whatever it is asked")
    assert one[0] == 1
    assert one[1] == two[1]
