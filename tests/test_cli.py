"""The command line: ``python -m numba_mlp`` and its ``demo``."""

import io
import subprocess
import sys

from numba_mlp.__main__ import main
from numba_mlp._demo import run_demo


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


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_module_help_lists_commands():
    result = subprocess.run(
        [sys.executable, "-m", "numba_mlp", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in result.stdout


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
