"""The teaching trace as text: the forward pass, the backward pass and the
weights, as the handouts tabulate them (``print(trace)``)."""

from ._text import text_table

#: How each loss is named in the printed trace.
LOSS_NAMES = {
    "squared_error": "half squared error 0.5 (y - a)^2",
    "log_loss": "log loss",
    "poisson": "half Poisson deviance",
    "huber": "Huber loss",
    "quantile": "pinball (quantile) loss",
}


def node_names(trace):
    """Names of the nodes, layer by layer: x1.., then h1.. (h1.1.. for several
    hidden layers), then o1.."""
    names = [[f"x{i + 1}" for i in range(trace.x.shape[0])]]
    n_hidden = len(trace.layers) - 1
    for layer in trace.layers:
        n = layer.activation.shape[0]
        if layer.is_output:
            names.append([f"o{j + 1}" for j in range(n)])
        elif n_hidden == 1:
            names.append([f"h{j + 1}" for j in range(n)])
        else:
            names.append([f"h{layer.layer}.{j + 1}" for j in range(n)])
    return names


def format_number(value):
    """Six decimals, or six significant digits for tiny values."""
    return f"{value:.6g}" if abs(value) < 1e-4 and value != 0 else f"{value:.6f}"


def format_trace(trace):
    """The trace as three tables: forward pass, backward pass, weights.

    Weights are numbered w1, w2, ... and biases b1, b2, ... node by node
    (all weights into the first hidden node, then the second, ...), as in
    the introduction's 2-2-1 network (w1 = x1 -> h1, w2 = x2 -> h1, ...).
    """
    names = node_names(trace)
    forward = []
    for layer, layer_names in zip(trace.layers, names[1:]):
        for j, name in enumerate(layer_names):
            forward.append(
                [
                    name,
                    layer.activation_function,
                    format_number(layer.net_input[j]),
                    format_number(layer.activation[j]),
                ]
            )
    backward = []
    for layer, layer_names in reversed(list(zip(trace.layers, names[1:]))):
        for j, name in enumerate(layer_names):
            derivative = layer.derivative[j]
            backward.append(
                [
                    name,
                    "-" if derivative != derivative else format_number(derivative),
                    format_number(layer.delta[j]),
                    format_number(layer.bias_gradient[j]),
                    format_number(layer.bias_change[j]),
                ]
            )
    weights = []
    biases = []
    w = b = 0
    for layer, sources, targets in zip(trace.layers, names[:-1], names[1:]):
        for j, target in enumerate(targets):
            for i, source in enumerate(sources):
                w += 1
                weights.append(
                    [
                        f"w{w}",
                        f"{source} -> {target}",
                        format_number(layer.weights[i, j]),
                        format_number(layer.weight_gradient[i, j]),
                        format_number(layer.weight_change[i, j]),
                        format_number(layer.weights[i, j] + layer.weight_change[i, j]),
                    ]
                )
            b += 1
            biases.append(
                [
                    f"b{b}",
                    target,
                    format_number(layer.biases[j]),
                    format_number(layer.bias_gradient[j]),
                    format_number(layer.bias_change[j]),
                    format_number(layer.biases[j] + layer.bias_change[j]),
                ]
            )
    x = ", ".join(f"{value:g}" for value in trace.x)
    y = ", ".join(f"{value:g}" for value in trace.target)
    loss_name = LOSS_NAMES.get(trace.loss_function, trace.loss_function)
    parts = [
        f"example x = ({x}), target y = ({y}); loss = {loss_name} = {format_number(trace.loss)}",
        "",
        "forward pass: net = sum_i a_i w_ij + b_j, a = f(net)",
        text_table(["node", "f", "net input", "activation"], forward, right_align=True),
        "",
        "backward pass: delta = dLoss/dnet (output: dLoss/da x f'(net); "
        "hidden: sum_k w_jk delta_k x f'(net))",
        text_table(
            ["node", "f'(net)", "delta", "bias gradient", "bias change"],
            backward,
            right_align=True,
        ),
        "",
        "weights: gradient = delta(to) x activation(from)"
        + (f" + alpha w (alpha = {trace.alpha:g})" if trace.alpha else "")
        + f"; change = -learning rate x gradient (learning rate {trace.learning_rate:g})",
        text_table(
            ["weight", "from -> to", "value", "gradient", "change", "new value"],
            weights + biases,
            right_align=True,
        ),
    ]
    return "\n".join(parts)
