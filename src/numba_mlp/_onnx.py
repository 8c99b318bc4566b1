"""ONNX export through skl2onnx: ``register_onnx_converters()``.

numba-mlp's estimators have scikit-learn's fitted attributes (``coefs_``,
``intercepts_``, ``activation``, ``out_activation_``, ``n_layers_``,
``classes_``, ``_label_binarizer``), so skl2onnx's own MLP converters and
shape calculators do the work; this module registers them for our classes
and adds what numba-mlp has beyond scikit-learn:

- ``out_activation='exp'`` (regressor, e.g. ``loss='poisson'``): the network
  is converted with an identity output and an ``Exp`` node appended;
- several regression outputs: the output keeps shape (N, n_outputs)
  (skl2onnx's MLP regressor assumes one output).

A classifier with ``out_activation='exp'`` (only possible with
``loss='squared_error'``) is refused with a ValueError.

skl2onnx, onnx and onnxruntime are optional (extra ``onnx``).
"""

from types import SimpleNamespace

#: Output activations skl2onnx's MLP converter writes as one ONNX operator.
_SKL2ONNX_ACTIVATIONS = {"identity", "logistic", "tanh", "relu", "softmax"}

_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}


def _check_activations(model):
    """Raise ValueError for activations ONNX export does not handle."""
    if model.activation not in _SKL2ONNX_ACTIVATIONS:
        raise ValueError(
            f"ONNX export: hidden activation {model.activation!r} is not supported "
            f"(supported: {sorted(_SKL2ONNX_ACTIVATIONS)})."
        )


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
    _check_activations(model)
    if model.out_activation_ not in _SKL2ONNX_ACTIVATIONS:
        raise ValueError(
            "ONNX export: MLPClassifier with out_activation="
            f"{model.out_activation_!r} is not supported; use 'logistic' or 'softmax' "
            "(or 'identity') output nodes."
        )
    convert_sklearn_mlp_classifier(scope, operator, container)


def _convert_regressor(scope, operator, container):
    from skl2onnx.common._apply_operation import apply_reshape
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.operator_converters.multilayer_perceptron import _predict
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    _check_activations(model)
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype != onnx_proto.TensorProto.DOUBLE:
        proto_dtype = onnx_proto.TensorProto.FLOAT
    exp_output = model.out_activation_ == "exp"
    network = model
    if exp_output:
        # the same network with identity output nodes; Exp is added below
        network = SimpleNamespace(
            n_layers_=model.n_layers_,
            coefs_=model.coefs_,
            intercepts_=model.intercepts_,
            activation=model.activation,
            out_activation_="identity",
        )
    outputs = _predict(scope, operator.inputs[0].full_name, container, network, proto_dtype)
    if exp_output:
        exp_name = scope.get_unique_variable_name("exp_output")
        container.add_node("Exp", outputs, exp_name, name=scope.get_unique_operator_name("Exp"))
        outputs = exp_name
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
