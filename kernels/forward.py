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
from .codes import ELU, EXP, GELU, LEAKY_RELU, LOGISTIC, RELU, SILU, SOFTMAX, SOFTPLUS, TANH
from .products import weighted_sums


@kernel
def add_bias_and_activate(activation_code, biases, nodes, kept_net_inputs):
    """nodes[s, j] = f(weighted sum + b[j]), in place.

    ``kept_net_inputs`` receives every node's net input too, unless it is
    empty (the output layer keeps them, and hidden layers whose activation's
    derivative needs them; the teaching trace keeps all).

    Bias and activation are applied in one pass over each sample's nodes, one
    loop per activation: inside it the code is known, so the compiler
    inlines the formula, folds its branches and vectorises the loop (a pass
    for the bias and another for the activation runs several times
    slower). The loops pass the variable ``activation_code``, not the named
    constant: Numba compiles a callee once per literal argument.
    """
    n_rows, n_nodes = nodes.shape
    if kept_net_inputs.shape[0] > 0:
        # element by element: a slice assignment would compile Numba's
        # broadcasting error message, seconds of compile time for every process
        for s in range(n_rows):
            for j in range(n_nodes):
                kept_net_inputs[s, j] = nodes[s, j] + biases[j]
    for s in range(n_rows):
        row = nodes[s]
        if activation_code == RELU:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == TANH:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == LOGISTIC:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == EXP:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == LEAKY_RELU:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == ELU:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == GELU:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == SOFTPLUS:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        elif activation_code == SILU:
            for j in range(n_nodes):
                row[j] = activate(activation_code, row[j] + biases[j])
        else:  # identity and softmax
            for j in range(n_nodes):
                row[j] += biases[j]
            if activation_code == SOFTMAX:
                softmax_row(row)


@kernel
def compute_layer(inputs, weights, biases, activation_code, nodes, kept_net_inputs, blocks):
    """Activations of a layer for a batch: weighted sums (one matrix product,
    in ``blocks`` blocks if large), bias, f; net inputs kept in
    ``kept_net_inputs`` unless it is empty."""
    weighted_sums(inputs, weights, nodes, blocks)
    add_bias_and_activate(activation_code, biases, nodes, kept_net_inputs)


@kernel(inline=True)
def gather_rows(source, rows, n_rows, destination):
    """Copy the samples ``rows[:n_rows]`` of ``source`` into ``destination``."""
    n_features = source.shape[1]
    for s in range(n_rows):
        row = rows[s]
        for i in range(n_features):
            destination[s, i] = source[row, i]


@kernel(inline=True)
def are_consecutive(rows, n_rows):
    """True if ``rows[:n_rows]`` is a run r, r + 1, ... (no gather needed)."""
    for s in range(1, n_rows):
        if rows[s] != rows[0] + s:
            return False
    return True
