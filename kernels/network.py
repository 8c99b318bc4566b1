"""A whole network on one batch of samples: forward pass, loss, backward pass.

The kernels take the named bundles of ``bundles``: ``Data`` (the input),
``Net`` (layer sizes and activation codes), ``Problem`` (targets, sample
weights, loss, penalty) and ``Work`` (buffers for ``work.max_rows`` samples
at a time, laid out as ``layout.nodes_of`` says).
"""

import numpy as np

from ._jit import kernel
from .backward import (
    compute_gradient,
    compute_hidden_deltas,
    compute_output_deltas,
    finish_gradient,
)
from .borrowed import borrowed
from .bundles import Blocks
from .checks import check_data, check_layer_units, check_layers, check_network, check_work
from .dropout import drop_nodes, scale_deltas, undo_drop
from .forward import add_bias_and_activate, are_consecutive, compute_layer, gather_rows
from .layout import biases_of, n_params, n_weights, nodes_of, weights_of
from .losses import sample_loss
from .retyped import writable
from .sparse import compute_gradient_sparse, weighted_sums_sparse


@kernel(inline=True)
def input_rows(data, work, rows, n_rows):
    """The dense input of samples ``rows[:n_rows]``: a view of X for a run of
    consecutive rows, else the rows gathered into ``work.gathered_inputs``;
    typed as writable either way, so that the layer that reads it is compiled
    once (``retyped``)."""
    X, gathered = data.X, work.gathered_inputs
    if are_consecutive(rows, n_rows):
        return writable(X[rows[0] : rows[0] + n_rows])
    if gathered.shape[0] < n_rows or gathered.shape[1] != X.shape[1]:
        raise ValueError("the gather buffer cannot hold this batch of samples")
    gather_rows(X, rows, n_rows, gathered)
    return gathered[:n_rows]


@kernel(inline=True)
def hidden_net_inputs(work, layer_units, layer, n_rows):
    """Where hidden layer ``layer`` keeps its net inputs: its block of
    ``work.net_inputs``, or an empty block when that buffer is empty (the
    activation's derivative does not need them)."""
    if work.net_inputs.shape[0] == 0:
        return work.net_inputs[:0].reshape((0, layer_units[layer]))
    return nodes_of(work.net_inputs, layer_units, work.max_rows, layer, n_rows)


@kernel(inline=True)
def drops(net, work, hidden_layer):
    """True if hidden layer ``hidden_layer`` (0 = first) drops nodes: it has a
    dropout rate, and ``work`` has room for the factors (training only)."""
    return (
        work.dropout_scales.shape[0] > 0
        and net.dropout_rates.shape[0] > 0
        and net.dropout_rates[hidden_layer] > 0.0
    )


@kernel(inline=True)
def dropout_scales_of(net, work, layer, n_rows):
    """The dropout factors of the nodes of layer ``layer`` (1 = first hidden)."""
    return nodes_of(work.dropout_scales, net.layer_units, work.max_rows, layer, n_rows)


@kernel
def forward_pass(data, net, params, work, rows, n_rows):
    """Activations of every layer for the samples ``rows[:n_rows]``; the output
    layer's net inputs too (``work.output_net_inputs``). Hidden nodes are
    dropped where ``drops`` says so."""
    layer_units = net.layer_units
    output_layer = layer_units.shape[0] - 2
    for layer in range(output_layer + 1):
        weights = weights_of(params, layer_units, layer)
        biases = biases_of(params, layer_units, layer)
        nodes = nodes_of(work.activations, layer_units, work.max_rows, layer + 1, n_rows)
        if layer == output_layer:
            code, kept_net_inputs = net.output_activation, work.output_net_inputs[:n_rows]
        else:
            code = net.hidden_activation
            kept_net_inputs = hidden_net_inputs(work, layer_units, layer + 1, n_rows)
        if layer > 0:
            previous = nodes_of(work.activations, layer_units, work.max_rows, layer, n_rows)
            compute_layer(previous, weights, biases, code, nodes, kept_net_inputs, work.blocks)
        elif data.is_sparse:
            weighted_sums_sparse(data.values, data.indices, data.indptr, rows, weights, nodes)
            add_bias_and_activate(code, biases, nodes, kept_net_inputs)
        else:
            inputs = input_rows(data, work, rows, n_rows)
            compute_layer(inputs, weights, biases, code, nodes, kept_net_inputs, work.blocks)
        if layer < output_layer and drops(net, work, layer):
            scales = dropout_scales_of(net, work, layer + 1, n_rows)
            drop_nodes(nodes, net.dropout_rates[layer], scales)


