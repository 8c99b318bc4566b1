"""The network as the kernels see it: flat buffers and the bundles around them.

The estimators keep ``coefs_`` and ``intercepts_`` as lists of arrays, as
scikit-learn does; this module packs them into the one flat parameter buffer
the kernels update (scikit-learn's ``_pack`` layout), unpacks the result, and
builds the ``Data``, ``Net``, ``Problem`` and ``Work`` bundles of
``numba_mlp.kernels.bundles``.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from numba_mlp.kernels.bundles import WHOLE, Data, Net, Problem, Work
from numba_mlp.kernels.codes import ACTIVATION_CODES, LOSS_CODES, NET_INPUT_ACTIVATIONS

from ._threads import largest_product

#: Samples per chunk when predicting: large enough for efficient matrix
#: products, small enough to bound the buffers whatever the number of samples.
CHUNK_ROWS = 4096


def read_only(array):
    """A read-only view of ``array``, for the user's data the kernels only read.

    Numba compiles a kernel apart for read-only and writable arrays, and
    users pass both (memory-mapped data is read-only): X, the targets and
    the sample weights always reach the kernels read-only, so one compiled
    kernel serves both, without a copy. The arrays this package makes (CSR
    arrays, buffers, the network's shape) are writable, as in ``predict_dense``,
    which builds its bundles inside the kernel.
    """
    view = array.view()
    view.setflags(write=False)  # cheaper than setting view.flags.writeable
    return view


def pack(coefs, intercepts, dtype):
    """One contiguous parameter vector: all weight matrices, then all biases."""
    return np.concatenate([np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts]).astype(
        dtype, copy=False
    )


def unpack(params, layer_units):
    """``coefs`` and ``intercepts`` lists of views into a parameter vector.

    The views share ``params``'s memory (no copy): pass a vector that nothing
    else will change, or copy the views.
    """
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        end = start + fan_in * fan_out
        coefs.append(params[start:end].reshape(fan_in, fan_out))
        start = end
    for fan_out in layer_units[1:]:
        intercepts.append(params[start : start + fan_out])
        start += fan_out
    return coefs, intercepts


class KernelWeights(NamedTuple):
    """A fitted network as the prediction kernel takes it."""

    params: np.ndarray  #: the packed parameter vector
    layer_units: np.ndarray  #: nodes per layer, inputs first (int64)
    largest_weights: int  #: weights in the largest weight matrix
    n_outputs: int  #: nodes of the output layer


def kernel_weights(params, layer_units):
    """The ``KernelWeights`` of packed ``params`` and the layer sizes."""
    units = [int(u) for u in layer_units]
    largest = largest_product(units, 1)
    return KernelWeights(params, np.asarray(units, dtype=np.int64), largest, units[-1])


class SharedWeights(NamedTuple):
    """A fitted network's weights packed once, with the arrays handed out as
    ``coefs_`` and ``intercepts_``: views of that one buffer."""

    views: tuple  #: every weight matrix, then every bias vector: views of params
    layouts: tuple  #: each view's ``(shape, strides, dtype)`` as it was shared
    for_kernels: KernelWeights  #: the buffer the views share, as predictions take it


def share_weights(coefs, intercepts, layer_units):
    """``(coefs, intercepts, shared)``: the weights copied into one packed
    buffer and returned as lists of views of it, with the ``SharedWeights``
    that lets predictions use the buffer as it is. When the weights are not
    all float32 or all float64, they are returned as they are, with None.
    """
    dtype = np.asarray(coefs[0]).dtype
    if dtype not in (np.float32, np.float64) or any(
        np.asarray(array).dtype != dtype for array in [*coefs, *intercepts]
    ):
        return coefs, intercepts, None
    params = pack(coefs, intercepts, dtype)
    coefs, intercepts = unpack(params, layer_units)
    views = (*coefs, *intercepts)
    layouts = tuple(_layout(view) for view in views)
    shared = SharedWeights(views, layouts, kernel_weights(params, layer_units))
    return coefs, intercepts, shared


def _layout(array):
    """How ``array`` reads its memory: what an in-place edit of its
    ``shape``, ``strides`` or ``dtype`` changes."""
    return array.shape, array.strides, array.dtype


def still_views_of(shared, coefs, intercepts):
    """True if ``coefs`` and ``intercepts`` are still the very views of the
    ``shared`` buffer, reading it as they did (edits of the values show
    through); False if weights were replaced or moved, copied without their
    buffer, or given another shape, strides, dtype or memory in place."""
    views, params = shared.views, shared.for_kernels.params
    n_layers = len(views) // 2
    if (
        type(coefs) is not list
        or type(intercepts) is not list
        or len(coefs) != n_layers
        or len(intercepts) != n_layers
    ):
        return False
    # plain loops and comparisons: the cheapest over so few arrays
    for k in range(n_layers):
        if coefs[k] is not views[k] or intercepts[k] is not views[n_layers + k]:
            return False
    for view, (shape, strides, dtype) in zip(views, shared.layouts):
        # NumPy 1.x lets ``.data`` be set in place: the base is then the new
        # memory (its identity costs less than reading the data pointer)
        if (
            view.base is not params
            or view.shape != shape
            or view.strides != strides
            or view.dtype != dtype
        ):
            return False
    return True


def checked_params(packed, net, dtype, what="packed"):
    """A copy of the parameter vector ``packed`` in ``dtype``, checked against
    ``net``'s layer sizes: a wrong length would make the kernels read and
    write past the buffer. ``what`` names the vector in the message."""
    params = np.array(packed, dtype=dtype)  # a copy: the caller's stays as it is
    units = [int(u) for u in net.layer_units]
    n_params = sum(a * b for a, b in zip(units, units[1:])) + sum(units[1:])
    if params.shape != (n_params,):
        raise ValueError(
            f"The {what} parameters have shape {params.shape}; layer sizes {units} "
            f"need one vector of {n_params} weights and biases."
        )
    return params


def kernel_dtype(*dtypes):
    """float32 if every given dtype is float32, else float64.

    The kernels are compiled for these two; anything else (long double
    weights edited in by hand, say) is computed in float64.
    """
    if all(np.dtype(dtype) == np.float32 for dtype in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


#: The dropout rates of a network that drops nothing (never written to).
_NO_DROPOUT = np.empty(0, dtype=np.float64)


def make_net(layer_units, hidden_activation, output_activation, dropout=0.0):
    """The ``Net`` bundle: layer sizes, activation codes, and the dropout
    rate of each hidden layer (``dropout``: one rate for all, or one per
    layer; empty when nothing is dropped)."""
    if np.ndim(dropout) == 0 and dropout == 0.0:
        rates = _NO_DROPOUT
    else:
        n_hidden = len(layer_units) - 2
        rates = np.broadcast_to(np.asarray(dropout, dtype=np.float64), (n_hidden,))
        rates = np.array(rates if rates.any() else rates[:0])  # a writable copy
    return Net(
        layer_units=np.asarray(layer_units, dtype=np.int64),
        hidden_activation=ACTIVATION_CODES[hidden_activation],
        output_activation=ACTIVATION_CODES[output_activation],
        dropout_rates=rates,
    )


def make_data(X, dtype):
    """The ``Data`` bundle for dense or sparse ``X``, converted to ``dtype``.

    Never modifies ``X``: conversions make copies, and the kernels get
    read-only views.
    """
    if sp.issparse(X):
        csr = sp.csr_matrix(X)
        return Data(
            read_only(np.empty((0, 0), dtype=dtype)),
            np.ascontiguousarray(csr.data, dtype=dtype),
            np.ascontiguousarray(csr.indices, dtype=np.int64),
            np.ascontiguousarray(csr.indptr, dtype=np.int64),
            True,
        )
    return Data(
        read_only(np.ascontiguousarray(X, dtype=dtype)),
        np.empty(0, dtype=dtype),
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.int64),
        False,
    )


def make_problem(y, sample_weight, loss, alpha, dtype, huber_delta=1.0, quantile=0.5):
    """The ``Problem`` bundle: targets and sample weights in ``dtype``, the loss
    code, the L2 penalty, log loss's probability clip (``dtype``'s eps) and
    the robust losses' settings."""
    y = np.asarray(y)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if sample_weight is None:
        sample_weight = np.ones(y.shape[0], dtype=dtype)
    return Problem(
        targets=read_only(np.ascontiguousarray(y, dtype=dtype)),
        sample_weight=read_only(np.ascontiguousarray(sample_weight, dtype=dtype)),
        loss_code=LOSS_CODES[loss],
        alpha=float(alpha),
        probability_clip=float(np.finfo(dtype).eps),
        huber_delta=float(huber_delta),
        quantile=float(quantile),
    )


