"""Predictions read the weights fit left in one packed buffer (``coefs_`` and
``intercepts_`` are views of it): edits made in place, weights put in their
place, copies and pickles must all predict what the weights say now.

The expected outputs come from the NumPy reference forward pass
(``reference.forward``) or from scikit-learn given the same weights.
"""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier as SklearnClassifier

from numba_mlp import MLPClassifier, MLPRegressor
from numba_mlp._network import CHUNK_ROWS, read_only
from numba_mlp.kernels import predict_dense

from reference import forward

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5))
Y_CLASSES = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
Y_VALUES = X @ RNG.standard_normal(5)


def reference_proba(est, X):
    """The output activations by NumPy, from the estimator's weights now."""
    return forward(X, est.coefs_, est.intercepts_, est.activation, est.out_activation_)[-1]


@pytest.fixture
def fitted():
    return MLPClassifier(hidden_layer_sizes=(7, 4), max_iter=20, random_state=0).fit(X, Y_CLASSES)


def test_fit_leaves_the_weights_as_views_of_one_buffer(fitted):
    buffers = {id(array.base) for array in [*fitted.coefs_, *fitted.intercepts_]}
    assert len(buffers) == 1 and fitted.coefs_[0].base is not None


@pytest.mark.parametrize(
    "edit",
    [
        lambda est: est.coefs_[0].__setitem__((1, 2), 3.0),
        lambda est: est.intercepts_[-1].__imul__(-2.0),
        lambda est: est.coefs_[1].fill(0.25),
    ],
    ids=["one weight", "output biases", "a whole matrix"],
)
def test_edits_in_place_are_predicted(fitted, edit):
    before = fitted.predict_proba(X)
    edit(fitted)
    after = fitted.predict_proba(X)
    assert not np.array_equal(before, after)
    assert_allclose(after, reference_proba(fitted, X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("what", ["a matrix", "a bias vector", "the whole list"])
def test_weights_put_in_place_are_predicted(fitted, what):
    before = fitted.predict_proba(X)
    if what == "a matrix":
        fitted.coefs_[0] = RNG.standard_normal(fitted.coefs_[0].shape)
    elif what == "a bias vector":
        fitted.intercepts_[0] = fitted.intercepts_[0] + 1.0
    else:
        fitted.coefs_ = [c * 0.5 for c in fitted.coefs_]
    after = fitted.predict_proba(X)
    assert not np.array_equal(before, after)
    assert_allclose(after, reference_proba(fitted, X), rtol=1e-12, atol=1e-15)


def test_a_weight_matrix_moved_among_the_biases_is_refused(fitted):
    # the same arrays in the same order, but no longer a network's weights
    fitted.intercepts_.insert(0, fitted.coefs_.pop())
    with pytest.raises(ValueError, match=r"describe 2 weight matrices and 4 bias vectors"):
        fitted.predict(X[:1])


def test_weights_put_in_place_with_a_wrong_shape_are_refused(fitted):
    fitted.coefs_[1] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"weight matrix 1 has shape \(3, 4\), expected \(7, 4\)"):
        fitted.predict(X)


@pytest.mark.parametrize("replacement", [None, "weights", np.zeros(3)])
def test_weights_that_are_not_lists_are_refused_before_any_kernel(fitted, replacement):
    fitted.coefs_ = replacement
    with pytest.raises(ValueError, match=r"must be lists of arrays"):
        fitted.predict(X[:1])


@pytest.mark.parametrize("wrong", ["features", "params", "outputs", "max_rows", "classes"])
def test_the_prediction_kernel_refuses_shapes_that_do_not_fit(fitted, wrong):
    params, layer_units, _, _ = fitted._kernel_weights(np.dtype(np.float64))
    rows, outputs, max_rows, classes = X[:4], np.empty((4, 3)), 4, np.empty(0, dtype=np.int64)
    if wrong == "features":
        rows = np.ascontiguousarray(X[:4, :4])
    elif wrong == "params":
        params = params[:-1].copy()
    elif wrong == "outputs":
        outputs = np.empty((4, 2))  # two columns are for a network of one output only
    elif wrong == "classes":
        classes = np.empty(3, dtype=np.int64)
    else:
        max_rows = 0
    with pytest.raises(ValueError, match="do not fit the layer sizes"):
        # X read-only, as the estimators pass it (no second compilation)
        predict_dense(
            read_only(rows), layer_units, 0, 0, params, max_rows, outputs, classes, 1, False
        )


def test_same_predictions_as_scikit_learn_with_the_same_weights(fitted):
    sk = SklearnClassifier(hidden_layer_sizes=(7, 4), max_iter=1, random_state=0)
    with pytest.warns(Warning):
        sk.fit(X, Y_CLASSES)
    fitted.coefs_[0][0, 0] = -1.5  # an edit in place: ours must see it
    sk.coefs_ = [c.copy() for c in fitted.coefs_]
    sk.intercepts_ = [b.copy() for b in fitted.intercepts_]
    rows = X[:1]
    assert_allclose(fitted.predict_proba(rows), sk.predict_proba(rows), rtol=1e-13)
    assert_array_equal(fitted.predict(X), sk.predict(X))


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda est: pickle.loads(pickle.dumps(est))])
def test_a_copy_predicts_from_its_own_weights(fitted, duplicate):
    twin = duplicate(fitted)
    assert_array_equal(twin.predict_proba(X), fitted.predict_proba(X))
    twin.coefs_[0][:] = 0.0
    assert_allclose(twin.predict_proba(X), reference_proba(twin, X), rtol=1e-12, atol=1e-15)
    assert_allclose(fitted.predict_proba(X), reference_proba(fitted, X), rtol=1e-12, atol=1e-15)
    assert not np.array_equal(twin.predict_proba(X), fitted.predict_proba(X))


