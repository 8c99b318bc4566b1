"""Online learning (``batch_size=1``): the handouts' loop, one example at a time.

For each example: the forward pass, the loss, every node's delta, and then
every weight's change, made as its gradient is formed (delta_j x a_i, plus
the L2 term, over the example's weight) instead of being summed into a
gradient buffer first. The deltas of all layers are taken before any weight
changes, since each hidden delta is propagated through the weights as they
were. The result is the minibatch path's with batches of one sample
(``training.train_epoch``), weight for weight.

Everything that does not change from one example to the next (each layer's
place in the buffers, the optimiser's settings in the parameters' dtype) is
worked out once per epoch.
"""

import numpy as np

from ._jit import kernel
from .backward import (
    compute_output_deltas,
    finished_gradient,
    penalised_sum,
    times_derivatives,
)
from .borrowed import borrowed
from .checks import check_optimizer, check_training
from .codes import SGD
from .forward import add_bias_and_activate
from .layout import biases_of, biases_start, nodes_of, weights_of, weights_start
from .losses import regularised_loss, sample_loss
from .network import hidden_net_inputs, squared_weight_sum
from .optimizers import adam_update, begin_step, sgd_update
from .products import SMALL_PRODUCT, back_signal_row, back_signals, weighted_sum_row, weighted_sums


@kernel(fastmath=False)
def example_gradient(gradient_sum, alpha, weight, sample_weight):
    """``backward.finished_gradient`` for one example: the division by its
    sample weight is left out when the weight is 1 (x / 1 is x), and with it
    the most costly operation of an unweighted example's step."""
    if sample_weight == 1.0:
        return penalised_sum(gradient_sum, alpha, weight)
    return finished_gradient(gradient_sum, alpha, weight, sample_weight)


@kernel(inline=True)
def sgd_change_rows(params, velocities, layer_at, inputs, deltas, alpha, weight, settings):
    """``sgd_change_layer``'s loops, pasted into it once for each of its cases."""
    learning_rate, momentum, nesterov = settings
    weights_at, biases_at = layer_at
    fan_out = deltas.shape[0]
    zero = params.dtype.type(0.0)
    if fan_out == 1:  # one node: its weights from every input lie side by side
        n_in = inputs.shape[0]
        row, moments = params[weights_at : weights_at + n_in], velocities[weights_at:]
        for i in range(n_in):
            gradient = example_gradient(inputs[i] * deltas[0], alpha, row[i], weight)
            row[i], moments[i] = sgd_update(
                row[i], gradient, moments[i], learning_rate, momentum, nesterov
            )
        inputs = inputs[n_in:]  # left: the bias, below
    for i in range(inputs.shape[0] + 1):
        # the weights from input i, then (i = fan_in) the biases, "input" 1
        at = weights_at + i * fan_out if i < inputs.shape[0] else biases_at
        activation_in = inputs[i] if i < inputs.shape[0] else params.dtype.type(1.0)
        penalty = alpha if i < inputs.shape[0] else zero
        row, moments = params[at : at + fan_out], velocities[at : at + fan_out]
        for j in range(fan_out):
            gradient = example_gradient(activation_in * deltas[j], penalty, row[j], weight)
            row[j], moments[j] = sgd_update(
                row[j], gradient, moments[j], learning_rate, momentum, nesterov
            )


@kernel(fastmath=False)
def sgd_change_layer(params, velocities, layer_at, inputs, deltas, alpha, weight, settings):
    """Gradient descent on one layer's weights and biases (``layer_at =
    (where its weights start, where its biases start)``), each gradient formed
    on the spot; ``settings = (learning_rate, momentum, nesterov)``.

    The common cases (an unweighted example, Nesterov's momentum or none)
    are written out with the branch's outcome as a constant, so that the
    compiler drops the branch from the loop over a row's weights."""
    learning_rate, momentum, nesterov = settings
    one = params.dtype.type(1.0)
    if weight == 1.0 and nesterov:
        sgd_change_rows(params, velocities, layer_at, inputs, deltas, alpha, one,
                        (learning_rate, momentum, True))  # fmt: skip
    elif weight == 1.0:
        sgd_change_rows(params, velocities, layer_at, inputs, deltas, alpha, one,
                        (learning_rate, momentum, False))  # fmt: skip
    else:
        sgd_change_rows(params, velocities, layer_at, inputs, deltas, alpha, weight, settings)


