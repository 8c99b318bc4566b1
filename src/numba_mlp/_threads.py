"""How many threads a fit's matrix products use.

The kernels hand their larger sums to BLAS through Numba's ``np.dot``, which
calls SciPy's OpenBLAS; NumPy has an OpenBLAS of its own, and each keeps a
pool of threads that spin for a while after every call. When BLAS shares a
minibatch's product between two threads and another process holds a core,
the threads wait for each other inside every product; and two threads of
OpenBLAS do not round exactly as one does, so a choice made by the load
would change the results. So, while a network trains:

- both BLAS copies run on one thread (the pools are given back afterwards);
- a fit whose largest minibatch product is small computes its products
  whole, on this thread: a second thread gains little there;
- a fit with large products splits each of them into fixed blocks of rows
  (one block per thread allowed), each one single-threaded BLAS call
  (``kernels.products.matrix_product``). The blocks are the same whatever
  the number of threads, and so are the results, so the number of threads
  can follow the load: ``ThreadChoice`` times one block product on one
  thread and on all allowed before the first epoch, and again now and then,
  and shares the blocks out only while that is faster.

"Allowed" is what the user or joblib left BLAS (``threadpoolctl`` limits,
joblib's workers), capped by Numba's thread count: the policy lowers
limits, never raises them. Fits running at once in several threads share
the pools (the last to finish gives them back), and only one of them at a
time shares its blocks out. ``NUMBA_MLP_BLAS_THREADS=unchanged`` in the
environment turns the policy off: BLAS then runs as configured, products
whole.
"""

import functools
import os
import threading
import time
from contextlib import contextmanager

import numba
import numpy as np

from numba_mlp.kernels.bundles import WHOLE, Blocks
from numba_mlp.kernels.products import SMALL_PRODUCT, blocks_in_parallel, blocks_one_by_one

#: From this many multiply-adds in its largest minibatch product, a fit
#: splits its large products into row blocks that threads can share.
BLOCKS_FROM = 16_000_000

#: Re-time the two ways once the fit has run this many times as long as a
#: timing takes (the timings then cost at most about 1/PROBE_EVERY of a fit).
PROBE_EVERY = 40

#: ... or sooner, once a step takes this much longer than the first step after
#: the last timing (the load has changed), if the fit has run at least
#: PROBE_SOONEST times as long as a timing takes since.
SLOWER_STEP = 1.3
PROBE_SOONEST = 5

#: Timings of each way per probe (interleaved; the medians are compared).
PROBE_REPEATS = 7

#: Sharing the blocks out must be this much faster to be chosen: computing
#: them in turn never waits for another thread.
SHARED_MARGIN = 0.9

_lock = threading.Lock()
_depth = 0
_saved = []
_allowed = [1]
_sharing = threading.Lock()  # held by the one fit whose blocks are shared out
_local = threading.local()
_forked = [False]
os.register_at_fork(after_in_child=lambda: _forked.__setitem__(0, True))


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
                    library.set_num_threads(1)
        _depth += 1
        allowed = _allowed[0]
    try:
        yield allowed
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for library, threads in _saved:
                    library.set_num_threads(threads)
                _saved.clear()


@contextmanager
def blas_threads_for(layer_units, batch_rows, dtype=np.float64):
    """Within the block, the fit's products run as the policy says for these
    shapes; the fit's drivers find how with ``current_choice()``."""
    product = largest_product(layer_units, batch_rows)
    policy = os.environ.get("NUMBA_MLP_BLAS_THREADS", "auto")
    if policy == "unchanged" or product < SMALL_PRODUCT:
        with _choosing(ThreadChoice(WHOLE)):
            yield
        return
    with _one_blas_thread() as allowed:
        most = min(allowed, numba.get_num_threads())
        if product < BLOCKS_FROM or most < 2:
            choice = ThreadChoice(WHOLE)
        else:
            probe_shape = _probe_shape(layer_units, batch_rows)
            choice = ThreadChoice(Blocks(most, False), most, probe_shape, dtype)
        with _choosing(choice):
            yield


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
    return getattr(_local, "choice", None) or ThreadChoice(WHOLE)


def _probe_shape(layer_units, batch_rows):
    """Rows, fan-in and fan-out of the fit's largest minibatch product."""
    layer = max(range(len(layer_units) - 1), key=lambda i: layer_units[i] * layer_units[i + 1])
    return min(batch_rows, 256), int(layer_units[layer]), int(layer_units[layer + 1])


class ThreadChoice:
    """How one fit computes its products, step (epoch, L-BFGS evaluation) by step.

    With row blocks, each step shares them out over ``most`` threads or
    computes them in turn on this one, whichever was faster when last timed
    on a product of the fit's largest shape; the results are the same either
    way. The timing is taken before the first step, and again once the fit
    has run ``PROBE_EVERY`` times as long as a timing takes, or sooner when a
    step slows down (``SLOWER_STEP``).
    """

    def __init__(self, blocks, most=1, probe_shape=None, dtype=np.float64):
        self.blocks = blocks
        self.most = most
        self.probe_shape = probe_shape
        self.dtype = dtype
        self.shared = False
        self.probes = 0
        self._probe_seconds = 0.0
        self._since_probe = None  # seconds run since the last timing
        self._first_step = None  # seconds of the first step after it
        self._last_step = 0.0

    @property
    def can_share(self):
        return self.blocks.rows > 1 and self.most > 1 and not _forked[0]

    @contextmanager
    def step(self):
        """Yields the ``Blocks`` of one step, run while the block runs."""
        if not self.can_share:
            yield self.blocks
            return
        if not _sharing.acquire(blocking=False):  # another fit is sharing its blocks
            yield self.blocks
            return
        try:
            previous = numba.get_num_threads()
            numba.set_num_threads(self.most)
            try:
                if self._probe_due():
                    self._probe()
                start = time.perf_counter()
                yield Blocks(self.blocks.rows, self.shared)
                seconds = time.perf_counter() - start
                self._since_probe += seconds
                self._last_step = seconds
                if self._first_step is None:
                    self._first_step = seconds
            finally:
                numba.set_num_threads(previous)
        finally:
            _sharing.release()

    def _probe_due(self):
        if self._since_probe is None:
            return True
        if self._since_probe > PROBE_EVERY * self._probe_seconds:
            return True
        return (
            self._first_step is not None
            and self._since_probe > PROBE_SOONEST * self._probe_seconds
            and self._last_step > SLOWER_STEP * self._first_step
        )

    def _probe(self):
        """Time the fit's largest product both ways; keep the faster."""
        rows, fan_in, fan_out = self.probe_shape
        left = np.full((rows, fan_in), 0.5, dtype=self.dtype)
        right = np.full((fan_in, fan_out), 0.5, dtype=self.dtype)
        out = np.empty((rows, fan_out), dtype=self.dtype)
        ways = ((False, blocks_one_by_one), (True, blocks_in_parallel))
        for _, product in ways:  # the first call may load or compile it
            product(left, right, out, self.blocks.rows)
        start = time.perf_counter()
        times = {False: [], True: []}
        for _ in range(PROBE_REPEATS):
            for shared, product in ways:
                begin = time.perf_counter()
                product(left, right, out, self.blocks.rows)
                times[shared].append(time.perf_counter() - begin)
        self.shared = bool(np.median(times[True]) < SHARED_MARGIN * np.median(times[False]))
        self.probes += 1
        self._probe_seconds = time.perf_counter() - start
        self._since_probe = 0.0
        self._first_step = None
