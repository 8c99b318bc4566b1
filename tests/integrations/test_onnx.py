"""ONNX export (skl2onnx) run by a real onnxruntime session: same predictions."""

import warnings

import numpy as np
import onnxruntime
import pytest
from skl2onnx import to_onnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numba_mlp import MLPClassifier, MLPRegressor, register_onnx_converters

ATOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def converters():
    register_onnx_converters()
    register_onnx_converters()  # twice is harmless


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).randn(80, 5).astype(np.float32)


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def run_onnx(model, X, **options):
    """Convert ``model`` and run it in onnxruntime; outputs by name."""
    onx = to_onnx(model, X[:1], target_opset=None, **options)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    outputs = session.run(None, {session.get_inputs()[0].name: X})
    return {o.name: value for o, value in zip(session.get_outputs(), outputs)}


NUMBA_MLP_ACTIVATIONS = ["leaky_relu", "elu", "gelu", "softplus", "silu"]


@pytest.mark.parametrize("labels", ["binary", "multiclass", "strings"])
@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh", *NUMBA_MLP_ACTIVATIONS])
def test_classifier_matches_onnxruntime(X, labels, activation):
    n = X.shape[0]
    y = {
        "binary": np.arange(n) % 2,
        "multiclass": np.arange(n) % 4,
        "strings": np.array(["cat", "dog", "emu"])[np.arange(n) % 3],
    }[labels]
    clf = fit(
        MLPClassifier(
            hidden_layer_sizes=(7, 4), activation=activation, max_iter=30, random_state=0
        ),
        X,
        y,
    )
    assert clf.coefs_[0].dtype == np.float32  # float32 end to end
    out = run_onnx(clf, X, options={"zipmap": False})
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), atol=ATOL)
    np.testing.assert_array_equal(out["label"], clf.predict(X))


def test_classifier_with_zipmap_and_squared_error_logistic_outputs(X):
    y = np.arange(X.shape[0]) % 2  # a multiclass target needs softmax outputs
    clf = fit(
        MLPClassifier(
            hidden_layer_sizes=(6,),
            loss="squared_error",
            out_activation="logistic",
            max_iter=30,
            random_state=0,
        ),
        X,
        y,
    )
    out = run_onnx(clf, X)  # default: probabilities as a list of {class: p}
    proba = np.array([[row[c] for c in clf.classes_] for row in out["output_probability"]])
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL)
    np.testing.assert_array_equal(out["output_label"], clf.predict(X))


@pytest.mark.parametrize(
    "params,n_outputs",
    [
        (dict(), 1),
        (dict(), 3),
        (dict(loss="poisson"), 1),  # out_activation_ 'exp': an Exp node is appended
        (dict(out_activation="logistic"), 1),
        (dict(solver="lbfgs", activation="tanh"), 2),
        *[(dict(activation=name), 2) for name in NUMBA_MLP_ACTIVATIONS],
        (dict(loss="quantile", quantile=0.8, activation="gelu"), 1),
        (dict(loss="huber", dropout=0.3), 1),  # no dropout at prediction
    ],
)
def test_regressor_matches_onnxruntime(X, params, n_outputs):
    rng = np.random.RandomState(1)
    y = np.abs(X[:, :n_outputs] @ rng.rand(n_outputs, n_outputs)) + 0.1
    if params.get("out_activation") == "logistic":
        y = y / (y.max() + 1)
    if n_outputs == 1:
        y = y.ravel()
    reg = fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=40, random_state=0, **params), X, y)
    (prediction,) = run_onnx(reg, X).values()
    assert prediction.shape == (X.shape[0], n_outputs)
    np.testing.assert_allclose(
        prediction.reshape(reg.predict(X).shape), reg.predict(X), atol=ATOL, rtol=1e-5
    )


def test_pipeline_with_a_scaler_converts(X):
    y = np.arange(X.shape[0]) % 3
    pipe = fit(
        make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
        ),
        X * 10 + 3,
        y,
    )
    out = run_onnx(pipe, X * 10 + 3, options={"zipmap": False})
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X * 10 + 3), atol=ATOL)


def test_classifier_with_exp_outputs_is_refused(X):
    y = np.arange(X.shape[0]) % 2
    # fit refuses out_activation='exp' for a classifier; an edited model may still have it
    clf = fit(
        MLPClassifier(hidden_layer_sizes=(3,), loss="squared_error", max_iter=3, random_state=0),
        X,
        y,
    )
    clf.out_activation_ = "exp"
    with pytest.raises(ValueError, match="out_activation='exp' is not supported"):
        to_onnx(clf, X[:1])


@pytest.mark.parametrize("activation", NUMBA_MLP_ACTIVATIONS)
def test_float64_graph_matches_to_rounding(activation):
    """In float64 the ONNX graph computes each activation as the kernels do,
    to rounding: a check of the formulas, not only of float32 noise (GELU's
    Erf runs in float32: onnxruntime has no float64 Erf)."""
    X64 = np.random.RandomState(2).randn(60, 4) * 3
    reg = fit(
        MLPRegressor(hidden_layer_sizes=(9, 5), activation=activation, max_iter=20, random_state=0),
        X64,
        X64[:, 0] - X64[:, 1],
    )
    (prediction,) = run_onnx(reg, X64).values()
    tolerance = 1e-6 if activation == "gelu" else 1e-12
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X64), rtol=tolerance, atol=tolerance)