@kernel(inline=True)
def adam_change_rows(params, first, second, layer_at, inputs, deltas, alpha, weight, settings):
    """``adam_change_layer``'s loops, pasted into it once for each of its cases."""
    learning_rate, beta_1, beta_2, epsilon, one_minus = settings
    weights_at, biases_at = layer_at
    fan_out = deltas.shape[0]
    zero = params.dtype.type(0.0)
    if fan_out == 1:  # one node: its weights from every input lie side by side
        n_in = inputs.shape[0]
        row = params[weights_at : weights_at + n_in]
        firsts, seconds = first[weights_at:], second[weights_at:]
        for i in range(n_in):
            gradient = example_gradient(inputs[i] * deltas[0], alpha, row[i], weight)
            row[i], firsts[i], seconds[i] = adam_update(
                row[i], gradient, firsts[i], seconds[i], learning_rate, beta_1, beta_2, epsilon,
                one_minus,
            )  # fmt: skip
        inputs = inputs[n_in:]  # left: the bias, below
    for i in range(inputs.shape[0] + 1):
        # the weights from input i, then (i = fan_in) the biases, "input" 1
        at = weights_at + i * fan_out if i < inputs.shape[0] else biases_at
        activation_in = inputs[i] if i < inputs.shape[0] else params.dtype.type(1.0)
        penalty = alpha if i < inputs.shape[0] else zero
        row = params[at : at + fan_out]
        firsts, seconds = first[at : at + fan_out], second[at : at + fan_out]
        for j in range(fan_out):
            gradient = example_gradient(activation_in * deltas[j], penalty, row[j], weight)
            row[j], firsts[j], seconds[j] = adam_update(
                row[j], gradient, firsts[j], seconds[j], learning_rate, beta_1, beta_2, epsilon,
                one_minus,
            )  # fmt: skip


@kernel(fastmath=False)
def adam_change_layer(params, first, second, layer_at, inputs, deltas, alpha, weight, settings):
    """Adam on one layer's weights and biases (``layer_at = (where its
    weights start, where its biases start)``), each gradient formed on the
    spot; ``settings = (learning_rate, beta_1, beta_2, epsilon, (1 - beta_1,
    1 - beta_2))``. An unweighted example's case is written out, as in
    ``sgd_change_layer``."""
    if weight == 1.0:
        adam_change_rows(params, first, second, layer_at, inputs, deltas, alpha,
                         params.dtype.type(1.0), settings)  # fmt: skip
    else:
        adam_change_rows(params, first, second, layer_at, inputs, deltas, alpha, weight, settings)


@kernel
def layer_views(net, params, work):
    """The views of one example, built once per epoch, layer 1 first: each
    layer's weights and biases; its activations and deltas as one-row
    matrices and as vectors (the loops of small products take vectors); its
    kept net inputs as a one-row matrix (no rows if not kept); where its weights and biases
    start in the parameter buffer; and whether its products are small
    enough for a loop (``products.SMALL_PRODUCT``), as the minibatch path
    decides."""
    layer_units, max_rows = net.layer_units, work.max_rows
    n_layers = layer_units.shape[0] - 1
    weights = [weights_of(params, layer_units, layer) for layer in range(n_layers)]
    biases = [biases_of(params, layer_units, layer) for layer in range(n_layers)]
    nodes = [nodes_of(work.activations, layer_units, max_rows, layer, 1) for layer in
             range(1, n_layers + 1)]  # fmt: skip
    deltas = [nodes_of(work.deltas, layer_units, max_rows, layer, 1) for layer in
              range(1, n_layers + 1)]  # fmt: skip
    kept = [hidden_net_inputs(work, layer_units, layer, 1) for layer in range(1, n_layers)]
    kept.append(work.output_net_inputs[:1])
    starts = [(weights_start(layer_units, layer), biases_start(layer_units, layer)) for layer in
              range(n_layers)]  # fmt: skip
    small = np.array([layer_units[layer] * layer_units[layer + 1] < SMALL_PRODUCT for layer in
                      range(n_layers)])  # fmt: skip
    rows = [matrix[0] for matrix in nodes]
    delta_rows = [matrix[0] for matrix in deltas]
    return weights, biases, nodes, rows, deltas, delta_rows, kept, starts, small


@kernel
def step_settings(optimizer, params):
    """The optimiser's settings of one step in the parameters' dtype, but its
    learning rate (``begin_step``): ``(momentum, nesterov)`` for SGD,
    ``(beta_1, beta_2, epsilon, (1 - beta_1, 1 - beta_2))`` for Adam; the
    same all epoch."""
    typed = params.dtype.type
    sgd = (typed(optimizer.momentum), optimizer.nesterov)
    adam = (
        typed(optimizer.beta_1),
        typed(optimizer.beta_2),
        typed(optimizer.epsilon),
        (typed(1.0 - optimizer.beta_1), typed(1.0 - optimizer.beta_2)),
    )
    return sgd, adam


