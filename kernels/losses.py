"""Loss of one sample and its derivative with respect to an output activation.

The losses are scikit-learn's: half squared error, log loss (binary per
output for a logistic output layer, categorical for softmax) and half
Poisson deviance. Probabilities are clipped to [eps, 1 - eps] as scikit-learn
does, so log loss stays finite.
"""

import math

from ._jit import kernel
from .codes import EXP, IDENTITY, LOG_LOSS, LOGISTIC, POISSON, SOFTMAX, SQUARED_ERROR


@kernel(fastmath=False)
def sample_loss(loss, output_activation, activations, net_inputs, targets, eps):
    """Loss of one sample, summed over its output nodes.

    ``net_inputs`` are the output nodes' net inputs: with an exp output the
    Poisson term y log(y / a) is y (log y - net) where a = exp(net) has
    underflowed (net below about -745), so the loss stays finite.
    """
    total = 0.0
    n_outputs = activations.shape[0]
    if loss == SQUARED_ERROR:
        for k in range(n_outputs):
            error = targets[k] - activations[k]
            total += error * error
        return 0.5 * total
    if loss == LOG_LOSS:
        for k in range(n_outputs):
            p = min(max(activations[k], eps), 1.0 - eps)
            y = targets[k]
            if y != 0.0:
                total -= y * math.log(p)
            if output_activation != SOFTMAX and y != 1.0:
                total -= (1.0 - y) * math.log(1.0 - p)
        return total
    # POISSON: half deviance y log(y / a) - y + a
    for k in range(n_outputs):
        y = targets[k]
        a = activations[k]
        if y != 0.0:
            ratio = y / a
            if math.isinf(ratio) and output_activation == EXP:
                total += y * (math.log(y) - net_inputs[k])
            else:
                total += y * math.log(ratio)
        total += a - y
    return total


@kernel
def loss_scale(loss, n_outputs):
    """Factor turning the summed loss into scikit-learn's reported one.

    scikit-learn averages the squared error over outputs but sums the other
    losses over outputs, while its gradients always sum over outputs.
    """
    if loss == SQUARED_ERROR:
        return 1.0 / n_outputs
    return 1.0


@kernel
def is_canonical(output_activation, loss):
    """True for the pairs whose output delta simplifies to (a - y)."""
    return (
        (loss == SQUARED_ERROR and output_activation == IDENTITY)
        or (loss == LOG_LOSS and output_activation == LOGISTIC)
        or (loss == LOG_LOSS and output_activation == SOFTMAX)
        or (loss == POISSON and output_activation == EXP)
    )


@kernel
def loss_derivative(loss, activation, target):
    """dLoss/da for one output node (the loss summed over outputs)."""
    if loss == SQUARED_ERROR:
        return activation - target
    if loss == LOG_LOSS:
        return (activation - target) / (activation * (1.0 - activation))
    return 1.0 - target / activation
