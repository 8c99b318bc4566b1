"""Numba kernels of numba-mlp: the handouts' node-by-node algorithm, compiled.

Modules, in the order a sample meets them: ``forward`` (net input and
activation of a layer), ``activations`` (each activation and its
derivative), ``losses``, ``backward`` (deltas and gradients), ``sparse``
(the first layer for CSR input), ``optimizers``, ``network`` (a whole network
on one batch) and ``training`` (an epoch, and the full-batch loss and
gradient for L-BFGS). ``bundles`` names the arguments they share, ``codes``
holds the integer codes for options, and ``layout`` says where each layer
lives in the flat buffers. Everything here is compiled; the Python that
drives it lives in ``numba_mlp``.
"""

from . import codes
from .bundles import Data, Net, Optimizer, Problem, Work
from .network import predict_outputs
from .training import loss_and_gradient, mean_data_loss, train_epoch

__all__ = [
    "Data",
    "Net",
    "Optimizer",
    "Problem",
    "Work",
    "codes",
    "loss_and_gradient",
    "mean_data_loss",
    "predict_outputs",
    "train_epoch",
]
