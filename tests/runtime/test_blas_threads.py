"""The BLAS thread policy (``numba_mlp._threads``): what the BLAS pools are
set to while a fit trains, read through threadpoolctl inside the epoch."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from numba_mlp import MLPClassifier, _training

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.fixture
def seen(monkeypatch):
    """The BLAS thread counts at each epoch of the fits in the test."""
    record = []
    epoch = _training.train_epoch

    def spy(*args):
        record.append(_blas_threads())
        return epoch(*args)

    monkeypatch.setattr(_training, "train_epoch", spy)
    return record


def _fit(n_features, hidden, n_samples=400, **params):
    rng = np.random.RandomState(0)
    X = rng.randn(n_samples, n_features)
    model = MLPClassifier(hidden_layer_sizes=hidden, max_iter=2, random_state=0, **params)
    return model.fit(X, (X[:, 0] > 0).astype(int))


needs_two_threads = pytest.mark.skipif(
    max(_blas_threads() or [1]) < 2, reason="BLAS runs on one thread here anyway"
)


@needs_two_threads
def test_a_small_network_trains_with_one_blas_thread_and_gives_them_back(seen):
    before = _blas_threads()
    _fit(64, (100,))  # 200 x 64 x 100 multiply-adds: above the loop size, below the limit
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before


@needs_two_threads
def test_a_large_product_keeps_the_threads(seen):
    before = _blas_threads()
    _fit(784, (512,), n_samples=250)  # 200 x 784 x 512 multiply-adds per product
    assert all(threads == before for threads in seen)


@needs_two_threads
def test_the_policy_can_be_turned_off(seen, monkeypatch):
    monkeypatch.setenv("NUMBA_MLP_BLAS_THREADS", "unchanged")
    before = _blas_threads()
    _fit(64, (100,))
    assert all(threads == before for threads in seen)


def test_a_users_limit_is_kept_and_never_raised(seen):
    with threadpool_limits(limits=1, user_api="blas"):
        _fit(784, (512,), n_samples=250)
        assert _blas_threads() == [1] * len(_blas_threads())
    assert all(set(threads) == {1} for threads in seen)


@needs_two_threads
def test_fits_in_parallel_threads_restore_the_pools_once_all_are_done(seen):
    before = _blas_threads()
    errors = []

    def fit():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                _fit(64, (100,), n_samples=2000)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(seen) == 8 and all(set(threads) == {1} for threads in seen)
    assert _blas_threads() == before