@kernel(inline=True)
def change_weights(params, optimizer, settings, inputs, views, alpha, weight):
    """One optimiser step from one example's deltas: every weight and bias,
    layer by layer (biases are not penalised); ``settings`` from
    ``step_settings``."""
    weights, biases, nodes, rows, deltas, delta_rows, kept, starts, small = views
    learning_rate = begin_step(optimizer, params)
    (momentum, nesterov), (beta_1, beta_2, epsilon, one_minus) = settings
    for layer in range(len(weights)):
        layer_inputs = inputs if layer == 0 else rows[layer - 1]
        if optimizer.kind == SGD:
            sgd_change_layer(
                params, optimizer.first_moments, starts[layer], layer_inputs, delta_rows[layer],
                alpha, weight, (learning_rate, momentum, nesterov),
            )  # fmt: skip
        else:
            adam_change_layer(
                params, optimizer.first_moments, optimizer.second_moments, starts[layer],
                layer_inputs, delta_rows[layer], alpha, weight,
                (learning_rate, beta_1, beta_2, epsilon, one_minus),
            )  # fmt: skip


@kernel
def train_examples(data, net, problem, order, params, work, optimizer):
    """One epoch of online learning on dense data without dropout: every
    example of ``order`` in turn; return the summed losses, as
    ``training.train_epoch`` does with batches of one.

    Bundles are unpacked once an epoch: a kernel handed a whole bundle pays
    for every array in it at each call, which for one example costs more than
    its arithmetic.
    """
    if data.is_sparse:
        raise ValueError("train_examples takes dense X (train_epoch takes CSR input too)")
    check_training(data, net, problem, order, 1, params, params, work, True)
    check_optimizer(optimizer, params, optimizer.kind != SGD)
    # the arrays are borrowed (kernels.borrowed): no reference counts once an example
    data, problem, work = borrowed(data), borrowed(problem), borrowed(work)
    params, optimizer, order = borrowed(params), borrowed(optimizer), borrowed(order)
    layer_units = net.layer_units
    n_layers = layer_units.shape[0] - 1
    n_outputs = layer_units[n_layers]
    views = layer_views(net, params, work)
    weights, biases, nodes, rows, deltas, delta_rows, kept, starts, small = views
    settings = step_settings(optimizer, params)
    typed = params.dtype.type
    alpha = typed(problem.alpha)
    X, targets, sample_weight = data.X, problem.targets, problem.sample_weight
    hidden_code, output_code, blocks = net.hidden_activation, net.output_activation, work.blocks
    outputs, output_net_inputs = rows[-1], kept[-1][0]
    accumulated_loss = 0.0
    for s in range(order.shape[0]):
        row = order[s]
        weight = sample_weight[row]
        if weight == 0.0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        inputs = X[row]
        # forward pass: net inputs (a loop, or BLAS as the minibatch path), f
        for layer in range(n_layers):
            if small[layer]:
                weighted_sum_row(inputs if layer == 0 else rows[layer - 1], weights[layer],
                                 rows[layer])  # fmt: skip
            else:
                weighted_sums(X[row : row + 1] if layer == 0 else nodes[layer - 1],
                              weights[layer], nodes[layer], blocks)  # fmt: skip
            code = output_code if layer == n_layers - 1 else hidden_code
            add_bias_and_activate(code, biases[layer], nodes[layer], kept[layer])
        # the loss, with the weights before this example's step
        loss = sample_loss(problem, output_code, outputs, output_net_inputs, targets[row])
        accumulated_loss += regularised_loss(
            problem.loss_code,
            n_outputs,
            weight * loss,
            problem.alpha,
            squared_weight_sum(params, layer_units),
            weight,
        )
        # every delta, through the weights as they were
        compute_output_deltas(output_code, problem, nodes[-1], order[s : s + 1], deltas[-1])
        for layer in range(n_layers - 2, -1, -1):
            if small[layer + 1]:
                back_signal_row(delta_rows[layer + 1], weights[layer + 1], delta_rows[layer])
            else:
                back_signals(deltas[layer + 1], weights[layer + 1], deltas[layer], blocks)
            times_derivatives(hidden_code, nodes[layer], kept[layer], deltas[layer])
        change_weights(params, optimizer, settings, inputs, views, alpha, typed(weight))
    return accumulated_loss
