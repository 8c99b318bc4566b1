"""numba-mlp's own activations and regression losses, through the public API.

- One full-batch SGD step (no momentum) taken by ``fit`` moves the weights
  by -learning_rate x the gradient of the reported loss, the gradient
  computed by central finite differences of the NumPy reference's loss
  (tests/reference.py, which writes each activation from SciPy's special
  functions, independently of the kernels); for each new hidden
  activation, and for the Huber and pinball losses with relu and tanh
  hidden layers.
- ``loss_`` after an L-BFGS fit is the pinball loss of
  ``sklearn.metrics.mean_pinball_loss``, and the Huber loss of a NumPy
  formula, of ``predict``, averaged over outputs, plus the L2 term.
- Quantile regression calibrates: about 90% of y lies below the 0.9
  quantile's prediction (the direction of the pinball gradient).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_pinball_loss

from numba_mlp import MLPClassifier, MLPRegressor

import reference as ref

N_SAMPLES = 12
LAYER_UNITS = [3, 4, 2]  # two outputs: the averaged losses are scaled by 2
ALPHA = 1e-3
LEARNING_RATE = 0.05
H = 1e-6


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def tiny_problem(seed, n_outputs=LAYER_UNITS[-1]):
    rng = np.random.default_rng(seed)
    units = LAYER_UNITS[:-1] + [n_outputs]
    X = rng.normal(size=(N_SAMPLES, units[0]))
    y = rng.uniform(-1.0, 1.5, (N_SAMPLES, n_outputs))
    coefs, intercepts = ref.random_parameters(units, rng)
    return X, y, coefs, intercepts, units


def distance_to_kinks(X, y, coefs, intercepts, hidden, loss):
    """How far the network is from a kink of its hidden activation (net
    input 0 for the ReLUs) or of its loss (residual 0 for the pinball loss,
    +-delta for Huber's second derivative)."""
    distances = [np.inf]
    if hidden in ("relu", "leaky_relu", "elu"):
        distances += [np.abs(net).min() for net in ref.net_inputs(X, coefs, intercepts, hidden)]
    residuals = np.abs(y - ref.forward(X, coefs, intercepts, hidden, "identity")[-1])
    if loss == "quantile":
        distances.append(residuals.min())
    if loss == "huber":
        distances.append(np.abs(residuals - ref.HUBER_DELTA).min())
    return min(distances)


def summed_loss(params, X, y, hidden, loss, units):
    """The reported loss with its data part summed over outputs (what the
    gradient is the gradient of), from the NumPy reference."""
    coefs, intercepts = ref.unpack(params, units)
    ones = np.ones(X.shape[0])
    value, _, _ = ref.loss_and_gradient(
        X, y, ones, coefs, intercepts, hidden, "identity", loss, ALPHA
    )
    l2 = 0.5 * ALPHA * sum((W**2).sum() for W in coefs) / X.shape[0]
    return units[-1] * (value - l2) + l2


def finite_difference_gradient(params, *args):
    gradient = np.empty_like(params)
    for p in range(params.size):
        step = np.zeros_like(params)
        step[p] = H
        gradient[p] = (summed_loss(params + step, *args) - summed_loss(params - step, *args)) / (
            2 * H
        )
    return gradient


def one_sgd_step(X, y, coefs, intercepts, hidden, loss):
    est = MLPRegressor(
        loss=loss,
        hidden_layer_sizes=(coefs[0].shape[1],),
        activation=hidden,
        solver="sgd",
        batch_size=X.shape[0],
        momentum=0.0,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATE,
        max_iter=1,
        shuffle=False,
        alpha=ALPHA,
        huber_delta=ref.HUBER_DELTA,
        quantile=ref.QUANTILE,
        random_state=0,
    )
    quiet_fit(est, X, y, coefs_init=coefs, intercepts_init=intercepts)
    return ref.pack(est.coefs_, est.intercepts_)


CASES = [(hidden, "squared_error") for hidden in ref.NEW_HIDDEN_ACTIVATIONS] + [
    (hidden, loss) for loss in ("huber", "quantile") for hidden in ("relu", "tanh")
]


@pytest.mark.parametrize("hidden,loss", CASES)
def test_one_step_follows_finite_difference_gradient(hidden, loss):
    X, y, coefs, intercepts, units = tiny_problem(seed=3)
    assert distance_to_kinks(X, y, coefs, intercepts, hidden, loss) > 1e-3
    if loss == "huber":  # both branches of the Huber loss are reached
        residuals = np.abs(y - ref.forward(X, coefs, intercepts, hidden, "identity")[-1])
        assert (residuals < ref.HUBER_DELTA).any() and (residuals > ref.HUBER_DELTA).any()
    params = ref.pack(coefs, intercepts)

    moved = one_sgd_step(X, y, coefs, intercepts, hidden, loss)
    numeric = finite_difference_gradient(params, X, y, hidden, loss, units)
    taken = (params - moved) / LEARNING_RATE
    relative_error = np.abs(taken - numeric).max() / np.abs(numeric).max()
    assert relative_error < 1e-6


@pytest.mark.parametrize("hidden", ref.NEW_HIDDEN_ACTIVATIONS)
def test_classifier_new_activation_step_follows_reference_gradient(hidden):
    """The same step for a softmax classifier, against the reference's
    gradient of the log loss (which finite differences check in
    tests/kernels)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(N_SAMPLES, 3))
    labels = np.arange(N_SAMPLES) % 3
    coefs, intercepts = ref.random_parameters([3, 4, 3], rng)
    est = MLPClassifier(
        hidden_layer_sizes=(4,),
        activation=hidden,
        solver="sgd",
        batch_size=N_SAMPLES,
        momentum=0.0,
        learning_rate_init=LEARNING_RATE,
        max_iter=1,
        shuffle=False,
        alpha=ALPHA,
        random_state=0,
    )
    quiet_fit(est, X, labels, coefs_init=coefs, intercepts_init=intercepts)
    _, coef_grads, intercept_grads = ref.loss_and_gradient(
        X, np.eye(3)[labels], np.ones(N_SAMPLES), coefs, intercepts, hidden, "softmax",
        "log_loss", ALPHA,
    )  # fmt: skip
    expected = ref.pack(coefs, intercepts) - LEARNING_RATE * ref.pack(coef_grads, intercept_grads)
    np.testing.assert_allclose(ref.pack(est.coefs_, est.intercepts_), expected, rtol=1e-12)


def l2_term(est, n_samples):
    return 0.5 * est.alpha * sum((W**2).sum() for W in est.coefs_) / n_samples


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("q", [0.3, 0.8])
def test_lbfgs_quantile_loss_is_mean_pinball_loss(n_outputs, q):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(80, 3))
    y = X @ rng.normal(size=(3, n_outputs)) + rng.normal(size=(80, n_outputs))
    y = y.ravel() if n_outputs == 1 else y
    est = quiet_fit(
        MLPRegressor(
            loss="quantile", quantile=q, solver="lbfgs", hidden_layer_sizes=(6,),
            alpha=0.5, max_iter=30, random_state=0,
        ),
        X,
        y,
    )  # fmt: skip
    expected = mean_pinball_loss(y, est.predict(X), alpha=q) + l2_term(est, X.shape[0])
    np.testing.assert_allclose(est.loss_, expected, rtol=1e-10)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_lbfgs_huber_loss_is_mean_huber_loss(n_outputs):
    delta = 0.4
    rng = np.random.default_rng(12)
    X = rng.normal(size=(80, 3))
    y = X @ rng.normal(size=(3, n_outputs)) + rng.standard_t(2, size=(80, n_outputs))
    y = y.ravel() if n_outputs == 1 else y
    est = quiet_fit(
        MLPRegressor(
            loss="huber", huber_delta=delta, solver="lbfgs", hidden_layer_sizes=(6,),
            alpha=0.5, max_iter=30, random_state=0,
        ),
        X,
        y,
    )  # fmt: skip
    r = np.abs(np.reshape(y, (80, -1)) - np.reshape(est.predict(X), (80, -1)))
    assert (r < delta).any() and (r > delta).any()
    huber = np.where(r <= delta, 0.5 * r**2, delta * r - 0.5 * delta**2)
    expected = huber.mean() + l2_term(est, X.shape[0])  # mean over samples and outputs
    np.testing.assert_allclose(est.loss_, expected, rtol=1e-10)


def test_quantile_regression_calibrates():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, 2000)
    y = x + rng.normal(scale=0.5, size=x.size)
    est = quiet_fit(
        MLPRegressor(
            loss="quantile", quantile=0.9, solver="lbfgs", hidden_layer_sizes=(8,),
            max_iter=300, random_state=0,
        ),
        x[:, None],
        y,
    )  # fmt: skip
    above = np.mean(y > est.predict(x[:, None]))
    assert abs(above - 0.1) <= 0.03, above
