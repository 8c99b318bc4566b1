"""Backward pass: each node's delta, then each weight's gradient.

- output node k: delta = dLoss/da_k x f'(net_k), which for the canonical
  pairs (identity + squared error, logistic/softmax + log loss, exp + Poisson)
  simplifies to a_k - y_k;
- hidden node j: delta_j = sum_k w_jk delta_k x f'(net_j);
- weight w_ij: gradient = (sum over samples of delta_j x activation_i
  + alpha x w_ij) / the batch's total sample weight (``finished_gradient``).

The two sums (sum_k w_jk delta_k for every hidden node, sum_s delta_j
activation_i for every weight) come from ``products``; everything else is a
loop over the nodes.
"""

from ._jit import kernel
from .activations import times_derivative
from .codes import ELU, EXP, GELU, LEAKY_RELU, LOGISTIC, RELU, SILU, SOFTMAX, SOFTPLUS, TANH
from .losses import is_canonical, loss_derivative
from .products import back_signals, gradient_sums


@kernel(inline=True)
def compute_output_deltas(output_activation, problem, activations, rows, deltas):
    """Delta of every output node, scaled by each sample's weight."""
    n_rows, n_outputs = deltas.shape
    targets = problem.targets
    canonical = is_canonical(output_activation, problem.loss_code)
    for s in range(n_rows):
        row = rows[s]
        if canonical:
            for k in range(n_outputs):
                deltas[s, k] = activations[s, k] - targets[row, k]
        elif output_activation == SOFTMAX:
            # softmax couples its nodes: delta_k = a_k (g_k - sum_j g_j a_j)
            weighted = 0.0
            for j in range(n_outputs):
                weighted += (
                    loss_derivative(problem, activations[s, j], targets[row, j]) * activations[s, j]
                )
            for k in range(n_outputs):
                g = loss_derivative(problem, activations[s, k], targets[row, k])
                deltas[s, k] = activations[s, k] * (g - weighted)
        else:
            for k in range(n_outputs):
                g = loss_derivative(problem, activations[s, k], targets[row, k])
                deltas[s, k] = times_derivative(
                    output_activation, activations[s, k], activations[s, k], g
                )
        weight = problem.sample_weight[row]
        for k in range(n_outputs):
            deltas[s, k] *= weight


@kernel(inline=True)
def compute_hidden_deltas(
    hidden_activation, weights_out, deltas_out, activations, net_inputs, deltas, blocks
):
    """delta_j = sum_k w_jk delta_k x f'(net_j) for every hidden node j.

    ``net_inputs`` holds the nodes' net inputs where the derivative needs
    them (``codes.NET_INPUT_ACTIVATIONS``); otherwise it may be empty.
    ``blocks`` splits a large product (``products.matrix_product``).
    """
    back_signals(deltas_out, weights_out, deltas, blocks)
    times_derivatives(hidden_activation, activations, net_inputs, deltas)


@kernel(inline=True)
def times_derivatives(hidden_activation, activations, net_inputs, deltas):
    """deltas[s, j] *= f'(net_j) for every hidden node j of every sample s.

    ``net_inputs`` holds the nodes' net inputs where the derivative needs
    them (``codes.NET_INPUT_ACTIVATIONS``); otherwise it may be empty.
    """
    n_rows, n_nodes = deltas.shape
    # net inputs are only read by activations that need them
    kept = net_inputs if net_inputs.shape[0] == n_rows else activations
    # one loop per activation: the code is known inside each, so the inlined
    # formula folds and the loop vectorises (see forward.add_bias_and_activate)
    for s in range(n_rows):
        a, net, delta = activations[s], kept[s], deltas[s]
        if hidden_activation == RELU:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == TANH:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == LOGISTIC:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == EXP:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == LEAKY_RELU:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == ELU:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == GELU:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == SOFTPLUS:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])
        elif hidden_activation == SILU:
            for j in range(n_nodes):
                delta[j] = times_derivative(hidden_activation, a[j], net[j], delta[j])


@kernel
def compute_gradient(inputs, deltas, weight_grads, bias_grads, blocks):
    """Sum over samples of delta_j x activation_i (and of delta_j for biases);
    ``blocks`` splits a large product (``products.matrix_product``)."""
    gradient_sums(inputs, deltas, weight_grads, blocks)
    n_rows, fan_out = deltas.shape
    for j in range(fan_out):
        bias_grads[j] = 0.0
    for s in range(n_rows):
        for j in range(fan_out):
            bias_grads[j] += deltas[s, j]


@kernel(fastmath=False)
def penalised_sum(gradient_sum, alpha, weight):
    """A weight's gradient sum plus its L2 term, alpha x weight (biases take
    alpha = 0: they are not penalised), with IEEE arithmetic (no fused
    multiply-add), as scikit-learn computes it."""
    return gradient_sum + alpha * weight


@kernel(fastmath=False)
def finished_gradient(gradient_sum, alpha, weight, total_weight):
    """One weight's gradient: (its sum over the batch + alpha x weight) / total
    weight, as scikit-learn computes it (IEEE arithmetic)."""
    return penalised_sum(gradient_sum, alpha, weight) / total_weight


@kernel
def finish_gradient(weights, weight_grads, bias_grads, alpha, total_weight):
    """Turn a layer's summed gradients into finished ones, in place."""
    fan_in, fan_out = weights.shape
    for i in range(fan_in):
        for j in range(fan_out):
            weight_grads[i, j] = finished_gradient(
                weight_grads[i, j], alpha, weights[i, j], total_weight
            )
    for j in range(fan_out):
        bias_grads[j] = finished_gradient(bias_grads[j], 0.0, 0.0, total_weight)
