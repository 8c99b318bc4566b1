"""Bad-input errors.

For the scikit-learn API, the exception (type and message) expected of
numba_mlp is the one the installed scikit-learn raises on the same call.
The numba_mlp-only parameters (out_activation, coefs_init, intercepts_init)
and the "failed fit leaves no half-fitted model" guarantee are checked on
their own.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from numba_mlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore")

N = 60
_rng = np.random.RandomState(0)
X = _rng.randn(N, 4)
Y_REG = X @ np.array([1.0, -0.5, 0.3, 0.0]) + 0.1 * _rng.randn(N)
Y_BIN = (Y_REG > 0).astype(int)
Y_3 = np.arange(N) % 3
SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)

CLASSES = {"clf": (SkMLPClassifier, MLPClassifier), "reg": (SkMLPRegressor, MLPRegressor)}


def _y(kind):
    return Y_BIN if kind == "clf" else Y_REG


def _raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - we want whatever sklearn raises
            return exc
    raise AssertionError("scikit-learn did not raise; the test case is wrong")


def assert_same_error(kind, call, params=None, match=None, fitted_with=None):
    """Run ``call(est)`` on scikit-learn's and on numba_mlp's estimator.

    numba_mlp must raise exactly the exception type scikit-learn raises, with
    a message matching ``match`` (which must match scikit-learn's message;
    by default scikit-learn's whole message, escaped).
    """
    params = {**SMALL, **(params or {})}
    sk_cls, nm_cls = CLASSES[kind]
    sk, nm = sk_cls(**params), nm_cls(**params)
    if fitted_with is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted_with(sk)
            fitted_with(nm)
    sk_exc = _raised(lambda: call(sk))
    if match is None:
        match = re.escape(str(sk_exc))
    assert re.search(match, str(sk_exc)), (match, str(sk_exc))
    with pytest.raises(Exception) as excinfo:
        call(nm)
    assert type(excinfo.value) is type(sk_exc), (
        f"numba_mlp raised {type(excinfo.value).__name__}: {excinfo.value}; "
        f"scikit-learn raised {type(sk_exc).__name__}: {sk_exc}"
    )
    assert re.search(match, str(excinfo.value)), (match, str(excinfo.value))
    return nm


def snapshot(est):
    return (
        [c.copy() for c in est.coefs_],
        [b.copy() for b in est.intercepts_],
        est.predict(X).copy(),
    )


def assert_unchanged(est, snap):
    coefs, inters, pred = snap
    assert len(est.coefs_) == len(coefs)
    for a, b in zip(est.coefs_, coefs):
        assert_array_equal(a, b)
    for a, b in zip(est.intercepts_, inters):
        assert_array_equal(a, b)
    assert_array_equal(est.predict(X), pred)


def assert_not_fitted(est):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(X)


# ---------------------------------------------------------------------------
# non-finite input
# ---------------------------------------------------------------------------


def _with(arr, idx, value):
    arr = np.array(arr, dtype=float)
    arr[idx] = value
    return arr


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize(
    "value, match", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity"),
                     (-np.inf, "Input X contains infinity")],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_X(kind, value, match, method):
    Xbad = _with(X, (3, 1), value)
    y = _y(kind)
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
    [("clf", "predict"), ("clf", "score"), ("clf", "predict_proba"),
     ("reg", "predict"), ("reg", "score")],
)
def test_non_finite_X_at_predict(kind, method):
    Xbad = _with(X, (0, 0), np.nan)

    def call(est):
        if method == "score":
            est.score(Xbad, _y(kind))
        else:
            getattr(est, method)(Xbad)

    assert_same_error(kind, call, match="Input X contains NaN",
                      fitted_with=lambda e: e.fit(X, _y(kind)))


@pytest.mark.parametrize(
    "kind, value, match",
    [
        ("reg", np.nan, "Input y contains NaN"),
        ("reg", np.inf, "Input y contains infinity"),
        ("clf", np.nan, "Input y contains NaN"),
    ],
)
def test_non_finite_y(kind, value, match):
    ybad = _with(_y(kind), 7, value)
    nm = assert_same_error(kind, lambda est: est.fit(X, ybad), match=match)
    assert_not_fitted(nm)


def test_classifier_continuous_target():
    nm = assert_same_error("clf", lambda est: est.fit(X, Y_REG),
                           match="Unknown label type")
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_non_finite_sample_weight(kind):
    sw = _with(np.ones(N), 2, np.nan)
    nm = assert_same_error(
        kind, lambda est: est.fit(X, _y(kind), sample_weight=sw),
        match="Input sample_weight contains NaN")
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize(
    "case",
    ["sw_shape", "y_length", "X_1d", "empty"],
)
def test_bad_shapes(kind, case):
    y = _y(kind)
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
        "empty": re.escape("Found array with 0 sample(s) (shape=(0, 4)) while a "
                           "minimum of 1 is required"),
    }
    nm = assert_same_error(kind, calls[case], match=matches[case])
    assert_not_fitted(nm)


# ---------------------------------------------------------------------------
# fitted-state errors
# ---------------------------------------------------------------------------


CLF_METHODS = ["predict", "predict_proba", "predict_log_proba", "score"]
REG_METHODS = ["predict", "score"]


@pytest.mark.parametrize(
    "kind, method",
    [("clf", m) for m in CLF_METHODS + ["partial_fit"]]
    + [("reg", m) for m in REG_METHODS + ["partial_fit"]],
)
def test_wrong_n_features(kind, method):
    X3 = X[:, :3]

    def call(est):
        if method in ("score", "partial_fit"):
            getattr(est, method)(X3, _y(kind))
        else:
            getattr(est, method)(X3)

    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    assert_same_error(
        kind, call, fitted_with=lambda e: e.fit(X, _y(kind)),
        match=re.escape(f"X has 3 features, but {name} is expecting 4 features as input"),
    )


@pytest.mark.parametrize(
    "kind, method",
    [("clf", m) for m in CLF_METHODS] + [("reg", m) for m in REG_METHODS],
)
def test_not_fitted(kind, method):
    def call(est):
        if method == "score":
            est.score(X, _y(kind))
        else:
            getattr(est, method)(X)

    name = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    assert_same_error(kind, call,
                      match=re.escape(f"This {name} instance is not fitted yet"))


# ---------------------------------------------------------------------------
# parameter validation
# ---------------------------------------------------------------------------

BAD_PARAMS = [
    ("hidden_layer_sizes", 0),
    ("hidden_layer_sizes", -1),
    ("hidden_layer_sizes", 2.5),
    ("activation", "foo"),
    ("solver", "bar"),
    ("alpha", -1.0),
    ("batch_size", 0),
    ("learning_rate", "fast"),
    ("learning_rate_init", 0),
    ("learning_rate_init", -0.1),
    ("power_t", -0.5),
    ("max_iter", 0),
    ("shuffle", "yes"),
    ("tol", -1e-3),
    ("momentum", 1.5),
    ("nesterovs_momentum", "no"),
    ("early_stopping", 3),
    ("validation_fraction", 1.0),
    ("beta_1", 1.0),
    ("beta_2", -0.1),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("max_fun", 0),
]


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("name, value", BAD_PARAMS, ids=[f"{n}={v!r}" for n, v in BAD_PARAMS])
def test_invalid_parameter(kind, name, value):
    cls = "MLPClassifier" if kind == "clf" else "MLPRegressor"
    match = (re.escape(f"The '{name}' parameter of {cls} must be")
             + ".*" + re.escape(f"Got {value!r} instead."))
    nm = assert_same_error(kind, lambda est: est.fit(X, _y(kind)),
                           params={name: value}, match=match)
    assert isinstance(
        _raised(lambda: nm.fit(X, _y(kind))), InvalidParameterError)
    assert_not_fitted(nm)


def test_invalid_regressor_loss():
    nm = assert_same_error(
        "reg", lambda est: est.fit(X, Y_REG), params={"loss": "absolute_error"},
        match=re.escape("The 'loss' parameter of MLPRegressor must be")
        + ".*" + re.escape("Got 'absolute_error' instead."))
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("sizes", [(5, 0), [3, -2]])
def test_non_positive_layer_in_list(kind, sizes):
    nm = assert_same_error(kind, lambda est: est.fit(X, _y(kind)),
                           params={"hidden_layer_sizes": sizes})
    assert_not_fitted(nm)


def test_invalid_classifier_loss():
    # numba_mlp-only parameter: must be rejected at fit with a ValueError
    nm = MLPClassifier(loss="poisson", **SMALL)
    with pytest.raises(ValueError, match="loss"):
        nm.fit(X, Y_BIN)
    assert_not_fitted(nm)


# ---------------------------------------------------------------------------
# partial_fit / warm_start
# ---------------------------------------------------------------------------


def test_partial_fit_lbfgs_classifier():
    sk = SkMLPClassifier(solver="lbfgs")
    nm = MLPClassifier(solver="lbfgs")
    assert not hasattr(sk, "partial_fit")
    assert not hasattr(nm, "partial_fit")
    assert_same_error("clf", lambda est: est.partial_fit(X, Y_BIN, classes=[0, 1]),
                      params={"solver": "lbfgs"},
                      match=re.escape("has no attribute 'partial_fit'"))


def test_partial_fit_lbfgs_regressor():
    # scikit-learn 1.9.1's MLPRegressor guards partial_fit with
    # ``available_if(lambda est: est._check_solver)`` (the method is never
    # called, so the guard is always truthy) and then silently runs lbfgs.
    # numba_mlp follows the documented intent instead, as MLPClassifier does:
    # no partial_fit for a non-stochastic solver.
    assert hasattr(SkMLPRegressor(solver="lbfgs"), "partial_fit")  # the quirk
    nm = MLPRegressor(solver="lbfgs", **SMALL)
    assert not hasattr(nm, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        nm.partial_fit(X, Y_REG)
    assert_not_fitted(nm)


def test_partial_fit_first_call_without_classes():
    nm = assert_same_error("clf", lambda est: est.partial_fit(X, Y_BIN),
                           match=re.escape("classes must be passed on the first call "
                                           "to partial_fit."))
    assert_not_fitted(nm)


def _pf3(est):
    est.partial_fit(X, Y_3, classes=[0, 1, 2])


def test_partial_fit_unseen_class():
    y_bad = Y_3.copy()
    y_bad[-1] = 5
    nm = MLPClassifier(**SMALL)
    _pf3(nm)
    snap = snapshot(nm)
    assert_same_error("clf", lambda est: est.partial_fit(X, y_bad), fitted_with=_pf3)
    with pytest.raises(ValueError):
        nm.partial_fit(X, y_bad)
    assert_unchanged(nm, snap)
    assert_array_equal(nm.classes_, [0, 1, 2])


def test_partial_fit_different_classes_argument():
    nm = MLPClassifier(**SMALL)
    _pf3(nm)
    snap = snapshot(nm)
    assert_same_error("clf", lambda est: est.partial_fit(X, Y_BIN, classes=[0, 1]),
                      fitted_with=_pf3,
                      match=re.escape("is not the same as on last call to partial_fit"))
    with pytest.raises(ValueError):
        nm.partial_fit(X, Y_BIN, classes=[0, 1])
    assert_unchanged(nm, snap)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_early_stopping(kind):
    kw = {"classes": [0, 1]} if kind == "clf" else {}
    nm = assert_same_error(
        kind, lambda est: est.partial_fit(X, _y(kind), **kw),
        params={"early_stopping": True},
        match=re.escape("partial_fit does not support early_stopping=True"))
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_bad_input_after_fit_keeps_model(kind):
    nm = CLASSES[kind][1](**SMALL).fit(X, _y(kind))
    snap = snapshot(nm)
    with pytest.raises(ValueError):
        nm.partial_fit(_with(X, (0, 0), np.nan), _y(kind))
    with pytest.raises(ValueError):
        nm.partial_fit(X[:, :3], _y(kind))
    assert_unchanged(nm, snap)


@pytest.mark.parametrize(
    "kind, fraction", [("reg", 0.01), ("clf", 0.01), ("reg", 0.0), ("clf", 0.0)])
def test_validation_set_too_small(kind, fraction):
    nm = assert_same_error(
        kind, lambda est: est.fit(X, _y(kind)),
        params={"early_stopping": True, "validation_fraction": fraction})
    assert_not_fitted(nm)


def test_validation_set_too_small_message():
    assert_same_error(
        "reg", lambda est: est.fit(X, Y_REG),
        params={"early_stopping": True, "validation_fraction": 0.01},
        match=re.escape("The validation set is too small"))


def test_warm_start_different_classes():
    params = {**SMALL, "warm_start": True}
    nm = MLPClassifier(**params).fit(X, Y_3)
    snap = snapshot(nm)
    assert_same_error(
        "clf", lambda est: est.fit(X, Y_BIN), params={"warm_start": True},
        fitted_with=lambda e: e.fit(X, Y_3),
        match=re.escape("warm_start can only be used where `y` has the same classes "
                        "as in the previous call to fit."))
    with pytest.raises(ValueError):
        nm.fit(X, Y_BIN)
    assert_unchanged(nm, snap)
    assert_array_equal(nm.classes_, [0, 1, 2])


# ---------------------------------------------------------------------------
# numba_mlp-only: out_activation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("value", ["relu", "foo", "tanh"])
def test_out_activation_invalid_value(kind, value):
    nm = CLASSES[kind][1](out_activation=value, **SMALL)
    with pytest.raises(ValueError, match="out_activation"):
        nm.fit(X, _y(kind))
    assert_not_fitted(nm)


@pytest.mark.parametrize(
    "kind, loss, out_activation",
    [
        ("clf", "log_loss", "identity"),
        ("clf", "log_loss", "exp"),
        ("reg", "poisson", "identity"),
    ],
)
def test_out_activation_incompatible_with_loss(kind, loss, out_activation):
    nm = CLASSES[kind][1](loss=loss, out_activation=out_activation, **SMALL)
    with pytest.raises(ValueError) as excinfo:
        nm.fit(X, np.abs(_y(kind)))
    msg = str(excinfo.value)
    # a classifier's outputs must be probabilities, whatever the loss
    assert out_activation in msg, msg
    assert ("does not give probabilities" if kind == "clf" else loss) in msg, msg
    assert_not_fitted(nm)


# ---------------------------------------------------------------------------
# numba_mlp-only: coefs_init / intercepts_init
# ---------------------------------------------------------------------------

# hidden (4, 3) on 4 features and a binary target: shapes (4,4), (4,3), (3,1)
SHAPES = [(4, 4), (4, 3), (3, 1)]
ISHAPES = [(4,), (3,), (1,)]


def _good_init():
    rng = np.random.RandomState(3)
    return ([rng.uniform(-0.5, 0.5, s) for s in SHAPES],
            [rng.uniform(-0.5, 0.5, s) for s in ISHAPES])


def _nm_deep(**kw):
    return MLPClassifier(hidden_layer_sizes=(4, 3), max_iter=3, random_state=0, **kw)


def test_good_init_is_accepted():
    coefs, inters = _good_init()
    nm = _nm_deep().fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)
    assert [c.shape for c in nm.coefs_] == SHAPES


@pytest.mark.parametrize("which", ["coefs", "intercepts"])
@pytest.mark.parametrize("n", [2, 4])
def test_init_wrong_number_of_layers(which, n):
    coefs, inters = _good_init()
    rng = np.random.RandomState(0)
    if which == "coefs":
        coefs = coefs[:n] if n < 3 else coefs + [rng.randn(1, 1)]
    else:
        inters = inters[:n] if n < 3 else inters + [rng.randn(1)]
    nm = _nm_deep()
    with pytest.raises(ValueError) as excinfo:
        nm.fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)
    msg = str(excinfo.value)
    assert "3" in msg and str(n) in msg, msg
    assert_not_fitted(nm)


@pytest.mark.parametrize(
    "which, layer, bad_shape",
    [
        ("coefs", 1, (4, 2)),
        ("coefs", 1, (3, 4)),
        ("coefs", 0, (5, 4)),
        ("coefs", 2, (3,)),
        ("intercepts", 1, (4,)),
        ("intercepts", 2, (1, 1)),
    ],
)
def test_init_wrong_shape(which, layer, bad_shape):
    coefs, inters = _good_init()
    target = coefs if which == "coefs" else inters
    expected = target[layer].shape
    target[layer] = np.zeros(bad_shape)
    nm = _nm_deep()
    with pytest.raises(ValueError) as excinfo:
        nm.fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)
    msg = str(excinfo.value)
    # names the layer (0- or 1-based) and both shapes
    assert re.search(rf"\b({layer}|{layer + 1})\b", msg), msg
    assert str(expected) in msg and str(bad_shape) in msg, msg
    assert_not_fitted(nm)


@pytest.mark.parametrize("which", ["coefs", "intercepts"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_init_non_finite(which, value):
    coefs, inters = _good_init()
    (coefs if which == "coefs" else inters)[1][0] = value
    nm = _nm_deep()
    with pytest.raises(ValueError, match=r"(?i)finite|nan|inf"):
        nm.fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)
    assert_not_fitted(nm)


def test_bad_init_after_fit_keeps_model():
    nm = _nm_deep(warm_start=True).fit(X, Y_BIN)
    snap = snapshot(nm)
    coefs, inters = _good_init()
    coefs[0] = np.zeros((4, 5))
    with pytest.raises(ValueError):
        nm.fit(X, Y_BIN, coefs_init=coefs, intercepts_init=inters)
    assert_unchanged(nm, snap)


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------

DIVERGING = [
    ("reg", dict(solver="sgd", learning_rate_init=1e10), 1.0),
    ("clf", dict(solver="sgd", learning_rate_init=1.0), 1e300),
    ("reg", dict(solver="adam"), 1e300),
]


@pytest.mark.parametrize("kind, params, scale", DIVERGING)
def test_diverging_fit_raises(kind, params, scale):
    y = _y(kind).copy()
    Xs = X * scale
    X0, y0 = Xs.copy(), y.copy()
    nm = assert_same_error(kind, lambda est: est.fit(Xs, y), params=params,
                           match="non-finite")
    assert_not_fitted(nm)
    assert_array_equal(Xs, X0)
    assert_array_equal(y, y0)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_diverging_continuation_keeps_model(kind, how):
    # a large step that is still fine on the scaled data, but blows up once
    # the continuation sees huge inputs
    params = dict(SMALL, solver="sgd", learning_rate_init=1e10 if kind == "clf" else 1.0,
                  warm_start=(how == "warm_start"))

    def continue_(est):
        if how == "warm_start":
            est.fit(X * 1e300, _y(kind))
        else:
            est.partial_fit(X * 1e300, _y(kind))

    # scikit-learn diverges too on this continuation
    sk = CLASSES[kind][0](**params).fit(X, _y(kind))
    assert "non-finite" in str(_raised(lambda: continue_(sk)))

    nm = CLASSES[kind][1](**params)
    nm.fit(X, _y(kind))
    snap = snapshot(nm)
    with pytest.raises(ValueError, match="non-finite"):
        continue_(nm)
    assert_unchanged(nm, snap)


# ---------------------------------------------------------------------------
# user inputs are never modified
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("container", ["float64", "float32", "fortran", "csr", "csc",
                                       "list"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_inputs_not_modified(kind, container, solver):
    y = _y(kind).copy()
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
