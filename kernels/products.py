"""The three sums of backpropagation over a whole layer and batch.

Each is the handouts' per-node sum, for every node (or weight) of a layer and
every sample of a batch at once:

- ``weighted_sums``: sum_i activation_in[s, i] w[i, j]  (net input before bias)
- ``back_signals``:  sum_k w[j, k] delta_out[s, k]      (hidden delta before f')
- ``gradient_sums``: sum_s activation_in[s, i] delta[s, j]  (weight gradient)

Small ones (a few samples, as in online learning) run as plain loops; larger
ones are matrix products handed to BLAS (``np.dot``, or ``blas.strided_product``
for the blocks of one), which runs them
several times faster than any loop we could write (the documentation's
performance page has the measurements).

A fit whose products are large may split them into ``blocks`` fixed
blocks of the result's rows or columns (``matrix_product``): each block is
one BLAS call on views of the matrices (``blas.strided_product``), made by
the driver to run on one thread, and the blocks are shared out over Numba's
threads. Every block is computed the same way whichever thread
takes it, so the result does not depend on the number of threads: the
driver may choose it by timing (``numba_mlp._threads``) without changing a
bit of the fit.

The blocks' matrices are retyped as writable matrices of any strides
(``retyped.any_strides``): the block machinery is compiled once per dtype,
not once for each combination of layouts and read-only flags it meets.
"""

import numpy as np
from numba import prange

from ._jit import kernel
from .blas import strided_product, submatrix
from .retyped import any_strides

#: Below this many multiply-adds a loop beats the overhead of a BLAS call.
SMALL_PRODUCT = 4096

#: Products of fewer multiply-adds are never split into blocks: starting
#: the threads would cost more than sharing the work saves.
SPLIT_PRODUCT = 1 << 20


@kernel(inline=True)
def block_bounds(n, n_blocks, block):
    """First and past-the-last index of block ``block`` of ``n_blocks``
    near-equal blocks of ``n``."""
    return block * n // n_blocks, (block + 1) * n // n_blocks


@kernel(inline=True)
def splits_columns(left, right):
    """Whether ``left @ right`` is split into blocks of its columns, not its rows.

    Every block's BLAS call packs (copies into its own layout) the whole of
    the operand that is not split: ``right`` for row blocks, ``left`` for
    column blocks. Splitting the other one's way packs the smaller one again.
    """
    return left.shape[0] < right.shape[1]


@kernel
def product_of_block(left, right, out, block, n_blocks):
    """One block of ``out = left @ right``, of its rows or its columns: one BLAS
    call on views of the three matrices (no copies)."""
    (n_rows, inner), n_columns = left.shape, right.shape[1]
    if splits_columns(left, right):
        rows, columns = (0, n_rows), block_bounds(n_columns, n_blocks, block)
    else:
        rows, columns = block_bounds(n_rows, n_blocks, block), (0, n_columns)
    strided_product(
        submatrix(left, rows, (0, inner)),
        submatrix(right, (0, inner), columns),
        submatrix(out, rows, columns),
    )


@kernel(inline=True)
def blocks_one_by_one(left, right, out, n_blocks):
    """Every block of ``out = left @ right``, in turn, on this thread."""
    for block in range(n_blocks):
        product_of_block(left, right, out, block, n_blocks)


@kernel(parallel=True)
def blocks_in_parallel(left, right, out, n_blocks):
    """Every block of ``out = left @ right``, shared out over Numba's threads."""
    for block in prange(n_blocks):
        # (prange counts in uint64: typed as the loop above, one compilation serves both)
        product_of_block(left, right, out, np.int64(block), n_blocks)


@kernel(inline=True)
def splits_into_blocks(left, right, out, blocks):
    """Whether ``out = left @ right`` is computed in ``blocks.count`` blocks:
    it is large enough, and has at least that many rows (or columns) to split."""
    multiply_adds = out.shape[0] * left.shape[1] * out.shape[1]
    split_size = out.shape[1] if splits_columns(left, right) else out.shape[0]
    return blocks.count > 1 and split_size >= blocks.count and multiply_adds >= SPLIT_PRODUCT


