"""The kernel cache heals itself and never stops or stalls a fit.

Each test runs fresh interpreters on a fresh NUMBA_CACHE_DIR and a few small
kernels (``squared_weights`` among them; where the cache lives and how its
files are read is the same for every kernel):

- a damaged entry of ``squared_weights`` (a truncated, empty or garbage
  index or data file, an index of the wrong types, one flipped bit in the
  machine code, machine code LLVM refuses) is dropped and compiled again
  with one ``KernelCacheWarning``, gives the results a clean cache gives,
  and the next process loads the new entry without a warning;
- a lock held by another process delays a compiling process by
  ``LOCK_WAIT_SECONDS`` at most: the kernel runs, compiled in memory and
  not saved (one warning);
- a cache that cannot be written (a full disk) never stops a fit;
- a Numba without the cache classes ``kernels._cache`` builds on gets
  Numba's own cache (one ``NumbaInternalsWarning``).
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from numba_mlp import MLPClassifier
from numba_mlp.kernels._cache import LOCK_WAIT_SECONDS

pytestmark = pytest.mark.slow

# ``setup`` runs first (it may stand in for a full disk or an older Numba);
# the warnings are recorded from the import of numba_mlp on
SCRIPT = r"""
import hashlib, json, warnings
import numpy as np
{setup}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import numba_mlp.kernels as kernels
    from numba_mlp.kernels._cache import KernelCacheWarning, NumbaInternalsWarning
    layer_units = np.array([4, 5, 2])
    params = np.linspace(-1.0, 1.0, 4 * 5 + 5 * 2 + 5 + 2)
    grads = np.linspace(0.0, 1.0, params.size)
    net = kernels.Net(layer_units, 0, 0, np.empty(0))
    kernels.finish_gradients(net, params, grads, 0.1, 3.0)
    penalty = kernels.squared_weights(params, layer_units)
    {fit}
