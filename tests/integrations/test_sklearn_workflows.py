"""scikit-learn workflows, for real: pipelines, searches, parallel backends,
meta-estimators and set_output. (Threads training at once, and the kernels
releasing the GIL that allows it: tests/runtime/test_concurrency.py.)"""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import make_classification
from sklearn.ensemble import VotingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from numba_mlp import MLPClassifier, MLPRegressor

# Searches fit many small models: silence the max_iter warnings everywhere,
# including in worker processes (which inherit nothing from catch_warnings).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X * 5 + 2, y


@pytest.fixture(scope="module")
def frame():
    rng = np.random.RandomState(0)
    n = 200
    df = pd.DataFrame(
        {
            "weight": rng.normal(150, 20, n),
            "height": rng.normal(68, 4, n),
            "city": rng.choice(["Aarhus", "Oslo", "Lund"], n),
            "smoker": rng.choice(["yes", "no"], n),
        }
    )
    y = (df["weight"] - 150) / 20 + (df["city"] == "Oslo") + rng.normal(0, 0.3, n) > 0.5
    return df, y.astype(int).to_numpy()


def search_scores(search):
    return search.cv_results_["mean_test_score"]


# ------------------------------------------------------------------ pipelines


def test_pipeline_with_standard_scaler(data):
    X, y = data
    ours = make_pipeline(StandardScaler(), MLPClassifier(**SMALL)).fit(X, y)
    theirs = make_pipeline(StandardScaler(), SklearnMLPClassifier(**SMALL)).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert ours.score(X, y) == theirs.score(X, y)


def test_column_transformer_on_a_pandas_frame(frame):
    df, y = frame
    preprocess = ColumnTransformer(
        [
            ("numbers", StandardScaler(), make_column_selector(dtype_include="number")),
            (
                "categories",
                OneHotEncoder(sparse_output=False),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )
    model = make_pipeline(preprocess, MLPClassifier(**{**SMALL, "learning_rate_init": 0.05}))
    model.fit(df, y)
    assert model.score(df, y) > 0.8
    mlp = model[-1]
    assert mlp.n_features_in_ == 2 + 3 + 2
    np.testing.assert_array_equal(model.predict(df.iloc[:5]), model.predict(df.iloc[:5].copy()))


def test_set_output_pandas_passes_feature_names_to_the_mlp(frame):
    df, y = frame
    preprocess = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["weight", "height"]),
            ("categories", OneHotEncoder(sparse_output=False), ["city", "smoker"]),
        ]
    )
    model = make_pipeline(preprocess, MLPClassifier(**SMALL)).set_output(transform="pandas")
    model.fit(df, y)
    transformed = model[:-1].transform(df)
    assert isinstance(transformed, pd.DataFrame)
    mlp = model[-1]
    np.testing.assert_array_equal(mlp.feature_names_in_, transformed.columns)
    assert "categories__city_Oslo" in mlp.feature_names_in_
    # the same network on the same numbers as a plain array
    plain = MLPClassifier(**SMALL).fit(transformed.to_numpy(), y)
    np.testing.assert_allclose(model.predict_proba(df), plain.predict_proba(transformed.to_numpy()))
    with pytest.raises(ValueError, match="feature names"):
        mlp.predict(transformed[list(reversed(transformed.columns))])


# ------------------------------------------------------------------- searches


GRID = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-1]}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_grid_search_in_parallel_matches_serial_and_scikit_learn(data, backend):
    X, y = data
    serial = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), GRID, cv=3).fit(X, y)
    with joblib.parallel_backend(backend):
        parallel = GridSearchCV(
            MLPClassifier(max_iter=30, random_state=0), GRID, cv=3, n_jobs=2
        ).fit(X, y)
    sklearn = GridSearchCV(SklearnMLPClassifier(max_iter=30, random_state=0), GRID, cv=3).fit(X, y)
    np.testing.assert_array_equal(search_scores(parallel), search_scores(serial))
    np.testing.assert_allclose(search_scores(parallel), search_scores(sklearn), atol=1e-12)
    assert parallel.best_params_ == sklearn.best_params_
    assert isinstance(parallel.best_estimator_, MLPClassifier)


@pytest.mark.parametrize(
    "backend",
    [pytest.param("loky", marks=pytest.mark.slow), "threading"],  # loky: new processes
)
def test_randomized_search_in_parallel(data, backend):
    X, y = data
    distributions = {"alpha": [1e-5, 1e-3, 1e-1, 1.0], "learning_rate_init": [1e-3, 1e-2]}

    def search(n_jobs):
        return RandomizedSearchCV(
            MLPClassifier(**SMALL), distributions, n_iter=4, cv=3, random_state=0, n_jobs=n_jobs
        ).fit(X, y)

    with joblib.parallel_backend(backend):
        parallel = search(2)
    np.testing.assert_array_equal(search_scores(parallel), search_scores(search(None)))


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_cross_validate_in_parallel(data, backend):
    X, y = data
    model = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    )
    target = X[:, 0] * 0.3 - X[:, 1] * 0.1
    with joblib.parallel_backend(backend):
        parallel = cross_validate(model, X, target, cv=4, n_jobs=2, return_estimator=True)
    serial = cross_validate(model, X, target, cv=4)
    np.testing.assert_array_equal(parallel["test_score"], serial["test_score"])
    assert all(isinstance(e[-1], MLPRegressor) for e in parallel["estimator"])


def test_halving_grid_search(data):
    X, y = data
    search = HalvingGridSearchCV(
        MLPClassifier(max_iter=30, random_state=0),
        GRID,
        cv=3,
        factor=2,
        min_resources=60,
        random_state=0,
    ).fit(X, y)
    assert search.n_iterations_ >= 2
    assert isinstance(search.best_estimator_, MLPClassifier)
    assert search.best_estimator_.n_features_in_ == X.shape[1]


# ------------------------------------------------------------ meta-estimators


def test_calibrated_classifier(data):
    X, y = data
    calibrated = CalibratedClassifierCV(
        make_pipeline(StandardScaler(), MLPClassifier(**SMALL)), cv=3
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert all(
        isinstance(c.estimator[-1], MLPClassifier) for c in calibrated.calibrated_classifiers_
    )


def test_voting_classifier(data):
    X, y = data
    voting = VotingClassifier(
        [
            ("mlp", make_pipeline(StandardScaler(), MLPClassifier(**SMALL))),
            ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
        ],
        voting="soft",
        n_jobs=2,
    ).fit(X, y)
    mlp_proba = voting.named_estimators_["mlp"].predict_proba(X)
    logistic_proba = voting.named_estimators_["logistic"].predict_proba(X)
    np.testing.assert_allclose(voting.predict_proba(X), (mlp_proba + logistic_proba) / 2)


def test_clone(data):
    X, y = data
    fitted = (
        MLPClassifier(hidden_layer_sizes=(5, 3), out_activation="softmax", random_state=0)
        .set_params(max_iter=7)
        .fit(X, y)
    )
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "coefs_")
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), fitted.predict_proba(X))
