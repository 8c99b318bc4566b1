"""Bad parameters and initial weights.

For the scikit-learn API, the exception (type and message) expected of
numba_mlp is the one the installed scikit-learn raises on the same call
(``assert_same_error``). The numba_mlp-only parameters (out_activation,
loss of the classifier, coefs_init, intercepts_init) are checked on their
own. A refused fit leaves no half-fitted model, and one after a good fit
leaves that model as it was.
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.utils._param_validation import InvalidParameterError

from numba_mlp import MLPClassifier

from helpers import (
    CLASSES,
    SMALL,
    TARGETS,
    Y_BIN,
    Y_REG,
    X,
    assert_not_fitted,
    assert_refused,
    assert_same_error,
    assert_unchanged,
    raised,
    snapshot,
)

pytestmark = pytest.mark.filterwarnings("ignore")

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
    match = (
        re.escape(f"The '{name}' parameter of {cls} must be")
        + ".*"
        + re.escape(f"Got {value!r} instead.")
    )
    nm = assert_same_error(
        kind, lambda est: est.fit(X, TARGETS[kind]), params={name: value}, match=match
    )
    assert isinstance(raised(lambda: nm.fit(X, TARGETS[kind])), InvalidParameterError)
    assert_not_fitted(nm)


def test_invalid_regressor_loss():
    nm = assert_same_error(
        "reg",
        lambda est: est.fit(X, Y_REG),
        params={"loss": "absolute_error"},
        match=re.escape("The 'loss' parameter of MLPRegressor must be")
        + ".*"
        + re.escape("Got 'absolute_error' instead."),
    )
    assert_not_fitted(nm)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("sizes", [(5, 0), [3, -2]])
def test_non_positive_layer_in_list(kind, sizes):
    nm = assert_same_error(
        kind, lambda est: est.fit(X, TARGETS[kind]), params={"hidden_layer_sizes": sizes}
    )
    assert_not_fitted(nm)


def test_invalid_classifier_loss():
    # numba_mlp-only parameter: must be rejected at fit with a ValueError
    nm = MLPClassifier(loss="poisson", **SMALL)
    with pytest.raises(ValueError, match="loss"):
        nm.fit(X, Y_BIN)
    assert_not_fitted(nm)


@pytest.mark.parametrize(
    "kind, fraction", [("reg", 0.01), ("clf", 0.01), ("reg", 0.0), ("clf", 0.0)]
)
def test_validation_set_too_small(kind, fraction):
    nm = assert_same_error(
        kind,
        lambda est: est.fit(X, TARGETS[kind]),
        params={"early_stopping": True, "validation_fraction": fraction},
    )
    assert_not_fitted(nm)


def test_validation_set_too_small_message():
    assert_same_error(
        "reg",
        lambda est: est.fit(X, Y_REG),
        params={"early_stopping": True, "validation_fraction": 0.01},
        match=re.escape("The validation set is too small"),
    )


# ---------------------------------------------------------------------------
# numba_mlp-only: out_activation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("value", ["relu", "foo", "tanh"])
def test_out_activation_invalid_value(kind, value):
    nm = CLASSES[kind][1](out_activation=value, **SMALL)
    with pytest.raises(ValueError, match="out_activation"):
        nm.fit(X, TARGETS[kind])
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
        nm.fit(X, np.abs(TARGETS[kind]))
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
    return (
        [rng.uniform(-0.5, 0.5, s) for s in SHAPES],
        [rng.uniform(-0.5, 0.5, s) for s in ISHAPES],
    )


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


# coefs_init dtypes (shapes: above)


def _init():
    est = MLPClassifier(**SMALL).fit(X, Y_BIN)
    return [c.copy() for c in est.coefs_], [b.copy() for b in est.intercepts_]


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a.astype(np.complex128),
        lambda a: a.astype(str),
        lambda a: a.astype(object),
        lambda a: np.full(a.shape, None),
    ],
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
