"""How many threads BLAS may use while a network trains.

The kernels hand their larger sums to BLAS through Numba's ``np.dot``, which
calls SciPy's OpenBLAS; NumPy has an OpenBLAS of its own, and each keeps a
pool of threads that spin for a while after every call. For the products of
a minibatch of a small network a second thread gains little, and when
another process holds a core it loses much: the threads wait for each other
inside every product. So a fit whose largest minibatch product is small runs
BLAS on one thread, in both copies, and gives the threads back afterwards;
larger products keep whatever the user or joblib allowed (this never raises
a limit). Which path a fit takes depends only on its shapes, so results do
not depend on the load of the machine.

``NUMBA_MLP_BLAS_THREADS=unchanged`` in the environment turns the policy
off (BLAS then runs as configured, e.g. with ``threadpoolctl``).
"""

import functools
import os
import threading
from contextlib import contextmanager

from numba_mlp.kernels.products import SMALL_PRODUCT

#: Below this many multiply-adds in its largest minibatch product, a fit
#: runs BLAS on one thread.
SINGLE_THREAD_BELOW = 16_000_000

_lock = threading.Lock()
_depth = 0
_saved = []


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
def blas_threads_for(layer_units, batch_rows):
    """Within the block, BLAS runs as the policy says for these shapes.

    Fits may run in several threads at once (a threaded grid search): the
    first to enter limits the pools, the last to leave restores them.
    """
    product = largest_product(layer_units, batch_rows)
    policy = os.environ.get("NUMBA_MLP_BLAS_THREADS", "auto")
    if policy == "unchanged" or not SMALL_PRODUCT <= product < SINGLE_THREAD_BELOW:
        yield
        return
    global _depth
    with _lock:
        if _depth == 0:
            _saved[:] = [(library, library.num_threads) for library in _blas_libraries()]
            for library, threads in _saved:
                if threads > 1:
                    library.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for library, threads in _saved:
                    library.set_num_threads(threads)
                _saved.clear()
