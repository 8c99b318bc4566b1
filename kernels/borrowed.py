"""Borrowed views: arrays that do not count as references to their buffer.

Numba counts the references to every array's buffer, and each count is an
atomic instruction: each view taken, each array fetched from a list and each
array handed to a function adds one and takes one away. In the loops that
run once an example (online learning), these counts cost as much as the
arithmetic. A borrowed view of an array is the same array (data, shape,
strides) without the reference: Numba skips the counting for it and for
every view taken of it.

A borrowed view is only valid while the array it was made from is alive.
Borrow only the arrays a kernel called from Python was given (Python holds
them until the call returns), never one the kernel allocated (Numba frees an
array at its last use, not at the end of the function), and never let a view
leave that call: not returned to Python, not written into an argument or a
global. Within the call, functions may take and return borrowed views.

The views are built with Numba's private ``numba.np.arrayobj``; a Numba
without the two functions used here gets the arrays themselves, counted
(one ``NumbaInternalsWarning``): the same results, the counts' cost again.
"""

import numba
from numba.core import types
from numba.extending import intrinsic, overload

from ._cache import NumbaInternalsWarning, warn_once

try:
    from numba.np.arrayobj import make_array, populate_array
except ImportError:  # a Numba without them: borrowed() is the value itself
    make_array = populate_array = None


def borrowed(value):
    """A view of the array ``value`` that holds no reference to its buffer
    (see above); for a bundle (a NamedTuple), the same bundle with each of
    its arrays borrowed. As Python (``NUMBA_DISABLE_JIT``), where nothing is
    counted: ``value`` itself."""
    return value


@overload(borrowed, inline="always", jit_options={"nogil": True})
def _borrowed(value):
    if not isinstance(value, (types.Array, types.BaseNamedTuple)):
        return None
    if make_array is None:
        warn_once(
            "borrowed views",
            f"numba {numba.__version__} lacks numba.np.arrayobj.make_array or "
            "populate_array: borrowed arrays are the arrays themselves, reference "
            "counted (the same results; online learning runs slower)",
            NumbaInternalsWarning,
        )
        return lambda value: value
    if isinstance(value, types.Array):
        return lambda value: _uncounted_view(value)
    return _bundle_with_borrowed_arrays(value)


def _bundle_with_borrowed_arrays(bundle):
    """An implementation rebuilding a value of the NamedTuple type ``bundle``
    field by field, its arrays borrowed and the rest as they are."""
    fields = [
        f"borrowed(value.{name})" if isinstance(kind, types.Array) else f"value.{name}"
        for name, kind in zip(bundle.fields, bundle.types)
    ]
    namespace = {"bundle_class": bundle.instance_class, "borrowed": borrowed}
    exec(f"def rebuild(value):\n    return bundle_class({', '.join(fields)})\n", namespace)
    return namespace["rebuild"]


@intrinsic
def _uncounted_view(typingctx, array):
    """The array struct of ``array`` with no meminfo: Numba counts nothing for it."""

    def codegen(context, builder, signature, args):
        source = make_array(array)(context, builder, value=args[0])
        view = make_array(array)(context, builder)
        populate_array(
            view,
            data=source.data,
            shape=source.shape,
            strides=source.strides,
            itemsize=source.itemsize,
            meminfo=None,
        )
        return view._getvalue()

    return array(array), codegen
