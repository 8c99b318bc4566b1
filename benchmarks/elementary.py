"""asv suite: one epoch per hidden activation, where the elementary functions
(kernels/elementary.py) are paid for.

5,000 x 20, hidden (100,), adam, one epoch a fit (``tol=0``), the bench
command's binary data. ``time_epoch`` is parametrised over the backend too:
scikit-learn has identity, logistic, tanh and relu only (the others are
skipped for it). ``track_ratio_to_relu`` is our epoch over our relu epoch,
measured in one process with the fits taking turns: an activation's cost
beside the layer's products.
"""

from numba_mlp import benchmark_cases

from .common import BACKENDS, estimator_class, make_estimator, silence_warnings, warm_up

silence_warnings()

N_SAMPLES, N_FEATURES, HIDDEN = 5_000, 20, (100,)
ACTIVATIONS = ("relu", "identity", "logistic", "tanh", "leaky_relu", "elu", "gelu", "silu",
               "softplus")  # fmt: skip
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
RATIO_REPEATS = 5


def _epoch_estimator(backend, activation, X, y):
    """A one-epoch adam estimator of ``backend``, its kernels compiled (or loaded)."""
    warm_up(backend, X, y, HIDDEN, activation=activation)
    return make_estimator(backend, HIDDEN, solver="adam", max_iter=1, activation=activation)


class HiddenActivationEpoch:
    """One epoch of fit per hidden activation."""

    params = (list(BACKENDS), list(ACTIVATIONS))
    param_names = ["backend", "activation"]
    number = 1
    repeat = (1, 5, 30.0)
    processes = 1
    warmup_time = 0.0
    timeout = 300

    def setup(self, backend, activation):
        silence_warnings()
        estimator_class(backend)  # NotImplementedError -> skipped
        if backend == "sklearn" and activation not in SKLEARN_ACTIVATIONS:
            raise NotImplementedError(f"scikit-learn has no {activation!r} activation")
        self.X, self.y = benchmark_cases.make_data(N_SAMPLES, N_FEATURES)
        self.estimator = _epoch_estimator(backend, activation, self.X, self.y)

    def time_epoch(self, backend, activation):
        self.estimator.fit(self.X, self.y)


class HiddenActivationRatio:
    """Our epoch with each hidden activation over our relu epoch (medians of
    ``RATIO_REPEATS``, fits interleaved)."""

    params = (list(ACTIVATIONS),)
    param_names = ["activation"]
    unit = "ratio"
    timeout = 300

    def setup(self, activation):
        silence_warnings()
        estimator_class("numba_mlp")
        self.X, self.y = benchmark_cases.make_data(N_SAMPLES, N_FEATURES)
        self.estimators = {
            name: _epoch_estimator("numba_mlp", name, self.X, self.y)
            for name in {activation, "relu"}
        }

    def track_ratio_to_relu(self, activation):
        medians = benchmark_cases.interleaved_medians(
            {name: lambda e=e: e.fit(self.X, self.y) for name, e in self.estimators.items()},
            RATIO_REPEATS,
        )
        return medians[activation] / medians["relu"]
