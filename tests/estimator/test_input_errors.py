"""Refused inputs: the bad-input table of the README's "Errors" section, one
test per row, and bad X, y and sample_weight against scikit-learn's messages.

Every input is tried on numba_mlp and on scikit-learn. Where scikit-learn
refuses it, numba_mlp raises the same exception type with a message matching
the same pattern (``assert_same_error``: scikit-learn's whole message where
no pattern is given). Where numba_mlp deliberately differs (malformed sparse
matrices, on which scikit-learn segfaults; huge inputs, on which
scikit-learn may hand back an untrained model), the test says so.

Every refused ``fit``/``partial_fit``/``predict`` of the table is also
checked to leave the estimator exactly as it was, both unfitted and after an
earlier good fit (``assert_refused``). Inputs scikit-learn accepts:
test_accepted_inputs.py; bad parameters and initial weights:
test_parameter_errors.py; errors that depend on the estimator's state
(not fitted, partial_fit, warm_start, divergence): test_fit_state_errors.py;
numba-mlp's own messages: test_error_messages.py.

The nastiest inputs (malformed sparse index arrays, tampered fitted weights,
1e308 values) are also run in a fresh interpreter, whose exit code proves
that none of them crashes Python.
"""

import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import _check_sample_weight

from numba_mlp import MLPClassifier

from helpers import (
    NON_FINITE,
    SMALL,
    TARGETS,
    Y_3,
    Y_BIN,
    Y_POISSON,
    Y_REG,
    N,
    X,
    assert_not_fitted,
    assert_refused,
    assert_same_error,
    assert_same_fit,
    both_fit,
    with_value,
)

pytestmark = pytest.mark.filterwarnings("ignore")

# ---------------------------------------------------------------------------
# non-finite input and bad shapes, against scikit-learn's messages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize(
    "value, match",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_X(kind, value, match, method):
    Xbad = with_value(X, (3, 1), value)
    y = TARGETS[kind]
    if method == "fit":

        def call(est):
            est.fit(Xbad, y)
    else:

        def call(est):
            kw = {"classes": np.unique(y)} if kind == "clf" else {}
            est.partial_fit(Xbad, y, **kw)

    nm = assert_same_error(kind, call, match=match)
    assert_not_fitted(nm)


@pytest.mark.parametrize(
    "kind, method",
    [
        ("clf", "predict"),
        ("clf", "score"),
        ("clf", "predict_proba"),
        ("reg", "predict"),
        ("reg", "score"),
    ],
)
def test_non_finite_X_at_predict(kind, method):
    Xbad = with_value(X, (0, 0), np.nan)

    def call(est):
        if method == "score":
            est.score(Xbad, TARGETS[kind])
        else:
            getattr(est, method)(Xbad)

    assert_same_error(
        kind, call, match="Input X contains NaN", fitted_with=lambda e: e.fit(X, TARGETS[kind])
    )


@pytest.mark.parametrize(
    "kind, value, match",
    [
        ("reg", np.nan, "Input y contains NaN"),
        ("reg", np.inf, "Input y contains infinity"),
        ("clf", np.nan, "Input y contains NaN"),
    ],
)
def test_non_finite_y(kind, value, match):
    ybad = with_value(TARGETS[kind], 7, value)
    nm = assert_same_error(kind, lambda est: est.fit(X, ybad), match=match)
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_non_finite_sample_weight(kind):
    sw = with_value(np.ones(N), 2, np.nan)
    nm = assert_same_error(
        kind,
        lambda est: est.fit(X, TARGETS[kind], sample_weight=sw),
        match="Input sample_weight contains NaN",
    )
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize(
    "case",
    ["sw_shape", "y_length", "X_1d", "empty"],
)
def test_bad_shapes(kind, case):
    y = TARGETS[kind]
    calls = {
        "sw_shape": lambda est: est.fit(X, y, sample_weight=np.ones(N - 1)),
        "y_length": lambda est: est.fit(X, y[:-1]),
        "X_1d": lambda est: est.fit(X[:, 0], y),
        "empty": lambda est: est.fit(X[:0], y[:0]),
    }
    matches = {
        "sw_shape": re.escape("sample_weight.shape == (59,), expected (60,)!"),
        "y_length": re.escape("inconsistent numbers of samples: [60, 59]"),
        "X_1d": "Expected 2D array, got 1D array instead",
        "empty": re.escape(
            "Found array with 0 sample(s) (shape=(0, 4)) while a minimum of 1 is required"
        ),
    }
    nm = assert_same_error(kind, calls[case], match=matches[case])
    assert_not_fitted(nm)


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
    "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
)

