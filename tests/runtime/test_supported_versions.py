"""The supported versions as declared, tested and documented agree.

CI's oldest environment installs what ``.ci/floors.py`` reads from
``pyproject.toml``; docs/versions.md states those floors and numba's range.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ROOT / ".ci" / "floors.py").exists(), reason="not run from a source tree"
)


def floors(pyproject):
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "floors.py"), str(pyproject)],
        capture_output=True,
        text=True,
    )
    return result.returncode, result.stdout.split(), result.stderr


def test_the_oldest_environment_is_every_declared_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    code, pins, _ = floors(ROOT / "pyproject.toml")
    assert code == 0
    expected = [f"python=={project['requires-python'].removeprefix('>=')}"]
    for text in project["dependencies"]:
        requirement = Requirement(text)
        (lower,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        expected.append(f"{requirement.name}=={lower}")
    assert pins == expected


def test_a_dependency_without_a_floor_stops_ci(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nrequires-python = ">=3.11"\ndependencies = ["numba"]\n')
    code, _, message = floors(pyproject)
    assert code != 0
    assert "'numba' in pyproject.toml has no lower bound" in message


def test_the_documented_versions_are_the_declared_ones():
    text = " ".join((ROOT / "docs" / "versions.md").read_text().split())
    _, pins, _ = floors(ROOT / "pyproject.toml")
    floor = dict(pin.split("==") for pin in pins)
    assert (
        f"Python {floor['python']}, numba {floor['numba']}, numpy {floor['numpy']}, "
        f"scipy {floor['scipy']} and scikit-learn {floor['scikit-learn']}"
    ) in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (declared,) = [r for r in project["dependencies"] if Requirement(r).name == "numba"]
    (upper,) = [s.version for s in Requirement(declared).specifier if s.operator == "<"]
    major, minor = map(int, upper.split("."))
    newest = f"{major}.{minor - 1}"
    assert f"numba {floor['numba']} to {newest} (`{declared}`)" in text
