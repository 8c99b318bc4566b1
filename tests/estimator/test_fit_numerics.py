"""Numerical faults of whole fits: divergence and Ctrl-C during fit.

- Divergence is caught in the epoch it happens: without early stopping,
  training stops right after the first epoch whose loss or weights are not
  finite, with scikit-learn's "Solver produced non-finite parameter weights"
  ValueError; with early stopping it goes on as scikit-learn's does and keeps
  the best weights (scikit-learn's #29504).
- KeyboardInterrupt during a stochastic fit keeps the weights of the last
  completed epoch and warns "Training interrupted by user." (scikit-learn's
  warning), whether it arrives before an epoch's kernel runs or just after
  it returns (where a real Ctrl-C lands: Python handles the signal once the
  GIL-free kernel is back). L-BFGS lets it through, as scikit-learn does,
  and the estimator is left as it was.

(The overflow-safe kernels underneath: tests/kernels/test_kernel_numerics.py.
Diverging fits against scikit-learn's error message, and continuations that
keep the model: tests/estimator/test_fit_state_errors.py.)
"""

import pickle
import re
import signal
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkRegressor

import numba_mlp._training as training
from numba_mlp import MLPClassifier, MLPRegressor

from helpers import NON_FINITE

# ---------------------------------------------------------------------------
# divergence is caught in the epoch it happens
# ---------------------------------------------------------------------------

_rng = np.random.RandomState(0)
X = _rng.randn(80, 5)
Y_REG = X @ _rng.randn(5) + 0.1 * _rng.randn(80)
Y_CLF = (Y_REG > 0).astype(int)


class EpochSpy:
    """Wraps the epoch kernel: records each epoch's loss and weights' finiteness;
    optionally interrupts call ``interrupt_at``: before the real kernel runs by
    raising KeyboardInterrupt, or after it by sending a real SIGINT (Ctrl-C),
    which training holds back until the epoch is counted."""

    def __init__(self, interrupt_at=None, after_kernel=False):
        self.kernel = training.train_epoch
        self.calls = []
        self.interrupt_at = interrupt_at
        self.after_kernel = after_kernel

    def __call__(self, *args):
        call = len(self.calls) + 1
        if call == self.interrupt_at and not self.after_kernel:
            self.calls.append(None)
            raise KeyboardInterrupt
        loss = self.kernel(*args)
        params = args[5]  # train_epoch(data, net, problem, order, batch_size, params, ...)
        self.calls.append((loss, bool(np.isfinite(params).all())))
        if call == self.interrupt_at:
            signal.raise_signal(signal.SIGINT)
        return loss


DIVERGING = [
    ("reg", dict(solver="sgd", learning_rate_init=0.5, momentum=0.9), 30.0),
    ("reg", dict(solver="sgd", learning_rate_init=5.0, momentum=0.0), 1.0),
    ("clf", dict(solver="sgd", learning_rate_init=1e3), 1e150),
]
# (Adam cannot be made to diverge this way: once its second moment overflows,
# each step m / (sqrt(inf) + eps) is 0 and the weights stop moving, as in
# scikit-learn; see test_sklearn_edges.py and test_input_errors.py.)


@pytest.mark.parametrize("kind, params, scale", DIVERGING)
def test_divergence_stops_training_in_the_epoch_it_happens(kind, params, scale, monkeypatch):
    spy = EpochSpy()
    monkeypatch.setattr(training, "train_epoch", spy)
    cls, y = (MLPRegressor, Y_REG) if kind == "reg" else (MLPClassifier, Y_CLF)
    est = cls(
        hidden_layer_sizes=(8,),
        max_iter=300,
        random_state=0,
        tol=0.0,
        n_iter_no_change=1000,
        **params,
    )
    with pytest.raises(ValueError, match=NON_FINITE) as excinfo:
        est.fit(X * scale, y)
    first_bad = next(
        i for i, (loss, finite) in enumerate(spy.calls, 1) if not (np.isfinite(loss) and finite)
    )
    assert first_bad == len(spy.calls), "training went on after the loss or weights blew up"
    assert re.search(rf"during epoch {first_bad}\b", str(excinfo.value)), str(excinfo.value)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("kind", ["reg", "clf"])
def test_lbfgs_divergence_raises_scikit_learns_error(kind):
    cls, y = (MLPRegressor, Y_REG) if kind == "reg" else (MLPClassifier, Y_CLF)
    est = cls(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0)
    with pytest.raises(ValueError, match=NON_FINITE):
        est.fit(X * 1e300, y)
    assert not hasattr(est, "coefs_")


# ---------------------------------------------------------------------------
# divergence under early stopping: scikit-learn's #29504
# ---------------------------------------------------------------------------


def test_diverging_fit_with_early_stopping_matches_scikit_learn():
    X_iris, y_iris = load_iris(return_X_y=True)
    params = dict(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        learning_rate_init=1,
        max_iter=20,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    )
    fitted = []
    for cls in (SkRegressor, MLPRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(cls(**params).fit(X_iris, y_iris))
    sk, ours = fitted
    assert ours.n_iter_ == sk.n_iter_
    assert isinstance(ours.validation_scores_[-1], float)
    assert np.isnan(ours.validation_scores_[-1])
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-9)
    assert ours.best_validation_score_ == pytest.approx(sk.best_validation_score_, rel=1e-9)
    for ours_w, sk_w in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(ours_w, sk_w, rtol=1e-9, atol=1e-12)


def test_diverging_fit_without_early_stopping_still_raises():
    X_iris, y_iris = load_iris(return_X_y=True)
    est = MLPRegressor(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        learning_rate_init=1,
        max_iter=20,
        random_state=0,
    )
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X_iris, y_iris)
    assert not hasattr(est, "coefs_")


