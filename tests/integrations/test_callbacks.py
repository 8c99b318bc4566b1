"""scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9) on a
numba-mlp fit: one subtask per epoch (per iteration for L-BFGS).

References: fits stopped by ``max_iter`` instead of a callback, scikit-learn's
own ``ScoringMonitor`` and ``ProgressBar``, ``accuracy_score``.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numba_mlp import MLPClassifier

from helpers import Y_BIN, X

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn >= 1.9 has callbacks")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="lbfgs"),
]


class Recorder:
    """A callback that records its hooks and asks to stop after ``stop_after`` steps."""

    def __init__(self, stop_after=None, fail_at=None):
        self.stop_after = stop_after
        self.events = []
        self.models = []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, X=None, y=None):
        self.events.append(("end", context.task_name))
        if context.parent is None:
            return False
        self.models.append(fitted_estimator)
        return self.stop_after is not None and len(self.models) >= self.stop_after


def _clf(**params):
    return MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0, **params)


@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: p["solver"])
def test_a_callback_stops_training_after_the_step_it_returns_true(params):
    recorder = Recorder(stop_after=4)
    stopped = _clf(**params).set_callbacks(recorder).fit(X, Y_BIN)
    # the reference: the same fit, stopped by max_iter after 4 steps
    capped = _clf(**params).set_params(max_iter=4).fit(X, Y_BIN)

    assert stopped.n_iter_ == capped.n_iter_ == 4
    for ours, theirs in zip(
        stopped.coefs_ + stopped.intercepts_, capped.coefs_ + capped.intercepts_
    ):
        np.testing.assert_array_equal(ours, theirs)
    if params["solver"] != "lbfgs":
        assert len(stopped.loss_curve_) == 4


@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: p["solver"])
def test_one_subtask_per_step_and_the_model_of_each_step(params):
    recorder = Recorder()
    model = _clf(**params).set_params(max_iter=5).set_callbacks(recorder).fit(X, Y_BIN)
    step = "iteration" if params["solver"] == "lbfgs" else "epoch"
    assert recorder.events[0] == "setup" and recorder.events[-1] == "teardown"
    assert recorder.events[1] == ("begin", "fit") and recorder.events[-2] == ("end", "fit")
    assert recorder.events.count(("end", step)) == model.n_iter_ == len(recorder.models)
    # the model handed at step 3 predicts as a fit of 3 steps does
    three_steps = _clf(**params).set_params(max_iter=3).fit(X, Y_BIN)
    np.testing.assert_array_equal(recorder.models[2].predict_proba(X), three_steps.predict_proba(X))
    # and is a copy: the fit went on without changing it
    assert not np.array_equal(recorder.models[2].coefs_[0], model.coefs_[0])


def test_scoring_monitor_logs_each_epoch_and_the_fit():
    monitor = callback.ScoringMonitor(scoring="accuracy")
    model = _clf().set_params(max_iter=4).set_callbacks(monitor).fit(X, Y_BIN)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    (fit,) = [row for row in rows if row["task_name"] == "fit"]
    assert len(epochs) == 4
    assert fit["accuracy"] == accuracy_score(Y_BIN, model.predict(X))


def test_grid_search_clones_carry_the_callbacks():
    monitor = callback.ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(
        _clf().set_params(max_iter=3).set_callbacks(monitor), {"alpha": [1e-4, 1e-2]}, cv=2
    ).fit(X, Y_BIN)
    rows = [row for log in monitor.get_logs(select="all") for row in log.data]
    # 2 candidates x 2 folds + the refit, each a fit task and its 3 epochs
    assert len(search.cv_results_["params"]) * 2 + 1 == 5
    assert sum(row["task_name"] == "fit" for row in rows) == 5
    assert sum(row["task_name"] == "epoch" for row in rows) == 15


def test_progress_bar_through_a_pipeline(capsys):
    pytest.importorskip("rich")
    pipeline = make_pipeline(StandardScaler(), _clf().set_params(max_iter=3))
    pipeline.set_callbacks(callback.ProgressBar()).fit(X, Y_BIN)
    printed = capsys.readouterr().out
    assert "MLPClassifier - fit" in printed and "StandardScaler - fit" in printed


def test_verbose_still_prints_with_callbacks(capsys):
    _clf().set_params(max_iter=2, verbose=True).set_callbacks(Recorder()).fit(X, Y_BIN)
    printed = capsys.readouterr().out
    assert "Iteration 1, loss = " in printed and "Iteration 2, loss = " in printed


def test_a_failed_fit_tears_callbacks_down_and_leaves_the_model():
    recorder = Recorder()
    model = _clf().set_params(max_iter=2).fit(X, Y_BIN)
    before = [c.copy() for c in model.coefs_]
    diverging = dict(solver="sgd", learning_rate_init=1e3, max_iter=300, tol=0.0)
    model.set_params(warm_start=True, n_iter_no_change=1000, **diverging)
    model.set_callbacks(recorder)
    with pytest.raises(ValueError, match="non-finite"):
        model.fit(X * 1e150, Y_BIN)  # diverges within a few epochs
    assert recorder.events[:3] == ["setup", ("begin", "fit"), ("begin", "epoch")]
    assert recorder.events[-1] == "teardown"
    for ours, theirs in zip(model.coefs_, before):
        np.testing.assert_array_equal(ours, theirs)
    assert model._skl_callbacks == [recorder]


def test_without_callbacks_nothing_is_created():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _clf().set_params(max_iter=2).fit(X, Y_BIN)
    assert not hasattr(model, "_callback_fit_ctx")
    assert not hasattr(model, "_skl_callbacks")
