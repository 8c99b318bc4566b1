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
"""

from numba.core import types
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array, populate_array

from ._jit import kernel
from .bundles import Data, Optimizer, Problem, Work


def borrowed(array):
    """A view of ``array`` that holds no reference to its buffer (see above).
    As Python (``NUMBA_DISABLE_JIT``), where nothing is counted: the array."""
    return array


@overload(borrowed, inline="always", jit_options={"nogil": True})
def _borrowed(array):
    if isinstance(array, types.Array):
        return lambda array: _uncounted_view(array)
    return None


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


@kernel(inline=True)
def borrowed_data(data):
    """``data`` with borrowed arrays."""
    return Data(
        X=borrowed(data.X),
        values=borrowed(data.values),
        indices=borrowed(data.indices),
        indptr=borrowed(data.indptr),
        is_sparse=data.is_sparse,
    )


@kernel(inline=True)
def borrowed_problem(problem):
    """``problem`` with borrowed targets and sample weights."""
    return Problem(
        targets=borrowed(problem.targets),
        sample_weight=borrowed(problem.sample_weight),
        loss_code=problem.loss_code,
        alpha=problem.alpha,
        probability_clip=problem.probability_clip,
        huber_delta=problem.huber_delta,
        quantile=problem.quantile,
    )


@kernel(inline=True)
def borrowed_work(work):
    """``work`` with borrowed buffers."""
    return Work(
        gathered_inputs=borrowed(work.gathered_inputs),
        activations=borrowed(work.activations),
        deltas=borrowed(work.deltas),
        net_inputs=borrowed(work.net_inputs),
        dropout_scales=borrowed(work.dropout_scales),
        output_net_inputs=borrowed(work.output_net_inputs),
        max_rows=work.max_rows,
        blocks=work.blocks,
    )


@kernel(inline=True)
def borrowed_optimizer(optimizer):
    """``optimizer`` with borrowed moments and step count."""
    return Optimizer(
        kind=optimizer.kind,
        first_moments=borrowed(optimizer.first_moments),
        second_moments=borrowed(optimizer.second_moments),
        step=borrowed(optimizer.step),
        learning_rate=optimizer.learning_rate,
        momentum=optimizer.momentum,
        nesterov=optimizer.nesterov,
        beta_1=optimizer.beta_1,
        beta_2=optimizer.beta_2,
        epsilon=optimizer.epsilon,
    )