@kernel(inline=True)
def weighted_loss_sum(net, problem, work, rows, n_rows):
    """Sum over the batch of sample weight x sample loss (after forward_pass)."""
    layer_units = net.layer_units
    outputs = nodes_of(
        work.activations, layer_units, work.max_rows, layer_units.shape[0] - 1, n_rows
    )
    total = 0.0
    for s in range(n_rows):
        row = rows[s]
        loss = sample_loss(
            problem,
            net.output_activation,
            outputs[s],
            work.output_net_inputs[s],
            problem.targets[row],
        )
        total += problem.sample_weight[row] * loss
    return total


@kernel
def backward_pass(data, net, problem, params, grads, work, rows, n_rows):
    """Write each weight's sum over the batch of delta x activation to ``grads``.

    Runs after ``forward_pass`` on the same rows, whose inputs it reuses.
    """
    layer_units, max_rows = net.layer_units, work.max_rows
    last = layer_units.shape[0] - 1
    compute_output_deltas(
        net.output_activation,
        problem,
        nodes_of(work.activations, layer_units, max_rows, last, n_rows),
        rows,
        nodes_of(work.deltas, layer_units, max_rows, last, n_rows),
    )
    for layer in range(last - 1, -1, -1):
        layer_deltas = nodes_of(work.deltas, layer_units, max_rows, layer + 1, n_rows)
        weight_grads = weights_of(grads, layer_units, layer)
        bias_grads = biases_of(grads, layer_units, layer)
        if layer > 0:
            layer_inputs = nodes_of(work.activations, layer_units, max_rows, layer, n_rows)
            compute_gradient(layer_inputs, layer_deltas, weight_grads, bias_grads, work.blocks)
            # the derivative is taken before dropout; dropped nodes get delta 0
            dropped = drops(net, work, layer - 1)
            if dropped:
                undo_drop(layer_inputs, dropout_scales_of(net, work, layer, n_rows))
            hidden_deltas = nodes_of(work.deltas, layer_units, max_rows, layer, n_rows)
            compute_hidden_deltas(
                net.hidden_activation,
                weights_of(params, layer_units, layer),
                layer_deltas,
                layer_inputs,
                hidden_net_inputs(work, layer_units, layer, n_rows),
                hidden_deltas,
                work.blocks,
            )
            if dropped:
                scale_deltas(hidden_deltas, dropout_scales_of(net, work, layer, n_rows))
        elif data.is_sparse:
            compute_gradient_sparse(
                data.values, data.indices, data.indptr, rows, layer_deltas, weight_grads, bias_grads
            )
        else:
            # the forward pass left these rows' inputs where input_rows finds them
            if are_consecutive(rows, n_rows):
                layer_inputs = writable(data.X[rows[0] : rows[0] + n_rows])
            else:
                layer_inputs = work.gathered_inputs[:n_rows]
            compute_gradient(layer_inputs, layer_deltas, weight_grads, bias_grads, work.blocks)


@kernel
def squared_weight_sum(params, layer_units):
    """Sum of the squared weights (biases are not penalised), sizes unchecked:
    for kernels that have checked them (online learning calls it once an example)."""
    total = 0.0
    for p in range(n_weights(layer_units)):
        total += params[p] * params[p]
    return total


@kernel
def squared_weights(params, layer_units):
    """``squared_weight_sum`` once the sizes are checked: the public kernel."""
    check_layers(layer_units, params)
    return squared_weight_sum(params, layer_units)


@kernel
def finish_gradients(net, params, grads, alpha, total_weight):
    """Turn the summed gradients of every layer into averaged, penalised ones."""
    layer_units = net.layer_units
    check_layers(layer_units, params)
    if grads.shape[0] != params.shape[0]:
        raise ValueError("the gradient vector does not fit the layer sizes")
    for layer in range(layer_units.shape[0] - 1):
        finish_gradient(
            weights_of(params, layer_units, layer),
            weights_of(grads, layer_units, layer),
            biases_of(grads, layer_units, layer),
            alpha,
            total_weight,
        )


@kernel(inline=True)
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
    """Output activations for every sample, computed ``work.max_rows`` at a time."""
    layer_units, max_rows = net.layer_units, work.max_rows
    n_samples, n_outputs = outputs.shape
    last = layer_units.shape[0] - 1
    check_network(net, params)
    check_work(net, work, 1, False)
    if check_data(data, net) != n_samples or n_outputs != layer_units[last]:
        raise ValueError("outputs does not have a row per sample and a column per output")
    rows = np.arange(n_samples)
    for start in range(0, n_samples, max_rows):
        n_rows = min(max_rows, n_samples - start)
        batch_rows = rows[start : start + n_rows]
        forward_pass(data, net, params, work, batch_rows, n_rows)
        result = nodes_of(work.activations, layer_units, max_rows, last, n_rows)
        for s in range(n_rows):
            for k in range(n_outputs):
                outputs[start + s, k] = result[s, k]


