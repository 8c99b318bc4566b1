"""Dropout: during training, each hidden node is dropped with probability p.

Inverted dropout: a dropped node's activation becomes 0 and a kept node's
is divided by 1 - p, so that the next layer sees the same expected input
as at prediction time, when nothing is dropped. Each node's factor (0 or
1 / (1 - p)) is kept, for the backward pass: a node's delta is multiplied
by the same factor, and its derivative is taken at its activation before
dropout. The draws come from Numba's generator, seeded once per epoch by
the caller, so that a fit is reproducible.
"""

import numpy as np

from ._jit import kernel


@kernel(inline=True)
def drop_nodes(nodes, rate, scales):
    """Drop each node with probability ``rate``; scale the kept ones."""
    kept_scale = 1.0 / (1.0 - rate)
    n_rows, n_nodes = nodes.shape
    for s in range(n_rows):
        for j in range(n_nodes):
            scale = 0.0 if np.random.random() < rate else kept_scale
            scales[s, j] = scale
            nodes[s, j] *= scale


@kernel(inline=True)
def undo_drop(nodes, scales):
    """The kept nodes' activations as they were before dropout, in place
    (a dropped node's stays 0: its delta is multiplied by 0)."""
    n_rows, n_nodes = nodes.shape
    for s in range(n_rows):
        for j in range(n_nodes):
            if scales[s, j] != 0.0:
                nodes[s, j] /= scales[s, j]


@kernel(inline=True)
def scale_deltas(deltas, scales):
    """Each node's delta times its dropout factor: 0 for a dropped node."""
    n_rows, n_nodes = deltas.shape
    for s in range(n_rows):
        for j in range(n_nodes):
            deltas[s, j] *= scales[s, j]
