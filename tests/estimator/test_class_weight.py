"""MLPClassifier(class_weight=...) against the equivalent sample weights.

A class weight is a sample weight by another name: a fit with
``class_weight`` must give bitwise the weights of a fit with
``sample_weight`` times scikit-learn's
``sklearn.utils.class_weight.compute_sample_weight`` (or, for the
validation set and partial_fit, the class weights scikit-learn's
``compute_class_weight`` gives for the training labels), for 'balanced' and
for dicts, binary and multiclass, with each solver. The refusals
(partial_fit with 'balanced', multilabel targets, a dict naming a class that
is not in y) are checked against the messages scikit-learn's own functions
and SGDClassifier raise, and leave the estimator unchanged.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from numba_mlp import MLPClassifier

from helpers import SMALL, Y_3, Y_BIN, X, assert_bitwise_same_fit, assert_unchanged, snapshot

# unbalanced labels, so that 'balanced' weighs the classes differently
Y_BIN_UNBALANCED = (np.arange(X.shape[0]) % 4 == 0).astype(int)
Y_3_UNBALANCED = np.where(np.arange(X.shape[0]) % 5 == 0, 2, Y_BIN)
SAMPLE_WEIGHT = np.random.RandomState(7).uniform(0.2, 3.0, X.shape[0])
TARGETS = {"binary": Y_BIN_UNBALANCED, "multiclass": Y_3_UNBALANCED}
DICTS = {"binary": {0: 0.4, 1: 2.5}, "multiclass": {0: 1.5, 1: 0.3, 2: 4.0}}


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def class_weight_of(task, kind):
    return "balanced" if kind == "balanced" else DICTS[task]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("kind", ["balanced", "dict"])
@pytest.mark.parametrize("with_sample_weight", [False, True], ids=["no_sw", "sw"])
def test_class_weight_equals_equivalent_sample_weight(solver, task, kind, with_sample_weight):
    y = TARGETS[task]
    class_weight = class_weight_of(task, kind)
    sample_weight = SAMPLE_WEIGHT if with_sample_weight else None
    equivalent = compute_sample_weight(class_weight, y)
    if with_sample_weight:
        equivalent = equivalent * SAMPLE_WEIGHT
    # the class weights must change the fit, or the test shows nothing
    assert not np.allclose(equivalent, 1.0 if sample_weight is None else sample_weight)
    params = dict(SMALL, solver=solver, max_iter=8, batch_size=16)

    weighted = quiet_fit(MLPClassifier(class_weight=class_weight, **params), X, y, sample_weight)
    expected = quiet_fit(MLPClassifier(**params), X, y, sample_weight=equivalent)
    unweighted = quiet_fit(MLPClassifier(**params), X, y, sample_weight)

    assert_bitwise_same_fit(weighted, expected)
    assert not np.array_equal(weighted.coefs_[0], unweighted.coefs_[0])
    assert weighted.loss_ == expected.loss_


def test_dict_missing_a_class_weighs_it_one():
    class_weight = {0: 3.0}  # classes 1 and 2 are not named
    equivalent = np.where(Y_3 == 0, 3.0, 1.0)
    weighted = quiet_fit(MLPClassifier(class_weight=class_weight, **SMALL), X, Y_3)
    expected = quiet_fit(MLPClassifier(**SMALL), X, Y_3, sample_weight=equivalent)
    assert_bitwise_same_fit(weighted, expected)


def test_string_labels_dict():
    labels = np.array(["ant", "bee", "cat"])[Y_3_UNBALANCED]
    class_weight = {"ant": 0.5, "cat": 2.0}
    equivalent = compute_sample_weight(class_weight, labels)
    weighted = quiet_fit(MLPClassifier(class_weight=class_weight, **SMALL), X, labels)
    expected = quiet_fit(MLPClassifier(**SMALL), X, labels, sample_weight=equivalent)
    assert_bitwise_same_fit(weighted, expected)


@pytest.mark.parametrize("with_sample_weight", [False, True], ids=["no_sw", "sw"])
def test_partial_fit_dict_equals_equivalent_sample_weight(with_sample_weight):
    class_weight = DICTS["multiclass"]
    classes = np.array([0, 1, 2])
    weighted = MLPClassifier(class_weight=class_weight, **SMALL)
    expected = MLPClassifier(**SMALL)
    for batch in np.array_split(np.arange(X.shape[0]), 3):
        Xb, yb = X[batch], Y_3_UNBALANCED[batch]
        sw = SAMPLE_WEIGHT[batch] if with_sample_weight else None
        equivalent = compute_class_weight(class_weight, classes=classes, y=yb)[yb]
        if with_sample_weight:
            equivalent = equivalent * sw
        weighted.partial_fit(Xb, yb, sample_weight=sw, classes=classes)
        expected.partial_fit(Xb, yb, sample_weight=equivalent, classes=classes)
        assert_bitwise_same_fit(weighted, expected)


def test_partial_fit_batch_without_some_classes():
    """A batch holding only one class still weighs it by the dict."""
    class_weight = DICTS["multiclass"]
    classes = np.array([0, 1, 2])
    only_two = Y_3 == 2
    weighted = MLPClassifier(class_weight=class_weight, **SMALL)
    expected = MLPClassifier(**SMALL)
    weighted.partial_fit(X[only_two], Y_3[only_two], classes=classes)
    expected.partial_fit(
        X[only_two], Y_3[only_two], sample_weight=np.full(only_two.sum(), 4.0), classes=classes
    )
    assert_bitwise_same_fit(weighted, expected)


def sgd_classifier_message():
    try:
        SGDClassifier(class_weight="balanced").partial_fit(X, Y_BIN, classes=[0, 1])
    except ValueError as exc:
        return str(exc)
    raise AssertionError("SGDClassifier accepted class_weight='balanced' in partial_fit")


@pytest.mark.parametrize("state", ["unfitted", "partial_fit"])
def test_partial_fit_balanced_raises_sgd_classifier_message(state):
    first_sentence = sgd_classifier_message().split(". ")[0] + "."
    assert "balanced" in first_sentence and "partial_fit" in first_sentence
    est = MLPClassifier(**SMALL)
    if state == "partial_fit":
        est.partial_fit(X, Y_BIN, classes=[0, 1])
    est.set_params(class_weight="balanced")
    before = snapshot(est)
    with pytest.raises(ValueError, match="^" + re.escape(first_sentence)):
        est.partial_fit(X, Y_BIN, classes=[0, 1])
    assert_unchanged(est, before)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 1: 1.0}])
def test_multilabel_raises(class_weight):
    Y = np.column_stack([Y_BIN, Y_3 == 1, Y_3 == 2]).astype(int)
    est = quiet_fit(MLPClassifier(**SMALL), X, Y)
    est.set_params(class_weight=class_weight)
    before = snapshot(est)
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        est.fit(X, Y)
    assert_unchanged(est, before)
    fresh = MLPClassifier(class_weight=class_weight, **SMALL)
    before = snapshot(fresh)
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        fresh.partial_fit(X, Y, classes=[0, 1, 2])
    assert_unchanged(fresh, before)


def test_unknown_class_in_dict_raises_scikit_learn_error():
    class_weight = {0: 2.0, 7: 3.0}  # 7 is no class; 1 and 2 are unweighted
    with pytest.raises(ValueError) as sk_error:
        compute_class_weight(class_weight, classes=np.array([0, 1, 2]), y=Y_3)
    est = MLPClassifier(class_weight=class_weight, **SMALL)
    before = snapshot(est)
    with pytest.raises(ValueError, match="^" + re.escape(str(sk_error.value)) + "$"):
        est.fit(X, Y_3)
    assert_unchanged(est, before)


@pytest.mark.parametrize("kind", ["balanced", "dict"])
@pytest.mark.parametrize("with_sample_weight", [False, True], ids=["no_sw", "sw"])
def test_early_stopping_validation_score_is_weighted(kind, with_sample_weight):
    """The internal validation split carries the class weights: the scores
    equal those of the fit with the equivalent sample weights (and differ from
    the unweighted ones)."""
    y = TARGETS["multiclass"]
    class_weight = class_weight_of("multiclass", kind)
    sample_weight = SAMPLE_WEIGHT if with_sample_weight else None
    equivalent = compute_sample_weight(class_weight, y)
    if with_sample_weight:
        equivalent = equivalent * SAMPLE_WEIGHT
    params = dict(
        SMALL, max_iter=6, early_stopping=True, validation_fraction=0.3, n_iter_no_change=50
    )
    weighted = quiet_fit(MLPClassifier(class_weight=class_weight, **params), X, y, sample_weight)
    expected = quiet_fit(MLPClassifier(**params), X, y, sample_weight=equivalent)
    assert weighted.validation_scores_ == expected.validation_scores_
    assert_bitwise_same_fit(weighted, expected)


def test_given_validation_set_weighted_by_training_class_weights():
    """With X_val given, 'balanced' weighs the validation samples by the
    class weights of the training labels (as compute_class_weight gives
    them), times sample_weight_val."""
    y = TARGETS["multiclass"]
    X_val, y_val = X[::2] + 0.1, np.roll(y[::2], 1)
    sw_val = SAMPLE_WEIGHT[::2]
    train_weights = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)
    params = dict(SMALL, max_iter=6, early_stopping=True, n_iter_no_change=50)
    weighted = quiet_fit(
        MLPClassifier(class_weight="balanced", **params),
        X,
        y,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=sw_val,
    )
    expected = quiet_fit(
        MLPClassifier(**params),
        X,
        y,
        sample_weight=compute_sample_weight("balanced", y),
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=train_weights[y_val] * sw_val,
    )
    assert weighted.validation_scores_ == expected.validation_scores_
    assert_bitwise_same_fit(weighted, expected)
