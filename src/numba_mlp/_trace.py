"""The teaching trace: one training step of one example, node by node.

``trace_step(estimator, x, y)`` runs the training kernels on one example at
the estimator's current weights (``numba_mlp.kernels.trace``) and returns
every node's net input, activation and delta and every weight's gradient
and change (one plain gradient-descent step, no momentum) as NumPy arrays,
one ``LayerTrace`` per layer of nodes. ``format_trace`` prints them as the
seeds' tables; ``python -m numba_mlp trace`` shows the seeds' examples.
"""

import sys
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from numba_mlp.kernels.codes import LOSS_CODES
from numba_mlp.kernels.losses import loss_scale, sample_loss
from numba_mlp.kernels.trace import trace_example

from ._network import kernel_dtype, make_net, pack, unpack
from ._text import text_table
from ._validation import check_fitted_weights, check_learning_rate

#: How each loss is named in the printed trace.
LOSS_NAMES = {
    "squared_error": "half squared error 0.5 (y - a)^2",
    "log_loss": "log loss",
    "poisson": "half Poisson deviance",
}


@dataclass(frozen=True)
class LayerTrace:
    """One layer of nodes (hidden or output) during one training step.

    ``fan_in`` is the number of nodes feeding the layer, ``n_nodes`` its own.
    Weight arrays are laid out like ``coefs_[layer - 1]``: row i holds the
    weights leaving source node i.
    """

    layer: int  #: 1 = first hidden layer, ..., n_layers_ - 1 = output layer
    activation_function: str  #: 'logistic', 'relu', 'softmax', ...
    inputs: np.ndarray  #: (fan_in,) activations feeding the layer (x for layer 1)
    weights: np.ndarray  #: (fan_in, n_nodes) before the step
    biases: np.ndarray  #: (n_nodes,) before the step
    net_input: np.ndarray  #: (n_nodes,) sum_i inputs[i] weights[i, j] + biases[j]
    activation: np.ndarray  #: (n_nodes,) f(net_input)
    delta: np.ndarray  #: (n_nodes,) dLoss/dnet_input
    weight_gradient: np.ndarray  #: (fan_in, n_nodes) delta_j inputs[i] (+ alpha w)
    bias_gradient: np.ndarray  #: (n_nodes,) delta_j
    weight_change: np.ndarray  #: (fan_in, n_nodes) -learning_rate x weight_gradient
    bias_change: np.ndarray  #: (n_nodes,) -learning_rate x bias_gradient
    is_output: bool  #: True for the output layer


@dataclass(frozen=True)
class StepTrace:
    """Everything one training step computes for one example."""

    x: np.ndarray  #: (n_features,) the example
    target: np.ndarray  #: (n_outputs,) its target as the network sees it (one-hot for labels)
    loss_function: str  #: the estimator's ``loss``
    loss: float  #: that loss of this example at the weights before the step (no L2 term)
    learning_rate: float  #: step size of the weight changes
    alpha: float  #: L2 penalty included in the weight gradients
    layers: tuple  #: one LayerTrace per layer of nodes, first hidden layer first

    @property
    def output(self):
        """Activations of the output nodes (the prediction before the step)."""
        return self.layers[-1].activation

    def __str__(self):
        return format_trace(self)


def _target_row(estimator, y, n_outputs):
    """``y`` as the (1, n_outputs) row the network trains on."""
    if is_classifier(estimator):
        binarizer = estimator._label_binarizer
        if binarizer.y_type_.startswith("multilabel"):
            row = np.asarray(y, dtype=float).reshape(1, -1)
        else:
            if np.ndim(y) != 0:
                raise ValueError(
                    f"y must be one class label (one of {list(estimator.classes_)}), got {y!r}."
                )
            if y not in set(estimator.classes_.tolist()):
                raise ValueError(
                    f"y={y!r} is not one of the classes seen in fit: {list(estimator.classes_)}."
                )
            row = binarizer.transform([y]).astype(float)
    else:
        row = np.asarray(y, dtype=float).reshape(1, -1)
    if row.shape != (1, n_outputs):
        raise ValueError(
            f"y gives {row.shape[1]} target values, but the network has {n_outputs} outputs."
        )
    if not np.isfinite(row).all():
        raise ValueError("y contains NaN or infinity.")
    return row


