"""The prediction kernel finishes a classifier's answers itself: each row's
class (as ``LabelBinarizer.inverse_transform`` reads the outputs) and a
binary classifier's probability pairs ``1 - p, p``.

Every expected answer comes from scikit-learn's own estimator given the same
weights, or, for the pairs, from the definition ``1 - p``.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier as SklearnClassifier

from numba_mlp import MLPClassifier
from numba_mlp._network import CHUNK_ROWS

RNG = np.random.default_rng(3)
X = RNG.standard_normal((80, 6))
LABELS = {
    "binary": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no"),
    "multiclass": np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 2] > 0.5)],
}
ROWS = {
    "one row": X[:1],
    "two chunks": RNG.standard_normal((CHUNK_ROWS + 7, 6)),
}


def fitted_pair(target, dtype=np.float64, hidden=(5,)):
    """Ours and scikit-learn's classifier, holding the very same weights."""
    y = LABELS[target]
    ours = MLPClassifier(hidden_layer_sizes=hidden, max_iter=30, random_state=0)
    ours.fit(X.astype(dtype), y)
    theirs = SklearnClassifier(hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    with pytest.warns(Warning):
        theirs.fit(X.astype(dtype), y)
    theirs.coefs_ = [c.copy() for c in ours.coefs_]
    theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
    return ours, theirs


@pytest.mark.parametrize("rows", ROWS.values(), ids=ROWS.keys())
@pytest.mark.parametrize("target", LABELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)], ids=["no hidden layer", "one", "two"])
def test_classes_and_probabilities_are_scikit_learns(target, rows, dtype, hidden):
    # the output layer's nodes land in either half of the kernel's buffer,
    # or straight in the caller's outputs, by the depth
    ours, theirs = fitted_pair(target, dtype, hidden)
    rows = rows.astype(dtype)
    assert_array_equal(ours.predict(rows), theirs.predict(rows))
    proba = ours.predict_proba(rows)
    assert proba.dtype == theirs.predict_proba(rows).dtype
    rtol = 1e-5 if dtype is np.float32 else 1e-12
    assert_allclose(proba, theirs.predict_proba(rows), rtol=rtol, atol=1e-7)
    if target == "binary":
        assert_array_equal(proba[:, 0], 1 - proba[:, 1])


@pytest.mark.parametrize("target", LABELS)
def test_sparse_rows_get_the_same_answers(target):
    ours, theirs = fitted_pair(target)
    rows = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    assert_array_equal(ours.predict(rows), theirs.predict(rows))
    assert_array_equal(ours.predict_proba(rows), ours.predict_proba(rows.toarray()))
    assert_allclose(ours.predict_proba(rows), theirs.predict_proba(rows), rtol=1e-12)


@pytest.mark.parametrize("target", LABELS)
def test_tied_outputs_give_the_first_class(target):
    # zero output weights: every output is the same (0.5 for one output,
    # 1/3 each for three), and scikit-learn picks the first class
    ours, theirs = fitted_pair(target)
    for model in (ours, theirs):
        model.coefs_[-1][:] = 0.0
        model.intercepts_[-1][:] = 0.0
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert set(ours.predict(X)) == {ours.classes_[0]}


@pytest.mark.parametrize("target", LABELS)
def test_outputs_that_are_not_numbers_give_scikit_learns_class(target):
    # NaN in the last output only (softmax would spread it over the row):
    # NumPy's argmax picks the first NaN, whatever the outputs before it
    ours, theirs = fitted_pair(target)
    for model in (ours, theirs):
        model.intercepts_[-1][-1] = np.nan
        if target == "multiclass":
            model.out_activation_ = "identity"
    outputs = ours.predict_proba(X)
    assert np.isnan(outputs[:, -1]).all()
    if target == "multiclass":
        assert np.isfinite(outputs[:, :-1]).all()
    assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("target", LABELS)
def test_dense_rows_get_their_classes_from_the_kernel(target, monkeypatch):
    ours, theirs = fitted_pair(target)

    def refuse(y):
        raise AssertionError("dense rows of one label should not need the binarizer")

    monkeypatch.setattr(ours._label_binarizer, "inverse_transform", refuse)
    assert_array_equal(ours.predict(X), theirs.predict(X))
