"""The one place that says how every kernel is compiled.

- ``cache=True``: compiled machine code is stored beside the source (or in
  ``NUMBA_CACHE_DIR``) so a new process does not compile again.
- ``nogil=True``: kernels release the GIL, so threads can train in parallel.
- ``fastmath`` only with flags that keep NaN and inf meaningful: sums may be
  reassociated (vectorised) and multiply-adds fused, but ``nnan``/``ninf`` are
  left out so that a diverging network is still detected.
- ``error_model="numpy"``: a division by zero gives inf or NaN, as in NumPy,
  instead of a check before every division (which keeps loops with a division
  from being vectorised). Training detects non-finite values itself, and the
  one division by zero that scikit-learn reports as an error (a minibatch
  whose sample weights sum to zero) is checked for explicitly.
"""

from numba import njit

FASTMATH_FLAGS = {"reassoc", "contract", "nsz"}


def kernel(function):
    """Compile ``function`` as a cached, GIL-free Numba kernel."""
    return njit(cache=True, nogil=True, fastmath=FASTMATH_FLAGS, error_model="numpy")(function)
