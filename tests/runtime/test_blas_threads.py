"""The thread policy (``numba_mlp._threads``): what the BLAS pools are set
to while a fit trains (read through threadpoolctl inside the epoch), how its
large products are split, and how the split is chosen."""

import hashlib
import inspect
import multiprocessing
import pickle
import threading
import time
import warnings

import numba
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import numba_mlp.kernels
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
    _fit(32, (100,))  # 200 x 32 x 100 multiply-adds: BLAS, but below SPLIT_PRODUCT
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
    assert all(blocks.count == allowed for blocks in seen.blocks)
    assert _blas_threads() == before


@needs_two_threads
def test_the_policy_can_be_turned_off(seen, monkeypatch):
    monkeypatch.setenv("NUMBA_MLP_BLAS_THREADS", "unchanged")
    before = _blas_threads()
    _fit(64, (100,))
    _fit(784, (512,), n_samples=250)
    assert all(threads == before for threads in seen)
    assert all(blocks == WHOLE for blocks in seen.blocks)


def test_a_value_of_the_override_it_does_not_know_is_refused(monkeypatch):
    monkeypatch.setenv("NUMBA_MLP_BLAS_THREADS", "one")
    model = MLPClassifier(max_iter=1)
    with pytest.raises(ValueError, match="NUMBA_MLP_BLAS_THREADS='one'.*'unchanged'"):
        model.fit(np.ones((4, 2)), [0, 1, 0, 1])
    assert not hasattr(model, "coefs_")


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
                _fit(32, (100,), n_samples=2000)
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
    record_timing = _threads.ThreadChoice.record_timing
    count = []

    def forced(self, seconds_a_batch):
        record_timing(self, seconds_a_batch)
        self.shared = shared
        count.append(1)

    monkeypatch.setattr(_threads.ThreadChoice, "record_timing", forced)
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


