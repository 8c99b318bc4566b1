"""numba-mlp: scikit-learn's multilayer perceptron, as the textbook's
node-by-node algorithm compiled to native code with Numba."""

from ._display import LossCurveDisplay
from ._multilayer_perceptron import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = [
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "__version__",
]
