"""Checks of parameters and inputs that scikit-learn's MLP does not need.

scikit-learn's own machinery (``_parameter_constraints``, ``validate_data``)
does the common checks; these are the checks for what numba-mlp adds
(``out_activation``, ``coefs_init``) and for what must hold before a kernel
runs (a kernel cannot raise on a wrong shape; it would read out of bounds).
"""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

#: Output activations each loss accepts. Log loss needs probabilities and the
#: Poisson deviance needs positive predictions.
OUTPUT_ACTIVATIONS_FOR_LOSS = {
    "squared_error": ("identity", "logistic", "softmax", "exp"),
    "log_loss": ("logistic", "softmax"),
    "poisson": ("exp", "logistic", "softmax"),
    "huber": ("identity",),
    "quantile": ("identity",),
}

#: Activations of hidden nodes: scikit-learn's four, then numba-mlp's.
HIDDEN_ACTIVATIONS = (
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "silu",
)

#: Output activations whose outputs are probabilities (``predict_proba``).
PROBABILITY_OUTPUT_ACTIVATIONS = ("logistic", "softmax")


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` as a list of positive ints, or raise."""
    if not hasattr(hidden_layer_sizes, "__iter__"):
        hidden_layer_sizes = [hidden_layer_sizes]
    hidden_layer_sizes = list(hidden_layer_sizes)
    if any(
        not isinstance(size, (Integral, np.integer)) or isinstance(size, bool)
        for size in hidden_layer_sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be > 0, got %s. Give whole numbers of "
            "nodes, e.g. (100,) or (64, 32)." % hidden_layer_sizes
        )
    if np.any(np.array(hidden_layer_sizes) <= 0):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)
    return [int(size) for size in hidden_layer_sizes]


def check_sparse_input(X):
    """``X`` itself, or for sparse ``X`` a structure the sparse kernel can trust.

    A CSR/CSC matrix whose index arrays point outside the matrix (built with
    ``check=False`` or edited in place) would make the kernel read out of
    bounds, so it is refused. Unsorted or duplicate indices are summed and
    sorted in a copy (the caller's matrix is left alone), so such a matrix
    gives exactly the result of its clean equivalent.
    """
    if not sp.issparse(X) or X.format not in ("csr", "csc"):
        return X
    n_major, n_minor = X.shape if X.format == "csr" else X.shape[::-1]
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)
    n_stored = int(indptr[-1]) if indptr.shape == (n_major + 1,) else -1
    if (
        n_stored < 0
        or indptr[0] != 0
        or np.any(np.diff(indptr) < 0)
        or n_stored > min(indices.shape[0], np.asarray(X.data).shape[0])
    ):
        raise ValueError(
            f"The sparse {X.format.upper()} matrix X is malformed: its index "
            f"pointer (indptr) does not describe {n_major} rows of stored entries."
        )
    used = indices[:n_stored]
    if n_stored and (used.min() < 0 or used.max() >= n_minor):
        raise ValueError(
            f"The sparse {X.format.upper()} matrix X is malformed: it stores an "
            f"entry at index {int(used.min()) if used.min() < 0 else int(used.max())}, "
            f"outside its {n_minor} {'columns' if X.format == 'csr' else 'rows'}."
        )
    # canonical: indices strictly increasing within each row (column for CSC)
    increasing = np.diff(used) > 0
    row_starts = indptr[1:-1]
    increasing[row_starts[(row_starts > 0) & (row_starts < n_stored)] - 1] = True
    if not increasing.all():
        X = X.copy()
        X.sum_duplicates()
    return X


def check_output_activation(estimator, n_outputs, classifier):
    """Raise ValueError unless the output activation suits the loss and the task.

    A classifier's outputs are its ``predict_proba``, so they must be
    probabilities. When the output activation was not chosen by the user but
    fixed by an earlier fit (warm_start, partial_fit), the message says so.
    """
    loss, out_activation = estimator.loss, estimator.out_activation_
    chosen_by_user = estimator.out_activation is not None
    if classifier and out_activation not in PROBABILITY_OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"out_activation={out_activation!r} does not give probabilities, which "
            "MLPClassifier returns from predict_proba: use 'logistic' or 'softmax' "
            "(or None for scikit-learn's choice), or MLPRegressor for unbounded outputs."
        )
    allowed = OUTPUT_ACTIVATIONS_FOR_LOSS[loss]
    if out_activation not in allowed and chosen_by_user:
        raise ValueError(
            f"out_activation={out_activation!r} cannot be used with loss={loss!r}: "
            f"that loss needs one of {allowed}. Use out_activation=None for "
            "scikit-learn's choice."
        )
    if out_activation not in allowed:
        raise ValueError(
            f"loss={loss!r} cannot continue training this model: its output "
            f"activation {out_activation!r} (out_activation_) was fixed when it was "
            f"first fitted with another loss, and {loss!r} needs one of {allowed}. "
            "Fit a new model (warm_start=False) to change the loss."
        )
    if out_activation == "softmax" and n_outputs < 2:
        raise ValueError(
            "out_activation='softmax' needs at least 2 output nodes, but the "
            f"target has {n_outputs}; use 'logistic' for a single output."
        )
    if classifier:
        check_classifier_outputs(estimator._label_binarizer.y_type_, out_activation)


def check_classifier_outputs(y_type, out_activation):
    """Raise ValueError unless the output activation gives the probabilities
    the target's type means.

    One label among several (multiclass) needs probabilities that sum to 1
    over the classes (softmax); independent labels (multilabel) need one
    probability each (logistic): a softmax could never predict two labels.
    """
    if y_type == "multiclass" and out_activation == "logistic":
        raise ValueError(
            "out_activation='logistic' cannot be used with a multiclass target: its "
            "outputs are independent probabilities, which do not sum to 1 over the "
            "classes. Use out_activation='softmax' (or None for scikit-learn's choice)."
        )
    if y_type.startswith("multilabel") and out_activation == "softmax":
        raise ValueError(
            "out_activation='softmax' cannot be used with a multilabel target: its "
            "outputs sum to 1, so at most one label could be predicted. Use "
            "out_activation='logistic' (or None for scikit-learn's choice)."
        )


def check_poisson_targets(y):
    """Raise ValueError if a Poisson target is negative (counts, rates...)."""
    negative = y < 0
    if negative.any():
        raise ValueError(
            f"loss='poisson' needs non-negative targets (counts or rates), but y has "
            f"{int(negative.sum())} negative value(s), the smallest {float(y.min()):g}. "
            "Use loss='squared_error' for targets that can be negative."
        )


def check_learning_rate(learning_rate, name="learning_rate"):
    """``learning_rate`` as a float, if it is a positive finite number."""
    if isinstance(learning_rate, Real) and not isinstance(learning_rate, bool):
        value = float(learning_rate)
        if math.isfinite(value) and value > 0:
            return value
    raise ValueError(f"{name} must be a positive, finite number, got {learning_rate!r}.")


def check_initial_weights(coefs_init, intercepts_init, layer_units, dtype):
    """Validated copies of user-given initial weights, in ``dtype``.

    Either argument may be None, in which case the returned one is None and
    the caller keeps its own (random or previous) weights for that part.
    """
    checked = []
    for name, given, shapes in (
        ("coefs_init", coefs_init, list(zip(layer_units[:-1], layer_units[1:]))),
        ("intercepts_init", intercepts_init, [(n,) for n in layer_units[1:]]),
    ):
        if given is None:
            checked.append(None)
            continue
        if not isinstance(given, (list, tuple)):
            raise ValueError(
                f"{name} must be a list with one array per layer, got {type(given).__name__}."
            )
        arrays = []
        for layer, array in enumerate(given):
            try:
                kind = np.asarray(array).dtype.kind
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name}[{layer}] is not an array of numbers: {error}") from None
            if kind not in "biuf":
                raise ValueError(
                    f"{name}[{layer}] has dtype {np.asarray(array).dtype}; give real "
                    "numbers (float, int or bool), e.g. arrays like coefs_."
                )
            try:
                array = np.array(array, dtype=dtype, copy=True)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"{name}[{layer}] could not be converted to {np.dtype(dtype).name}: {error}"
                ) from None
            if not np.isfinite(array).all():
                raise ValueError(f"{name}[{layer}] contains NaN or infinity.")
            arrays.append(array)
        if len(arrays) != len(shapes):
            raise ValueError(
                f"{name} has {len(arrays)} arrays, but a network with layer "
                f"sizes {list(layer_units)} needs {len(shapes)} (one per layer)."
            )
        for layer, (array, shape) in enumerate(zip(arrays, shapes)):
            if array.shape != shape:
                raise ValueError(
                    f"{name}[{layer}] has shape {array.shape}, expected {shape} "
                    f"for layer sizes {list(layer_units)}."
                )
        checked.append(arrays)
    return checked[0], checked[1]


def check_layer_shapes(coefs, intercepts, layer_units, what):
    """Raise ValueError unless ``coefs``/``intercepts`` are numeric arrays of
    the shapes ``layer_units`` asks for.

    Run before any kernel: a kernel handed a wrong shape would read and write
    out of bounds instead of raising.
    """
    expected = list(zip(layer_units[:-1], layer_units[1:]))
    if not isinstance(coefs, (list, tuple)) or not isinstance(intercepts, (list, tuple)):
        raise ValueError(
            f"{what} must be lists of arrays (one per layer), got "
            f"{type(coefs).__name__} and {type(intercepts).__name__}."
        )
    if len(coefs) != len(expected) or len(intercepts) != len(expected):
        raise ValueError(
            f"{what} describe {len(coefs)} weight matrices and {len(intercepts)} "
            f"bias vectors, but a network with layer sizes {list(layer_units)} "
            f"needs {len(expected)} of each."
        )
    for layer, ((fan_in, fan_out), coef, intercept) in enumerate(zip(expected, coefs, intercepts)):
        for kind, array, shape in (
            ("weight matrix", coef, (fan_in, fan_out)),
            ("bias vector", intercept, (fan_out,)),
        ):
            if np.shape(array) != shape:
                raise ValueError(
                    f"{what}: {kind} {layer} has shape {np.shape(array)}, expected "
                    f"{shape} for layer sizes {list(layer_units)}."
                )
            if np.asarray(array).dtype.kind not in "biuf":
                raise ValueError(
                    f"{what}: {kind} {layer} has dtype {np.asarray(array).dtype}; "
                    "it must hold real numbers."
                )


def fitted_layer_units(estimator):
    """The layer sizes the estimator was fitted with: inputs, hidden, outputs."""
    layer_units = getattr(estimator, "_layer_units", None)
    if layer_units is None:  # scikit-learn's own fitted estimators
        layer_units = (
            [estimator.n_features_in_]
            + check_hidden_layer_sizes(estimator.hidden_layer_sizes)
            + [estimator.n_outputs_]
        )
    return list(layer_units)


def check_fitted_weights(estimator):
    """The fitted layer sizes, once ``coefs_``/``intercepts_`` are checked to fit them.

    The one check every entry point makes before it hands the fitted weights
    to a kernel (predict, predict_proba, score, trace_step): weights edited
    to another shape are refused here, against the sizes the model was
    fitted with, instead of being read out of bounds.
    """
    layer_units = fitted_layer_units(estimator)
    check_layer_shapes(
        estimator.coefs_,
        estimator.intercepts_,
        layer_units,
        "The fitted weights (coefs_, intercepts_)",
    )
    return layer_units


def check_fitted_shapes(estimator, layer_units):
    """Raise ValueError if the fitted weights no longer fit the network.

    Happens with warm_start or partial_fit after hidden_layer_sizes or the
    number of outputs changed.
    """
    check_layer_shapes(
        estimator.coefs_,
        estimator.intercepts_,
        layer_units,
        "The fitted weights (warm_start / partial_fit continue from them)",
    )


def check_dropout(dropout, n_hidden_layers, solver):
    """The dropout rate of each hidden layer, as a float64 array, or raise.

    ``dropout`` is one rate for every hidden layer or one per layer, each in
    [0, 1). L-BFGS needs a deterministic objective, so it takes no dropout.
    """
    if np.asarray(dropout).dtype.kind not in "biuf":  # text, None, objects
        raise ValueError(
            f"dropout must be a number or a list of numbers (one rate per hidden "
            f"layer), got {dropout!r}."
        )
    rates = np.asarray(dropout, dtype=np.float64) if np.ndim(dropout) else None
    if rates is None:
        rates = np.full(n_hidden_layers, float(dropout))
    elif rates.shape != (n_hidden_layers,):
        raise ValueError(
            f"dropout has {rates.size} rates for {n_hidden_layers} hidden layer(s): give "
            "one rate for all hidden layers, or one per hidden layer."
        )
    if not ((rates >= 0.0) & (rates < 1.0)).all():
        raise ValueError(
            f"dropout rates must be in [0, 1) (the probability of dropping a hidden "
            f"node), got {rates.tolist()}."
        )
    if solver == "lbfgs" and rates.any():
        raise ValueError(
            "dropout needs a stochastic solver: L-BFGS minimises one deterministic "
            "loss. Use solver='adam' or 'sgd', or dropout=0.0."
        )
    return rates


def check_class_weight(class_weight):
    """Raise ValueError unless every weight of a ``class_weight`` dict is a
    finite number >= 0 (0 leaves a class out of the loss, as in scikit-learn)."""
    if not isinstance(class_weight, dict):
        return
    for label, weight in class_weight.items():
        if not isinstance(weight, Real) or not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"class_weight must map each class to a finite number >= 0, got "
                f"{weight!r} for class {label!r}."
            )


def check_scoring_fits(estimator, scorer, scoring):
    """Raise ValueError if ``scorer`` asks ``estimator`` for a response it
    does not give (``'neg_log_loss'`` needs ``predict_proba``, which a
    regressor lacks): checked before training, not at the first epoch's end."""
    methods = getattr(scorer, "_response_method", "predict")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    if not any(hasattr(estimator, method) for method in methods):
        name = type(estimator).__name__
        raise ValueError(
            f"scoring={scoring!r} needs {' or '.join(methods)}, which {name} does "
            "not have. Use a scorer that needs only predict (for a regressor, e.g. "
            "'r2' or 'neg_mean_squared_error'), or scoring='loss'."
        )
