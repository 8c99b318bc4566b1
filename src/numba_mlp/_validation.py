"""Checks of parameters and inputs that scikit-learn's MLP does not need.

scikit-learn's own machinery (``_parameter_constraints``, ``validate_data``)
does the common checks; these are the checks for what numba-mlp adds
(``out_activation``, ``coefs_init``) and for what must hold before a kernel
runs (a kernel cannot raise on a wrong shape; it would read out of bounds).
"""

from numbers import Integral

import numpy as np

from ._network import check_layer_shapes

#: Output activations each loss accepts. Log loss needs probabilities and the
#: Poisson deviance needs positive predictions.
OUTPUT_ACTIVATIONS_FOR_LOSS = {
    "squared_error": ("identity", "logistic", "softmax", "exp"),
    "log_loss": ("logistic", "softmax"),
    "poisson": ("exp", "logistic", "softmax"),
}


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


def check_output_activation(loss, out_activation, n_outputs):
    """Raise ValueError unless ``out_activation`` suits ``loss`` and the outputs."""
    allowed = OUTPUT_ACTIVATIONS_FOR_LOSS[loss]
    if out_activation not in allowed:
        raise ValueError(
            f"out_activation={out_activation!r} cannot be used with loss={loss!r}: "
            f"that loss needs one of {allowed}. Use out_activation=None for "
            "scikit-learn's choice."
        )
    if out_activation == "softmax" and n_outputs < 2:
        raise ValueError(
            "out_activation='softmax' needs at least 2 output nodes, but the "
            f"target has {n_outputs}; use 'logistic' for a single output."
        )


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
                f"{name} must be a list with one array per layer, got "
                f"{type(given).__name__}."
            )
        arrays = []
        for layer, array in enumerate(given):
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