def trace_step(estimator, x, y, *, learning_rate=None):
    """Every number of one training step on one example, node by node.

    Runs the training kernels (net input, activation, output and hidden
    deltas, gradients) on the single example ``(x, y)`` at the estimator's
    current weights, and the weight changes of one plain gradient-descent
    step (no momentum, no Adam) - the step of the handouts. The estimator is
    not modified.

    Parameters
    ----------
    estimator : fitted MLPClassifier or MLPRegressor
        Its ``coefs_``, ``intercepts_``, ``activation``, ``out_activation_``,
        ``loss`` and ``alpha`` are used (scikit-learn's fitted MLP estimators
        work too).
    x : array-like of shape (n_features,)
        The example.
    y : label, or array-like of shape (n_outputs,)
        Its class label (classifier), indicator row (multi-label) or target
        value(s) (regressor).
    learning_rate : float, default=None
        Step size for the weight changes; the estimator's
        ``learning_rate_init`` when None.

    Returns
    -------
    trace : StepTrace
        ``trace.layers[l]`` is a :class:`LayerTrace` for the hidden layer
        ``l + 1`` (the last one is the output layer) with ``net_input``,
        ``activation``, ``delta``, ``weight_gradient``, ``weight_change`` ...
        as plain arrays. ``print(trace)`` shows them as tables.

    Notes
    -----
    The loss is scikit-learn's: for squared error the HALF squared error
    0.5 (y - a)^2. Textbooks that use the full squared error (y - a)^2 get
    deltas, gradients and weight changes twice as large, and the ones that
    define delta as -dLoss/dnet (so that a weight changes by +eta delta a)
    get the opposite sign.

    Examples
    --------
    >>> import numpy as np
    >>> from numba_mlp import MLPRegressor, trace_step
    >>> net = MLPRegressor(hidden_layer_sizes=(2,), activation="logistic",
    ...                    solver="sgd", max_iter=5, random_state=0).fit(
    ...     np.array([[-2.0, -1.0], [25.0, 6.0]]), [1.0, 0.0])
    >>> trace = trace_step(net, [-2.0, -1.0], 1.0)
    >>> [layer.delta.shape for layer in trace.layers]
    [(2,), (1,)]
    """
    check_is_fitted(estimator, "coefs_")
    layer_units = check_fitted_weights(estimator)
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    dtype = kernel_dtype(np.asarray(coefs[0]).dtype)
    try:
        x = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"x must be one example of numbers: {error}") from None
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    n_features = layer_units[0]
    if x.shape != (n_features,):
        raise ValueError(
            f"x must be one example with {n_features} features, got shape {x.shape}."
        )
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinity.")
    targets = np.ascontiguousarray(_target_row(estimator, y, layer_units[-1]), dtype=dtype)
    if learning_rate is None:
        learning_rate = estimator.learning_rate_init
    learning_rate = check_learning_rate(learning_rate)
    alpha = float(estimator.alpha)

    net = make_net(layer_units, estimator.activation, estimator.out_activation_)
    loss_code = LOSS_CODES[estimator.loss]
    params = pack(coefs, intercepts, dtype)
    n_nodes = int(sum(layer_units[1:]))
    net_inputs, activations, deltas = (np.zeros(n_nodes, dtype=dtype) for _ in range(3))
    gradients, changes = np.zeros_like(params), np.zeros_like(params)
    inputs = np.ascontiguousarray(x.reshape(1, -1))
    trace_example(net, loss_code, params, inputs, targets, alpha, learning_rate,
                  (net_inputs, activations, deltas, gradients, changes))

    eps = float(np.finfo(dtype).eps)
    loss = float(
        sample_loss(loss_code, net[2], activations[-layer_units[-1]:],
                    net_inputs[-layer_units[-1]:], targets[0], eps)
        * loss_scale(loss_code, layer_units[-1])
    )
    weight_grads, bias_grads = unpack(gradients, layer_units)
    weight_changes, bias_changes = unpack(changes, layer_units)
    layers = []
    start = 0
    previous = x.copy()
    n_layers = len(layer_units)
    for layer in range(1, n_layers):
        stop = start + layer_units[layer]
        is_output = layer == n_layers - 1
        activation = activations[start:stop].copy()
        layers.append(
            LayerTrace(
                layer=layer,
                activation_function=(
                    estimator.out_activation_ if is_output else estimator.activation
                ),
                inputs=previous,
                weights=np.array(coefs[layer - 1], dtype=dtype),
                biases=np.array(intercepts[layer - 1], dtype=dtype),
                net_input=net_inputs[start:stop].copy(),
                activation=activation,
                delta=deltas[start:stop].copy(),
                weight_gradient=weight_grads[layer - 1],
                bias_gradient=bias_grads[layer - 1],
                weight_change=weight_changes[layer - 1],
                bias_change=bias_changes[layer - 1],
                is_output=is_output,
            )
        )
        previous = activation
        start = stop
    return StepTrace(
        x=x.copy(),
        target=targets[0].copy(),
        loss_function=estimator.loss,
        loss=loss,
        learning_rate=learning_rate,
        alpha=alpha,
        layers=tuple(layers),
    )


