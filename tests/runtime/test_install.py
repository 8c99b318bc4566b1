"""Install paths: the wheel ships every kernel, and nothing it should not.

``.ci/run`` goes further: it installs this wheel (with its dependencies)
into a fresh virtual environment outside the source tree and fits a model
there, importing ``numba_mlp.kernels`` from site-packages.
"""

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("not run from a source tree")
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("numba_mlp-*.whl")
    return built


def test_wheel_ships_every_kernel_and_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in sorted((ROOT / "kernels").glob("*.py")):
        assert f"numba_mlp/kernels/{source.name}" in names, source.name
    for source in sorted((ROOT / "src" / "numba_mlp").glob("*.py")):
        assert f"numba_mlp/{source.name}" in names, source.name


def test_wheel_ships_no_caches_or_tests(wheel):
    for name in zipfile.ZipFile(wheel).namelist():
        assert not name.endswith((".nbi", ".nbc", ".pyc")), name
        assert "__pycache__" not in name and not name.startswith("tests/"), name


def test_wheel_declares_its_dependencies(wheel):
    archive = zipfile.ZipFile(wheel)
    (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(archive.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist")
    plain = {
        r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip()
        for r in requires
        if "extra ==" not in r
    }
    assert {"numba", "numpy", "scipy", "scikit-learn"} <= plain
    # "test" is "test-core" (the test tools) plus every integration extra
    test_core = [r for r in requires if 'extra == "test-core"' in r]
    assert any(r.startswith("hypothesis") for r in test_core), test_core
    assert any(r.startswith("pytest") for r in test_core), test_core
    (test_extra,) = [r for r in requires if 'extra == "test"' in r and r.startswith("numba-mlp[")]
    for extra in ("test-core", "dask", "plot", "progress", "onnx", "skops"):
        assert extra in test_extra.split("[")[1].split("]")[0].split(","), test_extra
