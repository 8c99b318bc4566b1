"""scikit-learn's own MLP test module, run unchanged against our estimators.

The installed scikit-learn ships ``sklearn/neural_network/tests/test_mlp.py``;
a copy with only its import of ``MLPClassifier, MLPRegressor`` swapped for
numba_mlp's runs in a child pytest, with scikit-learn's conftest loaded as a
plugin (it provides the ``global_random_seed`` fixture the module uses).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn.neural_network.tests

SKLEARN_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"

#: Tests of scikit-learn's module that are expected to fail, with the reason.
KNOWN_FAILURES = {}


@pytest.mark.slow
def test_scikit_learns_mlp_tests_pass_against_numba_mlp(tmp_path):
    source = Path(sklearn.neural_network.tests.__file__).with_name("test_mlp.py").read_text()
    assert source.count(SKLEARN_IMPORT) == 1, "scikit-learn's test module changed its import"
    ported = source.replace(SKLEARN_IMPORT, "from numba_mlp import MLPClassifier, MLPRegressor")
    ported = ported.replace("from ..", "from sklearn.neural_network.")
    (tmp_path / "test_sklearn_mlp.py").write_text(ported)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "sklearn.conftest",
            "-W",
            "ignore::DeprecationWarning",
            "-rf",
            "test_sklearn_mlp.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    summary = result.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    failed = set(re.findall(r"^FAILED test_sklearn_mlp.py::(\S+)", result.stdout, re.M))
    errors = re.search(r"(\d+) error", summary)
    assert errors is None, result.stdout[-5000:]
    assert failed == set(KNOWN_FAILURES), result.stdout[-5000:]
    # scikit-learn 1.9's module has 59 tests (with its parametrisations)
    assert passed >= 58, summary
