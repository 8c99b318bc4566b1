"""Accepted inputs: what scikit-learn accepts, numba_mlp accepts too, with
scikit-learn's result; other layouts of the same numbers give bitwise the
same model; and nothing the caller passes is modified.

Accepted: int, bool, float16, object or numeric-string X, pandas with mixed
or nullable dtypes, one class, no hidden layer, batch_size above n_samples,
negative sample weights, 1e300 inputs through saturating units; Fortran,
non-contiguous, read-only and memory-mapped arrays; sparse matrices with
explicit zeros, unsorted or duplicate entries, int64 indices, sparse arrays
and COO. (Refused inputs: test_input_errors.py.)
"""

import re

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from numba_mlp import MLPClassifier, MLPRegressor

from helpers import (
    CLASSES,
    SMALL,
    TARGETS,
    Y_3,
    Y_BIN,
    Y_POISSON,
    Y_REG,
    N,
    X,
    assert_bitwise_same_fit,
    assert_same_fit,
    both_fit,
)

pytestmark = pytest.mark.filterwarnings("ignore")

# ---------------------------------------------------------------------------
# accepted inputs: the result is scikit-learn's
# ---------------------------------------------------------------------------

ACCEPTED_X = {
    "float16": lambda: X.astype(np.float16),
    "int": lambda: np.round(X * 3).astype(np.int64),
    "int8": lambda: np.round(X * 3).astype(np.int8),
    "bool": lambda: X > 0,
    "object-numbers": lambda: X.astype(object),
    "numeric-strings": lambda: X.astype(str),
    "list-of-lists": lambda: X.tolist(),
    "pandas-mixed-dtypes": lambda: pd.DataFrame(
        {
            "f64": X[:, 0],
            "i64": np.round(X[:, 1] * 3).astype(np.int64),
            "bool": X[:, 2] > 0,
            "f32": X[:, 3].astype(np.float32),
        }
    ),
    "pandas-nullable-Int64": lambda: pd.DataFrame(
        {"a": pd.array(np.round(X[:, 0] * 3).astype(int), dtype="Int64"), "b": X[:, 1]}
    ),
    "pandas-float32": lambda: pd.DataFrame(X.astype(np.float32), columns=list("abcd")),
}


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("name", sorted(ACCEPTED_X))
def test_accepted_X_dtypes_match_scikit_learn(kind, name):
    Xin = ACCEPTED_X[name]()
    sk, nm = both_fit(kind, Xin)
    tol = dict(rtol=1e-3, atol=1e-4) if nm.coefs_[0].dtype == np.float32 else {}
    assert nm.coefs_[0].dtype == sk.coefs_[0].dtype  # float16/int/bool -> float64
    assert_same_fit(sk, nm, **tol)
    if name == "numeric-strings":
        # scikit-learn fits on numeric strings but refuses them at predict
        for est in (sk, nm):
            with pytest.raises(ValueError, match="not compatible with arrays of bytes/strings"):
                est.predict(Xin)
    elif kind == "clf":
        assert_array_equal(nm.predict(Xin), sk.predict(Xin))
    else:
        assert_allclose(
            nm.predict(Xin), sk.predict(Xin), rtol=tol.get("rtol", 1e-6), atol=tol.get("atol", 1e-9)
        )
    if hasattr(sk, "feature_names_in_"):
        assert_array_equal(nm.feature_names_in_, sk.feature_names_in_)
    else:
        assert not hasattr(nm, "feature_names_in_")


def test_y_with_one_class_matches_scikit_learn():
    y = np.full(N, "only")
    sk, nm = both_fit("clf", X, y)
    assert_array_equal(nm.classes_, ["only"])
    assert_same_fit(sk, nm)
    assert_array_equal(nm.predict(X), sk.predict(X))
    assert_allclose(nm.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-9)
    assert set(nm.predict(X)) == {"only"}


