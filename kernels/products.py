"""The three sums of backpropagation over a whole layer and batch.

Each is the handouts' per-node sum, for every node (or weight) of a layer and
every sample of a batch at once:

- ``weighted_sums``: sum_i activation_in[s, i] w[i, j]  (net input before bias)
- ``back_signals``:  sum_k w[j, k] delta_out[s, k]      (hidden delta before f')
- ``gradient_sums``: sum_s activation_in[s, i] delta[s, j]  (weight gradient)

Small ones (a few samples, as in online learning) run as plain loops; larger
ones are matrix products handed to BLAS through ``np.dot``, which runs them
several times faster than any loop we could write (the documentation's
performance page has the measurements).
"""

import numpy as np

from ._jit import kernel

#: Below this many multiply-adds a loop beats the overhead of a BLAS call.
SMALL_PRODUCT = 4096


@kernel
def weighted_sums(inputs, weights, out):
    """out[s, j] = sum_i inputs[s, i] * weights[i, j]."""
    n_rows, fan_in = inputs.shape
    fan_out = weights.shape[1]
    if n_rows * fan_in * fan_out >= SMALL_PRODUCT:
        np.dot(inputs, weights, out)
        return
    for s in range(n_rows):
        for j in range(fan_out):
            out[s, j] = 0.0
        for i in range(fan_in):
            activation_in = inputs[s, i]
            for j in range(fan_out):
                out[s, j] += activation_in * weights[i, j]


@kernel
def back_signals(deltas_out, weights_out, out):
    """out[s, j] = sum_k weights_out[j, k] * deltas_out[s, k]."""
    n_rows, n_next = deltas_out.shape
    n_nodes = weights_out.shape[0]
    if n_rows * n_nodes * n_next >= SMALL_PRODUCT:
        np.dot(deltas_out, weights_out.T, out)
        return
    for s in range(n_rows):
        for j in range(n_nodes):
            signal = 0.0
            for k in range(n_next):
                signal += weights_out[j, k] * deltas_out[s, k]
            out[s, j] = signal


@kernel
def gradient_sums(inputs, deltas, out):
    """out[i, j] = sum_s inputs[s, i] * deltas[s, j]."""
    n_rows, fan_in = inputs.shape
    fan_out = deltas.shape[1]
    if n_rows * fan_in * fan_out >= SMALL_PRODUCT:
        np.dot(inputs.T, deltas, out)
        return
    out[:, :] = 0.0
    for s in range(n_rows):
        for i in range(fan_in):
            activation_in = inputs[s, i]
            for j in range(fan_out):
                out[i, j] += activation_in * deltas[s, j]
