"""Where each layer lives in the flat buffers.

All weights and biases share one 1-D parameter buffer, laid out as
scikit-learn's ``_pack`` does: every layer's weight matrix (fan_in x fan_out,
row-major) in turn, then every layer's biases. Gradients, optimiser moments
and L-BFGS's parameter vector use the same layout, so an optimiser updates
one array in one loop.

Per-sample node values (activations, deltas) of a minibatch live in one
buffer per kind; layer l (1 = first hidden layer) takes ``max_rows x
layer_units[i]`` of it.
"""

from ._jit import kernel


@kernel
def weights_start(layer_units, layer):
    """Where the weights feeding layer ``layer + 1`` start in the buffer."""
    start = 0
    for i in range(layer):
        start += layer_units[i] * layer_units[i + 1]
    return start


@kernel
def biases_start(layer_units, layer):
    """Where the biases of layer ``layer + 1`` start in the buffer."""
    start = weights_start(layer_units, layer_units.shape[0] - 1)
    for i in range(layer):
        start += layer_units[i + 1]
    return start


@kernel(inline=True)
def weights_of(params, layer_units, layer):
    """Weight matrix (fan_in x fan_out) feeding layer ``layer + 1``."""
    start = weights_start(layer_units, layer)
    fan_in = layer_units[layer]
    fan_out = layer_units[layer + 1]
    return params[start : start + fan_in * fan_out].reshape((fan_in, fan_out))


@kernel(inline=True)
def biases_of(params, layer_units, layer):
    """Bias vector of the nodes of layer ``layer + 1``."""
    start = biases_start(layer_units, layer)
    return params[start : start + layer_units[layer + 1]]


@kernel
def n_weights(layer_units):
    """Number of weights (not biases) in the network."""
    return weights_start(layer_units, layer_units.shape[0] - 1)


@kernel
def n_params(layer_units):
    """Number of weights and biases in the network: the parameter vector's size."""
    return biases_start(layer_units, layer_units.shape[0] - 1)


@kernel(inline=True)
def nodes_of(buffer, layer_units, max_rows, layer, n_rows):
    """The (n_rows x units) block of a node buffer that holds layer ``layer``."""
    start = 0
    for i in range(1, layer):
        start += max_rows * layer_units[i]
    units = layer_units[layer]
    return buffer[start : start + n_rows * units].reshape((n_rows, units))