@needs_two_threads
@needs_two_numba_threads
@pytest.mark.parametrize("slow_way", ["shared", "in turn"])
def test_the_faster_way_is_chosen(slow_way, monkeypatch):
    # each batch made slower by 20 ms one way (a batch takes a few ms): that
    # way is never kept
    products = _training.train_epoch
    signature = inspect.signature(products.py_func)

    def slowed(*args):
        arguments = signature.bind(*args).arguments
        if arguments["work"].blocks.shared == (slow_way == "shared"):
            batches = -(-arguments["order"].shape[0] // arguments["batch_size"])
            time.sleep(0.02 * batches)
        return products(*args)

    monkeypatch.setattr(_training, "train_epoch", slowed)
    chosen = []
    record_timing = _threads.ThreadChoice.record_timing

    def spy(self, seconds_a_batch):
        record_timing(self, seconds_a_batch)
        chosen.append(self.shared)

    monkeypatch.setattr(_threads.ThreadChoice, "record_timing", spy)
    _fit(784, (512,), n_samples=1000)
    assert chosen and set(chosen) == {slow_way == "in turn"}


def test_the_ways_are_timed_at_first_then_less_often_and_again_when_a_step_slows():
    choice = _threads.ThreadChoice(2)
    assert choice.timing_due  # at the first step
    choice.record_timing({True: 1.0, False: 1.2})  # sharing faster, beyond the margin
    assert choice.shared and not choice.timing_due
    for _ in range(_threads.FIRST_INTERVAL - 1):
        choice.record_step(True, 1.0)
    assert not choice.timing_due
    choice.record_step(True, 1.0)
    assert choice.timing_due  # FIRST_INTERVAL steps later
    choice.record_timing({True: 1.0, False: 1.2})  # the same way again: twice as long
    assert choice._steps_to_timing == 2 * _threads.FIRST_INTERVAL
    slower = 1.0 * _threads.SLOWER_STEP * 1.01
    choice.record_step(True, slower)  # a passing moment
    choice.record_step(True, 1.0)
    choice.record_step(True, slower)
    assert not choice.timing_due and choice._steps_to_timing > 1
    choice.record_step(True, slower)  # two in a row: the load has changed
    assert choice.timing_due
    # steps that cannot be split are timed one each way, in turn
    first = choice.whole_step_way()
    choice.record_step(first, 3.0)
    second = choice.whole_step_way()
    assert second != first and choice.timing_due
    choice.record_step(second, 1.0)
    assert choice.shared == (second is True) and not choice.timing_due


@needs_two_threads
@needs_two_numba_threads
def test_partial_fit_goes_on_with_the_timings_of_earlier_calls(seen, monkeypatch):
    monkeypatch.setattr(_threads, "SLOWER_STEP", float("inf"))  # whatever the load does
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 784)
    y = (X[:, 0] > 0).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(512,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    timed = len(seen)
    assert timed > 1  # the first epoch in parts, the two ways timed
    for _ in range(2):
        model.partial_fit(X, y)
    assert len(seen) == timed + 2  # one call each: no new timing yet
    # a copy or a pickle times afresh: the timings belong to this machine, now
    assert "_thread_choice" not in pickle.loads(pickle.dumps(model)).__dict__
    # and so does a new fit
    before = len(seen)
    model.fit(X, y)
    assert len(seen) > before + model.n_iter_


def test_timings_cost_little_when_the_ways_differ_much():
    # a timing runs half a step the slower way: when that way is 5x slower,
    # timings are spaced so that they cost at most TIMING_COST of the fit
    choice = _threads.ThreadChoice(2)
    choice.record_timing({True: 5.0, False: 1.0})
    steps = 0
    while not choice.timing_due:
        choice.record_step(False, 1.0)
        steps += 1
    assert not choice.shared
    assert 0.5 * (5.0 - 1.0) / (steps + 1) <= _threads.TIMING_COST


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


EPOCH_CASES = {
    "adam, last batch partial": dict(n_samples=1050),
    "dropout": dict(n_samples=1000, dropout=0.3),
    "early stopping": dict(n_samples=1000, early_stopping=True, validation_fraction=0.2),
    "sgd, float32": dict(n_samples=1000, solver="sgd", float32=True),
}


@needs_two_threads
@needs_two_numba_threads
@pytest.mark.parametrize("case", EPOCH_CASES)
def test_epochs_timed_in_parts_are_the_epochs_run_whole(case, seen, monkeypatch):
    params = dict(EPOCH_CASES[case])
    n_samples, float32 = params.pop("n_samples"), params.pop("float32", False)
    rng = np.random.RandomState(1)
    X = rng.randn(n_samples, 784).astype(np.float32 if float32 else np.float64)
    y = (X[:, 0] > 0).astype(int)

    def fit():
        model = MLPClassifier(hidden_layer_sizes=(512,), max_iter=6, random_state=0, **params)
        return model.fit(X, y)

    monkeypatch.setattr(_threads, "MIN_SHARED_STEP", 0.0)  # short epochs try sharing too
    timed = fit()
    assert len(seen) > timed.n_iter_  # some epochs ran in parts
    assert any(blocks.shared for blocks in seen.blocks)  # some parts shared out
    with _threads._sharing:  # another fit is sharing: every epoch in one call, in turn
        del seen[:]
        whole = fit()
        assert len(seen) == whole.n_iter_
    assert whole.loss_curve_ == timed.loss_curve_
    for a, b in zip(whole.coefs_ + whole.intercepts_, timed.coefs_ + timed.intercepts_):
        np.testing.assert_array_equal(a, b)


@needs_two_numba_threads
def test_sharing_gives_the_lock_and_the_threads_back_when_a_step_fails():
    choice = _threads.ThreadChoice(2)
    previous = numba.get_num_threads()
    with pytest.raises(RuntimeError):
        with choice.sharing() as can_share:
            assert can_share and numba.get_num_threads() == 2
            raise RuntimeError("a kernel failed")
    assert numba.get_num_threads() == previous
    assert _threads._sharing.acquire(blocking=False)
    _threads._sharing.release()


@pytest.fixture
def predictions(monkeypatch):
    """The BLAS thread counts and the blocks of each prediction in the test."""
    from numba_mlp import _multilayer_perceptron

    record = Seen()
    predict = _multilayer_perceptron.predict_dense

    def spy(*args):
        record.append(_blas_threads())
        record.blocks.append(Blocks(*args[-2:]))
        return predict(*args)

    monkeypatch.setattr(_multilayer_perceptron, "predict_dense", spy)
    return record


@needs_two_threads
@needs_two_numba_threads
def test_a_large_prediction_shares_one_thread_blas_blocks_unless_a_fit_runs_elsewhere(predictions):
    model = _fit(64, (256,))
    X = np.random.RandomState(1).randn(1_000, 64)  # 1,000 x 64 x 256 multiply-adds
    before = _blas_threads()
    alone = model.predict_proba(X)
    fit_running, fit_done = threading.Event(), threading.Event()

    def another_fit():  # holds the pools, in another thread, as a fit does
        with _threads._one_blas_thread():
            fit_running.set()
            fit_done.wait(60)

    other = threading.Thread(target=another_fit)
    other.start()
    try:
        assert fit_running.wait(60)
        beside_a_fit = model.predict_proba(X)
    finally:
        fit_done.set()
        other.join()
    with _threads._one_blas_thread():  # this thread's own fit (early stopping's score)
        within_a_fit = model.predict_proba(X)
    assert predictions == [[1] * len(before)] * 3
    allowed = min(max(before), numba.config.NUMBA_NUM_THREADS)
    assert predictions.blocks[0].count == predictions.blocks[1].count == allowed
    assert [blocks.shared for blocks in predictions.blocks] == [True, False, True]
    assert _blas_threads() == before
    np.testing.assert_array_equal(alone, beside_a_fit)
    np.testing.assert_array_equal(alone, within_a_fit)
    with threadpool_limits(1):
        whole = model.predict_proba(X)
    np.testing.assert_allclose(alone, whole, rtol=1e-13)


@needs_two_threads
def test_a_small_prediction_leaves_blas_as_it_is(predictions):
    model = _fit(8, (4,))
    before = _blas_threads()
    model.predict(np.ones((3, 8)))  # 3 x 8 x 4 multiply-adds: loops, no BLAS
    assert predictions == [before] and predictions.blocks == [WHOLE]


@needs_two_threads
@needs_two_numba_threads
@pytest.mark.parametrize("long_enough", [False, True])
def test_sharing_is_only_tried_for_epochs_long_enough_to_win_it_back(long_enough, seen,
                                                                     monkeypatch):  # fmt: skip
    monkeypatch.setattr(_threads, "MIN_SHARED_STEP", 0.0 if long_enough else 1e9)
    allowed = min(max(_blas_threads()), numba.config.NUMBA_NUM_THREADS)
    _fit(64, (100,), n_samples=2000)  # 200 x 64 x 100 multiply-adds: split into blocks
    assert all(blocks.count == allowed for blocks in seen.blocks)
    assert any(blocks.shared for blocks in seen.blocks) == long_enough


@needs_two_threads
@needs_two_numba_threads
def test_a_timing_stops_once_sharing_is_far_slower(monkeypatch, seen):
    monkeypatch.setattr(_threads, "MIN_SHARED_STEP", 0.0)
    products = _training.train_epoch  # the spy of ``seen``
    signature = inspect.signature(numba_mlp.kernels.train_epoch.py_func)

    def slowed(*args):  # sharing made 20 ms a batch slower
        arguments = signature.bind(*args).arguments
        if arguments["work"].blocks.shared:
            time.sleep(0.02 * -(-arguments["order"].shape[0] // arguments["batch_size"]))
        return products(*args)

    monkeypatch.setattr(_training, "train_epoch", slowed)
    # 20 batches, parts of one: without the stop, parts would take turns for
    # half the first epoch; the second is not timed
    model = _fit(64, (100,), n_samples=4000)
    assert [blocks.shared for blocks in seen.blocks].count(True) == 1
    assert not model._thread_choice.shared


@needs_two_threads
def test_a_fit_in_a_worker_thread_limits_blas_after_the_main_thread_set_it(seen):
    # OpenBLAS ignores openblas_set_num_threads from other threads once the
    # main thread has called it (as a fit in the main thread does)
    before = _blas_threads()
    with _threads._one_blas_thread():
        pass
    worker = threading.Thread(target=_fit, args=(32, (100,)))
    worker.start()
    worker.join()
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before