REFUSED = [
    # non-finite numbers
    Refused(
        "nan-X-fit",
        "clf",
        lambda e: e.fit(with_value(X, (3, 1), np.nan), Y_BIN),
        ValueError,
        "Input X contains NaN",
    ),
    Refused(
        "inf-X-fit",
        "reg",
        lambda e: e.fit(with_value(X, (3, 1), np.inf), Y_REG),
        ValueError,
        "Input X contains infinity",
    ),
    Refused(
        "nan-X-partial_fit",
        "clf",
        _pf("clf", with_value(X, (0, 0), np.nan), Y_BIN),
        ValueError,
        "Input X contains NaN",
        states=("unfitted", "partial_fit"),
    ),
    Refused(
        "nan-X-predict",
        "clf",
        lambda e: e.predict(with_value(X, (0, 0), np.nan)),
        ValueError,
        "Input X contains NaN",
        states=("fit",),
    ),
    Refused(
        "nan-y",
        "reg",
        lambda e: e.fit(X, with_value(Y_REG, 4, np.nan)),
        ValueError,
        "Input y contains NaN",
    ),
    Refused(
        "inf-y",
        "reg",
        lambda e: e.fit(X, with_value(Y_REG, 4, -np.inf)),
        ValueError,
        "Input y contains infinity",
    ),
    Refused(
        "nan-y-classifier",
        "clf",
        lambda e: e.fit(X, with_value(Y_BIN, 4, np.nan)),
        ValueError,
        "Input y contains NaN",
    ),
    Refused(
        "nan-sample_weight",
        "reg",
        lambda e: e.fit(X, Y_REG, sample_weight=with_value(np.ones(N), 2, np.nan)),
        ValueError,
        "Input sample_weight contains NaN",
    ),
    Refused(
        "inf-sample_weight",
        "clf",
        lambda e: e.fit(X, Y_BIN, sample_weight=with_value(np.ones(N), 2, np.inf)),
        ValueError,
        "Input sample_weight contains infinity",
    ),
    # scikit-learn >= 1.9's _check_sample_weight refuses all-zero weights up
    # front; 1.8's does not, and the first minibatch divides by zero instead.
    Refused(
        "zero-sample_weight",
        "clf",
        lambda e: e.fit(X, Y_BIN, sample_weight=np.zeros(N)),
        *(
            (ValueError, "Sample weights must contain at least one non-zero number")
            if ZERO_WEIGHTS_REFUSED_UP_FRONT
            else (ZeroDivisionError, "Weights sum to zero, can't be normalized")
        ),
    ),
    Refused(
        "batch-weights-sum-to-zero",
        "reg",
        lambda e: e.fit(X, Y_REG, sample_weight=np.tile([1.0, -1.0], N // 2)),
        ZeroDivisionError,
        "Weights sum to zero, can't be normalized",
    ),
    Refused(
        "batch-weights-sum-to-zero-lbfgs",
        "clf",
        lambda e: e.fit(X, Y_BIN, sample_weight=np.tile([1.0, -1.0], N // 2)),
        ZeroDivisionError,
        "Weights sum to zero, can't be normalized",
        params={"solver": "lbfgs"},
    ),
    # labels
    Refused(
        "continuous-y-classifier",
        "clf",
        lambda e: e.fit(X, Y_REG),
        ValueError,
        "Unknown label type",
    ),
    Refused(
        "multioutput-multiclass-y",
        "clf",
        lambda e: e.fit(X, np.c_[Y_BIN, Y_3]),
        ValueError,
        "Multioutput target data is not supported with label binarization",
    ),
    Refused(
        "partial_fit-first-call-no-classes",
        "clf",
        lambda e: e.partial_fit(X, Y_BIN),
        ValueError,
        "classes must be passed on the first call to partial_fit",
        states=("unfitted",),
    ),
    Refused(
        "partial_fit-first-call-classes-missing-a-label",
        "clf",
        lambda e: e.partial_fit(X, Y_3, classes=[0, 1]),
        ValueError,
        re.escape("`y` has classes not in `self.classes_`"),
        states=("unfitted",),
    ),
    Refused(
        "partial_fit-unseen-label",
        "clf",
        _pf("clf", X, np.where(Y_BIN == 1, 7, 0)),
        ValueError,
        re.escape("`y` has classes not in `self.classes_`"),
        states=("unfitted", "partial_fit"),
    ),
    # shapes
    Refused(
        "wrong-n_features-predict",
        "clf",
        lambda e: e.predict(X[:, :3]),
        ValueError,
        "X has 3 features, but MLPClassifier is expecting 4 features",
        states=("fit",),
    ),
    Refused(
        "wrong-n_features-partial_fit",
        "reg",
        _pf("reg", X[:, :3], Y_REG),
        ValueError,
        "X has 3 features, but MLPRegressor is expecting 4 features",
        states=("partial_fit",),
    ),
    Refused(
        "predict-before-fit",
        "reg",
        lambda e: e.predict(X),
        NotFittedError,
        "This MLPRegressor instance is not fitted yet",
        states=("unfitted",),
    ),
    Refused(
        "empty-X-fit",
        "clf",
        lambda e: e.fit(X[:0], Y_BIN[:0]),
        ValueError,
        re.escape("Found array with 0 sample(s)"),
    ),
    Refused(
        "empty-X-partial_fit",
        "reg",
        _pf("reg", X[:0], Y_REG[:0]),
        ValueError,
        re.escape("Found array with 0 sample(s)"),
        states=("unfitted", "partial_fit"),
    ),
    Refused(
        "zero-features",
        "reg",
        lambda e: e.fit(X[:, :0], Y_REG),
        ValueError,
        re.escape("Found array with 0 feature(s)"),
    ),
    Refused(
        "3-d-X",
        "clf",
        lambda e: e.fit(X.reshape(N, 2, 2), Y_BIN),
        ValueError,
        "Found array with dim 3",
    ),
    Refused(
        "ragged-list-X",
        "reg",
        lambda e: e.fit([[1.0, 2.0], [3.0]] * 5, Y_REG[:10]),
        ValueError,
        "inhomogeneous shape",
    ),
    Refused(
        "single-sample-early_stopping",
        "reg",
        lambda e: e.fit(X[:1], Y_REG[:1]),
        ValueError,
        "the resulting train set will be empty",
        params={"early_stopping": True},
    ),
    Refused(
        "two-samples-early_stopping-classifier",
        "clf",
        lambda e: e.fit(X[:2], np.array([0, 1])),
        ValueError,
        "The least populated classes in y have only 1 member",
        params={"early_stopping": True},
    ),
    Refused(
        "five-samples-early_stopping",
        "reg",
        lambda e: e.fit(X[:5], Y_REG[:5]),
        ValueError,
        "The validation set is too small",
        params={"early_stopping": True},
    ),
    # dtypes
    Refused(
        "complex-X", "clf", lambda e: e.fit(X + 1j, Y_BIN), ValueError, "Complex data not supported"
    ),
    Refused(
        "complex-X-predict",
        "reg",
        lambda e: e.predict(X + 0j),
        ValueError,
        "Complex data not supported",
        states=("fit",),
    ),
    Refused(
        "string-X",
        "clf",
        lambda e: e.fit(np.full((N, 4), "abc"), Y_BIN),
        ValueError,
        "could not convert string to float",
    ),
    Refused(
        "object-X-with-strings",
        "reg",
        lambda e: e.fit(np.array([["a", 1.0]] * N, dtype=object), Y_REG),
        ValueError,
        "could not convert string to float",
    ),
    Refused(
        "object-X-with-None",
        "clf",
        lambda e: e.fit(np.array([[None, 1.0]] + [[0.5, 1.0]] * (N - 1), dtype=object), Y_BIN),
        ValueError,
        "Input X contains NaN",
    ),
    Refused(
        "pandas-string-column",
        "clf",
        lambda e: e.fit(pd.DataFrame({"a": X[:, 0], "b": ["x"] * N}), Y_BIN),
        ValueError,
        "could not convert string to float",
    ),
    Refused(
        "pandas-categorical-column",
        "reg",
        lambda e: e.fit(
            pd.DataFrame({"a": X[:, 0], "b": pd.Categorical(["u", "v"] * (N // 2))}), Y_REG
        ),
        ValueError,
        "Cannot cast|could not convert string to float",
    ),
    Refused(
        "pandas-nullable-int-with-NA",
        "clf",
        lambda e: e.fit(
            pd.DataFrame({"a": pd.array([None] + [1] * (N - 1), dtype="Int64"), "b": X[:, 1]}),
            Y_BIN,
        ),
        ValueError,
        "Input X contains NaN",
    ),
    # malformed sparse matrices: scikit-learn reads out of bounds (segfaults)
    *[
        Refused(
            f"malformed-csr-{fault.replace(' ', '-')}",
            "clf",
            lambda e, fault=fault: e.fit(_malformed_csr(fault), Y_BIN),
            ValueError,
            "The sparse CSR matrix X is malformed",
            sklearn=None,
        )
        for fault in [
            "column out of range",
            "negative column",
            "indptr decreasing",
            "indptr beyond data",
        ]
    ],
    Refused(
        "malformed-csr-predict",
        "clf",
        lambda e: e.predict(_malformed_csr("column out of range")),
        ValueError,
        "The sparse CSR matrix X is malformed",
        states=("fit",),
        sklearn=None,
    ),
    Refused(
        "malformed-csc",
        "reg",
        lambda e: e.fit(_malformed_csc(), Y_REG),
        ValueError,
        "The sparse CSC matrix X is malformed",
        sklearn=None,
    ),
    # parameters (the InvalidParameterError ones are in test_parameter_errors.py)
    Refused(
        "hidden_layer_sizes-(0,)",
        "clf",
        lambda e: e.fit(X, Y_BIN),
        ValueError,
        "hidden_layer_sizes must be > 0",
        params={"hidden_layer_sizes": (0,)},
    ),
    Refused(
        "hidden_layer_sizes-(-3,)",
        "reg",
        lambda e: e.fit(X, Y_REG),
        ValueError,
        "hidden_layer_sizes must be > 0",
        params={"hidden_layer_sizes": (4, -3)},
    ),
    Refused(
        "hidden_layer_sizes-(2.0,)",
        "clf",
        lambda e: e.fit(X, Y_BIN),
        ValueError,
        "hidden_layer_sizes must be > 0.*whole numbers",
        params={"hidden_layer_sizes": (2.0,)},
        sklearn=TypeError,
    ),
    Refused(
        "hidden_layer_sizes-(True,)",
        "reg",
        lambda e: e.fit(X, Y_REG),
        ValueError,
        "hidden_layer_sizes must be > 0.*whole numbers",
        params={"hidden_layer_sizes": (True,)},
        sklearn=TypeError,
    ),
    Refused(
        "hidden_layer_sizes-2.5",
        "reg",
        lambda e: e.fit(X, Y_REG),
        InvalidParameterError,
        "The 'hidden_layer_sizes' parameter",
        params={"hidden_layer_sizes": 2.5},
    ),
    Refused(
        "hidden_layer_sizes-None",
        "clf",
        lambda e: e.fit(X, Y_BIN),
        InvalidParameterError,
        "The 'hidden_layer_sizes' parameter",
        params={"hidden_layer_sizes": None},
    ),
    Refused(
        "max_iter-0",
        "clf",
        lambda e: e.fit(X, Y_BIN),
        InvalidParameterError,
        "The 'max_iter' parameter",
        params={"max_iter": 0},
    ),
    Refused(
        "batch_size-0",
        "reg",
        lambda e: e.fit(X, Y_REG),
        InvalidParameterError,
        "The 'batch_size' parameter",
        params={"batch_size": 0},
    ),
    # huge values: exp overflows (Poisson: exp(net) underflows to 0, the loss divides by it)
    Refused(
        "huge-X-poisson",
        "reg",
        lambda e: e.fit(X * 1e300, Y_POISSON),
        ValueError,
        NON_FINITE,
        params={"loss": "poisson"},
    ),
    Refused(
        "huge-X-poisson-sgd",
        "reg",
        lambda e: e.fit(X * 1e300, Y_POISSON),
        ValueError,
        NON_FINITE,
        params={"loss": "poisson", "solver": "sgd"},
    ),
    Refused(
        "huge-X-identity-regressor",
        "reg",
        lambda e: e.fit(X * 1e300, Y_REG),
        ValueError,
        NON_FINITE,
    ),
    Refused(
        "huge-X-relu-softmax-sgd",
        "clf",
        lambda e: e.fit(X * 1e300, Y_3),
        ValueError,
        NON_FINITE,
        params={"solver": "sgd"},
    ),
    # scikit-learn returns a model that did not train (L-BFGS: loss_ is NaN
    # after 0 iterations)
    Refused(
        "huge-X-relu-logistic-lbfgs",
        "clf",
        lambda e: e.fit(X * 1e300, Y_BIN),
        ValueError,
        NON_FINITE,
        params={"solver": "lbfgs"},
        sklearn=None,
    ),
    Refused(
        "huge-X-poisson-lbfgs",
        "reg",
        lambda e: e.fit(X * 1e300, Y_POISSON),
        ValueError,
        NON_FINITE,
        params={"loss": "poisson", "solver": "lbfgs"},
        sklearn=None,
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_refused_input_changes_nothing(case):
    assert_refused(
        case.kind, case.call, case.exc, case.match, case.params, case.states, case.sklearn
    )


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


@pytest.mark.slow
def test_nastiest_inputs_do_not_crash_the_interpreter(run_python):
    result = run_python(NASTY_SCRIPT, timeout=900)
    assert result.returncode == 0, (result.returncode, result.stdout[-3000:], result.stderr[-3000:])
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
