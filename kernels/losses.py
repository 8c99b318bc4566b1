"""Loss of one sample and its derivative with respect to an output activation.

The losses are scikit-learn's: half squared error, log loss (binary per
output for a logistic output layer, categorical for softmax) and half
Poisson deviance; and two robust regression losses scikit-learn's MLP does
not have: Huber (squared near zero, linear beyond ``huber_delta``) and the
pinball loss of a ``quantile``. Log loss clips probabilities to
[clip, 1 - clip], the clip being the dtype's machine epsilon, as
scikit-learn does, so it stays finite.

Each kernel takes the ``bundles.Problem`` whose loss it computes, for the
loss code and the loss's own settings.
"""

import math

from . import elementary
from ._jit import kernel
from .codes import (
    EXP,
    HUBER,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    QUANTILE,
    SOFTMAX,
    SQUARED_ERROR,
)


@kernel(fastmath=False)
def sample_loss(problem, output_activation, activations, net_inputs, targets):
    """Loss of one sample, summed over its output nodes.

    ``net_inputs`` are the output nodes' net inputs: with an exp output the
    Poisson term y log(y / a) is y (log y - net) where a = exp(net) has
    underflowed (net below about -745), so the loss stays finite.
    """
    loss_code = problem.loss_code
    total = 0.0
    n_outputs = activations.shape[0]
    if loss_code == SQUARED_ERROR:
        for k in range(n_outputs):
            error = targets[k] - activations[k]
            total += error * error
        return 0.5 * total
    if loss_code == LOG_LOSS:
        clip = problem.probability_clip
        for k in range(n_outputs):
            p = min(max(activations[k], clip), 1.0 - clip)
            y = targets[k]
            if y != 0.0:
                total -= y * elementary.log(p)
            if output_activation != SOFTMAX and y != 1.0:
                total -= (1.0 - y) * elementary.log(1.0 - p)
        return total
    if loss_code == HUBER:
        delta = problem.huber_delta
        for k in range(n_outputs):
            error = abs(targets[k] - activations[k])
            if error <= delta:
                total += 0.5 * error * error
            else:
                total += delta * (error - 0.5 * delta)
        return total
    if loss_code == QUANTILE:
        q = problem.quantile
        for k in range(n_outputs):
            error = targets[k] - activations[k]
            total += q * error if error >= 0.0 else (q - 1.0) * error
        return total
    # POISSON: half deviance y log(y / a) - y + a
    for k in range(n_outputs):
        y = targets[k]
        a = activations[k]
        if y != 0.0:
            ratio = y / a
            if math.isinf(ratio) and output_activation == EXP:
                total += y * (elementary.log(y) - net_inputs[k])
            else:
                total += y * elementary.log(ratio)
        total += a - y
    return total


@kernel
def loss_scale(loss_code, n_outputs):
    """Factor turning the summed loss into scikit-learn's reported one.

    scikit-learn averages the squared error over outputs but sums the other
    losses over outputs, while its gradients always sum over outputs. The
    robust regression losses are reported as the squared error is.
    """
    if loss_code == SQUARED_ERROR or loss_code == HUBER or loss_code == QUANTILE:
        return 1.0 / n_outputs
    return 1.0


@kernel(inline=True)
def is_canonical(output_activation, loss_code):
    """True for the pairs whose output delta simplifies to (a - y)."""
    return (
        (loss_code == SQUARED_ERROR and output_activation == IDENTITY)
        or (loss_code == LOG_LOSS and output_activation == LOGISTIC)
        or (loss_code == LOG_LOSS and output_activation == SOFTMAX)
        or (loss_code == POISSON and output_activation == EXP)
    )


@kernel(inline=True)
def loss_derivative(problem, activation, target):
    """dLoss/da for one output node (the loss summed over outputs)."""
    loss_code = problem.loss_code
    if loss_code == SQUARED_ERROR:
        return activation - target
    if loss_code == LOG_LOSS:
        return (activation - target) / (activation * (1.0 - activation))
    if loss_code == HUBER:
        # the squared error's a - y, clipped to [-delta, delta]
        return min(max(activation - target, -problem.huber_delta), problem.huber_delta)
    if loss_code == QUANTILE:
        # as scikit-learn's pinball loss: -q above the target, 1 - q at or below it
        return -problem.quantile if target > activation else 1.0 - problem.quantile
    return 1.0 - target / activation


@kernel(fastmath=False)
def regularised_loss(loss_code, n_outputs, loss_sum, alpha, sum_squared_weights, total_weight):
    """scikit-learn's reported loss: mean data loss plus 0.5 alpha |W|^2 / weight."""
    data_loss = loss_sum / total_weight * loss_scale(loss_code, n_outputs)
    return data_loss + (0.5 * alpha) * sum_squared_weights / total_weight
