"""Forward pass: each node's net input, then its activation.

    net_input[s, j] = sum_i activation_in[s, i] * w[i, j] + b[j]

The weighted sums of every node for every sample of a batch come from
``products.weighted_sums`` (a loop for tiny batches, BLAS otherwise); bias
and activation then follow in one pass over the nodes.
"""

import numpy as np

from .activations import logistic, softmax_row
from .codes import EXP, LOGISTIC, RELU, SOFTMAX, TANH
from .products import weighted_sums
from ._jit import kernel


@kernel
def compute_net_input(inputs, weights, biases, net_input):
    """Net input of every node of a layer for every sample of a batch."""
    weighted_sums(inputs, weights, net_input)
    n_rows, n_nodes = net_input.shape
    for s in range(n_rows):
        for j in range(n_nodes):
            net_input[s, j] += biases[j]


@kernel
def add_bias_and_activate(code, biases, nodes):
    """nodes[s, j] = f(weighted sum + b[j]), in place, in one pass.

    One loop per activation, so that each inner loop is branch-free and the
    compiler vectorises it.
    """
    n_rows, n_nodes = nodes.shape
    for s in range(n_rows):
        row = nodes[s]
        if code == RELU:
            for j in range(n_nodes):
                row[j] = max(row[j] + biases[j], 0.0)
        elif code == TANH:
            for j in range(n_nodes):
                row[j] = np.tanh(row[j] + biases[j])
        elif code == LOGISTIC:
            for j in range(n_nodes):
                row[j] = logistic(row[j] + biases[j])
        elif code == EXP:
            for j in range(n_nodes):
                row[j] = np.exp(row[j] + biases[j])
        else:
            for j in range(n_nodes):
                row[j] += biases[j]
            if code == SOFTMAX:
                softmax_row(row)


@kernel
def compute_activations(inputs, weights, biases, code, nodes):
    """Activations of a layer: weighted sums (one matrix product), bias, f."""
    weighted_sums(inputs, weights, nodes)
    add_bias_and_activate(code, biases, nodes)


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