def make_work(net, max_rows, dtype, gather=True, backward=True, blocks=WHOLE):
    """The ``Work`` bundle: buffers for ``max_rows`` samples at a time, its
    large products in ``blocks`` blocks (``numba_mlp._threads``).

    ``gather=False`` when the dense rows will always be consecutive (predict,
    L-BFGS) or the input is sparse: the kernels then read X in place and the
    gather buffer is left empty. ``backward=False`` when no delta is needed.
    The hidden nodes' net inputs are kept when ``net``'s hidden activation
    needs them for its derivative, and their dropout factors when ``net``
    drops nodes and ``backward`` (only training drops).
    """
    layer_units = net.layer_units
    node_count = max_rows * int(sum(layer_units[1:]))
    keep_net_inputs = backward and net.hidden_activation in NET_INPUT_ACTIVATIONS
    drops = backward and net.dropout_rates.shape[0] > 0
    return Work(
        gathered_inputs=np.empty((max_rows if gather else 0, layer_units[0]), dtype=dtype),
        activations=np.empty(node_count, dtype=dtype),
        deltas=np.empty(node_count if backward else 0, dtype=dtype),
        net_inputs=np.empty(node_count if keep_net_inputs else 0, dtype=dtype),
        dropout_scales=np.empty(node_count if drops else 0, dtype=dtype),
        output_net_inputs=np.empty((max_rows, layer_units[-1]), dtype=dtype),
        max_rows=int(max_rows),
        blocks=blocks,
    )
