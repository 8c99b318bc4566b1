"""Numba kernels of numba-mlp: the seeds' node-by-node algorithm, compiled.

Modules, in the order a sample meets them: ``forward`` (net input),
``activations`` (activation and its derivative), ``losses``, ``backward``
(deltas and gradients), ``sparse`` (the first layer for CSR input),
``optimizers``, ``network`` (a whole network on one batch) and ``training``
(an epoch, and the full-batch loss and gradient for L-BFGS). ``codes`` holds
the integer codes for options; ``layout`` says where each layer lives in the
flat buffers.
"""

from . import codes
from .network import predict_outputs
from .training import loss_and_gradient, train_epoch

__all__ = ["codes", "loss_and_gradient", "predict_outputs", "train_epoch"]
