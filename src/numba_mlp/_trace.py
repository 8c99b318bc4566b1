"""The teaching trace: one training step of one example, node by node.

``trace_step(estimator, x, y)`` runs the very kernels training runs (the
layer kernels of ``numba_mlp.kernels.forward`` and ``.backward``) on one
example at the estimator's current weights, keeping what training
overwrites: every node's net input, activation and delta and every weight's
gradient and change (one plain gradient-descent step, no momentum), as
NumPy arrays, one ``LayerTrace`` per layer of nodes. ``print(trace)`` shows
them as the handouts' tables (``_trace_text``); ``python -m numba_mlp
trace`` shows the handouts' examples (``numba_mlp.worked_examples``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.validation import check_is_fitted

from numba_mlp.kernels.activations import times_derivative
from numba_mlp.kernels.backward import (
    compute_gradient,
    compute_hidden_deltas,
    compute_output_deltas,
    finish_gradient,
)
from numba_mlp.kernels.bundles import WHOLE
from numba_mlp.kernels.codes import SOFTMAX
from numba_mlp.kernels.forward import compute_layer
from numba_mlp.kernels.layout import biases_of, nodes_of, weights_of
from numba_mlp.kernels.losses import loss_scale, sample_loss

from ._network import kernel_dtype, make_net, make_problem, pack, unpack
from ._validation import check_fitted_weights, check_learning_rate


@dataclass(frozen=True)
class LayerTrace:
    """One layer of nodes (hidden or output) during one training step.

    ``fan_in`` is the number of nodes feeding the layer, ``n_nodes`` its own.
    Weight arrays are laid out like ``coefs_[layer - 1]``: row i holds the
    weights leaving source node i.
    """

    layer: int  #: 1 = first hidden layer, ..., ``n_layers_ - 1`` = output layer
    activation_function: str  #: 'logistic', 'relu', 'softmax', ...
    inputs: np.ndarray  #: (fan_in,) activations feeding the layer (x for layer 1)
    weights: np.ndarray  #: (fan_in, n_nodes) before the step
    biases: np.ndarray  #: (n_nodes,) before the step
    net_input: np.ndarray  #: (n_nodes,) sum_i inputs[i] weights[i, j] + biases[j]
    activation: np.ndarray  #: (n_nodes,) f(net_input)
    derivative: np.ndarray  #: (n_nodes,) f'(net_input); NaN for softmax (not element-wise)
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
        from ._trace_text import format_trace

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


def _derivatives(activation_code, activation, net_input):
    """f'(net) of each node, by the kernels' formula (NaN for softmax)."""
    if activation_code == SOFTMAX:
        return np.full_like(activation, np.nan)
    return np.array(
        [times_derivative(activation_code, a, net, 1.0) for a, net in zip(activation, net_input)],
        dtype=activation.dtype,
    )


def _run_one_example(net, problem, params, inputs):
    """Forward and backward pass of the one example ``inputs`` (1, n_features).

    Calls the layer kernels training calls, in training's order, with buffers
    for one row that are kept instead of overwritten by the next batch:
    returns ``(net_inputs, activations, deltas, gradients)``, the first three
    as node buffers (``layout.nodes_of`` with one row), the gradients (the
    L2 term included, averaged over a weight of 1) laid out as ``params``.
    """
    layer_units = net.layer_units
    last = layer_units.shape[0] - 1
    dtype = params.dtype
    n_nodes = int(layer_units[1:].sum())
    net_inputs, activations, deltas = (np.zeros(n_nodes, dtype=dtype) for _ in range(3))
    gradients = np.zeros_like(params)

    # forward: net input of each node, then its activation
    layer_inputs = inputs
    for layer in range(1, last + 1):
        code = net.output_activation if layer == last else net.hidden_activation
        compute_layer(
            layer_inputs,
            weights_of(params, layer_units, layer - 1),
            biases_of(params, layer_units, layer - 1),
            code,
            nodes_of(activations, layer_units, 1, layer, 1),
            nodes_of(net_inputs, layer_units, 1, layer, 1),
            blocks=WHOLE,
        )
        layer_inputs = nodes_of(activations, layer_units, 1, layer, 1)

    # backward: output deltas, then each hidden layer's from the one after it
    rows = np.zeros(1, dtype=np.int64)
    compute_output_deltas(
        net.output_activation,
        problem,
        nodes_of(activations, layer_units, 1, last, 1),
        rows,
        nodes_of(deltas, layer_units, 1, last, 1),
    )
    for layer in range(last - 1, 0, -1):
        compute_hidden_deltas(
            net.hidden_activation,
            weights_of(params, layer_units, layer),
            nodes_of(deltas, layer_units, 1, layer + 1, 1),
            nodes_of(activations, layer_units, 1, layer, 1),
            nodes_of(net_inputs, layer_units, 1, layer, 1),
            nodes_of(deltas, layer_units, 1, layer, 1),
            blocks=WHOLE,
        )

    # gradient of every weight: delta x the activation at its source (+ alpha w)
    for layer in range(last):
        source = inputs if layer == 0 else nodes_of(activations, layer_units, 1, layer, 1)
        weight_grads = weights_of(gradients, layer_units, layer)
        bias_grads = biases_of(gradients, layer_units, layer)
        compute_gradient(
            source,
            nodes_of(deltas, layer_units, 1, layer + 1, 1),
            weight_grads,
            bias_grads,
            blocks=WHOLE,
        )
        finish_gradient(
            weights_of(params, layer_units, layer), weight_grads, bias_grads, problem.alpha, 1.0
        )
    return net_inputs, activations, deltas, gradients


def trace_step(
    estimator: BaseEstimator, x: ArrayLike, y: object, *, learning_rate: float | None = None
) -> StepTrace:
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
        raise ValueError(f"x must be one example with {n_features} features, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinity.")
    targets = np.ascontiguousarray(_target_row(estimator, y, layer_units[-1]), dtype=dtype)
    if learning_rate is None:
        learning_rate = estimator.learning_rate_init
    learning_rate = check_learning_rate(learning_rate)
    alpha = float(estimator.alpha)

    net = make_net(layer_units, estimator.activation, estimator.out_activation_)
    # from the public fitted attributes only, which scikit-learn's estimators have too
    problem = make_problem(
        targets,
        None,
        estimator.loss,
        alpha,
        dtype,
        huber_delta=getattr(estimator, "huber_delta", 1.0),
        quantile=getattr(estimator, "quantile", 0.5),
    )
    params = pack(coefs, intercepts, dtype)
    nodes = _run_one_example(net, problem, params, x.reshape(1, -1))
    net_inputs, activations, deltas, gradients = nodes
    changes = gradients * -dtype.type(learning_rate)

    n_outputs = layer_units[-1]
    loss = float(
        sample_loss(
            problem,
            net.output_activation,
            activations[-n_outputs:],
            net_inputs[-n_outputs:],
            targets[0],
        )
        * loss_scale(problem.loss_code, n_outputs)
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
        net_input = net_inputs[start:stop].copy()
        code = net.output_activation if is_output else net.hidden_activation
        layers.append(
            LayerTrace(
                layer=layer,
                activation_function=(
                    estimator.out_activation_ if is_output else estimator.activation
                ),
                inputs=previous,
                weights=np.array(coefs[layer - 1], dtype=dtype),
                biases=np.array(intercepts[layer - 1], dtype=dtype),
                net_input=net_input,
                activation=activation,
                derivative=_derivatives(code, activation, net_input),
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