def test_partial_fit_y_with_one_class_of_several():
    # the first batch holds one class only; the classes argument names all three
    sk = SkMLPClassifier(**SMALL).partial_fit(X, np.zeros(N, int), classes=[0, 1, 2])
    nm = MLPClassifier(**SMALL).partial_fit(X, np.zeros(N, int), classes=[0, 1, 2])
    assert_same_fit(sk, nm)
    nm.partial_fit(X, Y_3)
    sk.partial_fit(X, Y_3)
    assert_same_fit(sk, nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("empty", [(), []])
def test_no_hidden_layer_matches_scikit_learn(kind, solver, empty):
    sk, nm = both_fit(kind, X, params={"hidden_layer_sizes": empty, "solver": solver})
    assert [c.shape for c in nm.coefs_] == [(4, 1)]
    assert nm.n_layers_ == sk.n_layers_ == 2
    assert_same_fit(sk, nm)
    assert_allclose(nm.predict(X), sk.predict(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_batch_size_larger_than_n_samples_warns_and_clips(kind):
    message = "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
    est = CLASSES[kind][1](**SMALL, batch_size=N + 50)
    with pytest.warns(UserWarning, match=re.escape(message)):
        est.fit(X, TARGETS[kind])
    with pytest.warns(UserWarning, match=re.escape(message)):
        sk = CLASSES[kind][0](**SMALL, batch_size=N + 50).fit(X, TARGETS[kind])
    clipped = CLASSES[kind][1](**SMALL, batch_size=N).fit(X, TARGETS[kind])
    assert_bitwise_same_fit(est, clipped)
    assert_same_fit(sk, est)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_negative_sample_weights_match_scikit_learn(kind):
    sw = np.where(np.arange(N) % 5 == 0, -0.5, 1.0)
    sk, nm = both_fit(kind, X, sample_weight=sw)
    assert_same_fit(sk, nm)


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "poisson"])
def test_huge_X_through_saturating_units_matches_scikit_learn(activation, solver, target):
    # 1e300 inputs: logistic/tanh hidden nodes saturate (exp overflows inside
    # the stable logistic) and training goes on, exactly as in scikit-learn.
    kind, y, extra = {
        "binary": ("clf", Y_BIN, {}),
        "multiclass": ("clf", Y_3, {}),
        "poisson": ("reg", Y_POISSON, {"loss": "poisson"}),
    }[target]
    sk, nm = both_fit(
        kind, X * 1e300, y, params=dict(activation=activation, solver=solver, **extra)
    )
    assert all(np.isfinite(c).all() for c in nm.coefs_)
    assert_same_fit(sk, nm)


# ---------------------------------------------------------------------------
# layouts: the same numbers give bitwise the same model
# ---------------------------------------------------------------------------


def _memmap(tmp_path):
    path = tmp_path / "X.joblib"
    joblib.dump(X, path)
    return joblib.load(path, mmap_mode="r")  # as joblib hands arrays to workers


def _np_memmap(tmp_path):
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    return np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)


def _readonly(tmp_path):
    Xr = X.copy()
    Xr.flags.writeable = False
    return Xr


def _non_contiguous(tmp_path):
    big = np.zeros((2 * N, 8))
    big[::2, ::2] = X
    view = big[::2, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    return view


LAYOUTS = {
    "fortran": lambda tmp_path: np.asfortranarray(X),
    "non-contiguous": _non_contiguous,
    "read-only": _readonly,
    "joblib-memmap-r": _memmap,
    "np-memmap-r": _np_memmap,
}


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_array_layouts_give_the_same_model(layout, solver, tmp_path):
    Xin = LAYOUTS[layout](tmp_path)
    params = dict(SMALL, solver=solver)
    clean = MLPClassifier(**params).fit(X, Y_BIN)
    est = MLPClassifier(**params).fit(Xin, Y_BIN)
    assert_bitwise_same_fit(clean, est)
    assert_array_equal(est.predict_proba(Xin), clean.predict_proba(X))
    assert_array_equal(clean.predict_proba(Xin), clean.predict_proba(X))
    reg = MLPRegressor(**params).fit(Xin, Y_REG)
    assert_bitwise_same_fit(MLPRegressor(**params).fit(X, Y_REG), reg)
    est.partial_fit(Xin, Y_BIN) if solver != "lbfgs" else None
    assert_array_equal(Xin, X)


def _sparse_variants():
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.6] = 0.0
    clean = sp.csr_matrix(Xs)
    # explicit zeros: every third stored value set to 0 but kept stored
    data = clean.data.copy()
    data[::3] = 0.0
    explicit = sp.csr_matrix((data, clean.indices.copy(), clean.indptr.copy()), shape=X.shape)
    explicit_clean = sp.csr_matrix(explicit.toarray())
    # unsorted: each row's entries stored in reverse order
    indices, data = clean.indices.copy(), clean.data.copy()
    for i in range(N):
        s, e = clean.indptr[i], clean.indptr[i + 1]
        indices[s:e], data[s:e] = indices[s:e][::-1].copy(), data[s:e][::-1].copy()
    unsorted = sp.csr_matrix((data, indices, clean.indptr.copy()), shape=X.shape)
    # duplicates: every entry stored twice, halves summing to the value
    dup_data, dup_ind, dup_ptr = [], [], [0]
    for i in range(N):
        s, e = clean.indptr[i], clean.indptr[i + 1]
        dup_ind += list(clean.indices[s:e]) * 2
        dup_data += list(clean.data[s:e] / 2) * 2
        dup_ptr.append(len(dup_ind))
    dup = sp.csr_matrix((np.array(dup_data), np.array(dup_ind), np.array(dup_ptr)), shape=X.shape)
    return {
        "explicit-zeros": (explicit, explicit_clean),
        "unsorted-indices": (unsorted, clean),
        "unsorted-indices-csc": (_unsorted_csc(clean), sp.csc_matrix(clean)),
        "duplicate-entries": (dup, clean),
        "int64-indices": (_int64_indices(clean), clean),
        "csr_array": (sp.csr_array(clean), clean),
        "coo": (clean.tocoo(), clean),
    }


