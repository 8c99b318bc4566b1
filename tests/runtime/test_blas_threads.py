"""The thread policy (``numba_mlp._threads``): what the BLAS pools are set
to while a fit trains (read through threadpoolctl inside the epoch), how its
large products are split, and how the split is chosen."""

import hashlib
import inspect
import multiprocessing
import threading
import warnings

import numba
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from numba_mlp import MLPClassifier, MLPRegressor, _threads, _training
from numba_mlp.kernels.bundles import WHOLE, Blocks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


class Seen(list):
    """The BLAS thread counts at each epoch of the fits in the test, and the
    blocks each epoch's products were computed in."""

    def __init__(self):
        super().__init__()
        self.blocks = []


@pytest.fixture
def seen(monkeypatch):
    record = Seen()
    epoch = _training.train_epoch
    signature = inspect.signature(epoch.py_func)

    def spy(*args):
        record.append(_blas_threads())
        record.blocks.append(signature.bind(*args).arguments["work"].blocks)
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
    assert all(blocks == WHOLE for blocks in seen.blocks)
    assert _blas_threads() == before


needs_two_numba_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here"
)


@needs_two_threads
@needs_two_numba_threads
def test_a_large_network_splits_its_products_over_one_thread_blas_calls(seen):
    before = _blas_threads()
    _fit(784, (512,), n_samples=250)  # 200 x 784 x 512 multiply-adds per product
    assert seen and all(threads == [1] * len(before) for threads in seen)
    allowed = min(max(before), numba.config.NUMBA_NUM_THREADS)
    assert all(blocks.rows == allowed for blocks in seen.blocks)
    assert _blas_threads() == before


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
    # one thread allowed: nothing to share, the products are whole
    assert all(blocks == WHOLE for blocks in seen.blocks)


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


# ------------------------------------------- choosing whether to share the blocks


def _forcing(monkeypatch, shared):
    """Make every timing of the fits choose ``shared``; returns their count."""
    probe = _threads.ThreadChoice._probe
    count = []

    def forced(self):
        probe(self)
        self.shared = shared
        count.append(1)

    monkeypatch.setattr(_threads.ThreadChoice, "_probe", forced)
    return count


LARGE_FITS = {
    "adam": lambda: MLPClassifier(hidden_layer_sizes=(512,), max_iter=3, random_state=0),
    "sgd-two-layers": lambda: MLPRegressor(hidden_layer_sizes=(256, 128), solver="sgd",
                                           max_iter=3, batch_size=250, random_state=0),
    "lbfgs": lambda: MLPClassifier(hidden_layer_sizes=(128,), solver="lbfgs", max_iter=5,
                                   random_state=0),
    "float32": lambda: MLPClassifier(hidden_layer_sizes=(512,), max_iter=3, random_state=0),
}  # fmt: skip


@needs_two_threads
@needs_two_numba_threads
@pytest.mark.parametrize("name", LARGE_FITS)
def test_shared_or_in_turn_the_fit_is_the_same_to_the_bit(name, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.randn(500, 784).astype(np.float32 if name == "float32" else np.float64)
    y = (X[:, 0] > 0).astype(int) if name != "sgd-two-layers" else X[:, :3].sum(axis=1)
    fits = {}
    for shared in (False, True):
        probes = _forcing(monkeypatch, shared)
        fits[shared] = LARGE_FITS[name]().fit(X, y)
        assert probes, "the fit never chose (its products were not split)"
    for a, b in zip(fits[False].coefs_ + fits[False].intercepts_,
                    fits[True].coefs_ + fits[True].intercepts_):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    assert fits[False].loss_ == fits[True].loss_


def _slowed(function, seconds):
    import time

    def slow(*args):
        time.sleep(seconds)
        return function(*args)

    return slow


@needs_two_threads
@needs_two_numba_threads
@pytest.mark.parametrize("slow_way", ["shared", "in turn"])
def test_the_faster_way_is_chosen(slow_way, monkeypatch, seen):
    # a way made slower by 20 ms a product is never the one chosen
    name = "blocks_in_parallel" if slow_way == "shared" else "blocks_one_by_one"
    monkeypatch.setattr(_threads, name, _slowed(getattr(_threads, name), 0.02))
    _fit(784, (512,), n_samples=250)
    assert seen.blocks and all(blocks.shared == (slow_way == "in turn") for blocks in seen.blocks)


class FakeClock:
    """``time.perf_counter`` for ``_threads``, moved on by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_ways_are_timed_again_as_the_fit_goes_on_and_when_a_step_slows(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_threads.time, "perf_counter", clock)
    monkeypatch.setattr(_threads, "numba", _NoThreads())
    probes = []

    def probe(self):
        probes.append(clock.now)
        clock.now += 0.01  # a timing takes 10 ms
        self._probe_seconds, self._since_probe, self._first_step = 0.01, 0.0, None
        self.shared = True

    monkeypatch.setattr(_threads.ThreadChoice, "_probe", probe)
    choice = _threads.ThreadChoice(Blocks(2, False), most=2, probe_shape=(200, 784, 512))

    def step(seconds):
        with choice.step() as blocks:
            clock.now += seconds
        return blocks

    assert step(0.03) == Blocks(2, True) and len(probes) == 1  # timed before the first step
    for _ in range(13):
        step(0.03)  # 0.42 s since the timing: past PROBE_EVERY (40) x 10 ms
    assert len(probes) == 1
    step(0.03)
    assert len(probes) == 2  # timed again before this step
    step(0.03)  # the first step after it
    step(0.06)  # slower than SLOWER_STEP x that step: the load has changed
    assert len(probes) == 2
    step(0.03)
    assert len(probes) == 3


class _NoThreads:
    """Stands in for ``numba`` where the test only follows the choice."""

    @staticmethod
    def get_num_threads():
        return 2

    @staticmethod
    def set_num_threads(n):
        pass


def _digest(model):
    return hashlib.sha256(b"".join(c.tobytes() for c in model.coefs_)).hexdigest()


def _fit_in_child(queue):
    queue.put(_digest(_fit(784, (512,), n_samples=250)))


@pytest.mark.slow
@needs_two_threads
@needs_two_numba_threads
def test_a_forked_child_fits_after_the_parent_shared_its_blocks(monkeypatch):
    # GNU OpenMP's threads do not survive fork: a child that started a parallel
    # region would wait for them for ever, so a forked child computes in turn
    _forcing(monkeypatch, True)
    parent = _fit(784, (512,), n_samples=250)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_fit_in_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the forked child hung"
    assert child.exitcode == 0
    assert queue.get(timeout=10) == _digest(parent)
