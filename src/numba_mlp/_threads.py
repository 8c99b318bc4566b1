"""How many threads a fit's matrix products use.

The kernels hand their larger sums to BLAS through Numba's ``np.dot``, which
calls SciPy's OpenBLAS; NumPy has an OpenBLAS of its own, and each keeps a
pool of threads that spin for a while after every call. When BLAS shares a
minibatch's product between two threads and another process holds a core,
the threads wait for each other inside every product; and two threads of
OpenBLAS do not round exactly as one does, so a choice made by the load
would change the results. So, while a network trains:

- both BLAS copies run on one thread (the pools are given back afterwards);
- a fit whose largest minibatch product is small (under
  ``products.SPLIT_PRODUCT`` multiply-adds) computes its products whole, on
  this thread: a second thread would cost more than it gains;
- a fit with large products splits each of them into fixed blocks of its
  rows or columns (one block per thread allowed), each one single-threaded
  BLAS call on views of the matrices
  (``kernels.products.matrix_product``). The blocks are the same whatever
  the number of threads, and so are the results, so the number of threads
  can follow the load: ``ThreadChoice`` times the fit's own batches both
  ways (blocks in turn on this thread, and shared out over all threads
  allowed) in the first epoch, and again now and then, and shares the blocks
  out only while that is faster.

A prediction follows the same rules without the timing: its products are
computed whole on this thread when small, in blocks when large, shared
out if no fit or prediction is running in another thread of the process (a
prediction is short, and sharing a large one is what BLAS would do with its
own threads). Predictions in several threads at once (the scores of a
threaded grid search) then no longer queue for BLAS's pool.

"Allowed" is what the user or joblib left BLAS (``threadpoolctl`` limits,
joblib's workers), capped by Numba's thread count: the policy lowers
limits, never raises them. Fits running at once in several threads share
the pools (the last to finish gives them back), and only one of them at a
time shares its blocks out. ``NUMBA_MLP_BLAS_THREADS=unchanged`` in the
environment turns the policy off: BLAS then runs as configured, products
whole.
"""

import functools
import math
import os
import threading
import time
from contextlib import contextmanager, nullcontext

import numba

from numba_mlp.kernels.bundles import WHOLE, Blocks
from numba_mlp.kernels.products import SMALL_PRODUCT, SPLIT_PRODUCT

#: Steps (epochs, L-BFGS evaluations) between two timings of the two ways at
#: first; each timing that keeps the way in use doubles it, up to LONGEST.
FIRST_INTERVAL = 4
LONGEST_INTERVAL = 64

#: A timing runs part of a step the slower way: timings are spaced so that
#: this costs at most this share of the fit (up to LONGEST_INTERVAL steps apart).
TIMING_COST = 0.05

#: Two steps in a row this much slower (per batch) than the way in use was
#: when timed mean the load has changed: the ways are timed again at the
#: next step. (One slow step can be a passing moment.)
SLOWER_STEP = 1.5

#: Sharing the blocks out must be this much faster to be chosen: computing
#: them in turn never waits for another thread.
SHARED_MARGIN = 0.9

#: Sharing is only tried for steps (epochs, L-BFGS evaluations) that take at
#: least this long computed in turn. When another process holds a core, each
#: shared product waits for the scheduler to give Numba's second thread a
#: turn, and a part of a step run shared can take milliseconds longer
#: whatever its size: a shorter step could not win that back.
MIN_SHARED_STEP = 0.02

#: A timing stops as soon as sharing has been this much slower per batch
#: than computing in turn: the load is on the other core, and every further
#: part run shared would cost as much again.
GIVE_UP = 1.5

_lock = threading.Lock()
_depth = 0
_threads_in = [0]  # threads with a fit or prediction under the policy now
_saved = []
_allowed = [1]
_sharing = threading.Lock()  # held by the one fit sharing its blocks out (or timing)
_local = threading.local()
_forked = [False]


def _after_fork_in_child():
    """A forked child computes its blocks in turn (GNU OpenMP, Numba's threads
    here, does not survive a fork), and owns no limit of its parent's fits."""
    global _depth
    _forked[0] = True
    _depth = 0
    _threads_in[0] = 0
    _local.depth = 0
    _saved.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def largest_product(layer_units, batch_rows):
    """Multiply-adds of the largest matrix product of a minibatch."""
    return max(a * b for a, b in zip(layer_units[:-1], layer_units[1:])) * batch_rows


