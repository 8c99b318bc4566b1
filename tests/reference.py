"""A small pure-NumPy reference of the seeds' algorithm, written for the tests.

Same algorithm as the handout, but on whole matrices instead of node by node:

- forward: net = a_prev @ W + b, a = f(net), layer by layer;
- output delta = dLoss/da * f'(net), which is simply (a - y) for the
  canonical pairs; every delta is multiplied by its sample's weight;
- hidden delta_j = sum_k w_jk delta_k * f'(net_j);
- gradient of W = (a_prev.T @ delta + alpha * W) / sum(sample_weight),
  gradient of b = sum(delta) / sum(sample_weight).

Losses are reported as scikit-learn 1.9 reports them
(sklearn/neural_network/_base.py): half squared error averaged over outputs,
log loss and half Poisson deviance summed over outputs, all as a weighted
average over samples, plus 0.5 * alpha * sum(W**2) / sum(sample_weight).
numba-mlp's own Huber and pinball (quantile) losses are reported as the
squared error is: averaged over outputs.

The activations numba-mlp adds (leaky ReLU, ELU, GELU, softplus, SiLU)
have their derivatives written here from the net input, with SciPy's
special functions: independently of the kernels, which write most of them
through the activation.
The gradient treats the loss as SUMMED over outputs, as scikit-learn's does:
for squared error its data part is n_outputs times that of the reported loss
(the L2 part, alpha * W / sum(sample_weight), is not scaled).
"""

import numpy as np
from scipy.special import expit
from scipy.stats import norm

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
NEW_HIDDEN_ACTIVATIONS = ("leaky_relu", "elu", "gelu", "softplus", "silu")
HUBER_DELTA = 0.7
QUANTILE = 0.3
OUTPUT_ACTIVATIONS = ("identity", "logistic", "softmax", "exp")

# Output activations each loss may be paired with (softmax needs >= 2 outputs).
VALID_OUTPUTS = {
    "squared_error": ("identity", "logistic", "softmax", "exp"),
    "log_loss": ("logistic", "softmax"),
    "poisson": ("exp", "logistic", "softmax"),
    "huber": ("identity",),
    "quantile": ("identity",),
}
SCIKIT_LEARN_LOSSES = ("squared_error", "log_loss", "poisson")

# Pairs whose output delta simplifies to a - y.
CANONICAL = {
    ("identity", "squared_error"),
    ("logistic", "log_loss"),
    ("softmax", "log_loss"),
    ("exp", "poisson"),
}

# Every valid (hidden activation, output activation, loss) combination of
# scikit-learn's options ...
COMBINATIONS = [
    (hidden, output, loss)
    for hidden in HIDDEN_ACTIVATIONS
    for loss in SCIKIT_LEARN_LOSSES
    for output in VALID_OUTPUTS[loss]
]
# ... and those with one of numba-mlp's activations or losses.
NEW_COMBINATIONS = [
    (hidden, output, loss)
    for hidden in HIDDEN_ACTIVATIONS + NEW_HIDDEN_ACTIVATIONS
    for loss, outputs in VALID_OUTPUTS.items()
    for output in outputs
    if hidden in NEW_HIDDEN_ACTIVATIONS or loss not in SCIKIT_LEARN_LOSSES
]


