"""Training kernels: a whole epoch of minibatch steps, the full-batch loss
and gradient that L-BFGS asks for, and the mean loss early stopping can
watch on a validation set.

One call of ``train_epoch`` runs every minibatch of an epoch, so Python runs
once per epoch: for each batch, forward pass, loss, backward pass, then one
optimiser step on the flat parameter buffer.
"""

import numpy as np

from ._jit import kernel
from .backward import compute_output_deltas, finished_gradient, times_derivatives
from .dropout import scale_deltas, undo_drop
from .layout import biases_start, n_weights, nodes_of, weights_of, weights_start
from .losses import loss_scale
from .network import (
    backward_pass,
    dropout_scales_of,
    drops,
    finish_gradients,
    forward_pass,
    hidden_net_inputs,
    squared_weights,
    total_weight_of,
    weighted_loss_sum,
)
from .optimizers import begin_step, take_step, update_parameter
from .products import back_signals


@kernel(fastmath=False)
def regularised_loss(loss_code, n_outputs, loss_sum, alpha, sum_squared_weights, total_weight):
    """scikit-learn's reported loss: mean data loss plus 0.5 alpha |W|^2 / weight."""
    data_loss = loss_sum / total_weight * loss_scale(loss_code, n_outputs)
    return data_loss + (0.5 * alpha) * sum_squared_weights / total_weight


@kernel
def change_weights(optimizer, params, layer_units, layer, inputs, deltas, alpha, tw, lr):
    """Change the weights and biases feeding layer ``layer + 1`` by one
    optimiser step, for one example: each weight's gradient, delta_j x a_i
    (+ alpha w, over the sample's weight), is taken and applied in one go."""
    typed = params.dtype.type
    fan_in, fan_out = layer_units[layer], layer_units[layer + 1]
    first_weight = weights_start(layer_units, layer)
    for i in range(fan_in):
        activation = inputs[i]
        for j in range(fan_out):
            p = first_weight + i * fan_out + j
            gradient = finished_gradient(activation * deltas[j], alpha, params[p], tw)
            update_parameter(optimizer, params, p, gradient, lr)
    first_bias = biases_start(layer_units, layer)
    for j in range(fan_out):
        p = first_bias + j
        gradient = finished_gradient(deltas[j], typed(0.0), params[p], tw)
        update_parameter(optimizer, params, p, gradient, lr)


@kernel
def learn_from_example(data, net, problem, params, work, rows, optimizer, total_weight):
    """The handouts' step on one example, after ``forward_pass``: deltas layer
    by layer from the output, each layer's weights changed as soon as the
    deltas below them have taken the back signals they need (no gradient
    buffer). The same arithmetic as ``backward_pass`` then ``take_step``."""
    layer_units, max_rows = net.layer_units, work.max_rows
    last = layer_units.shape[0] - 1
    typed = params.dtype.type
    alpha, tw = typed(problem.alpha), typed(total_weight)
    lr = begin_step(optimizer, params)
    compute_output_deltas(
        net.output_activation,
        problem,
        nodes_of(work.activations, layer_units, max_rows, last, 1),
        rows,
        nodes_of(work.deltas, layer_units, max_rows, last, 1),
    )
    for layer in range(last - 1, -1, -1):
        deltas = nodes_of(work.deltas, layer_units, max_rows, layer + 1, 1)
        if layer == 0:
            inputs = data.X[rows[0]]
            change_weights(optimizer, params, layer_units, 0, inputs, deltas[0], alpha, tw, lr)
            continue
        activations = nodes_of(work.activations, layer_units, max_rows, layer, 1)
        hidden_deltas = nodes_of(work.deltas, layer_units, max_rows, layer, 1)
        # back signals through the weights as they were, then change them
        back_signals(deltas, weights_of(params, layer_units, layer), hidden_deltas)
        change_weights(
            optimizer, params, layer_units, layer, activations[0], deltas[0], alpha, tw, lr
        )
        dropped = drops(net, work, layer - 1)
        if dropped:
            undo_drop(activations, dropout_scales_of(net, work, layer, 1))
        times_derivatives(
            net.hidden_activation,
            activations,
            hidden_net_inputs(work, layer_units, layer, 1),
            hidden_deltas,
        )
        if dropped:
            scale_deltas(hidden_deltas, dropout_scales_of(net, work, layer, 1))


