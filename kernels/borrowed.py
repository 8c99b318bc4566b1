"""Borrowed views: arrays that do not count as references to their buffer.

Numba counts the references to every array's buffer, and each count is an
atomic instruction: each view taken, each array fetched from a list and each
array handed to a function adds one and takes one away. In the loops that
run once an example (online learning), these counts cost as much as the
arithmetic. A borrowed view of an array is the same array (data, shape,
strides) without the reference: Numba skips the counting for it and for
every view taken of it.

A borrowed view is only valid while the array it was made from is alive,
so it must never outlive the kernel call that made it: never return one, nor
store it anywhere that does.
"""

from numba.core import types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from ._jit import kernel
from .bundles import Data, Optimizer, Problem, Work


@intrinsic
def borrowed(typingctx, array):
    """A view of ``array`` that holds no reference to its buffer (see above)."""
    if not isinstance(array, types.Array):
        return None

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
        borrowed(data.X), borrowed(data.values), borrowed(data.indices), borrowed(data.indptr),
        data.is_sparse,
    )  # fmt: skip


@kernel(inline=True)
def borrowed_problem(problem):
    """``problem`` with borrowed targets and sample weights."""
    return Problem(
        borrowed(problem.targets), borrowed(problem.sample_weight), problem.loss_code,
        problem.alpha, problem.probability_clip, problem.huber_delta, problem.quantile,
    )  # fmt: skip


@kernel(inline=True)
def borrowed_work(work):
    """``work`` with borrowed buffers."""
    return Work(
        borrowed(work.gathered_inputs), borrowed(work.activations), borrowed(work.deltas),
        borrowed(work.net_inputs), borrowed(work.dropout_scales),
        borrowed(work.output_net_inputs), work.max_rows, work.blocks,
    )  # fmt: skip


@kernel(inline=True)
def borrowed_optimizer(optimizer):
    """``optimizer`` with borrowed moments and step count."""
    return Optimizer(
        optimizer.kind, borrowed(optimizer.first_moments), borrowed(optimizer.second_moments),
        borrowed(optimizer.step), optimizer.learning_rate, optimizer.momentum,
        optimizer.nesterov, optimizer.beta_1, optimizer.beta_2, optimizer.epsilon,
    )  # fmt: skip
