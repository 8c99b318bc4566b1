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
import socket
import threading
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from numba_mlp import MLPClassifier, MLPRegressor, kernels
from numba_mlp import _multilayer_perceptron as mlp
from numba_mlp._network import still_views_of

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
    if kind == "socket":
        return socket.socket()
    return (i for i in range(3))


@pytest.mark.parametrize("kind", ["lock", "file", "socket", "module", "generator"])
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
        if kind in ("file", "socket"):
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


def test_a_failed_partial_fit_cuts_the_loss_curve_back_in_place():
    pytest.importorskip("sklearn.callback", reason="scikit-learn >= 1.9 has callbacks")
    est = MLPClassifier(**SMALL).fit(X, Y_BIN)
    curve = est.loss_curve_
    kept = list(curve)
    est.set_callbacks(Failing("teardown"))
    with pytest.raises(RuntimeError, match="failed in teardown"):
        est.partial_fit(X, Y_BIN)  # the epoch's loss was appended before teardown
    assert est.loss_curve_ is curve
    assert curve == kept


# ---------------------------------------------------------------------------
# the validation set, scoring, class_weight and dropout, before any epoch
# ---------------------------------------------------------------------------

X_VAL = X[:20] + 0.1
ONE_HOT_3 = np.eye(3, dtype=int)[Y_3[:20]]

Y_VAL_REFUSED = [
    ("one-hot y_val, multiclass y", Y_3, ONE_HOT_3, "y_val must hold one class label per sample"),
    (
        "multilabel y_val, multiclass y",
        Y_3,
        Y_MULTILABEL[:20],
        "y_val must hold one class label per sample, as y \\(multiclass\\)",
    ),
    (
        "continuous y_val, binary y",
        Y_BIN,
        Y_REG[:20],
        "target type is 'continuous'",
    ),
    (
        "fewer labels, multilabel y",
        Y_MULTILABEL,
        Y_MULTILABEL[:20, :2],
        "y_val must be a multilabel indicator matrix with 3 columns",
    ),
    (
        "labels 0-2, multilabel y",
        Y_MULTILABEL,
        Y_3[:20],
        "y_val must be a multilabel indicator matrix with 3 columns, as y is, but it is multiclass",
    ),
]


@pytest.mark.parametrize(
    "y, y_val, match", [case[1:] for case in Y_VAL_REFUSED], ids=[c[0] for c in Y_VAL_REFUSED]
)
@pytest.mark.parametrize("scoring", [None, "loss"])
def test_y_val_of_another_target_type_is_refused_before_training(
    no_epoch, y, y_val, match, scoring
):
    est = MLPClassifier(**SMALL, early_stopping=True, scoring=scoring)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, X_val=X_VAL, y_val=y_val)
    assert_not_fitted(est)


@pytest.mark.parametrize(
    "y, y_val",
    [(Y_3, Y_3[:20]), (Y_3, Y_3[:20] % 2), (Y_BIN, Y_BIN[:20]), (Y_MULTILABEL, Y_MULTILABEL[:20])],
    ids=["multiclass", "fewer classes", "binary", "multilabel"],
)
def test_y_val_of_the_training_target_type_is_taken(y, y_val):
    est = MLPClassifier(**SMALL, early_stopping=True).fit(X, y, X_val=X_VAL, y_val=y_val)
    assert len(est.validation_scores_) == est.n_iter_ > 0


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc", "average_precision"])
def test_a_scorer_the_regressor_cannot_answer_is_refused_before_training(no_epoch, scoring):
    est = MLPRegressor(**SMALL, early_stopping=True, scoring=scoring)
    with pytest.raises(ValueError, match=f"scoring='{scoring}' needs .*predict_proba"):
        est.fit(X, Y_REG)
    assert_not_fitted(est)


