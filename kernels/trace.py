"""One training example through the network, every intermediate value kept.

The teaching trace (``numba_mlp.trace_step``): the forward pass, the deltas
and the gradients of ONE example, computed by the very layer kernels that
train (``forward.compute_net_input``, ``activations.activate_layer``,
``backward.compute_output_deltas``, ``backward.compute_hidden_deltas``,
``backward.compute_gradient``, ``backward.finish_gradient``) and written
into buffers the caller reads afterwards, instead of being overwritten by
the next batch.

This module compiles nothing of its own: ``trace_example`` is plain Python
that calls each layer kernel once per layer (each loads from its own cache),
so the trace always runs the current kernels. Values are the kernels' own:
``delta`` is dLoss/dnet for scikit-learn's loss (half squared error for
squared error), so a textbook that uses the full squared error (y - a)^2 has
deltas and gradients twice as large (and, if it defines delta as -dLoss/dnet,
of the opposite sign).
"""

import numpy as np

from .activations import activate_layer
from .backward import (
    compute_gradient,
    compute_hidden_deltas,
    compute_output_deltas,
    finish_gradient,
)
from .forward import compute_net_input
from .layout import biases_of, nodes_of, weights_of


def trace_example(net, loss, params, inputs, targets, alpha, learning_rate, trace):
    """Forward and backward pass of one example, keeping every node's values.

    Parameters
    ----------
    net : tuple ``(layer_units, hidden_activation, output_activation)``
        As everywhere in the kernels (``network.py``).
    loss : int
        Loss code (``codes.LOSS_CODES``).
    params : 1-D array
        The flat parameter buffer (``layout``); read only.
    inputs : array of shape (1, n_features)
        The example.
    targets : array of shape (1, n_outputs)
        Its target row (one-hot for a class label).
    alpha : float
        L2 penalty, added to the weight gradients as in training.
    learning_rate : float
        Step size of the plain gradient-descent step whose changes are kept.
    trace : tuple ``(net_inputs, activations, deltas, gradients, changes)``
        Output buffers: the first three are node buffers for one row
        (``layout.nodes_of`` with ``max_rows=1``, ``sum(layer_units[1:])``
        long), the last two are shaped like ``params``.
    """
    layer_units, hidden_activation, output_activation = net
    net_inputs, activations, deltas, gradients, changes = trace
    n_layers = layer_units.shape[0]
    last = n_layers - 1
    dtype = params.dtype

    # forward: net input of each node, then its activation
    layer_inputs = inputs
    for layer in range(1, n_layers):
        net_input = nodes_of(net_inputs, layer_units, 1, layer, 1)
        compute_net_input(
            layer_inputs,
            weights_of(params, layer_units, layer - 1),
            biases_of(params, layer_units, layer - 1),
            net_input,
        )
        activation = nodes_of(activations, layer_units, 1, layer, 1)
        activation[:] = net_input
        code = output_activation if layer == last else hidden_activation
        activate_layer(code, activation)
        layer_inputs = activation

    # backward: output deltas, then each hidden layer's from the one after it
    rows = np.zeros(1, dtype=np.int64)
    sample_weight = np.ones(1, dtype=dtype)
    compute_output_deltas(
        output_activation,
        loss,
        nodes_of(activations, layer_units, 1, last, 1),
        targets,
        rows,
        sample_weight,
        nodes_of(deltas, layer_units, 1, last, 1),
    )
    for layer in range(last - 1, 0, -1):
        compute_hidden_deltas(
            hidden_activation,
            weights_of(params, layer_units, layer),
            nodes_of(deltas, layer_units, 1, layer + 1, 1),
            nodes_of(activations, layer_units, 1, layer, 1),
            nodes_of(deltas, layer_units, 1, layer, 1),
        )

    # gradient of every weight (delta x the activation at its source), and the step
    for layer in range(n_layers - 1):
        source = inputs if layer == 0 else nodes_of(activations, layer_units, 1, layer, 1)
        weight_grads = weights_of(gradients, layer_units, layer)
        bias_grads = biases_of(gradients, layer_units, layer)
        compute_gradient(source, nodes_of(deltas, layer_units, 1, layer + 1, 1),
                            weight_grads, bias_grads)
        finish_gradient(weights_of(params, layer_units, layer), weight_grads, bias_grads,
                        dtype.type(alpha), dtype.type(1.0))
    np.multiply(gradients, -dtype.type(learning_rate), out=changes)
