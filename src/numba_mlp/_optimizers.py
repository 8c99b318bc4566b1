"""State of the stochastic optimisers between epochs (and partial_fit calls).

The per-batch updates run inside the epoch kernel; what stays in Python is
what scikit-learn's optimisers do between epochs: the learning-rate schedule
and the decision to stop (or, for the 'adaptive' schedule, to divide the
learning rate by 5).
"""

import copy

import numpy as np

from numba_mlp.kernels.bundles import Optimizer
from numba_mlp.kernels.codes import OPTIMIZER_CODES


class OptimizerState:
    """Hyperparameters and moment buffers of SGD or Adam for one network.

    ``first_moments`` holds SGD's velocities or Adam's first moments,
    ``second_moments`` Adam's second moments; both have the layout of the
    flat parameter vector. Hyperparameters are frozen when the state is made,
    as scikit-learn freezes them in its optimiser objects.
    """

    def __init__(self, estimator, n_params, dtype):
        self.solver = estimator.solver
        self.learning_rate_init = estimator.learning_rate_init
        self.learning_rate = float(estimator.learning_rate_init)
        self.lr_schedule = estimator.learning_rate
        self.momentum = estimator.momentum
        self.nesterov = estimator.nesterovs_momentum
        self.power_t = estimator.power_t
        self.beta_1 = estimator.beta_1
        self.beta_2 = estimator.beta_2
        self.epsilon = estimator.epsilon
        self.first_moments = np.zeros(n_params, dtype=dtype)
        self.second_moments = np.zeros(n_params if self.solver == "adam" else 0, dtype=dtype)
        self.step = np.zeros(1, dtype=np.int64)

    def continued(self):
        """A copy to go on training with, its moment buffers fresh writable
        arrays: the kernels update them in place, so the state kept by an
        earlier call (or loaded read-only from a joblib memmap) is never
        written to, and no kernel is compiled for read-only buffers."""
        state = copy.copy(self)
        state.first_moments = np.array(self.first_moments, order="C")
        state.second_moments = np.array(self.second_moments, order="C")
        state.step = np.array(self.step, order="C")
        return state

    def bundle(self):
        """The ``Optimizer`` bundle for the next epoch kernel (moments shared, not copied)."""
        return Optimizer(
            OPTIMIZER_CODES[self.solver],
            self.first_moments,
            self.second_moments,
            self.step,
            float(self.learning_rate),
            float(self.momentum),
            bool(self.nesterov),
            float(self.beta_1),
            float(self.beta_2),
            float(self.epsilon),
        )

    def iteration_ends(self, time_step):
        """Update the 'invscaling' learning rate after an epoch (SGD only)."""
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose, say=print):
        """Return True to stop; 'adaptive' SGD divides the rate by 5 instead.

        With ``verbose``, the decision is reported through ``say``.
        """
        if self.solver == "adam" or self.lr_schedule != "adaptive":
            if verbose:
                say(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                say(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            say(msg + " Setting learning rate to %f" % self.learning_rate)
        return False
