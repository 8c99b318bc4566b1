"""``python -m numba_mlp compile``: the kinds it chooses, and a cache it
fills so that a later fit of those kinds compiles nothing (counted through
Numba's compile events)."""

import io
import itertools
import json

import pytest

from numba_mlp import _compile
from numba_mlp.__main__ import main


def listed(capsys, *arguments):
    assert main(["compile", "--list", *arguments]) == 0
    return capsys.readouterr().out.split()


def test_the_default_is_every_float64_kind(capsys):
    assert listed(capsys) == [
        "float64-dense-minibatch",
        "float64-dense-online",
        "float64-dense-lbfgs",
        "float64-sparse-minibatch",
        "float64-sparse-lbfgs",
    ]


def test_all_is_both_dtypes_and_sparse_input_has_no_online_kind(capsys):
    expected = [
        f"{dtype}-{input_kind}-{training}"
        for dtype, input_kind, training in itertools.product(
            ("float64", "float32"), ("dense", "sparse"), ("minibatch", "online", "lbfgs")
        )
        if (input_kind, training) != ("sparse", "online")
    ]
    assert listed(capsys, "--all") == expected


def test_choices_narrow_the_kinds(capsys):
    chosen = listed(capsys, "--dtype", "float32", "--training", "lbfgs")
    assert chosen == ["float32-dense-lbfgs", "float32-sparse-lbfgs"]


def test_an_unknown_choice_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["compile", "--dtype", "float16"])
    assert stopped.value.code == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_a_kind_that_fails_is_reported_and_the_exit_status_says_so(monkeypatch):
    def child(kind):
        if kind.endswith("lbfgs"):
            return {"kind": kind, "error": "Traceback ...\nMemoryError"}
        return {"kind": kind, "seconds": 1.0, "compiled": 3}

    monkeypatch.setattr(_compile, "_compile_in_child", child)
    out = io.StringIO()
    status = _compile.run_compile(["float64-dense-minibatch", "float64-dense-lbfgs"], 2, out)
    report = out.getvalue()
    assert status == 1
    assert "float64-dense-lbfgs: FAILED\nTraceback ...\nMemoryError" in report
    assert "float64-dense-minibatch: 1.0 s, 3 kernels compiled" in report
    assert "1 kind(s) failed: float64-dense-lbfgs" in report


FITS_OF_THE_COMPILED_KIND = """
import json, warnings
import numpy as np
from numba.core import event
from numba_mlp import MLPClassifier, MLPRegressor

warnings.simplefilter("ignore")
rng = np.random.default_rng(1)
X = rng.standard_normal((300, 12))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
with event.install_recorder("numba:compile") as compiled:
    MLPClassifier(random_state=0, max_iter=20).fit(X, y).predict_proba(X)
    MLPClassifier(hidden_layer_sizes=(30, 20), activation="tanh", solver="sgd",
                  early_stopping=True, random_state=0, max_iter=5).fit(X, y % 3).predict(X)
    MLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1]).predict(X)
    MLPRegressor(dropout=0.2, random_state=0, max_iter=5).fit(X, X[:, :2]).predict(X)
print(json.dumps([record.data["dispatcher"].py_func.__qualname__
                  for _, record in compiled.buffer if record.is_start]))
"""


@pytest.mark.slow  # compiles a kind's kernels into an empty cache
def test_after_the_command_a_fit_of_the_kind_compiles_nothing(run_python, tmp_path):
    cache = {"NUMBA_CACHE_DIR": tmp_path / "cache"}
    command = (
        "import sys; from numba_mlp.__main__ import main; sys.exit(main(['compile', "
        "'--input', 'dense', '--training', 'minibatch', '--jobs', '1']))"
    )
    first = run_python(command, env=cache)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "[1/1] float64-dense-minibatch:" in first.stdout
    assert " 0 kernels compiled" not in first.stdout  # an empty cache: it compiled

    fits = run_python(FITS_OF_THE_COMPILED_KIND, env=cache)
    assert fits.returncode == 0, fits.stderr[-3000:]
    assert json.loads(fits.stdout.strip().splitlines()[-1]) == []

    again = run_python(command, env=cache)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "float64-dense-minibatch:" in again.stdout and " 0 kernels compiled" in again.stdout
