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
from .codes import EXP, LOGISTIC, RELU, SOFTMAX, TANH
from .products import weighted_sums


@kernel
def add_bias_and_activate(code, biases, nodes, kept_net_inputs):
    """nodes[s, j] = f(weighted sum + b[j]), in place, in one pass.

    ``kept_net_inputs`` receives every node's net input too, unless it is
    empty (the output layer keeps them; the teaching trace keeps all). Each
    activation has its own loop, in which ``activate`` is called with a
    constant code: the compiler inlines the formula and vectorises the loop.
    """
    if kept_net_inputs.shape[0] > 0:
        n_rows, n_nodes = nodes.shape
        for s in range(n_rows):
            for j in range(n_nodes):
                kept_net_inputs[s, j] = nodes[s, j] + biases[j]
        for s in range(n_rows):
            activate_row(code, kept_net_inputs[s], nodes[s])
        return
    for s in range(nodes.shape[0]):
        add_bias_and_activate_row(code, biases, nodes[s])


@kernel
def add_bias_and_activate_row(code, biases, row):
    """row[j] = f(row[j] + b[j]) for one sample's nodes."""
    n_nodes = row.shape[0]
    if code == RELU:
        for j in range(n_nodes):
            row[j] = activate(RELU, row[j] + biases[j])
    elif code == TANH:
        for j in range(n_nodes):
            row[j] = activate(TANH, row[j] + biases[j])
    elif code == LOGISTIC:
        for j in range(n_nodes):
            row[j] = activate(LOGISTIC, row[j] + biases[j])
    elif code == EXP:
        for j in range(n_nodes):
            row[j] = activate(EXP, row[j] + biases[j])
    else:
        for j in range(n_nodes):
            row[j] += biases[j]
        if code == SOFTMAX:
            softmax_row(row)


@kernel
def activate_row(code, net_inputs, row):
    """row[j] = f(net_inputs[j]) for one sample's nodes."""
    n_nodes = row.shape[0]
    if code == RELU:
        for j in range(n_nodes):
            row[j] = activate(RELU, net_inputs[j])
    elif code == TANH:
        for j in range(n_nodes):
            row[j] = activate(TANH, net_inputs[j])
    elif code == LOGISTIC:
        for j in range(n_nodes):
            row[j] = activate(LOGISTIC, net_inputs[j])
    elif code == EXP:
        for j in range(n_nodes):
            row[j] = activate(EXP, net_inputs[j])
    else:
        for j in range(n_nodes):
            row[j] = net_inputs[j]
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