@functools.cache
def _blas_libraries():
    """threadpoolctl's controllers of every BLAS loaded in the process, SciPy's
    (which the kernels use) included; found once (it takes milliseconds)."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's OpenBLAS)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas").lib_controllers


def _set_threads(library, threads):
    """Set ``library``'s thread count (a threadpoolctl controller).

    OpenBLAS (0.3.30, 0.3.31) ignores ``openblas_set_num_threads`` called from a thread
    other than the main one once the main thread has called it; its
    ``openblas_set_num_threads_local`` is then heard, by every thread."""
    library.set_num_threads(threads)
    if library.num_threads != threads:
        set_local = getattr(library.dynlib, "openblas_set_num_threads_local", None)
        if set_local is not None:
            set_local(threads)


@contextmanager
def _one_blas_thread():
    """BLAS on one thread within the block; yields the threads it had allowed.

    The first fit to enter limits the pools, the last to leave restores them.
    """
    global _depth
    with _lock:
        if _depth == 0:
            _saved[:] = [(library, library.num_threads) for library in _blas_libraries()]
            _allowed[0] = max([1] + [threads for _, threads in _saved])
            for library, threads in _saved:
                if threads > 1:
                    _set_threads(library, 1)
        _depth += 1
        _local.depth = getattr(_local, "depth", 0) + 1
        if _local.depth == 1:
            _threads_in[0] += 1
        allowed = _allowed[0]
    try:
        yield allowed
    finally:
        with _lock:
            _depth -= 1
            _local.depth -= 1
            if _local.depth == 0:
                _threads_in[0] -= 1
            if _depth == 0:
                for library, threads in _saved:
                    _set_threads(library, threads)
                _saved.clear()


def _policy():
    """``NUMBA_MLP_BLAS_THREADS`` from the environment: 'auto' or 'unchanged'."""
    policy = os.environ.get("NUMBA_MLP_BLAS_THREADS", "auto")
    if policy not in ("auto", "unchanged"):
        raise ValueError(
            f"NUMBA_MLP_BLAS_THREADS={policy!r} in the environment is not understood: "
            "set it to 'unchanged' (BLAS as configured) or 'auto' (the default), or unset it."
        )
    return policy


@contextmanager
def blas_threads_for(layer_units, batch_rows, earlier=None):
    """Within the block, the fit's products run as the policy says for these
    shapes; yields the fit's ``ThreadChoice``, which its drivers find with
    ``current_choice()``. An ``earlier`` choice of the same estimator
    (``partial_fit`` called again) is kept, timings and all, if it fits."""
    product = largest_product(layer_units, batch_rows)
    if _policy() == "unchanged" or product < SMALL_PRODUCT:
        choice = ThreadChoice(1)
        with _choosing(choice):
            yield choice
        return
    with _one_blas_thread() as allowed:
        # (Numba's threads are only started for a fit that may use them)
        most = min(allowed, numba.get_num_threads()) if product >= SPLIT_PRODUCT else 1
        fits = isinstance(earlier, ThreadChoice) and earlier.n_blocks == most
        choice = earlier if fits else ThreadChoice(most)
        with _choosing(choice):
            yield choice


#: The policy of predictions too small to share out: ``WHOLE`` blocks, with
#: nothing to set up (a caller may test for it and skip the ``with``).
WHOLE_PRODUCTS = nullcontext(WHOLE)


def prediction_blocks(largest_weights, chunk_rows):
    """The policy of a prediction computed ``chunk_rows`` rows at a time,
    whose largest weight matrix holds ``largest_weights`` weights: a context
    manager that yields the ``Blocks`` to compute its products with (the
    same blocks whether shared out or not: the same results)."""
    product = largest_weights * chunk_rows
    if product < SMALL_PRODUCT or _policy() == "unchanged":
        return WHOLE_PRODUCTS
    return _prediction_blocks(product)


@contextmanager
def _prediction_blocks(product):
    with _one_blas_thread() as allowed:
        most = min(allowed, numba.get_num_threads()) if product >= SPLIT_PRODUCT else 1
        if most <= 1:
            yield WHOLE
            return
        busy = _threads_in[0] > 1  # a fit or prediction runs in another thread
        if busy or _forked[0]:
            yield Blocks(most, False)
            return
        with _shared_out(most) as shared:
            yield Blocks(most, shared)


@contextmanager
def _shared_out(threads):
    """Yields whether this thread may share blocks out over ``threads`` of
    Numba's threads within the block: no other fit or prediction of the
    process is sharing (the ``_sharing`` lock), and Numba's threads are set
    to ``threads`` (and set back afterwards)."""
    if not _sharing.acquire(blocking=False):
        yield False
        return
    try:
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            yield True
        finally:
            numba.set_num_threads(previous)
    finally:
        _sharing.release()


@contextmanager
def _choosing(choice):
    previous = getattr(_local, "choice", None)
    _local.choice = choice
    try:
        yield
    finally:
        _local.choice = previous


def current_choice():
    """The ``ThreadChoice`` of the fit running in this thread (whole products
    outside a fit)."""
    return getattr(_local, "choice", None) or ThreadChoice(1)


class ThreadChoice:
    """How one fit computes its products, step (epoch, L-BFGS evaluation) by step.

    With ``n_blocks`` blocks of each large product (one per thread
    allowed; 1: whole products),
    the fit shares them out over as many threads or computes them in turn
    on this thread, whichever was faster per batch
    when last timed; the results are the same either way. The timing is the
    fit's own work: an epoch is run in parts of whole batches, the two ways
    taking turns (the parts add up to the epoch bit for bit), and steps that
    cannot be split are run one each way. Each timing starts in turn, and
    tries sharing only for steps long enough to win back a busy core's delay
    (``MIN_SHARED_STEP``), giving up as soon as it is far slower
    (``GIVE_UP``). It is taken at the first step, again after
    ``FIRST_INTERVAL`` steps, doubling while the way in use stays the
    faster, and at the next step when steps slow down (``SLOWER_STEP``).
    """

    def __init__(self, n_blocks):
        self.n_blocks = n_blocks
        self.shared = False
        self.timings = 0
        self._interval = FIRST_INTERVAL
        self._steps_to_timing = 0
        self._reference = None  # seconds a batch of the way in use took when timed
        self._slow_steps = 0  # steps in a row slower than SLOWER_STEP x the reference
        self._trial = {}  # a timing over whole steps, way by way: shared -> seconds a batch
        self._warmed_up = False  # a fit's first whole step loads the kernels: not timed

    def way(self, shared):
        """The ``Blocks`` of one way: shared out (True) or in turn (False)."""
        return Blocks(self.n_blocks, shared) if self.n_blocks > 1 else WHOLE

    @property
    def wants_threads(self):
        """True if the next step may share its blocks out (or time doing so)."""
        can = self.n_blocks > 1 and not _forked[0]
        return can and (self.shared or self.timing_due)

    @contextmanager
    def sharing(self):
        """Yields whether this fit may share its blocks during the block: it
        wants to, no other fit in the process is sharing or timing (the others
        compute in turn meanwhile), and Numba's threads are set to ``n_blocks``."""
        if not self.wants_threads:
            yield False
            return
        with _shared_out(self.n_blocks) as shared:
            yield shared

    @property
    def timing_due(self):
        return self._steps_to_timing <= 0 or bool(self._trial)

    def timing_order(self):
        """The two ways in the order a timing runs them: in turn first, the
        reference that says whether sharing is worth trying (``worth_sharing``)."""
        return (False, True)

    @staticmethod
    def worth_sharing(step_in_turn):
        """Whether a step that takes ``step_in_turn`` seconds in turn is long
        enough to try sharing (``MIN_SHARED_STEP``)."""
        return step_in_turn >= MIN_SHARED_STEP

    @staticmethod
    def given_up(seconds, batches):
        """Whether a timing so far (``way -> seconds``, ``way -> batches``)
        shows sharing ``GIVE_UP`` times slower per batch than in turn."""
        if not batches[True] or not batches[False]:
            return False
        return seconds[True] / batches[True] > GIVE_UP * seconds[False] / batches[False]

    def whole_step(self, can_share, run, n_batches=1):
        """``run(blocks)`` for a step run wholly one way, within ``sharing()``
        (which said ``can_share``), timed; returns what ``run`` returns."""
        shared = can_share and self.whole_step_way()
        start = time.perf_counter()
        result = run(self.way(shared))
        if can_share or not self.wants_threads:  # a step of the way in use
            self.record_step(shared, (time.perf_counter() - start) / n_batches, n_batches)
        return result

    def whole_step_way(self):
        """The way of the next step that cannot be split."""
        if self.timing_due:
            for shared in self.timing_order():
                if shared not in self._trial:
                    return shared
        return self.shared

    def record_step(self, shared, seconds_a_batch, n_batches=1):
        """A step of ``n_batches`` batches that ran wholly one way took
        ``seconds_a_batch`` a batch."""
        if self.timing_due:
            if self.timings == 0 and not self._warmed_up:
                self._warmed_up = True
                return
            self._trial[shared] = seconds_a_batch
            if not shared and not self.worth_sharing(seconds_a_batch * n_batches):
                self._trial[True] = math.inf  # not tried: too short to win
            if len(self._trial) == 2:
                trial, self._trial = self._trial, {}
                self.record_timing(trial)
            return
        self._steps_to_timing -= 1
        slow = self._reference is not None and seconds_a_batch > SLOWER_STEP * self._reference
        self._slow_steps = self._slow_steps + 1 if slow else 0
        if self._slow_steps >= 2:
            self._steps_to_timing = 0

    def record_timing(self, seconds_a_batch):
        """Keep the faster of the two ways timed (``shared -> seconds a batch``;
        infinite for a way not tried)."""
        self._trial = {}
        shared = seconds_a_batch[True] < SHARED_MARGIN * seconds_a_batch[False]
        if self.timings and shared == self.shared:
            self._interval = min(2 * self._interval, LONGEST_INTERVAL)
        else:
            self._interval = FIRST_INTERVAL
        self.shared = shared
        self.timings += 1
        slower, faster = max(seconds_a_batch.values()), min(seconds_a_batch.values())
        # a timing costs at most half a step the slower way, over the faster
        cost = 0.5 * (slower / faster - 1) if faster > 0 else 0.0
        if math.isfinite(cost):
            spacing = min(max(self._interval, math.ceil(cost / TIMING_COST)), LONGEST_INTERVAL)
        else:  # sharing not tried: the steps are too short
            spacing = LONGEST_INTERVAL
        self._steps_to_timing = spacing
        self._reference = seconds_a_batch[shared]
        self._slow_steps = 0
