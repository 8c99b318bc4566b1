"""One optimiser step over the whole flat parameter buffer.

Written as scikit-learn's ``_stochastic_optimizers`` computes them, operation
for operation, so that both produce the same weights.
"""

import math

from ._jit import kernel


@kernel
def sgd_step(params, grads, velocities, learning_rate, momentum, nesterov):
    """Gradient descent with (Nesterov) momentum: weight change = v' (+ look-ahead)."""
    for p in range(params.shape[0]):
        weight_change = momentum * velocities[p] - learning_rate * grads[p]
        velocities[p] = weight_change
        if nesterov:
            weight_change = momentum * velocities[p] - learning_rate * grads[p]
        params[p] += weight_change


@kernel
def adam_learning_rate(learning_rate_init, beta_1, beta_2, step):
    """Adam's bias-corrected step size after ``step`` updates."""
    return (
        learning_rate_init
        * math.sqrt(1.0 - beta_2 ** float(step))
        / (1.0 - beta_1 ** float(step))
    )


@kernel
def adam_step(params, grads, first_moments, second_moments, learning_rate, beta_1, beta_2, epsilon):
    """Adam: move each weight by -lr x m / (sqrt(v) + eps)."""
    for p in range(params.shape[0]):
        g = grads[p]
        first_moments[p] = beta_1 * first_moments[p] + (1.0 - beta_1) * g
        second_moments[p] = beta_2 * second_moments[p] + (1.0 - beta_2) * (g * g)
        weight_change = -learning_rate * first_moments[p] / (math.sqrt(second_moments[p]) + epsilon)
        params[p] += weight_change
