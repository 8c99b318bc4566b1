"""Saving and loading fitted models: pickle, joblib, skops; a fresh process."""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning

from numba_mlp import SKOPS_TRUSTED_TYPES, MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(90, 4)
    y = np.arange(90) % 3
    return X, y


def pickle_round_trip(estimator):
    return pickle.loads(pickle.dumps(estimator))


def joblib_round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def skops_round_trip(estimator):
    data = sio.dumps(estimator)
    assert set(sio.get_untrusted_types(data=data)) <= set(SKOPS_TRUSTED_TYPES)
    return sio.loads(data, trusted=SKOPS_TRUSTED_TYPES)


ROUND_TRIPS = {"pickle": pickle_round_trip, "joblib": joblib_round_trip, "skops": skops_round_trip}

MODELS = {
    "classifier-adam": (MLPClassifier, dict(max_iter=20)),
    "classifier-sgd-early-stopping": (
        MLPClassifier,
        dict(solver="sgd", early_stopping=True, max_iter=20),
    ),
    "regressor-lbfgs": (MLPRegressor, dict(solver="lbfgs", max_iter=20)),
    "regressor-float32": (MLPRegressor, dict(max_iter=20)),
}


def fitted(name, X, y):
    cls, params = MODELS[name]
    if cls is MLPRegressor:
        y = X[:, 0] - X[:, 1]
    if name.endswith("float32"):
        X = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(hidden_layer_sizes=(6,), random_state=0, **params).fit(X, y), X


@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("model", MODELS)
def test_round_trip_predicts_identically(data, how, model):
    estimator, X = fitted(model, *data)
    loaded = ROUND_TRIPS[how](estimator)
    assert type(loaded) is type(estimator)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    for saved, original in zip(
        loaded.coefs_ + loaded.intercepts_, estimator.coefs_ + estimator.intercepts_
    ):
        assert saved.dtype == original.dtype
        np.testing.assert_array_equal(saved, original)
    assert loaded.get_params() == estimator.get_params()


@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_saved_between_partial_fits_then_trained_further(data, how, solver):
    """Optimiser state (Adam moments, SGD velocities) and the random stream survive."""
    X, y = data
    never_saved = MLPClassifier(
        hidden_layer_sizes=(6,), solver=solver, random_state=np.random.RandomState(0)
    )
    never_saved.partial_fit(X[:45], y[:45], classes=[0, 1, 2])
    never_saved.partial_fit(X[45:], y[45:])
    loaded = ROUND_TRIPS[how](never_saved)
    for estimator in (never_saved, loaded):
        for _ in range(3):
            estimator.partial_fit(X, y)
    assert loaded.t_ == never_saved.t_ == 90 * 4
    for a, b in zip(
        loaded.coefs_ + loaded.intercepts_, never_saved.coefs_ + never_saved.intercepts_
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict_proba(X), never_saved.predict_proba(X))


def test_skops_refuses_untrusted_types_until_told(data):
    estimator, _ = fitted("classifier-adam", *data)
    payload = sio.dumps(estimator)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(payload)
    assert sio.get_untrusted_types(data=payload)  # what the README tells users to trust


WRITER = """
import pickle, sys, warnings
import numpy as np
from numba_mlp import MLPClassifier
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X, y = rng.randn(60, 4), np.arange(60) % 3
model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
model.predict_proba(X)
model.partial_fit(X, y)  # every kernel the reader will call, compiled and cached
with open(sys.argv[1], "wb") as f:
    pickle.dump((model, X, y, model.predict_proba(X)), f)
"""

READER = """
import importlib, json, pickle, pkgutil, sys
import numpy as np
from numba.core.dispatcher import Dispatcher
import numba_mlp.kernels as kernels
with open(sys.argv[1], "rb") as f:
    model, X, y, expected = pickle.load(f)
same = bool(np.array_equal(model.predict_proba(X), expected))
model.partial_fit(X, y)
misses, hits = {}, {}
for module in pkgutil.iter_modules(kernels.__path__):
    namespace = vars(importlib.import_module("numba_mlp.kernels." + module.name))
    for name, value in namespace.items():
        if isinstance(value, Dispatcher):
            key = module.name + "." + name
            misses[key] = sum(value.stats.cache_misses.values())
            hits[key] = sum(value.stats.cache_hits.values())
print(json.dumps(dict(
    same=same, misses=misses, hits=hits,
    predict_hits=sum(kernels.predict_dense.stats.cache_hits.values()),
    train_hits=sum(kernels.train_epoch.stats.cache_hits.values()),
)))
"""


@pytest.mark.slow
def test_unpickling_in_a_fresh_process_compiles_nothing(tmp_path):
    """A new process (same NUMBA_CACHE_DIR) loads every kernel from Numba's cache:
    no dispatcher reports a cache miss (a miss is a compilation)."""
    env = dict(os.environ)  # the same NUMBA_CACHE_DIR (or none: beside the kernels)
    path = tmp_path / "model.pkl"
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(READER), str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["same"]
    compiled = {name: n for name, n in report["misses"].items() if n}
    assert compiled == {}
    assert report["predict_hits"] >= 1 and report["train_hits"] >= 1
