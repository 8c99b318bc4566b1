"""A whole network on one batch of samples: forward pass, loss, backward pass.

Arguments shared by these kernels, bundled as tuples so the signatures stay
readable (each kernel unpacks them by name on its first line):

- ``data = (X, X_data, X_indices, X_indptr, is_sparse)``: the dense input, or
  the CSR input (the unused form is an empty placeholder);
- ``net = (layer_units, hidden_activation, output_activation)``: the shape of
  the network and its activation codes;
- ``work = (inputs, activations, deltas, max_rows, output_net_inputs)``:
  preallocated buffers (see ``layout.nodes_of``) for at most ``max_rows``
  samples at a time; ``output_net_inputs`` (max_rows x n_outputs) keeps the
  output nodes' net inputs, from which a loss can be computed where the
  activation has lost them (exp underflowing to 0).
"""

import numpy as np

from .activations import activate_layer
from .backward import (
    compute_gradient,
    compute_hidden_deltas,
    compute_output_deltas,
    finish_gradient,
)
from .forward import are_consecutive, compute_activations, compute_net_input, gather_rows
from .layout import biases_of, n_weights, nodes_of, weights_of
from .losses import sample_loss
from .sparse import compute_gradient_sparse, compute_net_input_sparse
from ._jit import kernel


@kernel
def input_rows(data, work, rows, n_rows):
    """The dense input of samples ``rows[:n_rows]``: a view of X for a run of
    consecutive rows, else the rows gathered into the ``inputs`` buffer."""
    X = data[0]
    inputs = work[0]
    if are_consecutive(rows, n_rows):
        return X[rows[0] : rows[0] + n_rows]
    if inputs.shape[0] < n_rows or inputs.shape[1] != X.shape[1]:
        raise ValueError("the gather buffer cannot hold this batch of samples")
    gather_rows(X, rows, n_rows, inputs)
    return inputs[:n_rows]


@kernel
def forward_pass(data, net, params, work, rows, n_rows):
    """Activations of every layer for the samples ``rows[:n_rows]``."""
    X, X_data, X_indices, X_indptr, is_sparse = data
    layer_units, hidden_activation, output_activation = net
    activations, max_rows, output_net_inputs = work[1], work[3], work[4]
    n_layers = layer_units.shape[0]
    output_layer = n_layers - 2
    for layer in range(n_layers - 1):
        weights = weights_of(params, layer_units, layer)
        biases = biases_of(params, layer_units, layer)
        nodes = nodes_of(activations, layer_units, max_rows, layer + 1, n_rows)
        # net inputs first, then activations (fused into one pass below the
        # output layer; the output layer keeps its net inputs for the loss)
        if layer > 0:
            previous = nodes_of(activations, layer_units, max_rows, layer, n_rows)
            if layer < output_layer:
                compute_activations(previous, weights, biases, hidden_activation, nodes)
                continue
            compute_net_input(previous, weights, biases, nodes)
        elif is_sparse:
            compute_net_input_sparse(X_data, X_indices, X_indptr, rows, weights, biases, nodes)
        elif layer < output_layer:
            inputs = input_rows(data, work, rows, n_rows)
            compute_activations(inputs, weights, biases, hidden_activation, nodes)
            continue
        else:
            compute_net_input(input_rows(data, work, rows, n_rows), weights, biases, nodes)
        if layer == output_layer:
            output_net_inputs[:n_rows] = nodes
            activate_layer(output_activation, nodes)
        else:
            activate_layer(hidden_activation, nodes)


@kernel
def weighted_loss_sum(net, loss, work, targets, sample_weight, rows, n_rows, eps):
    """Sum over the batch of sample weight x sample loss (after forward_pass)."""
    layer_units, _, output_activation = net
    activations, max_rows, output_net_inputs = work[1], work[3], work[4]
    n_layers = layer_units.shape[0]
    outputs = nodes_of(activations, layer_units, max_rows, n_layers - 1, n_rows)
    total = 0.0
    for s in range(n_rows):
        row = rows[s]
        total += sample_weight[row] * sample_loss(
            loss, output_activation, outputs[s], output_net_inputs[s], targets[row], eps
        )
    return total


