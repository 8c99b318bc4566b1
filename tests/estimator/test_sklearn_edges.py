"""Behaviour at the edges, side by side with scikit-learn.

Every real numeric dtype, the constructor parameters after a failed fit,
ConvergenceWarning raised as an error, Adam with an overflowing second
moment, the dtype of later batches, and the supported scikit-learn versions.
(Divergence under early stopping: test_fit_numerics.py; the messages that
name the real cause, mis-shaped fitted weights and complex input:
test_error_messages.py.)
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.utils.validation import check_is_fitted

from numba_mlp import MLPClassifier, MLPRegressor

from helpers import edges_data, quietly

rng, X, Y_REG, _, Y_3 = edges_data()

# ---------------------------------------------------------------------------
# every numeric dtype
# ---------------------------------------------------------------------------

REAL_DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
]


def _as(dtype, values):
    if dtype is np.bool_:
        return values > 0
    if np.issubdtype(dtype, np.unsignedinteger):
        return np.abs(np.round(values * 3)).astype(dtype)
    if np.issubdtype(dtype, np.integer):
        return np.round(values * 3).astype(dtype)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", REAL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_every_real_dtype_fits_and_predicts_as_its_float64_copy(dtype, kind):
    X_typed = _as(dtype, X)
    X_float = X_typed.astype(np.float64)
    y = Y_3 if kind == "clf" else Y_REG
    make = MLPClassifier if kind == "clf" else MLPRegressor
    expected_dtype = np.float32 if dtype is np.float32 else np.float64
    for method in ("fit", "partial_fit"):
        args = {"classes": [0, 1, 2]} if (kind == "clf" and method == "partial_fit") else {}
        est = quietly(
            lambda: getattr(make(hidden_layer_sizes=(5,), max_iter=3, random_state=0), method)(
                X_typed, y, **args
            )
        )
        ref = quietly(
            lambda: getattr(make(hidden_layer_sizes=(5,), max_iter=3, random_state=0), method)(
                X_float.astype(expected_dtype), y, **args
            )
        )
        assert est.coefs_[0].dtype == expected_dtype
        for a, b in zip(est.coefs_, ref.coefs_):
            np.testing.assert_array_equal(a, b)
        # predicting: as the float64 copy (float32 stays float32)
        X_expected = X_typed.astype(expected_dtype)
        np.testing.assert_array_equal(est.predict(X_typed), ref.predict(X_expected))
        np.testing.assert_array_equal(est.predict(X_float), ref.predict(X_float))
        assert est.score(X_typed, y) == ref.score(X_expected, y)
        if kind == "clf":
            np.testing.assert_array_equal(est.predict_proba(X_typed), ref.predict_proba(X_expected))


# ---------------------------------------------------------------------------
# constructor parameters after a failed fit; ConvergenceWarning as an error
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["nan in X", "divergence"])
def test_failed_fit_keeps_the_callers_parameter_objects(failure):
    random_state = np.random.RandomState(0)
    hidden_layer_sizes = [3]
    est = MLPRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        random_state=random_state,
        solver="sgd",
        learning_rate_init=10.0,
        activation="identity",
        max_iter=50,
    )
    X_bad = X.copy()
    if failure == "nan in X":
        X_bad[0, 0] = np.nan
    else:
        X_bad = X * 1e150
    with pytest.raises(ValueError):
        est.fit(X_bad, Y_REG)
    params = est.get_params()
    assert params["random_state"] is random_state
    assert params["hidden_layer_sizes"] is hidden_layer_sizes
    assert not hasattr(est, "coefs_")


def test_shared_random_state_continues_its_sequence_after_a_failed_fit():
    # NaN in X fails before any draw in both libraries; then a good fit draws
    # from where the shared RandomState is, so both give the same weights
    coefs = []
    for cls in (SkRegressor, MLPRegressor):
        random_state = np.random.RandomState(0)
        random_state.uniform(size=3)
        est = cls(hidden_layer_sizes=(3,), random_state=random_state, max_iter=2)
        X_nan = X.copy()
        X_nan[0, 0] = np.nan
        with pytest.raises(ValueError):
            est.fit(X_nan, Y_REG)
        quietly(lambda: est.fit(X, Y_REG))
        coefs.append(est.coefs_[0])
        assert est.random_state is random_state
    np.testing.assert_allclose(coefs[0], coefs[1], rtol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_convergence_warning_as_error_leaves_a_fitted_model(solver, early_stopping):
    if solver == "lbfgs" and early_stopping:
        pytest.skip("early stopping is for the stochastic solvers")
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=2,
        random_state=0,
        early_stopping=early_stopping,
    )
    fitted = []
    for cls in (SkClassifier, MLPClassifier):
        est = cls(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            with pytest.raises(ConvergenceWarning):
                est.fit(X, Y_3)
        check_is_fitted(est)
        fitted.append(est)
    sk, ours = fitted
    # ours is complete: it is the same fit as without the filter
    ref = quietly(lambda: MLPClassifier(**params).fit(X, Y_3))
    assert ours.n_iter_ == ref.n_iter_ == 2
    np.testing.assert_array_equal(ours.predict_proba(X), ref.predict_proba(X))
    if solver != "lbfgs" and not early_stopping:
        # scikit-learn's too (its L-BFGS raises before unpacking its weights,
        # and it restores no best weights under early stopping)
        assert sk.n_iter_ == 2
        np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-9)


# ---------------------------------------------------------------------------
# Adam's second moment overflowing to inf
# ---------------------------------------------------------------------------


def test_adam_with_an_overflowing_second_moment_matches_scikit_learn():
    X_huge = np.hstack([rng.randn(100, 4), np.full((100, 1), 1e300)])
    y = (X_huge[:, 0] > 0).astype(int)
    fitted = []
    for cls in (SkClassifier, MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(cls(hidden_layer_sizes=(3,), max_iter=1, random_state=0).fit(X_huge, y))
    sk, ours = fitted
    for ours_w, sk_w in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        assert np.isfinite(ours_w).all()
        np.testing.assert_allclose(ours_w, sk_w, rtol=1e-12)


# ---------------------------------------------------------------------------
# later batches keep the dtype the model was fitted in
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("first, later", [(np.float64, np.float32), (np.float32, np.float64)])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("sparse", [False, True])
def test_later_batches_keep_the_models_dtype(first, later, how, sparse):
    convert = sp.csr_matrix if sparse else np.asarray
    results = {}
    for cls in (SkRegressor, MLPRegressor):
        est = cls(
            hidden_layer_sizes=(5,), max_iter=2, random_state=0, warm_start=how == "warm_start"
        )
        step = est.partial_fit if how == "partial_fit" else est.fit
        quietly(lambda: step(convert(X.astype(first)), Y_REG))
        quietly(lambda: step(convert(X.astype(later)), Y_REG))
        results[cls] = est
        assert all(c.dtype == first for c in est.coefs_ + est.intercepts_)
    if first == np.float64:  # scikit-learn computes a float32 batch in float64 too
        for a, b in zip(results[MLPRegressor].coefs_, results[SkRegressor].coefs_):
            np.testing.assert_allclose(a, b, rtol=1e-10)


# ---------------------------------------------------------------------------
# supported scikit-learn versions
# ---------------------------------------------------------------------------


def test_installed_scikit_learn_is_in_the_tested_window():
    import sklearn

    from numba_mlp._versions import untested_scikit_learn_message

    assert untested_scikit_learn_message(sklearn.__version__) is None


@pytest.mark.parametrize(
    "version, warned",
    [
        ("1.8.0", False),
        ("1.9.1", False),
        ("1.9.0rc1", False),
        ("1.10.0", True),
        ("1.7.2", True),
        ("2.0.0", True),
        ("1.10.dev0", True),
    ],
)
def test_untested_scikit_learn_releases_are_named_in_a_warning(version, warned, run_python):
    from numba_mlp._versions import untested_scikit_learn_message

    message = untested_scikit_learn_message(version)
    assert (message is not None) == warned
    if warned:
        assert f"scikit-learn {version} is installed" in message
        assert 'pip install "scikit-learn>=1.8,<1.10"' in message


@pytest.mark.slow
def test_importing_with_an_untested_scikit_learn_warns(run_python):
    result = run_python("""
        import warnings
        import sklearn
        sklearn.__version__ = "1.10.0"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import numba_mlp
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
    """)
    assert result.returncode == 0, result.stderr
    assert "scikit-learn 1.10.0 is installed: results may differ" in result.stdout