def test_pickling_leaves_the_estimator_and_its_state_as_they_were(fitted):
    state_before = dict(fitted.__dict__)
    payload = pickle.dumps(fitted)
    assert fitted.__dict__.keys() == state_before.keys()
    assert all(fitted.__dict__[key] is value for key, value in state_before.items())
    # the pickle carries the weights once, not a second packed copy
    n_weights = sum(a.size for a in [*fitted.coefs_, *fitted.intercepts_])
    assert len(payload) < 8 * n_weights * 1.5 + 20_000


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rows_get_scikit_learns_error_and_are_not_changed(fitted, bad):
    rows = X[:3].copy()
    rows[1, 2] = bad
    given = rows.copy()
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        fitted.predict(rows)
    assert_array_equal(rows, given)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("predict_dtype", [np.float32, np.float64])
def test_one_row_in_either_dtype(fit_dtype, predict_dtype):
    est = MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, random_state=0)
    est.fit(X.astype(fit_dtype), Y_VALUES.astype(fit_dtype))
    row = X[4:5].astype(predict_dtype)
    expected = reference_proba(est, row.astype(np.float64)).ravel()
    prediction = est.predict(row)
    both_float32 = fit_dtype is np.float32 and predict_dtype is np.float32
    assert prediction.dtype == (np.float32 if both_float32 else np.float64)
    assert_allclose(prediction, expected, rtol=1e-5 if both_float32 else 1e-12)


def test_strided_and_fortran_ordered_rows(fitted):
    expected = fitted.predict_proba(np.ascontiguousarray(X[::2]))
    assert_array_equal(fitted.predict_proba(X[::2]), expected)
    assert_array_equal(fitted.predict_proba(np.asfortranarray(X[::2])), expected)


@pytest.mark.parametrize("hidden", [(), (6, 4, 3)], ids=["no hidden layer", "three hidden layers"])
def test_predictions_in_chunks_through_any_depth_follow_the_numpy_reference(hidden):
    rows = RNG.standard_normal((CHUNK_ROWS + 905, 5))  # two chunks, the second partial
    model = MLPClassifier(hidden_layer_sizes=hidden, max_iter=5, random_state=0)
    model.fit(X, Y_CLASSES)
    assert_allclose(model.predict_proba(rows), reference_proba(model, rows), rtol=1e-12, atol=1e-15)
