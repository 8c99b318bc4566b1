"""Activation functions of a node, and their derivatives: each written once.

As in the handouts, each derivative is written in terms of the node's
*activation* a = f(net) where it can be, e.g. the logistic derivative is
a(1 - a); then the activation is all backpropagation needs to keep. GELU
and SiLU have no such form: their derivatives take the net input, which
the forward pass then keeps too (``codes.NET_INPUT_ACTIVATIONS``). Every
layer loop (forward pass, output and hidden deltas) calls these scalar
kernels; the compiler inlines them and moves the choice of activation out
of the loop. The exponentials, logarithms, tanh and erf are ``elementary``'s,
which vectorise with that loop, where libm's would leave it one call per node.
"""

import math

from . import elementary
from ._jit import kernel
from .codes import ELU, EXP, GELU, LEAKY_RELU, LOGISTIC, RELU, SILU, SOFTPLUS, TANH

#: Leaky ReLU's slope below zero.
LEAKY_SLOPE = 0.01
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@kernel
def logistic(net_input):
    """1 / (1 + e^-net), computed without overflow for either sign."""
    return elementary.logistic(net_input)


@kernel(forceinline=True)
def activate(activation_code, net_input):
    """Activation of one node from its net input (all but softmax)."""
    if activation_code == LOGISTIC:
        return logistic(net_input)
    if activation_code == TANH:
        return elementary.tanh(net_input)
    if activation_code == RELU:
        return max(net_input, 0.0)
    if activation_code == EXP:
        return elementary.exp(net_input)
    if activation_code == LEAKY_RELU:
        return net_input if net_input > 0.0 else LEAKY_SLOPE * net_input
    if activation_code == ELU:
        return net_input if net_input > 0.0 else elementary.expm1(net_input)
    if activation_code == GELU:
        # x P(X <= x) for a standard normal X, with the exact erf
        return 0.5 * net_input * (1.0 + elementary.erf(net_input * SQRT_HALF))
    if activation_code == SOFTPLUS:
        # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large x
        return max(net_input, 0.0) + elementary.log1p(elementary.exp(-abs(net_input)))
    if activation_code == SILU:
        return net_input * logistic(net_input)
    return net_input


@kernel
def softmax_row(nodes):
    """Softmax of one sample's net inputs, in place (shifted by the max)."""
    largest = nodes[0]
    for j in range(1, nodes.shape[0]):
        if nodes[j] > largest:
            largest = nodes[j]
    total = 0.0
    for j in range(nodes.shape[0]):
        nodes[j] = elementary.exp(nodes[j] - largest)
        total += nodes[j]
    for j in range(nodes.shape[0]):
        nodes[j] /= total


@kernel(forceinline=True)
def times_derivative(activation_code, activation, net_input, back_signal):
    """back_signal x f'(net), with f' written in terms of the activation a
    (``net_input`` is read only by GELU and SiLU).

    The products are taken left to right, as scikit-learn applies them, so
    that both round alike.
    """
    if activation_code == LOGISTIC:
        return back_signal * activation * (1.0 - activation)
    if activation_code == TANH:
        return back_signal * (1.0 - activation * activation)
    if activation_code == RELU:
        return 0.0 if activation == 0.0 else back_signal
    if activation_code == EXP:
        return back_signal * activation
    if activation_code == LEAKY_RELU:
        return back_signal if activation > 0.0 else back_signal * LEAKY_SLOPE
    if activation_code == ELU:
        # below zero f' = e^net = a + 1
        return back_signal if activation > 0.0 else back_signal * (activation + 1.0)
    if activation_code == SOFTPLUS:
        # f' = logistic(net) = 1 - e^-a
        return back_signal * -elementary.expm1(-activation)
    if activation_code == GELU:
        cdf = 0.5 * (1.0 + elementary.erf(net_input * SQRT_HALF))
        density = INV_SQRT_2PI * elementary.exp(-0.5 * net_input * net_input)
        return back_signal * (cdf + net_input * density)
    if activation_code == SILU:
        sigma = logistic(net_input)
        return back_signal * (sigma * (1.0 + net_input * (1.0 - sigma)))
    return back_signal