@pytest.mark.parametrize(
    "cls, scoring, y",
    [(MLPRegressor, "r2", Y_REG), (MLPClassifier, "neg_log_loss", Y_BIN)],
)
def test_a_scorer_the_estimator_answers_is_taken(cls, scoring, y):
    est = cls(**SMALL, early_stopping=True, scoring=scoring).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_ > 0


@pytest.mark.parametrize(
    "class_weight, shown",
    [({0: -1.0, 1: 1.0}, "-1.0"), ({0: np.nan, 1: 1}, "nan"), ({0: np.inf, 1: 1}, "inf")]
    + [({0: "2", 1: 1}, "'2'"), ({0: None, 1: 1}, "None")],
)
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_a_class_weight_that_is_not_a_finite_number_is_refused(no_epoch, class_weight, shown, how):
    est = MLPClassifier(**SMALL, class_weight=class_weight)
    match = f"class_weight must map each class to a finite number >= 0, got {shown} for class 0"
    with pytest.raises(ValueError, match=match):
        if how == "partial_fit":
            est.partial_fit(X, Y_BIN, classes=[0, 1])
        else:
            est.fit(X, Y_BIN)
    assert_not_fitted(est)


def test_a_class_weight_of_zero_leaves_the_class_out():
    # the reference: the same samples given sample_weight 0
    weighted = MLPClassifier(**SMALL, class_weight={0: 0, 1: 1}).fit(X, Y_BIN)
    by_sample = MLPClassifier(**SMALL).fit(X, Y_BIN, sample_weight=(Y_BIN == 1).astype(float))
    assert_bitwise_same_fit(weighted, by_sample)


def test_class_weights_all_zero_are_refused(no_epoch):
    est = MLPClassifier(**SMALL, class_weight={0: 0, 1: 0.0})
    with pytest.raises(ValueError, match="class_weight gives every class a weight of 0"):
        est.fit(X, Y_BIN)
    assert_not_fitted(est)


DROPOUT_MESSAGE = "dropout must be a number or a list of numbers"


@pytest.mark.parametrize("dropout", [["0.1"], [0.1, "x"]])
def test_dropout_that_is_not_numbers_is_refused(no_epoch, dropout):
    est = MLPClassifier(**SMALL, dropout=dropout)
    with pytest.raises(ValueError, match=DROPOUT_MESSAGE):
        est.fit(X, Y_BIN)
    assert_not_fitted(est)


@pytest.mark.parametrize("dropout", ["0.5", b"0", None, ["0.1"]])
def test_dropout_set_on_a_fitted_model_is_checked_by_partial_fit(forbid_epochs, dropout):
    # a later partial_fit skips the parameter checks: only check_dropout sees it
    est = MLPClassifier(**SMALL).partial_fit(X, Y_BIN, classes=[0, 1])
    before = snapshot(est.set_params(dropout=dropout))
    forbid_epochs()
    with pytest.raises(ValueError, match=DROPOUT_MESSAGE):
        est.partial_fit(X, Y_BIN)
    assert_unchanged(est, before)


# ---------------------------------------------------------------------------
# fitted weights edited in place
# ---------------------------------------------------------------------------


def _sklearn_twin(fitted):
    """scikit-learn's estimator fitted on the same data, with ``fitted``'s weights."""
    twin = SkMLPClassifier(**SMALL).fit(X, Y_3)
    twin.coefs_ = [c.copy() for c in fitted.coefs_]
    twin.intercepts_ = [b.copy() for b in fitted.intercepts_]
    return twin


def _transposed_in_place(model):
    model.coefs_[0].shape = model.coefs_[0].shape[::-1]


def _float32_in_place(model):
    model.coefs_[0].dtype = np.float32  # twice the columns


@pytest.mark.parametrize("edit", [_transposed_in_place, _float32_in_place])
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_weights_edited_in_place_are_refused_as_scikit_learn_refuses_them(edit, method):
    ours = MLPClassifier(**SMALL).fit(X, Y_3)
    theirs = _sklearn_twin(ours)
    one_row = X[:1].copy()
    getattr(ours, method)(one_row)  # the fast path has been taken
    edit(ours)
    edit(theirs)
    with pytest.raises(ValueError):
        getattr(theirs, method)(one_row)  # the reference
    with pytest.raises(ValueError, match="The fitted weights"):
        getattr(ours, method)(one_row)


