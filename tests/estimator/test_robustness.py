"""What lies around a fit: read-only fitted state, attributes that cannot be
copied, callbacks that raise, and parameters that cannot fit the target.

References: the same fit from a writable copy (joblib memmaps), scikit-learn's
estimators given the same attributes and edits, ``sample_weight`` for a
class weight of 0, and the output activation scikit-learn chooses. A refused
call runs no epoch (``no_epoch``) and leaves the estimator bitwise as it was
(``snapshot`` / ``assert_unchanged``).
"""

import copy
import math
import threading

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from numba_mlp import MLPClassifier, MLPRegressor, kernels
from numba_mlp import _multilayer_perceptron as mlp

from helpers import (
    SMALL,
    Y_3,
    Y_BIN,
    Y_REG,
    X,
    assert_bitwise_same_fit,
    assert_not_fitted,
    assert_unchanged,
    snapshot,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: A multilabel target: three independent labels, two of them in some rows.
Y_MULTILABEL = np.column_stack([Y_BIN, X[:, 1] > 0, X[:, 2] > 0.5]).astype(int)


@pytest.fixture
def forbid_epochs(monkeypatch):
    """Call it to fail the test if a training epoch (or an L-BFGS
    evaluation) starts from then on."""

    def refused(*args, **kwargs):
        raise AssertionError("an epoch ran before the error")

    def forbid():
        monkeypatch.setattr(mlp.EpochRunner, "run_epoch", refused)
        monkeypatch.setattr(mlp.FullBatchObjective, "__call__", refused)

    return forbid


@pytest.fixture
def no_epoch(forbid_epochs):
    """Fail the test if a training epoch (or an L-BFGS evaluation) starts."""
    forbid_epochs()


def _signatures():
    """Every compiled signature of every kernel ``numba_mlp.kernels`` exports."""
    return {
        name: set(getattr(kernels, name).signatures)
        for name in kernels.__all__
        if hasattr(getattr(kernels, name), "signatures")
    }


# ---------------------------------------------------------------------------
# read-only fitted state: joblib memmaps
# ---------------------------------------------------------------------------

MEMMAP_CASES = [
    (MLPClassifier, dict(solver="adam"), Y_3),
    (MLPClassifier, dict(solver="sgd", learning_rate_init=0.05), Y_3),
    (MLPRegressor, dict(solver="adam"), Y_REG),
]


@pytest.mark.parametrize("cls, params, y", MEMMAP_CASES, ids=["adam", "sgd", "regressor"])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_training_goes_on_from_a_joblib_memmap(tmp_path, cls, params, y, how):
    fitted = cls(**SMALL, **params).fit(X, y)
    fitted.partial_fit(X, y)  # every kernel this test uses is compiled
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    mapped = joblib.load(path, mmap_mode="r")
    writable = joblib.load(path)
    moments = mapped._optimizer.first_moments
    assert isinstance(moments, np.memmap) and not moments.flags.writeable  # the case

    before = _signatures()
    for model in (mapped, writable):
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.set_params(warm_start=True, max_iter=3).fit(X, y)
    assert _signatures() == before  # no kernel compiled for read-only state
    assert_bitwise_same_fit(mapped, writable)
    assert mapped.loss_curve_ == writable.loss_curve_
    assert_array_equal(mapped.predict(X), writable.predict(X))
    assert_bitwise_same_fit(joblib.load(path), fitted)  # the file was never written


def test_predict_on_read_only_fitted_weights(tmp_path):
    fitted = MLPClassifier(**SMALL).fit(X, Y_3)
    expected = fitted.predict_proba(X)
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    assert_array_equal(joblib.load(path, mmap_mode="r").predict_proba(X), expected)
    frozen_weights = MLPClassifier(**SMALL).fit(X, Y_3)
    for array in frozen_weights.coefs_ + frozen_weights.intercepts_:
        array.setflags(write=False)
    assert_array_equal(frozen_weights.predict_proba(X), expected)


@pytest.mark.slow
def test_partial_fit_in_joblib_workers_that_memmap_the_estimator():
    fitted = MLPClassifier(**SMALL).fit(X, Y_3)

    def go_on(model):
        mapped = isinstance(model._optimizer.first_moments, np.memmap)
        return mapped, model.partial_fit(X, Y_3)

    # arrays over 64 bytes reach the workers memory-mapped (read-only)
    results = joblib.Parallel(n_jobs=2, max_nbytes=64)(
        joblib.delayed(go_on)(fitted) for _ in range(2)
    )
    here = copy.deepcopy(fitted).partial_fit(X, Y_3)
    for mapped, model in results:
        assert mapped
        assert_bitwise_same_fit(model, here)


# ---------------------------------------------------------------------------
# attributes that cannot be deep-copied
# ---------------------------------------------------------------------------


def _uncopyable(kind, tmp_path):
    if kind == "lock":
        return threading.Lock()
    if kind == "file":
        return open(tmp_path / "log.txt", "w")  # noqa: SIM115 - closed by the test
    if kind == "module":
        return math
    return (i for i in range(3))


@pytest.mark.parametrize("kind", ["lock", "file", "module", "generator"])
@pytest.mark.parametrize("how", ["fit", "partial_fit", "warm_start"])
def test_an_attribute_that_cannot_be_copied_is_kept_as_it_is(tmp_path, kind, how):
    def train(est):
        if how == "partial_fit":
            return est.partial_fit(X, Y_3, classes=np.unique(Y_3)).partial_fit(X, Y_3)
        if how == "warm_start":
            return est.set_params(warm_start=True).fit(X, Y_3).fit(X, Y_3)
        return est.fit(X, Y_3)

    attribute = _uncopyable(kind, tmp_path)
    try:
        ours, theirs = MLPClassifier(**SMALL), SkMLPClassifier(**SMALL)
        ours.handle = theirs.handle = attribute
        train(theirs)  # the reference: scikit-learn fits with it
        train(ours)
        assert ours.handle is attribute
        assert_array_equal(ours.predict(X), theirs.predict(X))

        before = snapshot(ours)
        with pytest.raises(ValueError, match="X has 3 features"):
            ours.partial_fit(X[:, :3], Y_3)  # a failed call still rolls back
        assert ours.handle is attribute
        assert_unchanged(ours, before)
    finally:
        if kind == "file":
            attribute.close()


# ---------------------------------------------------------------------------
# callbacks whose hooks raise
# ---------------------------------------------------------------------------

CALLBACK_HOOKS = ["setup", "on_fit_task_begin", "on_fit_task_end", "teardown"]


class Failing:
    """A callback that raises in ``hook``, and nowhere else."""

    def __init__(self, hook):
        self.hook = hook

    def _maybe_fail(self, hook):
        if hook == self.hook:
            raise RuntimeError(f"the callback failed in {hook}")

    def setup(self, estimator, context):
        self._maybe_fail("setup")

    def teardown(self, estimator, context):
        self._maybe_fail("teardown")

    def on_fit_task_begin(self, estimator, context):
        self._maybe_fail("on_fit_task_begin")

    def on_fit_task_end(self, estimator, context, **kwargs):
        self._maybe_fail("on_fit_task_end")
        return False


@pytest.mark.parametrize("hook", CALLBACK_HOOKS)
@pytest.mark.parametrize("how", ["adam", "lbfgs", "partial_fit"])
@pytest.mark.parametrize("state", ["unfitted", "fitted"])
def test_a_callback_that_raises_leaves_the_estimator_as_it_was(hook, how, state):
    pytest.importorskip("sklearn.callback", reason="scikit-learn >= 1.9 has callbacks")
    est = MLPClassifier(**SMALL, solver="lbfgs" if how == "lbfgs" else "adam")
    if state == "fitted":
        est.fit(X, Y_BIN)
    est.set_callbacks(Failing(hook))
    before = snapshot(est)
    with pytest.raises(RuntimeError, match=f"failed in {hook}"):
        if how == "partial_fit":
            est.partial_fit(X, Y_BIN, classes=np.unique(Y_BIN))
        else:
            est.fit(X, Y_BIN)
    assert_unchanged(est, before)
    if state == "unfitted":
        assert_not_fitted(est)
