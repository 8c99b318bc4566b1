"""The command line, ``python -m numba_mlp`` (the ``numba-mlp`` script):
--help, --version, demo (with its loss-curve PNG), trace, and bench on tiny
cases (it times both libraries and reports a ratio per case; the figures
themselves are for the README, not for tests)."""

import io
import re
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

from numba_mlp import _bench, benchmark_cases
from numba_mlp.__main__ import main
from numba_mlp._demo import run_demo

pytestmark = pytest.mark.slow  # each command runs in a fresh interpreter

DEMO_QUICK = ["demo", "--max-iter", "3", "--hidden", "8", "--repeats", "1"]


def run_module(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "numba_mlp", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )


def test_help_lists_every_command():
    out = run_module("--help").stdout
    for command in ("demo", "bench", "trace"):
        assert command in out
    assert "--plot" in run_module("demo", "--help").stdout
    assert "--example" in run_module("trace", "--help").stdout


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_version_names_the_installed_distributions(capsys):
    from importlib.metadata import version

    import pytest

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"numba-mlp {version('numba-mlp')} (")
    for name in ("numba", "numpy", "scikit-learn"):
        assert f"{name} {version(name)}" in line


def test_importing_the_package_loads_no_optional_dependency():
    code = (
        "import sys, numba_mlp; print(sorted(m for m in ('matplotlib', 'tqdm', 'skl2onnx', "
        "'onnxruntime', 'dask', 'distributed', 'dask_ml', 'skops') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------- trace


def test_trace_prints_the_introductions_network():
    out = run_module("trace").stdout
    # h1 = h2 = 0.0474, o1 = 0.524; dL/dw1 = 0.0214 (full squared error = 2 x ours)
    assert "h1    logistic  -3.000000    0.047426" in out
    assert "o1    logistic   0.094852    0.523695" in out
    assert "dL/dw1 = 2 x 0.010735 = 0.0215" in out
    assert "w1        x1 -> h1  1.000000   0.010735  -0.001073   0.998927" in out


def test_trace_prints_the_handouts_network(capsys):
    assert main(["trace", "--example", "handout"]) == 0
    out = capsys.readouterr().out
    assert "h1    logistic   2.600000    0.930862" in out  # net input 2.6, sigmoid 0.9308616
    assert "= 0.192000   (the handout: 0.192)" in out
    assert "= 0.001787254   (the handout: 0.001787254)" in out
    assert "= 0.009885435   with the weight BEFORE the step, 0.8" in out


def test_trace_learning_rate_option(capsys):
    assert main(["trace", "--learning-rate", "1"]) == 0
    assert "learning rate 1)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["trace", "--learning-rate", "-1"])


# -------------------------------------------------------------------- demo


def test_demo_reports_scikit_learns_weights_and_accuracy():
    """A short demo run trains both libraries and finds the same weights."""
    out = io.StringIO()
    assert run_demo(hidden_layer_sizes=(8,), max_iter=3, repeats=1, out=out) == 0
    report = out.getvalue()
    assert "final weights match sklearn's: yes" in report
    assert "test predictions identical to sklearn's: 100.00%" in report
    accuracies = [
        float(line.split()[1])
        for line in report.splitlines()
        if line.startswith(("numba_mlp ", "sklearn "))
    ]
    assert len(accuracies) == 2 and accuracies[0] == accuracies[1]


def test_demo_saves_the_loss_curve_png(tmp_path, capsys):
    path = tmp_path / "curves.png"
    assert main([*DEMO_QUICK, "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"loss curves saved to {path.resolve()}" in out
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 10


def test_demo_default_plot_goes_to_the_current_directory(tmp_path):
    result = run_module(*DEMO_QUICK, cwd=tmp_path)
    path = tmp_path / "numba_mlp_loss_curve.png"
    assert path.stat().st_size > 1000
    assert f"loss curves saved to {path.resolve()}" in result.stdout


def test_demo_no_plot_and_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*DEMO_QUICK, "--no-plot"]) == 0
    assert "loss curves" not in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if not installed
    assert main(DEMO_QUICK) == 0
    assert "loss-curve plot skipped: matplotlib is not installed" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- bench


def _seconds(text):
    value, unit = text.split()
    return float(value) * {"s": 1.0, "ms": 1e-3, "us": 1e-6}[unit]


def _check_speed_up_columns(line, gemm_share):
    """A table row's speed-up is scikit-learn's time over ours, as printed; a
    fit time the machine was too noisy to measure (an epoch not longer than
    the fit around it) is reported as such, with no ratio and no rate made up."""
    columns = re.split(r"\s{2,}", line.strip())
    ours, theirs, speed_up = columns[1:4]
    if "noisy" in (ours + theirs):
        assert ours == "noisy: rerun" or theirs == "noisy: rerun"
        assert speed_up == "-"
        return
    printed = float(re.fullmatch(r"([0-9.]+)x", speed_up).group(1))
    assert printed > 0
    # the times are printed to one decimal: the ratio agrees within their rounding
    assert printed == pytest.approx(_seconds(theirs) / _seconds(ours), rel=0.1)
    if gemm_share:
        assert re.fullmatch(r"[0-9]+%", columns[6])  # share of the peak GEMM rate
        assert re.fullmatch(r"[0-9]+%", columns[7])  # the GEMM bound's share of the epoch


def test_bench_reports_every_case_with_a_ratio(monkeypatch):
    """Quiet, then with one core busy, then the grid searches (threads and
    loky worker processes): every row has a finite, positive speed-up."""
    fit_case = benchmark_cases.FitCase(300, 5, (4,), target=1.0)
    online_case = benchmark_cases.FitCase(50, 5, (3,), target=1.0, batch_size=1, solver="sgd")
    predict_case = benchmark_cases.PredictCase(1, 5, (4,), target=1.0)
    grid_case = benchmark_cases.GridSearchCase(
        120, 5, (4,), alphas=(1e-4, 1e-2), cv=2, epochs=2, target=4.0, parallel_target=1.6
    )
    monkeypatch.setattr(_bench, "FIT_CASES", (fit_case, online_case))
    monkeypatch.setattr(_bench, "PREDICT_CASES", (predict_case,))
    monkeypatch.setattr(_bench, "GRID_SEARCH_CASE", grid_case)
    monkeypatch.setattr(_bench, "SKLEARN_ONLINE_SAMPLES", 20)
    monkeypatch.setattr(_bench, "gemm_rate", lambda dtype: 1.0)
    out = io.StringIO()
    assert _bench.run_bench(quick=True, out=out) == 0
    quiet, loaded, searches = out.getvalue().split("\n\n")[1:]
    assert loaded.startswith("under load (one core busy)")
    assert searches.startswith("grid search:")
    # --quick leaves the online case out under load
    for table, cases in (
        (quiet, (fit_case, online_case, predict_case)),
        (loaded, (fit_case, predict_case)),
    ):
        names = [line for line in table.splitlines() if line.startswith(("fit ", "predict "))]
        assert len(names) == len(cases)
        for case, line in zip(cases, names):
            assert line.startswith(case.name)
            _check_speed_up_columns(line, gemm_share=case is fit_case)
            if isinstance(case, benchmark_cases.PredictCase):  # timed directly, never noisy
                assert "noisy" not in line
    rows = [line for line in searches.splitlines() if line.startswith("GridSearchCV")]
    assert [row.split("  ")[0] for row in rows] == [
        "GridSearchCV n_jobs=1",
        "GridSearchCV n_jobs=2 threading",
        "GridSearchCV n_jobs=2 loky",
    ]
    for row in rows:
        ratios = [float(ratio) for ratio in re.findall(r"  ([0-9.]+)x", row)]
        assert ratios and all(np.isfinite(ratio) and ratio > 0 for ratio in ratios)


def test_epoch_flops_count_the_products_computed():
    # per sample: forward (2 flops) and gradient (2) per weight, back signal (2)
    # per weight beyond the first layer (nothing is sent back to the inputs)
    case = benchmark_cases.FitCase(10, 3, (4,), target=1.0)
    first, second = 3 * 4, 4 * 1
    assert case.flops == (2 + 2) * (first + second) * 10 + 2 * second * 10


def test_epoch_products_are_the_products_the_flops_count():
    """The GEMM bound times the products ``FitCase.flops`` counts, minibatch
    by minibatch: 450 rows in batches of 200, 200 and 50."""
    case = benchmark_cases.FitCase(450, 3, (4, 2), target=1.0)
    shapes = benchmark_cases.epoch_products(case, 450)
    assert sum(2 * rows * inner * columns for rows, inner, columns in shapes) == case.flops
    # 3 layers: sums and gradients each, back signals into the two hidden layers
    assert len(shapes) == 3 * (3 + 3 + 2)
    assert sorted({shape[0] for shape in shapes[::8]}) == [50, 200]
    online = benchmark_cases.FitCase(5, 3, (4,), target=1.0, batch_size=1, solver="sgd")
    assert benchmark_cases.epoch_products(online, 5).count((1, 3, 4)) == 5
