"""Training kernels: a whole epoch of minibatch steps, the full-batch loss
and gradient that L-BFGS asks for (or their unfinished sums over a part of
the samples, which add up across the chunks of a data set), and the mean
loss early stopping can watch on a validation set.

One call of ``train_epoch`` runs every minibatch of an epoch (or of a part of
one), so Python runs once per epoch: for each batch, forward pass, loss,
backward pass, then one optimiser step on the flat parameter buffer.
"""

import numpy as np

from ._jit import kernel
from .borrowed import borrowed
from .checks import check_optimizer, check_training
from .codes import SGD
from .layout import n_weights
from .losses import regularised_loss
from .network import (
    backward_pass,
    finish_gradients,
    forward_pass,
    squared_weight_sum,
    total_weight_of,
    weighted_loss_sum,
)
from .optimizers import take_step


@kernel
def train_epoch(
    data, net, problem, order, batch_size, params, grads, work, optimizer, seed, loss_so_far=0.0
):
    """Run every minibatch of one epoch; return the summed batch losses.

    ``order`` lists the samples in the order they are visited (shuffled or
    not); ``optimizer`` (``bundles.Optimizer``) carries the moments and the
    step count across calls; ``seed`` seeds this epoch's dropout masks
    (nothing is drawn without dropout). An epoch may be run in parts, each
    a whole number of batches: a later part takes a negative ``seed`` (the
    masks go on where the last part left them) and the losses summed so far
    (``loss_so_far``), so the parts add up to the very epoch, bit for bit.
    Like scikit-learn, an epoch runs to
    its end even after a batch loss became non-finite; the driver decides
    what follows. (Online learning on dense data without dropout has a path
    of its own, ``online.train_examples``, with the same results.)
    """
    n_samples = order.shape[0]
    first_batch = min(batch_size, n_samples) if n_samples > 0 else 1
    check_training(data, net, problem, order, first_batch, params, grads, work, True)
    check_optimizer(optimizer, params, optimizer.kind != SGD)
    # the arrays are borrowed (kernels.borrowed): no reference counts once a batch
    data, problem, work = borrowed(data), borrowed(problem), borrowed(work)
    params, grads, order = borrowed(params), borrowed(grads), borrowed(order)
    optimizer = borrowed(optimizer)
    if work.dropout_scales.shape[0] > 0 and seed >= 0:
        np.random.seed(seed)
    layer_units = net.layer_units
    n_outputs = layer_units[layer_units.shape[0] - 1]
    weight_count = n_weights(layer_units)
    accumulated_loss = loss_so_far
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
            squared_weight_sum(params, layer_units),
            total_weight,
        )
        backward_pass(data, net, problem, params, grads, work, rows, n_rows)
        take_step(optimizer, params, grads, weight_count, problem.alpha, total_weight)
        accumulated_loss += batch_loss * n_rows
    return accumulated_loss


@kernel
def loss_and_gradient_sums(data, net, problem, rows, params, grads, work):
    """The unfinished sums over the samples ``rows``: return the weighted data-loss
    sum and write each weight's weighted gradient sum to ``grads``.

    Nothing is averaged or penalised: sums over parts of a data set add up to
    the sums over the whole, which ``finish_gradients`` and ``regularised_loss``
    then finish once (training on a cluster, chunk by chunk). ``work`` must
    hold ``len(rows)`` rows.
    """
    n_samples = rows.shape[0]
    check_training(data, net, problem, rows, max(n_samples, 1), params, grads, work, True)
    forward_pass(data, net, params, work, rows, n_samples)
    loss_sum = weighted_loss_sum(net, problem, work, rows, n_samples)
    backward_pass(data, net, problem, params, grads, work, rows, n_samples)
    return loss_sum


@kernel
def loss_and_gradient(data, net, problem, rows, params, grads, work):
    """Loss over the samples ``rows`` and its gradient (written to ``grads``).

    All samples form one batch: ``work`` must hold ``len(rows)`` rows.
    """
    layer_units = net.layer_units
    n_outputs = layer_units[layer_units.shape[0] - 1]
    n_samples = rows.shape[0]
    check_training(data, net, problem, rows, max(n_samples, 1), params, grads, work, True)
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
        squared_weight_sum(params, layer_units),
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
    check_training(data, net, problem, rows, 1, params, params, work, False)
    loss_sum = 0.0
    for start in range(0, n_samples, work.max_rows):
        n_rows = min(work.max_rows, n_samples - start)
        batch_rows = rows[start : start + n_rows]
        forward_pass(data, net, params, work, batch_rows, n_rows)
        loss_sum += weighted_loss_sum(net, problem, work, batch_rows, n_rows)
    total_weight = total_weight_of(problem.sample_weight, rows, n_samples)
    return regularised_loss(problem.loss_code, n_outputs, loss_sum, 0.0, 0.0, total_weight)
