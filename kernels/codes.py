"""Small integer codes for the options that cross into the kernels.

Kernels never see strings: the estimator layer translates each option once,
through the dictionaries below, and the kernels branch on the integers.
"""

IDENTITY = 0
LOGISTIC = 1
TANH = 2
RELU = 3
SOFTMAX = 4
EXP = 5

ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "softmax": SOFTMAX,
    "exp": EXP,
}

SQUARED_ERROR = 0
LOG_LOSS = 1
POISSON = 2

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "log_loss": LOG_LOSS,
    "poisson": POISSON,
}

SGD = 0
ADAM = 1

OPTIMIZER_CODES = {"sgd": SGD, "adam": ADAM}
