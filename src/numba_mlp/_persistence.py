"""Saving fitted models: the types skops must be told to trust.

``pickle`` and ``joblib`` need nothing: an estimator holds only NumPy arrays,
numbers, strings and two small plain classes (the estimator and the
optimiser state between ``partial_fit`` calls), never compiled code, so a
model loaded in a new process calls the kernels from Numba's on-disk cache.

``skops.io`` refuses to load any type it does not know unless told to trust
it; numba-mlp's are listed here:

    import skops.io as sio
    from numba_mlp import SKOPS_TRUSTED_TYPES
    sio.dump(model, "model.skops")
    model = sio.load("model.skops", trusted=SKOPS_TRUSTED_TYPES)
"""

from ._multilayer_perceptron import MLPClassifier, MLPRegressor
from ._optimizers import OptimizerState


def _type_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


#: numba-mlp's types inside a saved model, as ``skops.io.get_untrusted_types`` names them.
SKOPS_TRUSTED_TYPES = [_type_name(cls) for cls in (MLPClassifier, MLPRegressor, OptimizerState)]
