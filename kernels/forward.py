"""Forward pass: each node's net input, then its activation.

net_input[s, j] = sum_i activation_in[s, i] * w[i, j] + b[j]

The loop runs over the input nodes i outermost for each sample, so the
innermost loop walks one row of the weight matrix and one row of net inputs,
both contiguous in memory (and vectorised by the compiler).
"""

from ._jit import kernel


@kernel
def compute_net_input(inputs, weights, biases, net_input):
    """Net input of every node of a layer for every sample of a batch."""
    n_rows = net_input.shape[0]
    fan_in, fan_out = weights.shape
    for s in range(n_rows):
        for j in range(fan_out):
            net_input[s, j] = 0.0
        for i in range(fan_in):
            activation_in = inputs[s, i]
            for j in range(fan_out):
                net_input[s, j] += activation_in * weights[i, j]
        for j in range(fan_out):
            net_input[s, j] += biases[j]


@kernel
def gather_rows(source, rows, n_rows, destination):
    """Copy the samples ``rows[:n_rows]`` of ``source`` into ``destination``."""
    n_features = source.shape[1]
    for s in range(n_rows):
        row = rows[s]
        for i in range(n_features):
            destination[s, i] = source[row, i]
