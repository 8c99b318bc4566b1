"""The named bundles the kernels take: what a network computes on, and with.

Numba types ``typing.NamedTuple`` classes (and caches the kernels that take
them), so a kernel reads ``data.X`` or ``work.activations`` by name; options
inside them are the integer codes of ``codes``. The estimator layer builds
them (``numba_mlp._network``); kernels never build or change their shape.
"""

from typing import NamedTuple

import numpy as np


class Data(NamedTuple):
    """The input samples: a dense matrix, or the three arrays of a CSR matrix."""

    X: np.ndarray  #: (n_samples, n_features); (0, 0) for sparse input
    values: np.ndarray  #: CSR stored values (empty for dense input)
    indices: np.ndarray  #: CSR column of each stored value
    indptr: np.ndarray  #: CSR start of each row in ``values``
    is_sparse: bool


class Net(NamedTuple):
    """The shape of the network, the activation of its nodes, and the dropout
    of its hidden layers while training."""

    layer_units: np.ndarray  #: nodes per layer, inputs first (int64)
    hidden_activation: int  #: activation code of every hidden node
    output_activation: int  #: activation code of the output nodes
    dropout_rates: np.ndarray  #: (n_hidden_layers,) float64, or empty: nothing dropped


class Problem(NamedTuple):
    """What the network learns: targets, sample weights, loss and penalty."""

    targets: np.ndarray  #: (n_samples, n_outputs)
    sample_weight: np.ndarray  #: (n_samples,)
    loss_code: int  #: loss code (codes.SQUARED_ERROR, ...)
    alpha: float  #: L2 penalty
    probability_clip: float  #: log loss clips probabilities to [clip, 1 - clip]
    huber_delta: float  #: Huber loss: where the squared part turns linear
    quantile: float  #: pinball loss: the quantile learned


class Work(NamedTuple):
    """Buffers for at most ``max_rows`` samples at a time (``layout.nodes_of``).

    Each node keeps its activation; the output nodes also keep their net
    inputs, from which a loss can be computed where the activation has lost
    them (an exp output underflowing to 0). Hidden nodes keep their net
    inputs in ``net_inputs`` only when their activation's derivative needs
    them (``codes.NET_INPUT_ACTIVATIONS``); otherwise it is empty. So is
    ``dropout_scales`` unless the network drops nodes (``kernels.dropout``).
    """

    gathered_inputs: np.ndarray  #: (max_rows, n_features) rows gathered from X, or (0, ...)
    activations: np.ndarray  #: every node's activation, layer after layer
    deltas: np.ndarray  #: every node's delta (empty when only predicting)
    net_inputs: np.ndarray  #: every node's net input, laid out as ``activations``, or empty
    dropout_scales: np.ndarray  #: every node's dropout factor, laid out so, or empty
    output_net_inputs: np.ndarray  #: (max_rows, n_outputs)
    max_rows: int
    blocks: "Blocks"  #: how the large matrix products are computed


class Blocks(NamedTuple):
    """How a large matrix product is computed (``products.matrix_product``):
    whole, as BLAS chooses, or in fixed blocks of its rows or its columns,
    one BLAS call each. The blocks depend on the shapes and their count
    only, so the result does not depend on how many threads share them."""

    count: int  #: blocks of the result (1: whole products)
    shared: bool  #: shared out over Numba's threads; else computed in turn


#: Whole products: what predictions, online learning and the trace use.
WHOLE = Blocks(1, False)


class Optimizer(NamedTuple):
    """SGD or Adam: its state and its settings for the coming epoch."""

    kind: int  #: optimiser code (codes.SGD, codes.ADAM)
    first_moments: np.ndarray  #: SGD's velocities or Adam's first moments
    second_moments: np.ndarray  #: Adam's second moments (empty for SGD)
    step: np.ndarray  #: (1,) int64: Adam's updates so far, across calls
    learning_rate: float
    momentum: float
    nesterov: bool
    beta_1: float
    beta_2: float
    epsilon: float
