"""One optimiser step over the whole flat parameter buffer.

Each step finishes every gradient (``backward.finished_gradient``: the L2
term and the average over the batch's weight), then moves the weight, in the
same pass over the buffer. The updates are written as scikit-learn's
``_stochastic_optimizers`` computes them, operation for operation, with every
scalar in the parameters' dtype, so that both produce the same weights in
float64 and in float32; and with IEEE arithmetic (no fastmath), so that an
overflowing moment gives scikit-learn's result (a step of 0), not NaN.
"""

import math

from ._jit import kernel
from .backward import finished_gradient
from .codes import SGD


@kernel(fastmath=False)
def sgd_update(param, gradient, velocity, learning_rate, momentum, nesterov):
    """One weight's step of gradient descent with (Nesterov) momentum:
    ``(new weight, new velocity)``."""
    weight_change = momentum * velocity - learning_rate * gradient
    velocity = weight_change
    if nesterov:
        weight_change = momentum * velocity - learning_rate * gradient
    return param + weight_change, velocity


@kernel(fastmath=False)
def adam_update(param, gradient, first, second, learning_rate, beta_1, beta_2, epsilon, one_minus):
    """One weight's Adam step: ``(new weight, new first moment, new second moment)``.

    ``one_minus = (1 - beta_1, 1 - beta_2)``, each rounded once to the
    parameters' dtype, as scikit-learn's arrays see them.
    """
    first = beta_1 * first + one_minus[0] * gradient
    second = beta_2 * second + one_minus[1] * (gradient * gradient)
    weight_change = -learning_rate * first / (math.sqrt(second) + epsilon)
    return param + weight_change, first, second


@kernel(fastmath=False)
def sgd_step(params, grad_sums, velocities, alpha, total_weight, learning_rate, momentum, nesterov):
    """Gradient descent with (Nesterov) momentum on every entry of ``params``
    (a part of the parameter vector: the weights, or the biases)."""
    for p in range(params.shape[0]):
        gradient = finished_gradient(grad_sums[p], alpha, params[p], total_weight)
        params[p], velocities[p] = sgd_update(
            params[p], gradient, velocities[p], learning_rate, momentum, nesterov
        )


@kernel(inline=True)
def adam_learning_rate(learning_rate_init, beta_1, beta_2, step):
    """Adam's bias-corrected step size after ``step`` updates."""
    return (
        learning_rate_init * math.sqrt(1.0 - beta_2 ** float(step)) / (1.0 - beta_1 ** float(step))
    )


@kernel(fastmath=False)
def adam_step(
    params,
    grad_sums,
    first_moments,
    second_moments,
    alpha,
    total_weight,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    one_minus_betas,
):
    """Adam on every entry of ``params`` (the weights, or the biases): move
    each by -lr m / (sqrt(v) + eps).

    ``one_minus_betas = (1 - beta_1, 1 - beta_2)``, each rounded once to the
    parameters' dtype, as scikit-learn's arrays see them.
    """
    for p in range(params.shape[0]):
        gradient = finished_gradient(grad_sums[p], alpha, params[p], total_weight)
        params[p], first_moments[p], second_moments[p] = adam_update(
            params[p],
            gradient,
            first_moments[p],
            second_moments[p],
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            one_minus_betas,
        )


@kernel(inline=True)
def begin_step(optimizer, params):
    """Count one more step (Adam's bias correction needs the count) and return
    its learning rate, in the parameters' dtype."""
    typed = params.dtype.type
    if optimizer.kind == SGD:
        return typed(optimizer.learning_rate)
    optimizer.step[0] += 1
    return typed(
        adam_learning_rate(
            optimizer.learning_rate, optimizer.beta_1, optimizer.beta_2, optimizer.step[0]
        )
    )


@kernel(inline=True)
def take_step(optimizer, params, grad_sums, n_weights, alpha, total_weight):
    """Finish the gradients and update every weight and bias, in one pass.

    ``grad_sums`` holds the batch's sums of delta x activation (left as they
    are); ``optimizer`` is a ``bundles.Optimizer``, whose moments and step
    count this updates.
    """
    typed = params.dtype.type
    alpha, total_weight, zero = typed(alpha), typed(total_weight), typed(0.0)
    lr = begin_step(optimizer, params)
    # the weights (penalised), then the biases (not), each as a slice: one
    # compiled step serves both, and the compiler optimises a loop over a
    # whole array far better than one over a range given at run time
    weights, biases = params[:n_weights], params[n_weights:]
    weight_sums, bias_sums = grad_sums[:n_weights], grad_sums[n_weights:]
    first, second = optimizer.first_moments, optimizer.second_moments
    if optimizer.kind == SGD:
        mu, nesterov = typed(optimizer.momentum), optimizer.nesterov
        sgd_step(weights, weight_sums, first[:n_weights], alpha, total_weight, lr, mu, nesterov)
        sgd_step(biases, bias_sums, first[n_weights:], zero, total_weight, lr, mu, nesterov)
    else:
        b1, b2, eps = typed(optimizer.beta_1), typed(optimizer.beta_2), typed(optimizer.epsilon)
        one_minus_betas = (typed(1.0 - optimizer.beta_1), typed(1.0 - optimizer.beta_2))
        adam_step(
            weights, weight_sums, first[:n_weights], second[:n_weights], alpha, total_weight,
            lr, b1, b2, eps, one_minus_betas,
        )  # fmt: skip
        adam_step(
            biases, bias_sums, first[n_weights:], second[n_weights:], zero, total_weight,
            lr, b1, b2, eps, one_minus_betas,
        )  # fmt: skip