@kernel
def train_epoch(data, net, problem, order, batch_size, params, grads, work, optimizer, seed):
    """Run every minibatch of one epoch; return the summed batch losses.

    ``order`` lists the samples in the order they are visited (shuffled or
    not); ``optimizer`` (``bundles.Optimizer``) carries the moments and the
    step count across calls; ``seed`` seeds this epoch's dropout masks
    (nothing is drawn without dropout). Like scikit-learn, an epoch runs to
    its end even after a batch loss became non-finite; the driver decides
    what follows.
    """
    if work.dropout_scales.shape[0] > 0:
        np.random.seed(seed)
    layer_units = net.layer_units
    n_outputs = layer_units[layer_units.shape[0] - 1]
    weight_count = n_weights(layer_units)
    n_samples = order.shape[0]
    accumulated_loss = 0.0
    for start in range(0, n_samples, batch_size):
        n_rows = min(batch_size, n_samples - start)
        rows = order[start : start + n_rows]
        forward_pass(data, net, params, work, rows, n_rows)
        loss_sum = weighted_loss_sum(net, problem, work, rows, n_rows)
        total_weight = total_weight_of(problem.sample_weight, rows, n_rows)
        # the loss is taken with the weights before this batch's step
        batch_loss = regularised_loss(
            problem.loss_code,
            n_outputs,
            loss_sum,
            problem.alpha,
            squared_weights(params, layer_units),
            total_weight,
        )
        if n_rows == 1 and not data.is_sparse:
            learn_from_example(data, net, problem, params, work, rows, optimizer, total_weight)
        else:
            backward_pass(data, net, problem, params, grads, work, rows, n_rows)
            take_step(optimizer, params, grads, weight_count, problem.alpha, total_weight)
        accumulated_loss += batch_loss * n_rows
    return accumulated_loss


@kernel
def loss_and_gradient(data, net, problem, rows, params, grads, work):
    """Loss over the samples ``rows`` and its gradient (written to ``grads``).

    All samples form one batch: ``work`` must hold ``len(rows)`` rows.
    """
    layer_units = net.layer_units
    n_outputs = layer_units[layer_units.shape[0] - 1]
    n_samples = rows.shape[0]
    forward_pass(data, net, params, work, rows, n_samples)
    loss_sum = weighted_loss_sum(net, problem, work, rows, n_samples)
    backward_pass(data, net, problem, params, grads, work, rows, n_samples)
    total_weight = total_weight_of(problem.sample_weight, rows, n_samples)
    finish_gradients(net, params, grads, problem.alpha, total_weight)
    return regularised_loss(
        problem.loss_code,
        n_outputs,
        loss_sum,
        problem.alpha,
        squared_weights(params, layer_units),
        total_weight,
    )


@kernel
def mean_data_loss(data, net, problem, params, work):
    """Mean loss over every sample of ``problem``, without the L2 term, as
    scikit-learn reports it; computed ``work.max_rows`` samples at a time."""
    layer_units = net.layer_units
    n_outputs = layer_units[layer_units.shape[0] - 1]
    n_samples = problem.targets.shape[0]
    rows = np.arange(n_samples)
    loss_sum = 0.0
    for start in range(0, n_samples, work.max_rows):
        n_rows = min(work.max_rows, n_samples - start)
        batch_rows = rows[start : start + n_rows]
        forward_pass(data, net, params, work, batch_rows, n_rows)
        loss_sum += weighted_loss_sum(net, problem, work, batch_rows, n_rows)
    total_weight = total_weight_of(problem.sample_weight, rows, n_samples)
    return regularised_loss(problem.loss_code, n_outputs, loss_sum, 0.0, 0.0, total_weight)
