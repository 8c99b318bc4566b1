"""ONNX export through skl2onnx: ``register_onnx_converters()``.

numba-mlp's estimators have scikit-learn's fitted attributes (``coefs_``,
``intercepts_``, ``activation``, ``out_activation_``, ``n_layers_``,
``classes_``, ``_label_binarizer``), so skl2onnx's own MLP converters and
shape calculators do most of the work; this module registers them for our
classes and adds what numba-mlp has beyond scikit-learn:

- the network itself is written here (``_network``), so that every hidden
  activation has its ONNX operators, composed of operators onnxruntime runs
  in float32 and float64 alike: leaky ReLU as ``Max(x, 0.01 x)``, ELU as
  ``Where(x > 0, x, Exp(Min(x, 0)) - 1)``, softplus as
  ``Max(x, 0) + Log(1 + Exp(-Abs(x)))``, SiLU as ``x Sigmoid(x)`` and GELU
  as ``0.5 x (1 + Erf(x / sqrt 2))`` (onnxruntime has no float64 ``Erf``: in
  a float64 graph it is taken in float32, good to about 1e-7); the
  classifier's label logic stays skl2onnx's;
- ``out_activation='exp'`` (regressor, e.g. ``loss='poisson'``): an ``Exp``
  output node;
- several regression outputs: the output keeps shape (N, n_outputs)
  (skl2onnx's MLP regressor assumes one output).

Dropout is a training device: the exported graph has none, as ``predict``
has none.

A classifier with ``out_activation='exp'`` (only possible with
``loss='squared_error'``) is refused with a ValueError.

skl2onnx, onnx and onnxruntime are optional (extra ``onnx``).
"""

from contextlib import contextmanager

#: Activations that are one ONNX operator, with its attributes.
_ONE_OPERATOR = {
    "identity": ("Identity", {}),
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "softmax": ("Softmax", {"axis": 1}),
    "exp": ("Exp", {}),
}

_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}


def _activation(scope, container, name, net_input, proto_dtype):
    """The ONNX nodes of activation ``name`` applied to ``net_input``; the
    name of their output."""

    def node(op_type, inputs, **attributes):
        output = scope.get_unique_variable_name(op_type.lower())
        container.add_node(
            op_type, inputs, output, name=scope.get_unique_operator_name(op_type), **attributes
        )
        return output

    def constant(value):
        constant_name = scope.get_unique_variable_name("constant")
        container.add_initializer(constant_name, proto_dtype, [], [value])
        return constant_name

    from skl2onnx.proto import onnx_proto

    x = net_input
    if name in _ONE_OPERATOR:
        op_type, attributes = _ONE_OPERATOR[name]
        return node(op_type, x, **attributes)
    if name == "leaky_relu":
        return node("Max", [x, node("Mul", [x, constant(0.01)])])
    if name == "elu":
        below = node("Sub", [node("Exp", node("Min", [x, constant(0.0)])), constant(1.0)])
        return node("Where", [node("Greater", [x, constant(0.0)]), x, below])
    if name == "softplus":
        tail = node("Log", node("Add", [node("Exp", node("Neg", node("Abs", x))), constant(1.0)]))
        return node("Add", [node("Max", [x, constant(0.0)]), tail])
    if name == "silu":
        return node("Mul", [x, node("Sigmoid", x)])
    if name == "gelu":
        scaled = node("Mul", [x, constant(0.5**0.5)])
        if proto_dtype == onnx_proto.TensorProto.DOUBLE:
            as_float = node("Cast", scaled, to=onnx_proto.TensorProto.FLOAT)
            erf = node("Cast", node("Erf", as_float), to=onnx_proto.TensorProto.DOUBLE)
        else:
            erf = node("Erf", scaled)
        return node("Mul", [node("Mul", [x, constant(0.5)]), node("Add", [erf, constant(1.0)])])
    raise ValueError(f"ONNX export: activation {name!r} has no ONNX form here.")