stats = kernels.squared_weights.stats
print(json.dumps({{
    "penalty": penalty,
    "grads": hashlib.sha256(grads.tobytes()).hexdigest(),
    "misses": sum(stats.cache_misses.values()),
    "hits": sum(stats.cache_hits.values()),
    "warnings": [
        str(w.message) for w in caught
        if issubclass(w.category, (KernelCacheWarning, NumbaInternalsWarning))
    ],
    "proba": proba if {fit!r} else None,
}}))
"""

X = np.random.RandomState(0).randn(40, 3)
Y = (X[:, 0] > 0).astype(int)
FIT = (
    "from numba_mlp import MLPClassifier; X = np.random.RandomState(0).randn(40, 3); "
    "proba = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)"
    ".fit(X, (X[:, 0] > 0).astype(int)).predict_proba(X).tolist()"
)


def run(cache, setup="", fit="", timeout=600):
    """The report of SCRIPT run in a fresh interpreter on the cache ``cache``."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(setup=setup, fit=fit)],
        env={**_environment(), "NUMBA_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(cache.parent),
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _environment():
    environment = dict(os.environ)
    environment.pop("NUMBA_DISABLE_JIT", None)
    return environment


@pytest.fixture(scope="module")
def clean_cache(tmp_path_factory):
    """A cache the small kernels were compiled into, and the report of that run."""
    cache = tmp_path_factory.mktemp("clean") / "numba-cache"
    report = run(cache)
    assert report["misses"] == 1 and report["warnings"] == []
    return cache, report


def _copy(clean_cache, tmp_path):
    cache = tmp_path / "numba-cache"
    shutil.copytree(clean_cache[0], cache)
    return cache


def _files(cache, suffix):
    """The files of ``squared_weights``'s entry ending in ``suffix``."""
    files = sorted(cache.rglob(f"network.squared_weights-*{suffix}"))
    assert files, suffix
    return files


def _flip_a_bit_of_the_machine_code(path):
    # the payload (Numba's entry, its machine code the bulk of it) lies whole
    # in the data file: a bit in its middle is a bit of machine code
    content = bytearray(path.read_bytes())
    _, _, payload = pickle.loads(bytes(content))
    middle = content.find(payload) + len(payload) // 2
    content[middle] ^= 0x10
    path.write_bytes(bytes(content))


DAMAGES = {
    "truncated index": lambda c: [p.write_bytes(p.read_bytes()[:30]) for p in _files(c, ".nbi")],
    "zero-byte index": lambda c: [p.write_bytes(b"") for p in _files(c, ".nbi")],
    "garbage index": lambda c: [p.write_bytes(b"\x80\x05garbage" * 9) for p in _files(c, ".nbi")],
    "index of the wrong types": lambda c: [_index_as_a_list(p) for p in _files(c, ".nbi")],
    "zero-byte data": lambda c: [p.write_bytes(b"") for p in _files(c, ".nbc")],
    "truncated data": lambda c: [p.write_bytes(p.read_bytes()[:100]) for p in _files(c, ".nbc")],
    "garbage data": lambda c: [p.write_bytes(bytes(range(256)) * 4) for p in _files(c, ".nbc")],
    "a flipped bit in the machine code": lambda c: [
        _flip_a_bit_of_the_machine_code(p) for p in _files(c, ".nbc")
    ],
}


def _index_as_a_list(path):
    # Numba's index: its version, then (source stamp, {key: data file name});
    # here the same entries in a list, under the very stamp
    with open(path, "rb") as file:
        version = pickle.load(file)
        stamp, overloads = pickle.loads(file.read())
    path.write_bytes(pickle.dumps(version) + pickle.dumps((stamp, list(overloads.items()))))


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_entry_is_compiled_again_in_this_process_and_the_next(
    clean_cache, tmp_path, damage
):
    cache = _copy(clean_cache, tmp_path)
    clean = clean_cache[1]
    assert run(cache)["hits"] == 1  # the copy loads as it is
    DAMAGES[damage](cache)
    healed = run(cache)
    assert healed["misses"] == 1 and healed["hits"] == 0
    assert (healed["penalty"], healed["grads"]) == (clean["penalty"], clean["grads"])
    assert len(healed["warnings"]) == 1, healed["warnings"]
    assert "squared_weights" in healed["warnings"][0]
    assert "compiled again" in healed["warnings"][0]
    if damage == "a flipped bit in the machine code":
        assert "checksum" in healed["warnings"][0]
    after = run(cache)
    assert after["hits"] == 1 and after["misses"] == 0 and after["warnings"] == []
    assert (after["penalty"], after["grads"]) == (clean["penalty"], clean["grads"])


def test_machine_code_that_cannot_be_loaded_is_compiled_again(clean_cache, tmp_path):
    # what LLVM raises for object code it cannot read ("Invalid abbrev number"),
    # raised where the entry is rebuilt
    cache = _copy(clean_cache, tmp_path)
    setup = (
        "from numba_mlp.kernels import _cache\n"
        "def rebuild(self, target_context, payload):\n"
        "    raise RuntimeError('LLVM ERROR: Invalid abbrev number')\n"
        "_cache._KernelCacheImpl.rebuild = rebuild\n"
    )
    healed = run(cache, setup=setup)
    assert healed["misses"] == 1 and healed["penalty"] == clean_cache[1]["penalty"]
    assert any("Invalid abbrev number" in m for m in healed["warnings"]), healed["warnings"]
    assert run(cache)["hits"] == 1


def test_a_lock_held_by_another_process_delays_a_fit_by_seconds_only(clean_cache, tmp_path):
    cache = _copy(clean_cache, tmp_path)
    for path in _files(cache, ".nbi") + _files(cache, ".nbc"):
        path.unlink()  # squared_weights must be compiled and saved again
    (lock,) = _files(cache, ".nbi.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        report = run(cache, timeout=300)
        # bounded: compiling and LOCK_WAIT_SECONDS (the old writer waited as
        # long as the holder held the lock)
        assert time.monotonic() - started < 120 + LOCK_WAIT_SECONDS
    finally:
        holder.kill()
        holder.wait()
    assert report["misses"] == 1 and report["penalty"] == clean_cache[1]["penalty"]
    assert len(report["warnings"]) == 1, report["warnings"]
    assert "held by another process" in report["warnings"][0]
    assert "not saved" in report["warnings"][0]
    assert not list(cache.rglob("network.squared_weights-*.nbi"))
    # the lock released, the next process saves the entry, and the one after loads it
    assert run(cache)["misses"] == 1
    assert run(cache)["hits"] == 1


_HOLD_LOCK = r"""
import fcntl, sys, time
with open(sys.argv[1], "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(3600)
"""


FULL_DISK = r"""
import errno
from numba.core.caching import IndexDataCacheFile
def full_disk(self, path):
    raise OSError(errno.ENOSPC, "No space left on device", path)
IndexDataCacheFile._open_for_write = full_disk
"""


def test_a_fit_on_a_full_disk_completes(tmp_path):
    cache = tmp_path / "numba-cache"
    report = run(cache, setup=FULL_DISK, fit=FIT)
    expected = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 3 iterations
        expected.fit(X, Y)
    np.testing.assert_allclose(report["proba"], expected.predict_proba(X), rtol=1e-12)
    assert report["misses"] == 1
    assert len(report["warnings"]) == 1, report["warnings"]
    assert "cannot be written" in report["warnings"][0] and "not saved" in report["warnings"][0]
    assert "No space left on device" in report["warnings"][0]
    assert not list(cache.rglob("*.nbc"))


def test_a_numba_without_the_cache_classes_gets_its_own_cache(tmp_path):
    # a future Numba that renamed a private class kernels._cache builds on
    cache = tmp_path / "numba-cache"
    setup = "import numba.core.caching\ndel numba.core.caching.CompileResultCacheImpl\n"
    first = run(cache, setup=setup)
    assert len(first["warnings"]) == 1, first["warnings"]
    assert "CompileResultCacheImpl" in first["warnings"][0]
    assert "cache=True" in first["warnings"][0]
    second = run(cache, setup=setup)
    assert second["hits"] == 1 and second["penalty"] == first["penalty"]
    clean = run(tmp_path / "clean-cache")
    assert (first["penalty"], first["grads"]) == (clean["penalty"], clean["grads"])
