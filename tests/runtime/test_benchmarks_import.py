"""The asv suite (benchmarks/) imports with only the core dependencies.

asv builds each commit in an environment of its own with numba-mlp's core
dependencies alone, then imports every module under benchmarks/ to discover
the benchmarks: one module that imports an optional package makes the whole
discovery fail (docs/performance.md's recipe for comparing commits). A fresh
interpreter with the optional packages blocked (an import finder that says
they are not installed: ``sys.modules[name] = None`` would not do, as SciPy
looks such modules up in ``sys.modules``) imports every module and lists the
benchmarks, by asv's own discovery when ``asv_runner`` is installed; the list
is the one found with everything installed.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters

ROOT = Path(__file__).resolve().parents[2]

#: the extras' packages (pyproject.toml), and frameworks a benchmark might reach for
OPTIONAL = [
    "dask",
    "distributed",
    "dask_ml",
    "pandas",
    "matplotlib",
    "tqdm",
    "rich",
    "onnx",
    "onnxruntime",
    "skl2onnx",
    "skops",
    "hypothesis",
    "torch",
    "jax",
    "tensorflow",
]

#: the start of each child: the packages named in sys.argv[1] are not installed
BLOCK = """
import importlib.abc, json, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    blocked = set(json.loads(sys.argv[1]))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""

DISCOVER_SCRIPT = (
    BLOCK
    + """
import importlib, inspect, pkgutil

sys.path.insert(0, sys.argv[2])

import benchmarks

modules = [benchmarks] + [
    importlib.import_module(info.name)
    for info in pkgutil.iter_modules(benchmarks.__path__, "benchmarks.")
]
PREFIXES = ("time_", "timeraw_", "track_", "mem_", "peakmem_")
found = sorted(
    f"{module.__name__}.{cls_name}.{method}"
    for module in modules
    for cls_name, cls in inspect.getmembers(module, inspect.isclass)
    if cls.__module__ == module.__name__
    for method in dir(cls)
    if method.startswith(PREFIXES)
)
try:
    from asv_runner.discovery import disc_benchmarks
except ImportError:
    by_asv = None
else:
    by_asv = sorted(b.name for b in disc_benchmarks(sys.argv[2] + "/benchmarks"))
print(json.dumps({"modules": [m.__name__ for m in modules], "found": found, "asv": by_asv}))
"""
)


def discover(blocked):
    run = subprocess.run(
        [sys.executable, "-c", DISCOVER_SCRIPT, json.dumps(blocked), str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_every_benchmark_module_imports_with_the_core_dependencies_only():
    core_only = discover(OPTIONAL)
    everything = discover([])
    module_files = sorted(path.stem for path in (ROOT / "benchmarks").glob("*.py"))
    assert sorted(m.split(".")[-1] for m in core_only["modules"][1:]) == sorted(
        name for name in module_files if name != "__init__"
    )
    assert core_only["found"] == everything["found"]
    assert "benchmarks.benchmarks.Fit.time_fit" in core_only["found"]
    if core_only["asv"] is not None:  # asv's own discovery (the bench extra)
        assert core_only["asv"] == everything["asv"]
        assert {name.removeprefix("benchmarks.") for name in core_only["found"]} <= set(
            core_only["asv"]
        )


def test_the_dask_script_says_what_it_needs_without_dask():
    script = BLOCK + (
        "import runpy\n"
        "sys.argv = ['dask_rounds.py']\n"
        "runpy.run_path('benchmarks/dask_rounds.py', run_name='__main__')\n"
    )
    blocked = json.dumps(["dask", "distributed", "dask_ml"])
    run = subprocess.run(
        [sys.executable, "-c", script, blocked],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1
    assert "needs the dask extra" in run.stderr