@kernel
def predict_dense(
    X, layer_units, hidden_activation, output_activation, params, max_rows, outputs,
    class_indices, n_blocks, shared_blocks,
):  # fmt: skip
    """``predict_outputs`` for a dense, C-ordered X given with the network as
    plain arrays and codes, which Numba's dispatcher types in a fraction of
    the time bundles take, and computed layer by layer into two buffers (no
    bundles, no kept net inputs): what makes a one-row prediction cheap. Large
    products are computed in ``Blocks(n_blocks, shared_blocks)``
    (``products.matrix_product``): two plain arguments, which the dispatcher
    types faster than a bundle.

    A classifier's answers are finished here too, without NumPy passes over
    the outputs: ``class_indices``, unless it is empty, receives each row's class
    index (``class_index``), and a network with one output given ``outputs``
    of two columns fills them with ``1 - p, p``, scikit-learn's
    ``predict_proba`` of a binary classifier.

    Returns False, having computed nothing, if X holds a value that is not
    finite (the caller then raises scikit-learn's error). Shapes that do not
    fit ``layer_units`` raise ValueError before anything is read.
    """
    check_layer_units(layer_units)
    last = layer_units.shape[0] - 1
    pairs = layer_units[last] == 1 and outputs.shape[1] == 2
    if (
        X.shape[1] != layer_units[0]
        or params.shape[0] != n_params(layer_units)
        or outputs.shape[0] != X.shape[0]
        or (outputs.shape[1] != layer_units[last] and not pairs)
        or max_rows < 1
        or (class_indices.shape[0] != 0 and class_indices.shape[0] != X.shape[0])
    ):
        raise ValueError("predict_dense: X, params or outputs do not fit the layer sizes")
    for value in X.ravel():
        if not np.isfinite(value):
            return False
    # the arguments borrowed (kernels.borrowed): no reference counts for their views
    X, params = borrowed(X), borrowed(params)
    outputs, class_indices = borrowed(outputs), borrowed(class_indices)
    blocks = Blocks(n_blocks, shared_blocks)
    widest = 1
    for layer in range(1, last):
        widest = max(widest, layer_units[layer])
    half = max_rows * widest  # two halves: the nodes of one hidden layer, then the next
    hidden = np.empty(2 * half, dtype=X.dtype)
    not_kept = previous = outputs[:0]  # no net inputs kept; the nodes of the layer before
    for start in range(0, X.shape[0], max_rows):
        stop = min(start + max_rows, X.shape[0])
        n_rows = stop - start
        for layer in range(last):
            code = output_activation if layer == last - 1 else hidden_activation
            if layer == last - 1 and not pairs:
                nodes = outputs[start:stop]
            else:
                at = (layer % 2) * half
                nodes = hidden[at : at + n_rows * layer_units[layer + 1]].reshape(
                    (n_rows, layer_units[layer + 1])
                )
            weights = weights_of(params, layer_units, layer)
            biases = biases_of(params, layer_units, layer)
            inputs = writable(X[start:stop]) if layer == 0 else previous
            compute_layer(inputs, weights, biases, code, nodes, not_kept, blocks)
            previous = nodes
        if pairs or class_indices.shape[0] != 0:
            for s in range(n_rows):  # previous: the output nodes
                if pairs:
                    outputs[start + s, 0] = outputs.dtype.type(1.0) - previous[s, 0]
                    outputs[start + s, 1] = previous[s, 0]
                if class_indices.shape[0] != 0:
                    class_indices[start + s] = class_index(previous[s])
    return True


@kernel(inline=True)
def class_index(outputs):
    """The class a classifier's output row stands for, as scikit-learn's
    ``LabelBinarizer.inverse_transform`` reads it: with one output, 1 if it
    is above 0.5, else 0; with more, NumPy's ``argmax`` (the first largest
    output, or the first NaN)."""
    if outputs.shape[0] == 1:
        return 1 if outputs[0] > 0.5 else 0
    best = 0
    for k in range(outputs.shape[0]):
        if np.isnan(outputs[k]):
            return k
        if outputs[k] > outputs[best]:
            best = k
    return best