def _network(scope, input_name, container, model, proto_dtype):
    """The forward pass as ONNX nodes (what ``predict`` computes, without
    dropout); the name of the output activations."""
    from skl2onnx.common._apply_operation import apply_add, apply_cast

    activations = scope.get_unique_variable_name("cast_input")
    apply_cast(scope, input_name, activations, container, to=proto_dtype)
    n_layers = len(model.coefs_)
    for layer, (weights, biases) in enumerate(zip(model.coefs_, model.intercepts_)):
        weights_name = scope.get_unique_variable_name("coefficient")
        biases_name = scope.get_unique_variable_name("intercepts")
        container.add_initializer(weights_name, proto_dtype, weights.shape, weights.ravel())
        container.add_initializer(biases_name, proto_dtype, [1, len(biases)], biases)
        weighted = scope.get_unique_variable_name("mul_result")
        container.add_node(
            "MatMul",
            [activations, weights_name],
            weighted,
            name=scope.get_unique_operator_name("MatMul"),
        )
        net_input = scope.get_unique_variable_name("add_result")
        apply_add(scope, [weighted, biases_name], net_input, container, broadcast=1)
        name = model.out_activation_ if layer == n_layers - 1 else model.activation
        activations = _activation(scope, container, name, net_input, proto_dtype)
    return activations


@contextmanager
def _skl2onnx_writes_our_network():
    """Within the block, skl2onnx's MLP converters build the network with
    ``_network`` (their label and probability logic is kept)."""
    from skl2onnx.operator_converters import multilayer_perceptron

    original = multilayer_perceptron._predict
    multilayer_perceptron._predict = _network
    try:
        yield
    finally:
        multilayer_perceptron._predict = original


def _shape_classifier(operator):
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    calculate_linear_classifier_output_shapes(operator)


def _shape_regressor(operator):
    """skl2onnx's regressor shapes, with (N, n_outputs) for several outputs."""
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes

    calculate_linear_regressor_output_shapes(operator)
    output = operator.outputs[0]
    n_rows = operator.inputs[0].get_first_dimension()
    output.set_type(output.type.__class__([n_rows, operator.raw_operator.n_outputs_]))


def _convert_classifier(scope, operator, container):
    from skl2onnx.operator_converters.multilayer_perceptron import (
        convert_sklearn_mlp_classifier,
    )

    model = operator.raw_operator
    if model.out_activation_ not in ("identity", "logistic", "softmax"):
        raise ValueError(
            "ONNX export: MLPClassifier with out_activation="
            f"{model.out_activation_!r} is not supported; use 'logistic' or 'softmax' "
            "(or 'identity') output nodes."
        )
    with _skl2onnx_writes_our_network():
        convert_sklearn_mlp_classifier(scope, operator, container)


def _convert_regressor(scope, operator, container):
    from skl2onnx.common._apply_operation import apply_reshape
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype != onnx_proto.TensorProto.DOUBLE:
        proto_dtype = onnx_proto.TensorProto.FLOAT
    outputs = _network(scope, operator.inputs[0].full_name, container, model, proto_dtype)
    apply_reshape(
        scope, outputs, operator.output_full_names, container, desired_shape=(-1, model.n_outputs_)
    )


def register_onnx_converters() -> None:
    """Register numba-mlp's MLPClassifier and MLPRegressor with skl2onnx.

    Call once before ``skl2onnx.to_onnx`` / ``convert_sklearn``; pipelines
    containing the estimators then convert too. Calling again is harmless.

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from numba_mlp import MLPClassifier, register_onnx_converters
    >>> register_onnx_converters()
    >>> X = np.random.RandomState(0).rand(20, 3).astype(np.float32)
    >>> clf = MLPClassifier(max_iter=5).fit(X, np.arange(20) % 2)
    >>> onnx_model = to_onnx(clf, X[:1], options={"zipmap": False})
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "ONNX export needs skl2onnx (and onnxruntime to run the model): "
            "pip install skl2onnx onnx onnxruntime (or, in a clone of numba-mlp, "
            "pip install -e '.[onnx]')."
        ) from error
    from ._multilayer_perceptron import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        "NumbaMlpMLPClassifier",
        _shape_classifier,
        _convert_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        MLPRegressor,
        "NumbaMlpMLPRegressor",
        _shape_regressor,
        _convert_regressor,
    )