# ------------------------------------------------------------------ printing


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


def _number(value):
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
            forward.append([name, layer.activation_function, _number(layer.net_input[j]),
                            _number(layer.activation[j])])
    backward = []
    for layer, layer_names in reversed(list(zip(trace.layers, names[1:]))):
        for j, name in enumerate(layer_names):
            backward.append([name, _number(layer.delta[j]), _number(layer.bias_gradient[j]),
                             _number(layer.bias_change[j])])
    weights = []
    biases = []
    w = b = 0
    for layer, sources, targets in zip(trace.layers, names[:-1], names[1:]):
        for j, target in enumerate(targets):
            for i, source in enumerate(sources):
                w += 1
                weights.append([f"w{w}", f"{source} -> {target}", _number(layer.weights[i, j]),
                                _number(layer.weight_gradient[i, j]),
                                _number(layer.weight_change[i, j]),
                                _number(layer.weights[i, j] + layer.weight_change[i, j])])
            b += 1
            biases.append([f"b{b}", target, _number(layer.biases[j]),
                           _number(layer.bias_gradient[j]), _number(layer.bias_change[j]),
                           _number(layer.biases[j] + layer.bias_change[j])])
    x = ", ".join(f"{value:g}" for value in trace.x)
    y = ", ".join(f"{value:g}" for value in trace.target)
    loss_name = LOSS_NAMES.get(trace.loss_function, trace.loss_function)
    parts = [
        f"example x = ({x}), target y = ({y}); loss = {loss_name} = {_number(trace.loss)}",
        "",
        "forward pass: net = sum_i a_i w_ij + b_j, a = f(net)",
        text_table(["node", "f", "net input", "activation"], forward, right_align=True),
        "",
        "backward pass: delta = dLoss/dnet (output: dLoss/da x f'(net); "
        "hidden: sum_k w_jk delta_k x f'(net))",
        text_table(["node", "delta", "bias gradient", "bias change"], backward, right_align=True),
        "",
        f"weights: gradient = delta(to) x activation(from)"
        + (f" + alpha w (alpha = {trace.alpha:g})" if trace.alpha else "")
        + f"; change = -learning rate x gradient (learning rate {trace.learning_rate:g})",
        text_table(["weight", "from -> to", "value", "gradient", "change", "new value"],
                   weights + biases, right_align=True),
    ]
    return "\n".join(parts)


# ------------------------------------------------- the seeds' worked examples


