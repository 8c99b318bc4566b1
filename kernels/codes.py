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
LEAKY_RELU = 6
ELU = 7
GELU = 8
SOFTPLUS = 9
SILU = 10

ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "softmax": SOFTMAX,
    "exp": EXP,
    "leaky_relu": LEAKY_RELU,
    "elu": ELU,
    "gelu": GELU,
    "softplus": SOFTPLUS,
    "silu": SILU,
}

#: Activations whose derivative is written in terms of the net input, which
#: the forward pass then keeps for every node (``bundles.Work.net_inputs``).
NET_INPUT_ACTIVATIONS = frozenset({GELU, SILU})

SQUARED_ERROR = 0
LOG_LOSS = 1
POISSON = 2
HUBER = 3
QUANTILE = 4

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "log_loss": LOG_LOSS,
    "poisson": POISSON,
    "huber": HUBER,
    "quantile": QUANTILE,
}

SGD = 0
ADAM = 1

OPTIMIZER_CODES = {"sgd": SGD, "adam": ADAM}
