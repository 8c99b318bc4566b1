"""Arrays given the one type that every call of a kernel shares.

Numba compiles a kernel once for every combination of its arguments' types,
and an array's type carries its layout ('C', 'F' or 'A' for any strides) and
whether it is read-only. The same product is met with many: X is read-only
(the estimator never writes the user's data), a hidden layer's nodes are
writable, ``weights.T`` is an 'F' view, a block of a matrix is an 'A' view.
Given as they are, the product kernels and everything below them would be
compiled once for each. Retyped here, they are compiled once per dtype.

Retyping changes the type only, not the array: the same data, shape and
strides. ``writable`` is for arrays that the kernel receiving them only
reads (a product's operands): it lets a read-only X and a writable buffer
share a compilation, and gives no licence to write.

The retyping is a Numba intrinsic that returns its argument through
``numba.core.imputils.impl_ret_borrowed``; a Numba without that name gets
the arrays as they are (one ``NumbaInternalsWarning``): the same results,
more compilations.
"""

import numba
from numba.extending import intrinsic, overload

from ._cache import NumbaInternalsWarning, warn_once

try:
    from numba.core.imputils import impl_ret_borrowed
except ImportError:  # a Numba without it: arrays keep their own types
    impl_ret_borrowed = None


def writable(array):
    """``array`` typed as writable, with its own layout (see above)."""
    return array


def any_strides(array):
    """``array`` typed as a writable array of any strides (layout 'A')."""
    return array


def _retyped(new_type):
    """An intrinsic returning its argument, typed as ``new_type(its type)``."""

    @intrinsic
    def retype(typingctx, array):
        result = new_type(array)

        def codegen(context, builder, signature, args):
            return impl_ret_borrowed(context, builder, result, args[0])

        return result(array), codegen

    return retype


_as_writable = _retyped(lambda array: array.copy(readonly=False))
_as_any_strides = _retyped(lambda array: array.copy(layout="A", readonly=False))


def _unchanged(array):
    """The fallback: ``array`` with its own type (see above)."""
    warn_once(
        "retyped arrays",
        f"numba {numba.__version__} lacks numba.core.imputils.impl_ret_borrowed: "
        "arrays keep their own types, and the products are compiled once for each "
        "layout they meet (the same results, more compile time)",
        NumbaInternalsWarning,
    )
    return lambda array: array


@overload(writable, inline="always", jit_options={"nogil": True})
def _writable(array):
    if impl_ret_borrowed is None:
        return _unchanged(array)
    return lambda array: _as_writable(array)


@overload(any_strides, inline="always", jit_options={"nogil": True})
def _any_strides(array):
    if impl_ret_borrowed is None:
        return _unchanged(array)
    return lambda array: _as_any_strides(array)
