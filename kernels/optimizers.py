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
def sgd_step(
    params,
    grad_sums,
    velocities,
    start,
    stop,
    alpha,
    total_weight,
    learning_rate,
    momentum,
    nesterov,
):
    """Gradient descent with (Nesterov) momentum on ``params[start:stop]``."""
    for p in range(start, stop):
        gradient = finished_gradient(grad_sums[p], alpha, params[p], total_weight)
        weight_change = momentum * velocities[p] - learning_rate * gradient
        velocities[p] = weight_change
        if nesterov:
            weight_change = momentum * velocities[p] - learning_rate * gradient
        params[p] += weight_change


@kernel
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
    start,
    stop,
    alpha,
    total_weight,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    one_minus_betas,
):
    """Adam on ``params[start:stop]``: move each weight by -lr m / (sqrt(v) + eps).

    ``one_minus_betas = (1 - beta_1, 1 - beta_2)``, each rounded once to the
    parameters' dtype, as scikit-learn's arrays see them.
    """
    one_minus_beta_1, one_minus_beta_2 = one_minus_betas
    for p in range(start, stop):
        gradient = finished_gradient(grad_sums[p], alpha, params[p], total_weight)
        first_moments[p] = beta_1 * first_moments[p] + one_minus_beta_1 * gradient
        second_moments[p] = beta_2 * second_moments[p] + one_minus_beta_2 * (gradient * gradient)
        weight_change = -learning_rate * first_moments[p] / (math.sqrt(second_moments[p]) + epsilon)
        params[p] += weight_change


@kernel
def take_step(optimizer, params, grad_sums, n_weights, alpha, total_weight):
    """Finish the gradients and update every weight and bias, in one pass.

    ``grad_sums`` holds the batch's sums of delta x activation (left as they
    are); ``optimizer`` is a ``bundles.Optimizer``, whose moments and step
    count this updates.
    """
    typed = params.dtype.type
    alpha, total_weight, zero = typed(alpha), typed(total_weight), typed(0.0)
    n_params = params.shape[0]
    # weights (penalised), then biases (not)
    if optimizer.kind == SGD:
        lr, mu, nesterov = (
            typed(optimizer.learning_rate),
            typed(optimizer.momentum),
            optimizer.nesterov,
        )
        velocities = optimizer.first_moments
        sgd_step(params, grad_sums, velocities, 0, n_weights, alpha, total_weight, lr, mu, nesterov)
        sgd_step(
            params, grad_sums, velocities, n_weights, n_params, zero, total_weight, lr, mu, nesterov
        )
    else:
        optimizer.step[0] += 1
        lr = typed(
            adam_learning_rate(
                optimizer.learning_rate, optimizer.beta_1, optimizer.beta_2, optimizer.step[0]
            )
        )
        b1, b2, eps = typed(optimizer.beta_1), typed(optimizer.beta_2), typed(optimizer.epsilon)
        one_minus_betas = (typed(1.0 - optimizer.beta_1), typed(1.0 - optimizer.beta_2))
        m, v = optimizer.first_moments, optimizer.second_moments
        adam_step(
            params,
            grad_sums,
            m,
            v,
            0,
            n_weights,
            alpha,
            total_weight,
            lr,
            b1,
            b2,
            eps,
            one_minus_betas,
        )
        adam_step(
            params,
            grad_sums,
            m,
            v,
            n_weights,
            n_params,
            zero,
            total_weight,
            lr,
            b1,
            b2,
            eps,
            one_minus_betas,
        )
