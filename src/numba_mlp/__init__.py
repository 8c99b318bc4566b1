"""numba-mlp: scikit-learn's multilayer perceptron, as the textbook's
node-by-node algorithm compiled to native code with Numba."""

import sklearn as _sklearn

from ._display import LossCurveDisplay
from ._multilayer_perceptron import MLPClassifier, MLPRegressor
from ._onnx import register_onnx_converters
from ._persistence import SKOPS_TRUSTED_TYPES
from ._trace import LayerTrace, StepTrace, trace_step
from ._versions import warn_if_untested as _warn_if_untested

_warn_if_untested(_sklearn.__version__)

__version__ = "0.1.0"

__all__ = [
    "LayerTrace",
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "SKOPS_TRUSTED_TYPES",
    "StepTrace",
    "__version__",
    "register_onnx_converters",
    "trace_step",
]
