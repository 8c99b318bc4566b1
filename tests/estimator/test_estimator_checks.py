"""scikit-learn's estimator check suite, run the way scikit-learn runs it on
its own MLPClassifier / MLPRegressor (sklearn/tests/test_common.py).

Mirrored from sklearn/utils/_test_common/instance_generator.py (1.9.1):

* INIT_PARAMS: ``MLPClassifier: dict(max_iter=100)``,
  ``MLPRegressor: dict(max_iter=100)``.
* PER_ESTIMATOR_CHECK_PARAMS: ``check_sample_weight_equivalence_on_dense_data``
  runs MLPClassifier with ``solver="lbfgs"`` and MLPRegressor with
  ``solver="sgd", tol=1e-2, random_state=42``.  scikit-learn applies these
  only to its own classes (``_yield_instances_for_check`` keys on the type),
  so they are re-applied here.
* PER_ESTIMATOR_XFAIL_CHECKS has no entry for MLPClassifier / MLPRegressor:
  no check is expected to fail, so ``expected_failed_checks`` returns {}.
* test_estimators ignores FutureWarning, ConvergenceWarning, UserWarning and
  LinAlgWarning while running a check.
"""

from functools import partial

import pytest
from scipy.linalg import LinAlgWarning
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._testing import ignore_warnings
from sklearn.utils.estimator_checks import parametrize_with_checks

from numba_mlp import MLPClassifier, MLPRegressor

INIT_PARAMS = {
    MLPClassifier: dict(max_iter=100),
    MLPRegressor: dict(max_iter=100),
}

PER_ESTIMATOR_CHECK_PARAMS = {
    MLPClassifier: {
        "check_sample_weight_equivalence_on_dense_data": [dict(solver="lbfgs")],
    },
    MLPRegressor: {
        "check_sample_weight_equivalence_on_dense_data": [
            dict(solver="sgd", tol=1e-2, random_state=42)
        ],
    },
}

# scikit-learn 1.9.1 declares no expected failures for its MLP estimators.
EXPECTED_FAILED_CHECKS = {MLPClassifier: {}, MLPRegressor: {}}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS[type(estimator)]


def _check_name(check):
    check = check.func if isinstance(check, partial) else check
    return getattr(check, "__name__", repr(check))


def _instances_for_check(check, estimator):
    params = PER_ESTIMATOR_CHECK_PARAMS[type(estimator)].get(_check_name(check))
    if params is None:
        yield estimator
        return
    for p in params:
        yield clone(estimator).set_params(**p)


ESTIMATORS = [cls(**params) for cls, params in INIT_PARAMS.items()]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    for instance in _instances_for_check(check, estimator):
        with ignore_warnings(
            category=(FutureWarning, ConvergenceWarning, UserWarning, LinAlgWarning)
        ):
            check(instance)


def test_per_check_params_mirror_sklearn():
    """The per-check parameters above are the ones scikit-learn uses."""
    from sklearn.neural_network import MLPClassifier as SkC
    from sklearn.neural_network import MLPRegressor as SkR
    from sklearn.utils._test_common import instance_generator as ig

    assert ig.INIT_PARAMS[SkC] == INIT_PARAMS[MLPClassifier]
    assert ig.INIT_PARAMS[SkR] == INIT_PARAMS[MLPRegressor]
    for sk, ours in [(SkC, MLPClassifier), (SkR, MLPRegressor)]:
        theirs = {
            k: (v if isinstance(v, list) else [v])
            for k, v in ig.PER_ESTIMATOR_CHECK_PARAMS[sk].items()
        }
        assert theirs == PER_ESTIMATOR_CHECK_PARAMS[ours]
        assert ig.PER_ESTIMATOR_XFAIL_CHECKS.get(sk, {}) == EXPECTED_FAILED_CHECKS[ours]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_default_parameters_match_sklearn(estimator):
    """Every scikit-learn constructor parameter exists with the same default."""
    from sklearn.neural_network import MLPClassifier as SkC
    from sklearn.neural_network import MLPRegressor as SkR

    sk_cls = SkC if isinstance(estimator, MLPClassifier) else SkR
    sk_params = sk_cls().get_params()
    ours = type(estimator)().get_params()
    for name, value in sk_params.items():
        assert name in ours, name
        assert ours[name] == value, (name, ours[name], value)
    assert ours["out_activation"] is None
    if isinstance(estimator, MLPClassifier):
        assert ours["loss"] == "log_loss"
