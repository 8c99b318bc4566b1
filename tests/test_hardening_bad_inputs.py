"""The bad-input table of the README's "Errors" section, one test per row.

Every input is tried on numba_mlp and on scikit-learn. Where scikit-learn
accepts it (int, bool, float16 or numeric-string X, pandas with mixed dtypes,
one class, no hidden layer, ...), numba_mlp accepts it too and gives
scikit-learn's result. Where scikit-learn refuses it, numba_mlp raises the same
exception type with a message matching the same pattern. Where numba_mlp
deliberately differs (malformed sparse matrices, on which scikit-learn
segfaults; huge inputs, on which scikit-learn may hand back an untrained
model), the test says so.

Every refused ``fit``/``partial_fit``/``predict`` is also checked to leave the
estimator exactly as it was, both unfitted and after an earlier good fit
(``assert_refused``). Cases that tests/test_errors.py already covers in depth
(invalid parameters, coefs_init shapes, warm_start, messages of the common
checks) are not repeated there; this table adds the "earlier fit survives"
check to the common ones and covers the rest of issue 5's list.

The nastiest inputs (malformed sparse index arrays, tampered fitted weights,
1e308 values) are also run in a fresh interpreter, whose exit code proves
that none of them crashes Python.
"""

import inspect
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Callable

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import _check_sample_weight

from numba_mlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore")

N = 60
_rng = np.random.RandomState(0)
X = _rng.randn(N, 4)
Y_REG = X @ np.array([1.0, -0.5, 0.3, 0.0]) + 0.1 * _rng.randn(N)
Y_BIN = (Y_REG > 0).astype(int)
Y_3 = np.arange(N) % 3
Y_POISSON = np.arange(N) % 4 + 0.5
SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
NON_FINITE = "^Solver produced non-finite parameter weights"

CLASSES = {"clf": (SkMLPClassifier, MLPClassifier), "reg": (SkMLPRegressor, MLPRegressor)}
TARGETS = {"clf": Y_BIN, "reg": Y_REG}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def frozen(obj):
    """A comparable snapshot of an object's whole state (arrays by bytes)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return ("object-array", obj.shape, tuple(frozen(x) for x in obj.ravel()))
        return ("array", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, dict):
        return ("dict", tuple((k, frozen(obj[k])) for k in sorted(obj)))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(frozen(x) for x in obj))
    if isinstance(obj, np.random.RandomState):
        return ("RandomState", frozen(obj.get_state()))
    if isinstance(obj, (float, np.floating)) and np.isnan(obj):
        return ("nan",)
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic, type)):
        return (type(obj).__name__, obj)
    if hasattr(obj, "__dict__"):
        return (type(obj).__name__, frozen(vars(obj)))
    return (type(obj).__name__, repr(obj))


def prepared(cls, kind, state, params):
    """An estimator of ``cls`` in ``state``: "unfitted", "fit" or "partial_fit"."""
    est = cls(**{**SMALL, **params}) if state == "unfitted" else cls(**SMALL)
    if state == "partial_fit":
        kw = {"classes": np.unique(Y_BIN)} if kind == "clf" else {}
        est.partial_fit(X, TARGETS[kind], **kw)
    elif state == "fit":
        est.fit(X, TARGETS[kind])
    return est.set_params(**params)


def sklearn_error(kind, call, params, state):
    """The exception scikit-learn raises on ``call``, or None if it accepts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = prepared(CLASSES[kind][0], kind, state, params)
        try:
            call(est)
        except Exception as exc:  # noqa: BLE001 - whatever scikit-learn raises
            return exc
    return None