def xlogy(x, y):
    """x log(y), 0 where x == 0 (as scipy.special.xlogy, for any float dtype)."""
    x, y = np.broadcast_arrays(x, y)
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def activation(name, net):
    """a = f(net), row by row for softmax."""
    if name == "identity":
        return net.copy()
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-net))
    if name == "tanh":
        return np.tanh(net)
    if name == "relu":
        return np.maximum(net, 0.0)
    if name == "exp":
        return np.exp(net)
    if name == "softmax":
        e = np.exp(net - net.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if name == "leaky_relu":
        return np.where(net > 0, net, 0.01 * net)
    if name == "elu":
        return np.where(net > 0, net, np.expm1(np.minimum(net, 0.0)))
    if name == "gelu":
        return net * norm.cdf(net)
    if name == "softplus":
        return np.logaddexp(0.0, net)
    if name == "silu":
        return net * expit(net)
    raise ValueError(name)


def derivative(name, a, net):
    """f'(net): scikit-learn's four through the activation a = f(net), as the
    handouts write them; numba-mlp's own from the net input."""
    if name == "leaky_relu":
        return np.where(net > 0, 1.0, 0.01)
    if name == "elu":
        return np.where(net > 0, 1.0, np.exp(np.minimum(net, 0.0)))
    if name == "gelu":
        return norm.cdf(net) + net * norm.pdf(net)
    if name == "softplus":
        return expit(net)
    if name == "silu":
        return expit(net) * (1.0 + net * (1.0 - expit(net)))
    if name == "identity":
        return np.ones_like(a)
    if name == "logistic":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a**2
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "exp":
        return a
    raise ValueError(name)


def forward(X, coefs, intercepts, hidden, output, nets=None, dropout_scales=None):
    """Activations of every layer, the input included: [X, a_1, ..., a_out];
    the net inputs of layers 1, ... are appended to ``nets`` if given.

    ``dropout_scales[l]`` (0 or 1 / (1 - p) per node) multiplies hidden layer
    l + 1's activations before the next layer sees them (inverted dropout);
    the list holds the activations after dropout.
    """
    activations = [X]
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        name = output if layer == len(coefs) - 1 else hidden
        net = activations[-1] @ W + b
        if nets is not None:
            nets.append(net)
        a = activation(name, net)
        if dropout_scales is not None and layer < len(coefs) - 1:
            a = a * dropout_scales[layer]
        activations.append(a)
    return activations


def net_inputs(X, coefs, intercepts, hidden):
    """Net inputs of the hidden layers (to keep finite differences off kinks)."""
    nets, a = [], X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        nets.append(a @ W + b)
        a = activation(hidden, nets[-1])
    return nets


def data_loss(loss, output, y, a, sample_weight):
    """scikit-learn's reported loss, without the L2 term."""
    if loss == "squared_error":
        return 0.5 * np.average((y - a) ** 2, weights=sample_weight, axis=0).mean()
    if loss == "huber":
        r = np.abs(y - a)
        per_output = np.where(r <= HUBER_DELTA, 0.5 * r**2, HUBER_DELTA * (r - 0.5 * HUBER_DELTA))
        return np.average(per_output, weights=sample_weight, axis=0).mean()
    if loss == "quantile":
        r = y - a
        per_output = np.maximum(QUANTILE * r, (QUANTILE - 1.0) * r)
        return np.average(per_output, weights=sample_weight, axis=0).mean()
    if loss == "poisson":
        per_output = xlogy(y, y / a) - y + a
        return np.average(per_output, weights=sample_weight, axis=0).sum()
    if loss == "log_loss":
        eps = np.finfo(a.dtype).eps
        p = np.clip(a, eps, 1 - eps)
        if output == "softmax":  # categorical
            per_output = -xlogy(y, p)
        else:  # binary, one per output node
            per_output = -(xlogy(y, p) + xlogy(1 - y, 1 - p))
        return np.average(per_output, weights=sample_weight, axis=0).sum()
    raise ValueError(loss)


def loss_derivative(loss, y, a):
    """dLoss/da of the per-sample loss summed over outputs (non-canonical pairs)."""
    if loss == "squared_error":
        return a - y
    if loss == "poisson":
        return 1.0 - y / a
    if loss == "huber":
        return np.clip(a - y, -HUBER_DELTA, HUBER_DELTA)
    if loss == "quantile":
        return np.where(y > a, -QUANTILE, 1.0 - QUANTILE)
    raise ValueError(loss)


def output_delta(loss, output, y, a, net):
    """dLoss/dnet of the output nodes (before sample weighting)."""
    if (output, loss) in CANONICAL:
        return a - y
    g = loss_derivative(loss, y, a)
    if output == "softmax":
        # softmax Jacobian: da_j/dnet_k = a_j (1[j=k] - a_k)
        return a * (g - (g * a).sum(axis=1, keepdims=True))
    return g * derivative(output, a, net)


def loss_and_gradient(
    X, y, sample_weight, coefs, intercepts, hidden, output, loss, alpha, dropout_scales=None
):
    """Reported loss, and the gradients (lists shaped like coefs / intercepts),
    with the hidden nodes dropped as ``dropout_scales`` says (see ``forward``)."""
    nets = []
    activations = forward(X, coefs, intercepts, hidden, output, nets, dropout_scales)
    a = activations[-1]
    sw_sum = sample_weight.sum()
    value = data_loss(loss, output, y, a, sample_weight)
    value += 0.5 * alpha * sum((W**2).sum() for W in coefs) / sw_sum

    delta = output_delta(loss, output, y, a, nets[-1]) * sample_weight[:, None]
    n_layers = len(coefs)
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    for layer in range(n_layers - 1, -1, -1):
        coef_grads[layer] = (activations[layer].T @ delta + alpha * coefs[layer]) / sw_sum
        intercept_grads[layer] = delta.sum(axis=0) / sw_sum
        if layer > 0:
            a = activation(hidden, nets[layer - 1])  # before dropout
            delta = (delta @ coefs[layer].T) * derivative(hidden, a, nets[layer - 1])
            if dropout_scales is not None:
                delta = delta * dropout_scales[layer - 1]
    return value, coef_grads, intercept_grads


def pack(coefs, intercepts):
    """One flat vector, as scikit-learn's _pack: all coefs (C order), then all intercepts."""
    return np.concatenate([W.ravel() for W in coefs] + [b.ravel() for b in intercepts])


def unpack(params, layer_units):
    """Inverse of ``pack``: (coefs, intercepts) as copies."""
    coefs, intercepts, start = [], [], 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out).copy())
        start += fan_in * fan_out
    for fan_out in layer_units[1:]:
        intercepts.append(params[start : start + fan_out].copy())
        start += fan_out
    return coefs, intercepts


def random_parameters(layer_units, rng, scale=1.0):
    """Glorot-uniform-like coefs and intercepts (times ``scale``)."""
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = scale * np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def random_targets(loss, output, n_samples, n_outputs, rng):
    """Targets a loss accepts, with exact 0s and 1s to reach every branch.

    Softmax + log loss gets rows summing to 1: only then is (a - y) the true
    gradient of the categorical log loss (scikit-learn uses a - y regardless).
    """
    if loss in ("squared_error", "huber", "quantile"):
        return rng.uniform(-0.5, 1.5, (n_samples, n_outputs))
    if loss == "poisson":
        y = rng.uniform(0.0, 2.0, (n_samples, n_outputs))
        y[0, 0] = 0.0
        return y
    y = rng.uniform(0.0, 1.0, (n_samples, n_outputs))
    if output == "softmax":
        y[0] = 0.0
        y[0, 1] = 1.0
        return y / y.sum(axis=1, keepdims=True)
    y[0, 0] = 0.0
    y[1, 0] = 1.0
    return y