@kernel
def product_in_blocks(left, right, out, blocks):
    """Every block of ``out = left @ right``, shared out over Numba's threads
    if ``blocks.shared``, else in turn (the same result either way)."""
    if blocks.shared:
        blocks_in_parallel(left, right, out, blocks.count)
    else:
        blocks_one_by_one(left, right, out, blocks.count)


@kernel(inline=True)
def matrix_product(left, right, out, blocks):
    """out = left @ right through BLAS: whole (``np.dot``, which takes a
    matrix of one row or column as a vector), or in ``blocks.count`` fixed
    blocks when it is large enough. The blocks' matrices are retyped
    (``retyped.any_strides``): one compilation of the block products per
    dtype serves every layout."""
    if splits_into_blocks(left, right, out, blocks):
        product_in_blocks(any_strides(left), any_strides(right), any_strides(out), blocks)
    else:
        np.dot(left, right, out)


@kernel(inline=True)
def weighted_sum_row(inputs, weights, out):
    """out[j] = sum_i inputs[i] * weights[i, j] for one sample, as a loop."""
    fan_out = out.shape[0]
    if fan_out == 1:
        # one node (a binary or one-target output): its weights lie side by
        # side, and the sum is kept in a register, not in out[0]
        total = out.dtype.type(0.0)
        for i in range(inputs.shape[0]):
            total += inputs[i] * weights[i, 0]
        out[0] = total
        return
    for j in range(fan_out):
        out[j] = 0.0
    for i in range(inputs.shape[0]):
        activation_in = inputs[i]
        weights_from_i = weights[i]
        for j in range(fan_out):
            out[j] += activation_in * weights_from_i[j]


@kernel(inline=True)
def weighted_sums(inputs, weights, out, blocks):
    """out[s, j] = sum_i inputs[s, i] * weights[i, j]."""
    n_rows, fan_in = inputs.shape
    fan_out = weights.shape[1]
    if n_rows * fan_in * fan_out >= SMALL_PRODUCT:
        matrix_product(inputs, weights, out, blocks)
        return
    for s in range(n_rows):
        weighted_sum_row(inputs[s], weights, out[s])


@kernel(inline=True)
def back_signal_row(deltas_out, weights_out, out):
    """out[j] = sum_k weights_out[j, k] * deltas_out[k] for one sample, as a loop."""
    if deltas_out.shape[0] == 1:
        # one node above (a binary or one-target output): one product a node,
        # over weights that lie side by side
        delta = deltas_out[0]
        for j in range(out.shape[0]):
            out[j] = weights_out[j, 0] * delta
        return
    for j in range(out.shape[0]):
        weights_from_j = weights_out[j]
        signal = 0.0
        for k in range(deltas_out.shape[0]):
            signal += weights_from_j[k] * deltas_out[k]
        out[j] = signal


@kernel(inline=True)
def back_signals(deltas_out, weights_out, out, blocks):
    """out[s, j] = sum_k weights_out[j, k] * deltas_out[s, k]."""
    n_rows, n_next = deltas_out.shape
    n_nodes = weights_out.shape[0]
    if n_rows * n_nodes * n_next >= SMALL_PRODUCT:
        matrix_product(deltas_out, weights_out.T, out, blocks)
        return
    for s in range(n_rows):
        back_signal_row(deltas_out[s], weights_out, out[s])


@kernel(inline=True)
def gradient_sums(inputs, deltas, out, blocks):
    """out[i, j] = sum_s inputs[s, i] * deltas[s, j]."""
    n_rows, fan_in = inputs.shape
    fan_out = deltas.shape[1]
    if n_rows * fan_in * fan_out >= SMALL_PRODUCT:
        matrix_product(inputs.T, deltas, out, blocks)
        return
    out[:, :] = 0.0
    for s in range(n_rows):
        for i in range(fan_in):
            activation_in = inputs[s, i]
            for j in range(fan_out):
                out[i, j] += activation_in * deltas[s, j]