@kernel
def backward_pass(data, net, loss, params, grads, work, targets, sample_weight, rows, n_rows):
    """Write each weight's sum over the batch of delta x activation to ``grads``.

    Runs after ``forward_pass`` on the same rows, whose inputs it reuses.
    """
    X, X_data, X_indices, X_indptr, is_sparse = data
    layer_units, hidden_activation, output_activation = net
    activations, deltas, max_rows = work[1], work[2], work[3]
    n_layers = layer_units.shape[0]
    last = n_layers - 1
    compute_output_deltas(
        output_activation,
        loss,
        nodes_of(activations, layer_units, max_rows, last, n_rows),
        targets,
        rows,
        sample_weight,
        nodes_of(deltas, layer_units, max_rows, last, n_rows),
    )
    for layer in range(n_layers - 2, -1, -1):
        layer_deltas = nodes_of(deltas, layer_units, max_rows, layer + 1, n_rows)
        weight_grads = weights_of(grads, layer_units, layer)
        bias_grads = biases_of(grads, layer_units, layer)
        if layer > 0:
            layer_inputs = nodes_of(activations, layer_units, max_rows, layer, n_rows)
            compute_gradient(layer_inputs, layer_deltas, weight_grads, bias_grads)
            compute_hidden_deltas(
                hidden_activation,
                weights_of(params, layer_units, layer),
                layer_deltas,
                layer_inputs,
                nodes_of(deltas, layer_units, max_rows, layer, n_rows),
            )
        elif is_sparse:
            compute_gradient_sparse(
                X_data, X_indices, X_indptr, rows, layer_deltas, weight_grads, bias_grads
            )
        else:
            # the forward pass left these rows' inputs where input_rows finds them
            if are_consecutive(rows, n_rows):
                layer_inputs = X[rows[0] : rows[0] + n_rows]
            else:
                layer_inputs = work[0][:n_rows]
            compute_gradient(layer_inputs, layer_deltas, weight_grads, bias_grads)


@kernel
def squared_weights(params, layer_units):
    """Sum of the squared weights (biases are not penalised)."""
    total = 0.0
    for p in range(n_weights(layer_units)):
        total += params[p] * params[p]
    return total


@kernel
def finish_gradients(net, params, grads, alpha, total_weight):
    """Turn the summed gradients of every layer into averaged, penalised ones."""
    layer_units = net[0]
    for layer in range(layer_units.shape[0] - 1):
        finish_gradient(
            weights_of(params, layer_units, layer),
            weights_of(grads, layer_units, layer),
            biases_of(grads, layer_units, layer),
            alpha,
            total_weight,
        )


@kernel
def total_weight_of(sample_weight, rows, n_rows):
    """Sum of the sample weights of ``rows[:n_rows]``; raises if it is zero
    (as scikit-learn's weighted average does: nothing can be averaged)."""
    total = 0.0
    for s in range(n_rows):
        total += sample_weight[rows[s]]
    if total == 0.0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return total


@kernel
def predict_outputs(data, net, params, work, outputs):
    """Output activations for every sample, computed ``max_rows`` at a time."""
    layer_units = net[0]
    max_rows = work[3]
    n_samples, n_outputs = outputs.shape
    last = layer_units.shape[0] - 1
    rows = np.arange(n_samples)
    for start in range(0, n_samples, max_rows):
        n_rows = min(max_rows, n_samples - start)
        batch_rows = rows[start : start + n_rows]
        forward_pass(data, net, params, work, batch_rows, n_rows)
        result = nodes_of(work[1], layer_units, max_rows, last, n_rows)
        for s in range(n_rows):
            for k in range(n_outputs):
                outputs[start + s, k] = result[s, k]
