"""Determinism: the same random_state gives the same model.

Bitwise across repeated fits in one thread. Across threads fitting at once,
across processes with other thread counts for Numba's parallel layer
(NUMBA_NUM_THREADS) and for BLAS (OPENBLAS/OMP/MKL), and in joblib's loky
workers (which limit BLAS to one thread each), equal to rounding: OpenBLAS
may pick another matrix-product kernel for another thread count (seen on an
AMD EPYC with OpenBLAS 0.3.30: one and two threads differ in the last bits),
and its single-threaded product of the same numbers can differ in the last
bits with where the operands were allocated (seen on an AMD EPYC Zen 3 with
OpenBLAS 0.3.30's Haswell kernels: a fit in a new thread, whose arrays come
from another malloc arena, against the same fit in the main thread).
"""

import threading
import warnings

import numpy as np
import pytest
from joblib import Parallel, delayed

from numba_mlp import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore")

# The fits, as source: run here and in child processes alike.
FITS_SOURCE = r"""
import hashlib, warnings
import numpy as np, scipy.sparse as sp
from numba_mlp import MLPClassifier, MLPRegressor

def make_fits():
    rng = np.random.RandomState(0)
    X = rng.randn(600, 40)
    y_reg = X[:, :5] @ rng.randn(5) + 0.1 * rng.randn(600)
    y_clf = np.digitize(y_reg, np.quantile(y_reg, [0.25, 0.5, 0.75]))
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    X_big = rng.randn(2000, 100)  # products large enough for threaded BLAS
    y_big = rng.randint(0, 4, 2000)
    return {
        "clf-adam-wide": lambda: MLPClassifier(hidden_layer_sizes=(256, 64), max_iter=3,
                                               random_state=1).fit(X, y_clf),
        "clf-adam-blas-sized": lambda: MLPClassifier(hidden_layer_sizes=(512,), max_iter=2,
                                                     random_state=6).fit(X_big, y_big),
        "clf-sgd-early-stopping": lambda: MLPClassifier(
            hidden_layer_sizes=(32,), solver="sgd", early_stopping=True, max_iter=6,
            random_state=2).fit(X, y_clf),
        "reg-adam-float32": lambda: MLPRegressor(hidden_layer_sizes=(64,), max_iter=4,
                                                 random_state=3).fit(X.astype(np.float32),
                                                                     y_reg),
        "reg-lbfgs": lambda: MLPRegressor(hidden_layer_sizes=(32, 16), solver="lbfgs",
                                          max_iter=20, random_state=4).fit(X, y_reg),
        "reg-sgd-sparse": lambda: MLPRegressor(hidden_layer_sizes=(48,), solver="sgd",
                                               batch_size=64, max_iter=4,
                                               random_state=5).fit(Xs, y_reg),
    }

def digest(est):
    h = hashlib.sha256()
    for a in est.coefs_ + est.intercepts_:
        h.update(a.dtype.str.encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(getattr(est, "loss_curve_", est.loss_)).encode())
    return h.hexdigest()

def all_digests():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: digest(fit()) for name, fit in make_fits().items()}

def weights(est):
    return [a.tolist() for a in est.coefs_ + est.intercepts_]

def all_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: weights(fit()) for name, fit in make_fits().items()}
"""

_namespace = {}
exec(compile(FITS_SOURCE, "<fits>", "exec"), _namespace)
make_fits, digest, all_digests, weights, all_weights = (
    _namespace[name] for name in ("make_fits", "digest", "all_digests", "weights", "all_weights")
)


@pytest.fixture(scope="module")
def reference_digests():
    return all_digests()


@pytest.fixture(scope="module")
def reference_weights():
    return all_weights()


def assert_weights_equal_to_rounding(got, expected):
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert len(got[name]) == len(expected[name])
        for a, b in zip(got[name], expected[name]):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)


def test_repeated_fits_are_bitwise_identical(reference_digests):
    for _ in range(2):
        assert all_digests() == reference_digests


@pytest.mark.parametrize("name", ["clf-adam-wide", "reg-sgd-sparse", "reg-lbfgs"])
def test_threads_fitting_the_same_model_at_once_agree(name, reference_weights):
    # four fits at once share the BLAS pools, the thread choice and the kernels'
    # caches: a state leaking from one into another would change a weight by far
    # more than rounding
    fit = make_fits()[name]
    barrier = threading.Barrier(4)
    results = [None] * 4

    def worker(i):
        barrier.wait()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[i] = weights(fit())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        assert_weights_equal_to_rounding({name: result}, {name: reference_weights[name]})


def test_random_state_instance_gives_the_int_seed_result():
    rng = np.random.RandomState(0)
    X, y = rng.randn(80, 5), rng.randint(0, 2, 80)
    by_int = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=7).fit(X, y)
    by_instance = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=5, random_state=np.random.RandomState(7)
    ).fit(X, y)
    assert digest(by_int) == digest(by_instance)


@pytest.mark.slow
def test_loky_worker_processes_agree(reference_weights):
    names = sorted(reference_weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = Parallel(n_jobs=2, backend="loky")(
            delayed(_weights_in_worker)(name) for name in names
        )
    assert_weights_equal_to_rounding(dict(zip(names, got)), reference_weights)


def _weights_in_worker(name):
    import warnings as _warnings

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return weights(make_fits()[name]())


THREAD_SETTINGS = {
    "one-thread-everywhere": {
        "NUMBA_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    },
    "two-threads-everywhere": {
        "NUMBA_NUM_THREADS": "2",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_NUM_THREADS": "2",
        "MKL_NUM_THREADS": "2",
    },
    "numba-workqueue": {"NUMBA_THREADING_LAYER": "workqueue"},
}


@pytest.mark.slow
@pytest.mark.parametrize("setting", sorted(THREAD_SETTINGS))
def test_other_processes_and_thread_counts_agree(setting, run_python, reference_weights):
    code = FITS_SOURCE + "\nimport json\nprint(json.dumps(all_weights()))\n"
    result = run_python(code, env=THREAD_SETTINGS[setting])
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert_weights_equal_to_rounding(got, reference_weights)
