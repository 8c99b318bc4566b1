"""Numba kernels of numba-mlp: the handouts' node-by-node algorithm, compiled.

Modules, in the order a sample meets them: ``forward`` (net input and
activation of a layer), ``activations`` (each activation and its
derivative, with ``elementary``'s exponentials, logarithms, tanh and erf,
which vectorise), ``losses``, ``backward`` (deltas and gradients), ``sparse``
(the first layer for CSR input), ``optimizers``, ``network`` (a whole network
on one batch) and ``training`` (an epoch, and the full-batch loss and
gradient for L-BFGS). ``bundles`` names the arguments they share, ``codes``
holds the integer codes for options, ``layout`` says where each layer lives
in the flat buffers, ``checks`` refuses arrays whose sizes do not fit before
a public kernel reads them, and ``retyped`` gives arrays the one type every
call shares, so that each kernel compiles once per dtype. Everything here is
compiled; the Python that drives it lives in ``numba_mlp``.
"""

from . import codes
from .bundles import Blocks, Data, Net, Optimizer, Problem, Work
from .losses import regularised_loss
from .network import finish_gradients, predict_dense, predict_outputs, squared_weights
from .online import train_examples
from .training import (
    loss_and_gradient,
    loss_and_gradient_sums,
    mean_data_loss,
    train_epoch,
)

__all__ = [
    "Blocks",
    "Data",
    "Net",
    "Optimizer",
    "Problem",
    "Work",
    "codes",
    "finish_gradients",
    "loss_and_gradient",
    "loss_and_gradient_sums",
    "mean_data_loss",
    "predict_dense",
    "predict_outputs",
    "regularised_loss",
    "squared_weights",
    "train_epoch",
    "train_examples",
]