# ---------------------------------------------------------------------------
# KeyboardInterrupt
# ---------------------------------------------------------------------------

INTERRUPT_CASES = [
    ("clf", dict(solver="adam")),
    ("clf", dict(solver="sgd", momentum=0.9)),
    ("reg", dict(solver="adam")),
    ("reg", dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.05)),
    ("clf", dict(solver="adam", early_stopping=True)),
    ("reg", dict(solver="sgd", batch_size=7, shuffle=False)),
]


def _fit(kind, params, **kw):
    cls, y = (MLPRegressor, Y_REG) if kind == "reg" else (MLPClassifier, Y_CLF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(hidden_layer_sizes=(6, 4), random_state=0, **{**params, **kw}).fit(X, y)


@pytest.mark.parametrize("after_kernel", [False, True], ids=["before-kernel", "after-kernel"])
@pytest.mark.parametrize("kind, params", INTERRUPT_CASES)
def test_keyboard_interrupt_keeps_the_last_completed_epoch(kind, params, after_kernel, monkeypatch):
    # Ctrl-C before the third epoch's kernel keeps two epochs; during it, the
    # third epoch finishes and counts
    completed = 3 if after_kernel else 2
    two_epochs = _fit(kind, params, max_iter=completed)
    spy = EpochSpy(interrupt_at=3, after_kernel=after_kernel)
    monkeypatch.setattr(training, "train_epoch", spy)
    cls, y = (MLPRegressor, Y_REG) if kind == "reg" else (MLPClassifier, Y_CLF)
    est = cls(hidden_layer_sizes=(6, 4), random_state=0, max_iter=20, **params)
    with pytest.warns(UserWarning, match="^Training interrupted by user.$"):
        est.fit(X, y)
    assert len(spy.calls) == 3
    assert est.n_iter_ == completed
    assert est.loss_curve_ == two_epochs.loss_curve_
    for got, want in zip(est.coefs_ + est.intercepts_, two_epochs.coefs_ + two_epochs.intercepts_):
        assert_array_equal(got, want)
    assert_array_equal(est.predict(X), two_epochs.predict(X))
    # and the interrupted model trains on normally
    monkeypatch.setattr(training, "train_epoch", spy.kernel)
    est.set_params(warm_start=True, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert all(np.isfinite(c).all() for c in est.coefs_)


@pytest.mark.parametrize("after_kernel", [False, True], ids=["before-kernel", "after-kernel"])
def test_keyboard_interrupt_in_partial_fit_keeps_a_completed_epoch(after_kernel, monkeypatch):
    est = MLPClassifier(hidden_layer_sizes=(6,), random_state=0)
    est.partial_fit(X, Y_CLF, classes=[0, 1])
    if after_kernel:  # the running epoch finishes: as an uninterrupted call
        reference = pickle.loads(pickle.dumps(est)).partial_fit(X, Y_CLF)
        before = [a.copy() for a in reference.coefs_ + reference.intercepts_]
        adam_step = reference._optimizer.step.copy()
    else:
        before = [a.copy() for a in est.coefs_ + est.intercepts_]
        adam_step = est._optimizer.step.copy()
    monkeypatch.setattr(
        training, "train_epoch", EpochSpy(interrupt_at=1, after_kernel=after_kernel)
    )
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.partial_fit(X, Y_CLF)
    for got, want in zip(est.coefs_ + est.intercepts_, before):
        assert_array_equal(got, want)
    assert_array_equal(est._optimizer.step, adam_step)


@pytest.mark.parametrize("fitted", [False, True])
def test_keyboard_interrupt_in_lbfgs_propagates_and_changes_nothing(fitted, monkeypatch):
    est = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0)
    if fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, Y_REG)
    before = [a.copy() for a in est.coefs_] if fitted else None
    kernel, calls = training.loss_and_gradient, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return kernel(*args)

    monkeypatch.setattr(training, "loss_and_gradient", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y_REG)
    if fitted:
        for got, want in zip(est.coefs_, before):
            assert_array_equal(got, want)
    else:
        assert not hasattr(est, "coefs_")


SIGINT_SCRIPT = r"""
import os, signal, threading, warnings
import numpy as np
from numba_mlp import MLPClassifier

rng = np.random.RandomState(0)
X = rng.randn(2000, 20); y = (X[:, 0] + X[:, 1] > 0).astype(int)
params = dict(hidden_layer_sizes=(32,), random_state=0, tol=0.0, n_iter_no_change=10**6)
MLPClassifier(max_iter=1, **params).fit(X[:50], y[:50])  # load the kernels first

timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
timer.start()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est = MLPClassifier(max_iter=10**6, **params).fit(X, y)
assert any(str(w.message) == "Training interrupted by user." for w in caught)
assert 0 < est.n_iter_ < 10**6 and len(est.loss_curve_) == est.n_iter_
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    again = MLPClassifier(max_iter=est.n_iter_, **params).fit(X, y)
assert again.loss_curve_ == est.loss_curve_
for a, b in zip(est.coefs_ + est.intercepts_, again.coefs_ + again.intercepts_):
    assert np.array_equal(a, b)
print("EPOCHS", est.n_iter_)
"""


@pytest.mark.slow
def test_real_ctrl_c_keeps_the_last_completed_epoch(run_python):
    # A real SIGINT (in a child process: it must not reach pytest): it lands
    # while an epoch kernel runs, and the weights are still those of the
    # epochs that loss_curve_ reports.
    result = run_python(SIGINT_SCRIPT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "EPOCHS" in result.stdout