def assert_refused(kind, call, exc, match, params=None, states=("unfitted", "fit"),
                   sklearn="same"):
    """``call`` raises ``exc`` (message matching ``match``) and changes nothing.

    Checked on a numba_mlp estimator in each of ``states`` ("unfitted", or
    after a good "fit" or "partial_fit"): its whole state afterwards is
    bitwise what it was. ``sklearn="same"``: scikit-learn (in the first
    state) raises the same type with a message matching ``match``;
    ``sklearn=None``: not run on scikit-learn; a type: scikit-learn raises
    that type instead (a deliberate difference, documented in the README).
    """
    params = params or {}
    if sklearn is not None:
        sk_exc = sklearn_error(kind, call, params, states[0])
        expected = exc if sklearn == "same" else sklearn
        assert type(sk_exc) is expected, f"scikit-learn raised {sk_exc!r}"
        if sklearn == "same":
            assert re.search(match, str(sk_exc)), (match, str(sk_exc))
    for state in states:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = prepared(CLASSES[kind][1], kind, state, params)
        before = frozen(est)
        with pytest.raises(exc, match=match) as excinfo:
            call(est)
        assert type(excinfo.value) is exc  # not merely a subclass
        assert frozen(est) == before, f"the failed call changed the {state} estimator"


def assert_same_fit(a, b, rtol=1e-6, atol=1e-9):
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        assert_allclose(x, y, rtol=rtol, atol=atol)