def _network_with_weights(coefs, intercepts, X, y, learning_rate):
    """A fitted MLPRegressor (logistic hidden and output nodes, squared error)
    whose weights are exactly ``coefs`` / ``intercepts``."""
    from ._multilayer_perceptron import MLPRegressor

    net = MLPRegressor(
        hidden_layer_sizes=(len(intercepts[0]),), activation="logistic",
        out_activation="logistic", solver="sgd", batch_size=1, momentum=0.0,
        alpha=0.0, shuffle=False, learning_rate_init=learning_rate, max_iter=1,
    )
    coefs = [np.array(c, dtype=float) for c in coefs]
    intercepts = [np.array(b, dtype=float) for b in intercepts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(np.array(X, dtype=float), np.array(y, dtype=float),
                coefs_init=coefs, intercepts_init=intercepts)
    # fit took one step; put the document's weights back
    net.coefs_ = coefs
    net.intercepts_ = intercepts
    return net


def alice_example(learning_rate=0.1):
    """The introduction's 2-2-1 network on Alice: (network, x, y)."""
    x, y = [-2.0, -1.0], 1.0  # weight - 135, height - 66; female = 1
    net = _network_with_weights([[[1.0, 1.0], [1.0, 1.0]], [[1.0], [1.0]]],
                                [[0.0, 0.0], [0.0]], [x], [y], learning_rate)
    return net, x, y


#: The handout's 3-4-1 network. Column h1 and the output weights are the
#: handout's; the other hidden columns are ours (the handout leaves them to
#: the reader), as in tests/test_textbook.py.
HANDOUT_W_INPUT_HIDDEN = [[0.5, 0.1, -0.4, 0.3], [1.2, -0.2, 0.2, 0.1], [-0.3, 0.3, 0.1, -0.2]]
HANDOUT_W_HIDDEN_OUTPUT = [0.8, -1.2, 0.5, -0.3]


def handout_example(learning_rate=0.01):
    """The handout's 3-4-1 network, x = (1, 3, 5), y = 1, output bias set so
    that the output activation is the handout's assumed 0.6: (network, x, y)."""
    x, y = [1.0, 3.0, 5.0], 1.0
    hidden = [
        1.0 / (1.0 + np.exp(-sum(x[i] * HANDOUT_W_INPUT_HIDDEN[i][j] for i in range(3))))
        for j in range(4)
    ]
    output_bias = np.log(0.6 / 0.4) - sum(w * a for w, a in zip(HANDOUT_W_HIDDEN_OUTPUT, hidden))
    net = _network_with_weights(
        [HANDOUT_W_INPUT_HIDDEN, [[w] for w in HANDOUT_W_HIDDEN_OUTPUT]],
        [[0.0] * 4, [output_bias]], [x], [y], learning_rate,
    )
    return net, x, y


def _alice_notes(trace):
    w1 = trace.layers[0].weight_gradient[0, 0]
    return [
        "The document: h1 = h2 = f(-3) = 0.0474, o1 = f(0.0948) = 0.524 "
        "(above: activation of h1, h2, o1).",
        "Its loss is the FULL squared error (1 - y_pred)^2, twice scikit-learn's half "
        "squared error,\nso its derivatives are twice the gradients above:",
        f"  dL/dw1 = 2 x {_number(w1)} = {2 * w1:.4f}",
        "  (the document: -0.952 x 0.249 x -0.0904 = 0.0214, from factors rounded to 3 digits)",
    ]


def _handout_notes(trace):
    hidden, output = trace.layers
    delta_o = output.delta[0]
    return [
        "The handout: net input of h1 = 2.6, activation = sigmoid(2.6) = 0.9308616 "
        "(above: h1).",
        "Its delta is 2 (y - a) a (1 - a) = -dLoss/dnet for the FULL squared error: "
        "-2 x ours.",
        f"  delta_o = -2 x {_number(delta_o)} = {-2 * delta_o:.6f}   (the handout: 0.192)",
        f"  weight change h1 -> o = eta x delta_o x h1 = 2 x {_number(output.weight_change[0, 0])}"
        f" = {2 * output.weight_change[0, 0]:.9f}   (the handout: 0.001787254)",
        f"  delta_h1 = w x delta_o x h1 (1 - h1) = -2 x {_number(hidden.delta[0])} = "
        f"{-2 * hidden.delta[0]:.9f}   with the weight BEFORE the step, 0.8",
        "  (the handout multiplies by the updated weight 0.8017873 and prints 0.009907519).",
    ]


#: name -> (title, builder, default learning rate, notes)
EXAMPLES = {
    "alice": (
        "The 2-2-1 network of 'Introduction to Neural Networks' on Alice: every weight 1, "
        "every bias 0,\nsigmoid (logistic) hidden and output nodes, squared error.",
        alice_example, 0.1, _alice_notes,
    ),
    "handout": (
        "The 3-4-1 network of 'Neural Networks from Scratch': sigmoid hidden and output "
        "nodes, squared error,\ninput (1, 3, 5), label 1, output activation 0.6.",
        handout_example, 0.01, _handout_notes,
    ),
}


def run_trace(example="alice", learning_rate=None, out=None):
    """Print the trace of one of the seeds' examples; return 0."""
    out = sys.stdout if out is None else out
    title, build, default_rate, notes = EXAMPLES[example]
    learning_rate = default_rate if learning_rate is None else learning_rate
    net, x, y = build(learning_rate)
    trace = trace_step(net, x, y)
    print(title, file=out)
    print(f"One plain gradient-descent step (no momentum), computed by numba-mlp's "
          f"training kernels.\n", file=out)
    print(format_trace(trace), file=out)
    print("", file=out)
    print("\n".join(notes(trace)), file=out)
    return 0
