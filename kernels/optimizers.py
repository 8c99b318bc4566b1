"""One optimiser step over the whole flat parameter buffer.

Each step first finishes every gradient as scikit-learn does, then moves the
weight, in the same pass over the buffer:

    gradient = (sum over the batch of delta x activation + alpha x w) / total weight

(biases have no alpha term). The updates are written as scikit-learn's
``_stochastic_optimizers`` computes them, operation for operation, with every
scalar in the parameters' dtype, so that both produce the same weights in
float64 and in float32.
"""

import math

from .codes import SGD
from ._jit import kernel


@kernel(fastmath=False)
def sgd_step(params, grad_sums, velocities, start, stop, alpha, total_weight,
             learning_rate, momentum, nesterov):
    """Gradient descent with (Nesterov) momentum on ``params[start:stop]``."""
    for p in range(start, stop):
        gradient = (grad_sums[p] + alpha * params[p]) / total_weight
        weight_change = momentum * velocities[p] - learning_rate * gradient
        velocities[p] = weight_change
        if nesterov:
            weight_change = momentum * velocities[p] - learning_rate * gradient
        params[p] += weight_change


@kernel
def adam_learning_rate(learning_rate_init, beta_1, beta_2, step):
    """Adam's bias-corrected step size after ``step`` updates."""
    return (
        learning_rate_init
        * math.sqrt(1.0 - beta_2 ** float(step))
        / (1.0 - beta_1 ** float(step))
    )


@kernel(fastmath=False)
def adam_step(params, grad_sums, first_moments, second_moments, start, stop, alpha,
              total_weight, learning_rate, beta_1, beta_2, epsilon, keep):
    """Adam on ``params[start:stop]``: move each weight by -lr m / (sqrt(v) + eps)."""
    keep_1, keep_2 = keep
    for p in range(start, stop):
        gradient = (grad_sums[p] + alpha * params[p]) / total_weight
        first_moments[p] = beta_1 * first_moments[p] + keep_1 * gradient
        second_moments[p] = beta_2 * second_moments[p] + keep_2 * (gradient * gradient)
        weight_change = -learning_rate * first_moments[p] / (
            math.sqrt(second_moments[p]) + epsilon
        )
        params[p] += weight_change


@kernel
def take_step(optimizer, params, grad_sums, n_weights, alpha, total_weight, moments,
              settings, step):
    """Finish the gradients and update every weight and bias, in one pass.

    ``grad_sums`` holds the batch's sums of delta x activation (left as they
    are); ``settings = (learning_rate, momentum, nesterov, beta_1, beta_2,
    epsilon)``; ``step[0]`` counts Adam's updates across calls.
    """
    typed = params.dtype.type
    learning_rate, momentum, nesterov, beta_1, beta_2, epsilon = settings
    first_moments, second_moments = moments
    alpha, total_weight, zero = typed(alpha), typed(total_weight), typed(0.0)
    n_params = params.shape[0]
    if optimizer == SGD:
        lr, mu, use_nesterov = typed(learning_rate), typed(momentum), nesterov != 0.0
        sgd_step(params, grad_sums, first_moments, 0, n_weights, alpha, total_weight,
                 lr, mu, use_nesterov)
        sgd_step(params, grad_sums, first_moments, n_weights, n_params, zero, total_weight,
                 lr, mu, use_nesterov)
    else:
        step[0] += 1
        lr = typed(adam_learning_rate(learning_rate, beta_1, beta_2, step[0]))
        b1, b2, eps = typed(beta_1), typed(beta_2), typed(epsilon)
        # (1 - beta) rounded once from float64, as scikit-learn's float32 arrays see it
        keep = (typed(1.0 - beta_1), typed(1.0 - beta_2))
        adam_step(params, grad_sums, first_moments, second_moments, 0, n_weights, alpha,
                  total_weight, lr, b1, b2, eps, keep)
        adam_step(params, grad_sums, first_moments, second_moments, n_weights, n_params,
                  zero, total_weight, lr, b1, b2, eps, keep)
