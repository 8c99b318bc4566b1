"""Activation functions of a node, and their derivatives: each written once.

As in the handouts, each derivative is written in terms of the node's
*activation* a = f(net) rather than its net input, e.g. the logistic
derivative is a(1 - a); that is all backpropagation needs to keep. Every
layer loop (forward pass, output and hidden deltas) calls these scalar
kernels; the compiler inlines them and moves the choice of activation out
of the loop.
"""

import math

import numpy as np

from ._jit import kernel
from .codes import EXP, LOGISTIC, RELU, TANH


@kernel
def logistic(net_input):
    """1 / (1 + e^-net), computed without overflow for either sign."""
    if net_input >= 0:
        return 1.0 / (1.0 + math.exp(-net_input))
    e = math.exp(net_input)
    return e / (1.0 + e)


@kernel
def activate(code, net_input):
    """Activation of one node from its net input (all but softmax)."""
    if code == LOGISTIC:
        return logistic(net_input)
    if code == TANH:
        return math.tanh(net_input)
    if code == RELU:
        return max(net_input, 0.0)
    if code == EXP:
        return math.exp(net_input)
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
        nodes[j] = np.exp(nodes[j] - largest)
        total += nodes[j]
    for j in range(nodes.shape[0]):
        nodes[j] /= total


@kernel
def times_derivative(code, activation, back_signal):
    """back_signal x f'(net), with f' written in terms of the activation a.

    The products are taken left to right, as scikit-learn applies them, so
    that both round alike.
    """
    if code == LOGISTIC:
        return back_signal * activation * (1.0 - activation)
    if code == TANH:
        return back_signal * (1.0 - activation * activation)
    if code == RELU:
        return 0.0 if activation == 0.0 else back_signal
    if code == EXP:
        return back_signal * activation
    return back_signal
