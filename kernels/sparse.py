"""The first layer for sparse (CSR) input: only stored entries do work.

These are the sparse twins of ``products.weighted_sums`` and
``backward.compute_gradient`` for layer 0; the sample ``rows[s]`` of the
CSR matrix (values, indices, indptr) plays the part of the input
activations.
"""

from ._jit import kernel


@kernel(inline=True)
def weighted_sums_sparse(values, indices, indptr, rows, weights, out):
    """out[s, j] = sum_i x[rows[s], i] w[i, j] over the stored entries of each row."""
    n_rows = out.shape[0]
    fan_out = weights.shape[1]
    for s in range(n_rows):
        row = rows[s]
        for j in range(fan_out):
            out[s, j] = 0.0
        for p in range(indptr[row], indptr[row + 1]):
            i = indices[p]
            activation_in = values[p]
            for j in range(fan_out):
                out[s, j] += activation_in * weights[i, j]


@kernel(inline=True)
def compute_gradient_sparse(values, indices, indptr, rows, deltas, weight_grads, bias_grads):
    """Sum over CSR samples of the first layer's delta x input activation."""
    n_rows, fan_out = deltas.shape
    weight_grads[:, :] = 0.0
    bias_grads[:] = 0.0
    for s in range(n_rows):
        row = rows[s]
        for p in range(indptr[row], indptr[row + 1]):
            i = indices[p]
            activation_in = values[p]
            for j in range(fan_out):
                weight_grads[i, j] += activation_in * deltas[s, j]
        for j in range(fan_out):
            bias_grads[j] += deltas[s, j]