def assert_bitwise_same_fit(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        assert_array_equal(x, y)


def both_fit(kind, Xin, y=None, params=None, **fit_kw):
    """(scikit-learn's, numba_mlp's) estimators fitted on the same input."""
    y = TARGETS[kind] if y is None else y
    params = {**SMALL, **(params or {})}
    sk_cls, nm_cls = CLASSES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = sk_cls(**params).fit(Xin, y, **fit_kw)
        nm = nm_cls(**params).fit(Xin, y, **fit_kw)
    return sk, nm


def with_value(arr, idx, value):
    arr = np.array(arr, dtype=float)
    arr[idx] = value
    return arr


# ---------------------------------------------------------------------------
# refused inputs: one row of the README table each
# ---------------------------------------------------------------------------


@dataclass
class Refused:
    id: str
    kind: str
    call: Callable
    exc: type
    match: str
    params: dict = field(default_factory=dict)
    states: tuple = ("unfitted", "fit")
    sklearn: object = "same"


def _pf(kind, Xin, y, **kw):
    def call(est):
        if kind == "clf" and not hasattr(est, "classes_"):
            kw.setdefault("classes", np.unique(Y_BIN))
        est.partial_fit(Xin, y, **kw)

    return call


def _malformed_csr(kind_of_fault):
    """A CSR matrix shaped like X whose index arrays lie (check=False-style)."""
    csr = sp.csr_matrix(X)
    indices, indptr = csr.indices.copy(), csr.indptr.copy()
    if kind_of_fault == "column out of range":
        indices[5] = 10**6
    elif kind_of_fault == "negative column":
        indices[7] = -3
    elif kind_of_fault == "indptr decreasing":
        indptr[3], indptr[4] = indptr[4], indptr[3]
    elif kind_of_fault == "indptr beyond data":
        indptr[-1] += 5
    bad = sp.csr_matrix(X.shape)  # then swap in the lying arrays
    bad.data, bad.indices, bad.indptr = csr.data.copy(), indices, indptr
    return bad


def _malformed_csc():
    csc = sp.csc_matrix(X)
    csc.indices = csc.indices.copy()
    csc.indices[3] = N + 7
    return csc


ZERO_WEIGHTS_REFUSED_UP_FRONT = (
    "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters)

REFUSED = [
    # non-finite numbers
    Refused("nan-X-fit", "clf", lambda e: e.fit(with_value(X, (3, 1), np.nan), Y_BIN),
            ValueError, "Input X contains NaN"),
    Refused("inf-X-fit", "reg", lambda e: e.fit(with_value(X, (3, 1), np.inf), Y_REG),
            ValueError, "Input X contains infinity"),
    Refused("nan-X-partial_fit", "clf", _pf("clf", with_value(X, (0, 0), np.nan), Y_BIN),
            ValueError, "Input X contains NaN", states=("unfitted", "partial_fit")),
    Refused("nan-X-predict", "clf", lambda e: e.predict(with_value(X, (0, 0), np.nan)),
            ValueError, "Input X contains NaN", states=("fit",)),
    Refused("nan-y", "reg", lambda e: e.fit(X, with_value(Y_REG, 4, np.nan)),
            ValueError, "Input y contains NaN"),
    Refused("inf-y", "reg", lambda e: e.fit(X, with_value(Y_REG, 4, -np.inf)),
            ValueError, "Input y contains infinity"),
    Refused("nan-y-classifier", "clf", lambda e: e.fit(X, with_value(Y_BIN, 4, np.nan)),
            ValueError, "Input y contains NaN"),
    Refused("nan-sample_weight", "reg",
            lambda e: e.fit(X, Y_REG, sample_weight=with_value(np.ones(N), 2, np.nan)),
            ValueError, "Input sample_weight contains NaN"),
    Refused("inf-sample_weight", "clf",
            lambda e: e.fit(X, Y_BIN, sample_weight=with_value(np.ones(N), 2, np.inf)),
            ValueError, "Input sample_weight contains infinity"),
    # scikit-learn >= 1.9's _check_sample_weight refuses all-zero weights up
    # front; 1.8's does not, and the first minibatch divides by zero instead.
    Refused("zero-sample_weight", "clf",
            lambda e: e.fit(X, Y_BIN, sample_weight=np.zeros(N)),
            *((ValueError, "Sample weights must contain at least one non-zero number")
              if ZERO_WEIGHTS_REFUSED_UP_FRONT
              else (ZeroDivisionError, "Weights sum to zero, can't be normalized"))),
    Refused("batch-weights-sum-to-zero", "reg",
            lambda e: e.fit(X, Y_REG, sample_weight=np.tile([1.0, -1.0], N // 2)),
            ZeroDivisionError, "Weights sum to zero, can't be normalized"),
    Refused("batch-weights-sum-to-zero-lbfgs", "clf",
            lambda e: e.fit(X, Y_BIN, sample_weight=np.tile([1.0, -1.0], N // 2)),
            ZeroDivisionError, "Weights sum to zero, can't be normalized",
            params={"solver": "lbfgs"}),
    # labels
    Refused("continuous-y-classifier", "clf", lambda e: e.fit(X, Y_REG),
            ValueError, "Unknown label type"),
    Refused("multioutput-multiclass-y", "clf", lambda e: e.fit(X, np.c_[Y_BIN, Y_3]),
            ValueError, "Multioutput target data is not supported with label binarization"),
    Refused("partial_fit-first-call-no-classes", "clf", lambda e: e.partial_fit(X, Y_BIN),
            ValueError, "classes must be passed on the first call to partial_fit",
            states=("unfitted",)),
    Refused("partial_fit-first-call-classes-missing-a-label", "clf",
            lambda e: e.partial_fit(X, Y_3, classes=[0, 1]),
            ValueError, re.escape("`y` has classes not in `self.classes_`"),
            states=("unfitted",)),
    Refused("partial_fit-unseen-label", "clf", _pf("clf", X, np.where(Y_BIN == 1, 7, 0)),
            ValueError, re.escape("`y` has classes not in `self.classes_`"),
            states=("unfitted", "partial_fit")),
    # shapes
    Refused("wrong-n_features-predict", "clf", lambda e: e.predict(X[:, :3]),
            ValueError, "X has 3 features, but MLPClassifier is expecting 4 features",
            states=("fit",)),
    Refused("wrong-n_features-partial_fit", "reg", _pf("reg", X[:, :3], Y_REG),
            ValueError, "X has 3 features, but MLPRegressor is expecting 4 features",
            states=("partial_fit",)),
    Refused("predict-before-fit", "reg", lambda e: e.predict(X),
            NotFittedError, "This MLPRegressor instance is not fitted yet",
            states=("unfitted",)),
    Refused("empty-X-fit", "clf", lambda e: e.fit(X[:0], Y_BIN[:0]),
            ValueError, re.escape("Found array with 0 sample(s)")),
    Refused("empty-X-partial_fit", "reg", _pf("reg", X[:0], Y_REG[:0]),
            ValueError, re.escape("Found array with 0 sample(s)"), states=("unfitted", "partial_fit")),
    Refused("zero-features", "reg", lambda e: e.fit(X[:, :0], Y_REG),
            ValueError, re.escape("Found array with 0 feature(s)")),
    Refused("3-d-X", "clf", lambda e: e.fit(X.reshape(N, 2, 2), Y_BIN),
            ValueError, "Found array with dim 3"),
    Refused("ragged-list-X", "reg", lambda e: e.fit([[1.0, 2.0], [3.0]] * 5, Y_REG[:10]),
            ValueError, "inhomogeneous shape"),
    Refused("single-sample-early_stopping", "reg", lambda e: e.fit(X[:1], Y_REG[:1]),
            ValueError, "the resulting train set will be empty",
            params={"early_stopping": True}),
    Refused("two-samples-early_stopping-classifier", "clf",
            lambda e: e.fit(X[:2], np.array([0, 1])),
            ValueError, "The least populated classes in y have only 1 member",
            params={"early_stopping": True}),
    Refused("five-samples-early_stopping", "reg", lambda e: e.fit(X[:5], Y_REG[:5]),
            ValueError, "The validation set is too small", params={"early_stopping": True}),
    # dtypes
    Refused("complex-X", "clf", lambda e: e.fit(X + 1j, Y_BIN),
            ValueError, "Complex data not supported"),
    Refused("complex-X-predict", "reg", lambda e: e.predict(X + 0j),
            ValueError, "Complex data not supported", states=("fit",)),
    Refused("string-X", "clf", lambda e: e.fit(np.full((N, 4), "abc"), Y_BIN),
            ValueError, "could not convert string to float"),
    Refused("object-X-with-strings", "reg",
            lambda e: e.fit(np.array([["a", 1.0]] * N, dtype=object), Y_REG),
            ValueError, "could not convert string to float"),
    Refused("object-X-with-None", "clf",
            lambda e: e.fit(np.array([[None, 1.0]] + [[0.5, 1.0]] * (N - 1), dtype=object),
                            Y_BIN),
            ValueError, "Input X contains NaN"),
    Refused("pandas-string-column", "clf",
            lambda e: e.fit(pd.DataFrame({"a": X[:, 0], "b": ["x"] * N}), Y_BIN),
            ValueError, "could not convert string to float"),
    Refused("pandas-categorical-column", "reg",
            lambda e: e.fit(pd.DataFrame({"a": X[:, 0],
                                          "b": pd.Categorical(["u", "v"] * (N // 2))}),
                            Y_REG),
            ValueError, "Cannot cast|could not convert string to float"),
    Refused("pandas-nullable-int-with-NA", "clf",
            lambda e: e.fit(pd.DataFrame({"a": pd.array([None] + [1] * (N - 1), dtype="Int64"),
                                          "b": X[:, 1]}), Y_BIN),
            ValueError, "Input X contains NaN"),
    # malformed sparse matrices: scikit-learn reads out of bounds (segfaults)
    *[
        Refused(f"malformed-csr-{fault.replace(' ', '-')}", "clf",
                lambda e, fault=fault: e.fit(_malformed_csr(fault), Y_BIN),
                ValueError, "The sparse CSR matrix X is malformed", sklearn=None)
        for fault in ["column out of range", "negative column", "indptr decreasing",
                      "indptr beyond data"]
    ],
    Refused("malformed-csr-predict", "clf",
            lambda e: e.predict(_malformed_csr("column out of range")),
            ValueError, "The sparse CSR matrix X is malformed", states=("fit",), sklearn=None),
    Refused("malformed-csc", "reg", lambda e: e.fit(_malformed_csc(), Y_REG),
            ValueError, "The sparse CSC matrix X is malformed", sklearn=None),
    # parameters (the InvalidParameterError ones are in test_errors.py)
    Refused("hidden_layer_sizes-(0,)", "clf", lambda e: e.fit(X, Y_BIN),
            ValueError, "hidden_layer_sizes must be > 0", params={"hidden_layer_sizes": (0,)}),
    Refused("hidden_layer_sizes-(-3,)", "reg", lambda e: e.fit(X, Y_REG),
            ValueError, "hidden_layer_sizes must be > 0", params={"hidden_layer_sizes": (4, -3)}),
    Refused("hidden_layer_sizes-(2.0,)", "clf", lambda e: e.fit(X, Y_BIN),
            ValueError, "hidden_layer_sizes must be > 0.*whole numbers",
            params={"hidden_layer_sizes": (2.0,)}, sklearn=TypeError),
    Refused("hidden_layer_sizes-(True,)", "reg", lambda e: e.fit(X, Y_REG),
            ValueError, "hidden_layer_sizes must be > 0.*whole numbers",
            params={"hidden_layer_sizes": (True,)}, sklearn=TypeError),
    Refused("hidden_layer_sizes-2.5", "reg", lambda e: e.fit(X, Y_REG),
            InvalidParameterError, "The 'hidden_layer_sizes' parameter",
            params={"hidden_layer_sizes": 2.5}),
    Refused("hidden_layer_sizes-None", "clf", lambda e: e.fit(X, Y_BIN),
            InvalidParameterError, "The 'hidden_layer_sizes' parameter",
            params={"hidden_layer_sizes": None}),
    Refused("max_iter-0", "clf", lambda e: e.fit(X, Y_BIN),
            InvalidParameterError, "The 'max_iter' parameter", params={"max_iter": 0}),
    Refused("batch_size-0", "reg", lambda e: e.fit(X, Y_REG),
            InvalidParameterError, "The 'batch_size' parameter", params={"batch_size": 0}),
    # huge values: exp overflows (Poisson: exp(net) underflows to 0, the loss divides by it)
    Refused("huge-X-poisson", "reg", lambda e: e.fit(X * 1e300, Y_POISSON),
            ValueError, NON_FINITE, params={"loss": "poisson"}),
    Refused("huge-X-poisson-sgd", "reg", lambda e: e.fit(X * 1e300, Y_POISSON),
            ValueError, NON_FINITE, params={"loss": "poisson", "solver": "sgd"}),
    Refused("huge-X-identity-regressor", "reg", lambda e: e.fit(X * 1e300, Y_REG),
            ValueError, NON_FINITE),
    Refused("huge-X-relu-softmax-sgd", "clf", lambda e: e.fit(X * 1e300, Y_3),
            ValueError, NON_FINITE, params={"solver": "sgd"}),
    # scikit-learn returns a model that did not train (L-BFGS: loss_ is NaN
    # after 0 iterations)
    Refused("huge-X-relu-logistic-lbfgs", "clf", lambda e: e.fit(X * 1e300, Y_BIN),
            ValueError, NON_FINITE, params={"solver": "lbfgs"}, sklearn=None),
    Refused("huge-X-poisson-lbfgs", "reg", lambda e: e.fit(X * 1e300, Y_POISSON),
            ValueError, NON_FINITE, params={"loss": "poisson", "solver": "lbfgs"},
            sklearn=None),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_refused_input_changes_nothing(case):
    assert_refused(case.kind, case.call, case.exc, case.match, case.params, case.states,
                   case.sklearn)


def test_ids_are_unique():
    assert len({c.id for c in REFUSED}) == len(REFUSED)


def test_huge_inputs_where_scikit_learn_silently_does_not_train():
    # The deliberate difference of the L-BFGS case above marked sklearn=None:
    # scikit-learn "fits" without an error but its weights never move.
    params = dict(SMALL, solver="lbfgs")
    short = SkMLPClassifier(**{**params, "max_iter": 1}).fit(X * 1e300, Y_3)
    long = SkMLPClassifier(**{**params, "max_iter": 20}).fit(X * 1e300, Y_3)
    assert_array_equal(short.coefs_[0], long.coefs_[0])


def test_huge_inputs_with_adam_stop_moving_as_in_scikit_learn():
    # Adam's second moments overflow to inf, so each step m / (sqrt(inf) + eps)
    # is 0 in IEEE arithmetic: the same (finite) model as scikit-learn's
    sk, nm = both_fit("clf", X * 1e300, Y_3)
    assert_same_fit(sk, nm)
    assert all(np.isfinite(c).all() for c in nm.coefs_)


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_sparse_checks_leave_the_callers_matrix_alone(how):
    bad = _malformed_csr("column out of range")
    copies = (bad.data.copy(), bad.indices.copy(), bad.indptr.copy())
    est = MLPClassifier(**SMALL)
    with pytest.raises(ValueError):
        if how == "fit":
            est.fit(bad, Y_BIN)
        else:
            est.partial_fit(bad, Y_BIN, classes=[0, 1])
    for before, after in zip(copies, (bad.data, bad.indices, bad.indptr)):
        assert_array_equal(before, after)


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
    "pandas-mixed-dtypes": lambda: pd.DataFrame({
        "f64": X[:, 0], "i64": np.round(X[:, 1] * 3).astype(np.int64),
        "bool": X[:, 2] > 0, "f32": X[:, 3].astype(np.float32)}),
    "pandas-nullable-Int64": lambda: pd.DataFrame({
        "a": pd.array(np.round(X[:, 0] * 3).astype(int), dtype="Int64"), "b": X[:, 1]}),
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
        assert_allclose(nm.predict(Xin), sk.predict(Xin), rtol=tol.get("rtol", 1e-6),
                        atol=tol.get("atol", 1e-9))
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
    message = ("Got `batch_size` less than 1 or larger than sample size. "
               "It is going to be clipped")
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
    kind, y, extra = {"binary": ("clf", Y_BIN, {}), "multiclass": ("clf", Y_3, {}),
                      "poisson": ("reg", Y_POISSON, {"loss": "poisson"})}[target]
    sk, nm = both_fit(kind, X * 1e300, y, params=dict(activation=activation,
                                                      solver=solver, **extra))
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
    dup = sp.csr_matrix((np.array(dup_data), np.array(dup_ind), np.array(dup_ptr)),
                        shape=X.shape)
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
# coefs_init dtypes (shapes: test_errors.py)
# ---------------------------------------------------------------------------


def _init():
    est = MLPClassifier(**SMALL).fit(X, Y_BIN)
    return [c.copy() for c in est.coefs_], [b.copy() for b in est.intercepts_]


@pytest.mark.parametrize(
    "convert",
    [lambda a: a.astype(np.complex128), lambda a: a.astype(str),
     lambda a: a.astype(object), lambda a: np.full(a.shape, None)],
    ids=["complex", "str", "object", "None"],
)
@pytest.mark.parametrize("which", ["coefs_init", "intercepts_init"])
def test_coefs_init_of_a_non_real_dtype_is_refused(convert, which):
    coefs, inters = _init()
    if which == "coefs_init":
        coefs[1] = convert(coefs[1])
    else:
        inters[0] = convert(inters[0])
    call = lambda e: e.fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)  # noqa: E731
    assert_refused("clf", call, ValueError, rf"{which}\[[01]\] has dtype", sklearn=None)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16, np.float32])
@pytest.mark.parametrize("x_dtype", [np.float64, np.float32])
def test_coefs_init_of_a_real_dtype_is_cast_to_the_data_dtype(dtype, x_dtype):
    coefs, inters = _init()
    given = [c.astype(dtype) for c in coefs], [b.astype(dtype) for b in inters]
    est = MLPClassifier(**{**SMALL, "max_iter": 1, "learning_rate_init": 1e-12})
    est.fit(X.astype(x_dtype), Y_BIN, coefs_init=given[0], intercepts_init=given[1])
    for got, want in zip(est.coefs_ + est.intercepts_, given[0] + given[1]):
        assert got.dtype == x_dtype
        assert_allclose(got, want.astype(x_dtype), atol=1e-6)
    for arr, orig in zip(given[0], coefs):  # the caller's arrays are untouched
        assert arr.dtype == dtype and arr.shape == orig.shape


# ---------------------------------------------------------------------------
# the nastiest inputs in a fresh interpreter: it must not crash
# ---------------------------------------------------------------------------

NASTY_SCRIPT = r"""
import warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from numba_mlp import MLPClassifier, MLPRegressor

rng = np.random.RandomState(0)
X = rng.randn(40, 4); y = (X[:, 0] > 0).astype(int); yr = X[:, 0].copy()
outcomes = []

def attempt(name, fn):
    try:
        fn()
        outcomes.append((name, "ok"))
    except (ValueError, ZeroDivisionError) as exc:
        outcomes.append((name, type(exc).__name__))
    print(outcomes[-1][0], outcomes[-1][1], flush=True)

def lying(fault, fmt="csr"):
    good = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    bad = sp.csr_matrix(X.shape) if fmt == "csr" else sp.csc_matrix(X.shape)
    bad.data, bad.indices, bad.indptr = (good.data.copy(), good.indices.copy().astype(np.int64),
                                         good.indptr.copy().astype(np.int64))
    if fault == 0: bad.indices[::7] = 2**40
    if fault == 1: bad.indices[::5] = -(2**40)
    if fault == 2: bad.indptr[2:] += 1000
    if fault == 3: bad.indptr = bad.indptr[::-1].copy()
    return bad

for fault in range(4):
    for cls, target in ((MLPClassifier, y), (MLPRegressor, yr)):
        for solver in ("adam", "lbfgs"):
            for fmt in ("csr", "csc"):
                attempt(f"fit lying {fmt} {fault} {cls.__name__} {solver}",
                        lambda: cls(hidden_layer_sizes=(3,), max_iter=2, solver=solver,
                                    random_state=0).fit(lying(fault, fmt), target))
    good = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    for fmt in ("csr", "csc"):
        attempt(f"predict lying {fmt} {fault}", lambda: good.predict(lying(fault, fmt)))

good = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
for name, tamper in [
    ("coefs_ wrong shape", lambda m: m.coefs_.__setitem__(0, np.zeros((9, 3)))),
    ("coefs_ missing layer", lambda m: m.coefs_.pop()),
    ("intercepts_ too short", lambda m: m.intercepts_.__setitem__(0, np.zeros(1))),
    ("coefs_ 1-d", lambda m: m.coefs_.__setitem__(1, np.zeros(3))),
]:
    import copy
    m = copy.deepcopy(good)
    tamper(m)
    attempt("predict after " + name, lambda: m.predict(X))
    attempt("predict_proba after " + name, lambda: m.predict_proba(X))

for scale in (1e300, 1.7e308, -1.7e308):
    for act in ("relu", "logistic", "tanh", "identity"):
        for solver in ("adam", "sgd", "lbfgs"):
            attempt(f"fit huge {scale} {act} {solver} clf", lambda: MLPClassifier(
                hidden_layer_sizes=(3,), activation=act, solver=solver, max_iter=3,
                random_state=0).fit(X * scale, np.arange(40) % 3))
            attempt(f"fit huge {scale} {act} {solver} poisson", lambda: MLPRegressor(
                loss="poisson", hidden_layer_sizes=(3,), activation=act, solver=solver,
                max_iter=3, random_state=0).fit(X * scale, np.arange(40) % 4 + 0.5))
    attempt(f"predict huge {scale}", lambda: good.predict_proba(X * scale))
attempt("float32 overflow", lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=3,
        random_state=0).fit((X * 3e38).astype(np.float32), yr))
attempt("sample weights 1e308", lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=3,
        random_state=0).fit(X, yr, sample_weight=np.full(40, 1e308)))
attempt("sample weights 1e-320", lambda: MLPRegressor(hidden_layer_sizes=(3,), max_iter=3,
        random_state=0).fit(X, yr, sample_weight=np.full(40, 1e-320)))
attempt("sample weights summing to zero, batch 2", lambda: MLPRegressor(
        hidden_layer_sizes=(3,), max_iter=3, batch_size=2, shuffle=False,
        random_state=0).fit(X, yr, sample_weight=np.tile([1.0, -1.0], 20)))
attempt("learning_rate_init 1e300", lambda: MLPRegressor(hidden_layer_sizes=(3,),
        solver="sgd", learning_rate_init=1e300, max_iter=3, random_state=0).fit(X, yr))
print("COUNT", len(outcomes))
print("DONE")
"""


def test_nastiest_inputs_do_not_crash_the_interpreter(run_python):
    result = run_python(NASTY_SCRIPT, timeout=900)
    assert result.returncode == 0, (result.returncode, result.stdout[-3000:],
                                    result.stderr[-3000:])
    lines = result.stdout.splitlines()
    assert lines[-1] == "DONE"
    count = int(lines[-2].split()[1])
    outcomes = dict(line.rsplit(" ", 1) for line in lines[:-2])
    assert len(outcomes) == count > 100
    for name, outcome in outcomes.items():
        if "lying" in name or "after" in name:
            assert outcome == "ValueError", (name, outcome)
        if "summing to zero" in name:
            assert outcome == "ZeroDivisionError", (name, outcome)
    print(f"{count} nasty inputs, no crash", file=sys.stderr)