def _unsorted_csc(clean):
    csc = sp.csc_matrix(clean)
    indices, data = csc.indices.copy(), csc.data.copy()
    for j in range(csc.shape[1]):
        s, e = csc.indptr[j], csc.indptr[j + 1]
        indices[s:e], data[s:e] = indices[s:e][::-1].copy(), data[s:e][::-1].copy()
    out = sp.csc_matrix((data, indices, csc.indptr.copy()), shape=csc.shape)
    assert not out.has_sorted_indices
    return out


def _int64_indices(clean):
    out = clean.copy()
    out.indices = out.indices.astype(np.int64)
    out.indptr = out.indptr.astype(np.int64)
    return out


SPARSE = _sparse_variants()


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("variant", sorted(SPARSE))
def test_sparse_variants_equal_the_clean_matrix(variant, solver):
    messy, clean = SPARSE[variant]
    before = (messy.copy(), getattr(messy, "indices", None))
    before_data = messy.data.copy()
    params = dict(SMALL, solver=solver)
    ref = MLPClassifier(**params).fit(clean, Y_BIN)
    est = MLPClassifier(**params).fit(messy, Y_BIN)
    assert_bitwise_same_fit(ref, est)
    assert_array_equal(ref.predict_proba(messy), ref.predict_proba(clean))
    # the caller's matrix is not sorted or summed in place
    assert_array_equal(messy.data, before_data)
    if before[1] is not None:
        assert_array_equal(messy.indices, before[0].indices)
    # and the sparse result is the dense one, to rounding
    dense = MLPClassifier(**params).fit(clean.toarray(), Y_BIN)
    assert_same_fit(dense, est, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# user inputs are never modified
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("container", ["float64", "float32", "fortran", "csr", "csc", "list"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_inputs_not_modified(kind, container, solver):
    y = TARGETS[kind].copy()
    sw = np.random.RandomState(1).uniform(0.5, 2.0, N)
    if container == "float64":
        Xin = X.copy()
    elif container == "float32":
        Xin = X.astype(np.float32)
    elif container == "fortran":
        Xin = np.asfortranarray(X)
    elif container in ("csr", "csc"):
        Xd = X.copy()
        Xd[np.abs(Xd) < 0.5] = 0
        Xin = sp.csr_matrix(Xd) if container == "csr" else sp.csc_matrix(Xd)
    else:
        Xin = X.tolist()
    X0 = Xin.copy() if not isinstance(Xin, list) else [row[:] for row in Xin]
    y0, sw0 = y.copy(), sw.copy()
    nm = CLASSES[kind][1](solver=solver, **SMALL)
    nm.fit(Xin, y, sample_weight=sw)
    nm.predict(Xin)
    nm.score(Xin, y, sample_weight=sw)
    if solver != "lbfgs":
        nm.partial_fit(Xin, y, sample_weight=sw)
    if sp.issparse(Xin):
        assert (Xin != X0).nnz == 0
    elif isinstance(Xin, list):
        assert Xin == X0
    else:
        assert Xin.dtype == X0.dtype
        assert_array_equal(Xin, X0)
    assert_array_equal(y, y0)
    assert_array_equal(sw, sw0)
