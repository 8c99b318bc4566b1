"""Forward pass: each node's net input, then its activation.

    net_input[s, j] = sum_i activation_in[s, i] * w[i, j] + b[j]
    activation[s, j] = f(net_input[s, j])

The weighted sums of every node for every sample of a batch come from
``products.weighted_sums`` (a loop for tiny batches, BLAS otherwise), or
from ``sparse.weighted_sums_sparse`` for a CSR first layer; bias and
activation then follow in one pass over the nodes.
"""

from ._jit import kernel
from .activations import activate, softmax_row
from .codes import SOFTMAX
from .products import weighted_sums


@kernel
def add_bias_and_activate(code, biases, nodes, kept_net_inputs):
    """nodes[s, j] = f(weighted sum + b[j]), in place, in one pass.

    ``kept_net_inputs`` receives every node's net input too, unless it is
    empty (the output layer keeps them; the teaching trace keeps all).
    """
    n_rows, n_nodes = nodes.shape
    keep = kept_net_inputs.shape[0] > 0
    for s in range(n_rows):
        row = nodes[s]
        for j in range(n_nodes):
            net_input = row[j] + biases[j]
            if keep:
                kept_net_inputs[s, j] = net_input
            row[j] = activate(code, net_input)  # the net input itself for softmax
        if code == SOFTMAX:
            softmax_row(row)


@kernel
def compute_layer(inputs, weights, biases, code, nodes, kept_net_inputs):
    """Activations of a layer for a batch: weighted sums (one matrix product),
    bias, f; net inputs kept in ``kept_net_inputs`` unless it is empty."""
    weighted_sums(inputs, weights, nodes)
    add_bias_and_activate(code, biases, nodes, kept_net_inputs)


@kernel
def gather_rows(source, rows, n_rows, destination):
    """Copy the samples ``rows[:n_rows]`` of ``source`` into ``destination``."""
    n_features = source.shape[1]
    for s in range(n_rows):
        row = rows[s]
        for i in range(n_features):
            destination[s, i] = source[row, i]


@kernel
def are_consecutive(rows, n_rows):
    """True if ``rows[:n_rows]`` is a run r, r + 1, ... (no gather needed)."""
    for s in range(1, n_rows):
        if rows[s] != rows[0] + s:
            return False
    return True
