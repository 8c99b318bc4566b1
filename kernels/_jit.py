"""The one place that says how every kernel is compiled.

- cached: compiled machine code is stored beside the source (or in
  ``NUMBA_CACHE_DIR``, or the user-wide cache) so a new process does not
  compile again. This is Numba's ``cache=True`` except for when an entry is
  stale: Numba compares a kernel's own source file only, so a kernel would
  keep running its old callees after another kernel module changed (a
  ``git switch``); here a change to any module of this package makes every
  entry stale (``_cache.py``).
- ``nogil=True``: kernels release the GIL, so threads can train in parallel.
- ``fastmath`` only with flags that keep NaN and inf meaningful: sums may be
  reassociated (vectorised) and multiply-adds fused, but ``nnan``/``ninf`` are
  left out so that a diverging network is still detected. Reassociation can
  still turn an IEEE result into another one at the edges of the float range
  (``(0/0 + x/0)`` into ``(0 + x)/0``, ``inf - inf`` where IEEE has no such
  term), so the kernels whose results it would change there (the optimiser
  steps, the sample loss, the reported loss) are compiled with
  ``@kernel(fastmath=False)``; a test compares every kernel that divides or
  takes a square root with its IEEE compilation on edge values.
- ``error_model="numpy"``: a division by zero gives inf or NaN, as in NumPy,
  instead of a check before every division (which keeps loops with a division
  from being vectorised). Training detects non-finite values itself, and the
  one division by zero that scikit-learn reports as an error (a minibatch
  whose sample weights sum to zero) is checked for explicitly.
"""

from numba import njit

from ._cache import enable_package_cache

FASTMATH_FLAGS = {"reassoc", "contract", "nsz"}


def kernel(function=None, *, fastmath=True, inline=False, forceinline=False, parallel=False):
    """Compile ``function`` as a cached, GIL-free Numba kernel.

    ``@kernel(fastmath=False)`` compiles with IEEE semantics throughout, for
    kernels whose results fastmath would change at the edges of the float
    range (Adam's step, where ``m / (sqrt(inf) + eps)`` must be 0, not NaN).
    ``@kernel(inline=True)`` has Numba paste the function into its callers
    instead of compiling it on its own: for small helpers and for functions
    called from one place, where a function of its own costs compile time
    only (Numba compiles it alone, then again as part of each caller), and
    for the passes over a layer's nodes that online learning makes once an
    example, where a call costs as much as the pass. A function pasted into
    many callers, or into one several times, is compiled on its own instead
    (``forward.add_bias_and_activate``). Only a function compiled with the
    caller's ``fastmath`` may be pasted into it: the paste takes the caller's.
    ``@kernel(forceinline=True)`` compiles the function on its own and has
    LLVM paste the result into every caller, whatever its size: for the
    scalar functions a vectorised loop calls (``activations.activate``), which
    the loop's known activation code shrinks to one formula once pasted.
    ``@kernel(parallel=True)`` lets Numba share the iterations of a ``prange``
    loop out over its threads (the blocks of a large product).
    """
    flags = FASTMATH_FLAGS if fastmath else False
    jit = njit(
        nogil=True,
        fastmath=flags,
        error_model="numpy",
        inline="always" if inline else "never",
        forceinline=forceinline,
        parallel=parallel,
    )

    def compile_(function):
        # what cache=True does, with a stamp covering the whole package
        return enable_package_cache(jit(function))

    return compile_ if function is None else compile_(function)
