"""A Numba without the private names the kernels build on: plain paths, one
warning each, never an ImportError.

``borrowed`` (``numba.np.arrayobj``'s ``make_array`` and ``populate_array``)
then gives the arrays themselves, reference counted, and
``strided_product`` (``numba.np.linalg._BLAS``) computes ``np.dot`` on
contiguous copies, and ``retyped`` (``numba.core.imputils.impl_ret_borrowed``)
leaves the arrays their own types. A child interpreter stands in for such a Numba: it hides
the names from numba_mlp before importing it (Numba's own code keeps its
references), compiles into a fresh cache (a cached kernel would not be
compiled through the fallbacks), and must fit as the real path does. (The
cache's fallback, Numba's own ``cache=True``, is in
``tests/runtime/test_cache_healing.py``.)
"""

import json
import warnings

import numpy as np
import pytest

from numba_mlp import MLPClassifier

HIDE_AND_FIT = r"""
import json, sys, types, warnings
import numpy as np
import numba, numba.np.arrayobj, numba.np.linalg

# numba.np.arrayobj as a future Numba might have it, without populate_array
arrayobj = types.ModuleType("numba.np.arrayobj")
arrayobj.__dict__.update(
    {k: v for k, v in vars(numba.np.arrayobj).items() if k != "populate_array"}
)
sys.modules["numba.np.arrayobj"] = arrayobj
del numba.np.linalg._BLAS  # Numba's np.dot does not use it
# numba.core.imputils without impl_ret_borrowed, while numba_mlp imports it
# (Numba's own modules import it as they run, from the real module)
import numba.core.imputils
imputils = types.ModuleType("numba.core.imputils")
imputils.__dict__.update(
    {k: v for k, v in vars(numba.core.imputils).items() if k != "impl_ret_borrowed"}
)
sys.modules["numba.core.imputils"] = imputils

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from numba_mlp import MLPClassifier
    from numba_mlp.kernels._cache import NumbaInternalsWarning
    from numba_mlp.kernels.blas import strided_product
    from numba_mlp.kernels.borrowed import borrowed
    sys.modules["numba.core.imputils"] = numba.core.imputils

    @numba.njit  # not cached: its source is this script
    def product(left, right, out):
        strided_product(borrowed(left), borrowed(right), out)

    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((9, 12)), rng.standard_normal((12, 8))
    frame = np.zeros((11, 10))
    # views without a unit stride too: np.dot on copies takes any view
    product(left[::2, 1:], right[1::1, ::-1], frame[1:6, 2:10])
    X = np.random.RandomState(0).randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    proba = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", batch_size=1, max_iter=3,
                          random_state=0).fit(X, y).predict_proba(X)
np.savez(sys.argv[1], frame=frame, proba=proba)
print(json.dumps(sorted(str(w.message) for w in caught
                        if issubclass(w.category, NumbaInternalsWarning))))
"""


@pytest.mark.slow
def test_without_numba_internals_the_kernels_take_plain_paths(run_python, tmp_path):
    out = tmp_path / "results.npz"
    result = run_python(
        f"import sys; sys.argv = ['-c', {str(out)!r}]\n" + HIDE_AND_FIT,
        env={"NUMBA_CACHE_DIR": tmp_path / "fresh-cache"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    messages = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(messages) == 3, messages  # one each, however many kernels compiled
    (blas,) = [m for m in messages if "numba.np.linalg" in m]
    (views,) = [m for m in messages if "numba.np.arrayobj" in m]
    (retyped,) = [m for m in messages if "numba.core.imputils" in m]
    assert "impl_ret_borrowed" in retyped and "own types" in retyped
    assert "_BLAS" in blas and "np.dot" in blas
    assert "populate_array" in views and "reference counted" in views
    results = np.load(out)

    rng = np.random.default_rng(0)
    left, right = rng.standard_normal((9, 12)), rng.standard_normal((12, 8))
    expected = np.zeros((11, 10))
    expected[1:6, 2:10] = left[::2, 1:] @ right[1::1, ::-1]
    np.testing.assert_allclose(results["frame"], expected, rtol=1e-12, atol=1e-12)

    X = np.random.RandomState(0).randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 3 iterations
        real = MLPClassifier(
            hidden_layer_sizes=(4,), solver="sgd", batch_size=1, max_iter=3, random_state=0
        ).fit(X, y)
    np.testing.assert_allclose(results["proba"], real.predict_proba(X), rtol=1e-12)