def test_weights_moved_in_memory_in_place_go_down_the_checked_path():
    ours = MLPClassifier(**SMALL).fit(X, Y_3)
    theirs = _sklearn_twin(ours)
    # the very object, its values reinterpreted as integers (same shape and strides)
    ours.intercepts_[0].dtype = np.int64
    theirs.intercepts_[0].dtype = np.int64
    assert not still_views_of(ours._shared_weights, ours.coefs_, ours.intercepts_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)


def test_strides_edited_in_place_are_noticed():
    ours = MLPClassifier(**SMALL).fit(X, Y_3)
    assert still_views_of(ours._shared_weights, ours.coefs_, ours.intercepts_)
    coef = ours.coefs_[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2.4 deprecates it
        coef.strides = (coef.strides[0], 0)  # every row reads its first weight
    assert not still_views_of(ours._shared_weights, ours.coefs_, ours.intercepts_)
    expected = MLPClassifier(**SMALL).fit(X, Y_3)
    expected.coefs_[0] = np.repeat(coef[:, :1], coef.shape[1], axis=1)
    assert_array_equal(ours.predict_proba(X), expected.predict_proba(X))


def test_values_edited_in_place_still_show_through_the_fast_path():
    ours = MLPClassifier(**SMALL).fit(X, Y_3)
    theirs = _sklearn_twin(ours)
    ours.coefs_[0][0, 0] += 1.0
    theirs.coefs_[0][0, 0] += 1.0
    assert still_views_of(ours._shared_weights, ours.coefs_, ours.intercepts_)
    np.testing.assert_allclose(ours.predict_proba(X[:1]), theirs.predict_proba(X[:1]), rtol=1e-12)


# ---------------------------------------------------------------------------
# output activations that cannot fit the target
# ---------------------------------------------------------------------------

OUTPUTS_REFUSED = [
    ("logistic", Y_3, "out_activation='logistic' cannot be used with a multiclass target"),
    ("softmax", Y_MULTILABEL, "out_activation='softmax' cannot be used with a multilabel target"),
    ("softmax", Y_BIN, "out_activation='softmax' needs at least 2 output nodes"),
]


@pytest.mark.parametrize("out_activation, y, match", OUTPUTS_REFUSED)
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_an_output_activation_that_cannot_fit_the_target_is_refused(
    no_epoch, out_activation, y, match, how
):
    est = MLPClassifier(**SMALL, out_activation=out_activation)
    with pytest.raises(ValueError, match=match):
        if how == "partial_fit":
            classes = np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)
            est.partial_fit(X, y, classes=classes)
        else:
            est.fit(X, y)
    assert_not_fitted(est)


@pytest.mark.parametrize(
    "y", [Y_3, Y_MULTILABEL, Y_BIN], ids=["multiclass", "multilabel", "binary"]
)
def test_the_output_activation_scikit_learn_chooses_is_taken(y):
    # the reference: scikit-learn's own choice for this target
    chosen = SkMLPClassifier(**SMALL).fit(X, y).out_activation_
    default = MLPClassifier(**SMALL).fit(X, y)
    explicit = MLPClassifier(**SMALL, out_activation=chosen).fit(X, y)
    assert default.out_activation_ == explicit.out_activation_ == chosen
    assert_bitwise_same_fit(explicit, default)


def test_a_regressor_takes_any_output_activation_for_its_outputs():
    # no classes: a logistic or softmax output is a bounded regression
    for out_activation in ("logistic", "softmax"):
        reg = MLPRegressor(**SMALL, out_activation=out_activation)
        reg.fit(X, np.column_stack([Y_BIN, 1 - Y_BIN]).astype(float))
        assert reg.out_activation_ == out_activation
