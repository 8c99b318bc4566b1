"""The JIT cache, and the kernels as plain Python.

Each test runs fresh interpreters (Numba's cache is per process):

- a copy of the installed package in a directory Numba cannot write to
  still works: Numba falls back to the user-wide cache directory (here a
  private XDG_CACHE_HOME), or to NUMBA_CACHE_DIR when set, and the second
  process loads every kernel from there instead of compiling again (shown
  with a few small kernels: the location is chosen for all alike);
- two processes compiling every kernel of three fits at once into one fresh
  NUMBA_CACHE_DIR both succeed, with the same weights, and leave a cache a
  third process loads;
- a kernel compiled in a process that loaded its parallel callee from the
  cache loads and runs in the next process (Numba's entry alone would not
  start the thread pool it needs: a crash);
- read-only input (memory-mapped data) reuses the kernels compiled for
  writable input;
- the cache cannot go stale: in a copy of the source tree, changing a callee
  in another module (``losses.loss_scale``, called by ``train_epoch``)
  recompiles every kernel in the next process and the fit sees the change;
  an unchanged tree loads every kernel from the cache;
- with NUMBA_DISABLE_JIT=1 (the kernels run as plain Python) the kernel and
  textbook tests pass and fits give the jitted run's weights.

The real repository is never made read-only: the tests work on copies.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import numba_mlp
import numba_mlp.kernels

TESTS = Path(__file__).resolve().parent.parent

FIT_SCRIPT = r"""
import hashlib, json, sys, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
import numba_mlp, numba_mlp.kernels as kernels
from numba_mlp import MLPClassifier, MLPRegressor

rng = np.random.RandomState(0)
X = rng.randn(60, 4); y = (X[:, 0] > 0).astype(int); yr = X @ [1.0, -1.0, 0.5, 0.0]
fits = [
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, random_state=0).fit(X, y),
    MLPRegressor(hidden_layer_sizes=(4, 3), solver="sgd", max_iter=4, random_state=0).fit(
        sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0)), yr),
    MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, random_state=0).fit(X, yr),
]
digest = hashlib.sha256()
for est in fits:
    for a in est.coefs_ + est.intercepts_:
        digest.update(np.ascontiguousarray(a).tobytes())
    est.predict(X)
stats = [kernels.train_epoch.stats, kernels.loss_and_gradient.stats,
         kernels.predict_outputs.stats, kernels.predict_dense.stats]
print(json.dumps({
    "kernels_file": kernels.__file__,
    "cache_paths": sorted({s.cache_path for s in stats}),
    "hits": sum(sum(s.cache_hits.values()) for s in stats),
    "misses": sum(sum(s.cache_misses.values()) for s in stats),
    "weights": digest.hexdigest(),
}))
"""


# Where the cache lives is decided for every kernel alike (``kernels._cache``):
# the location tests compile a few small kernels, in three modules, instead
# of a whole fit (which the test of two processes compiling at once does).
SMALL_KERNELS_SCRIPT = r"""
import hashlib, json
import numpy as np
import numba_mlp.kernels as kernels

layer_units = np.array([4, 5, 2])
params = np.linspace(-1.0, 1.0, 4 * 5 + 5 * 2 + 5 + 2)
grads = np.linspace(0.0, 1.0, params.size)
net = kernels.Net(layer_units, 0, 0, np.empty(0))
kernels.finish_gradients(net, params, grads, 0.1, 3.0)
penalty = kernels.squared_weights(params, layer_units)
loss = kernels.regularised_loss(0, 2, 1.5, 0.1, penalty, 3.0)
used = (kernels.finish_gradients, kernels.squared_weights, kernels.regularised_loss)
stats = [k.stats for k in used]
print(json.dumps({
    "kernels_file": kernels.__file__,
    "cache_paths": sorted({s.cache_path for s in stats}),
    "hits": sum(sum(s.cache_hits.values()) for s in stats),
    "misses": sum(sum(s.cache_misses.values()) for s in stats),
    "weights": hashlib.sha256(grads.tobytes() + np.float64(loss).tobytes()).hexdigest(),
}))
"""


def _report(result):
    assert result.returncode == 0, (result.returncode, result.stdout[-2000:], result.stderr[-4000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _copy_package(root):
    """The installed numba_mlp (kernels included), without any cache, in ``root``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    package = Path(numba_mlp.__file__).parent
    kernels = Path(numba_mlp.kernels.__file__).parent
    target = Path(root) / "numba_mlp"
    shutil.copytree(
        package,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc", "kernels"),
    )
    shutil.copytree(kernels, target / "kernels", ignore=ignore)
    return target


def _make_read_only(path):
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)


def _cache_files(path):
    return [p for p in Path(path).rglob("*") if p.suffix in (".nbi", ".nbc")]


def _env(copy_root, **extra):
    env = {"PYTHONPATH": str(copy_root), "PYTHONDONTWRITEBYTECODE": "1", "NUMBA_CACHE_DIR": None}
    env.update(extra)
    return env


@pytest.mark.slow
def test_package_whose_pycache_cannot_be_created_uses_the_user_cache(run_python, tmp_path):
    # kernels/__pycache__ is a file: Numba cannot make its in-tree cache there
    # (this works even for root, whom permission bits do not stop)
    copy = _copy_package(tmp_path / "site")
    (copy / "kernels" / "__pycache__").write_text("not a directory")
    xdg = tmp_path / "xdg-cache"
    env = _env(tmp_path / "site", XDG_CACHE_HOME=xdg, HOME=tmp_path / "home")

    first = _report(run_python(SMALL_KERNELS_SCRIPT, env=env))
    assert first["kernels_file"].startswith(str(copy))
    assert first["misses"] > 0
    assert all(p.startswith(str(xdg)) for p in first["cache_paths"]), first["cache_paths"]
    assert _cache_files(xdg) and not _cache_files(copy)

    second = _report(run_python(SMALL_KERNELS_SCRIPT, env=env))
    assert second["misses"] == 0 and second["hits"] > 0  # loaded, not compiled
    assert second["weights"] == first["weights"]


@pytest.mark.slow
def test_read_only_package_with_numba_cache_dir(run_python, tmp_path):
    copy = _copy_package(tmp_path / "site")
    (copy / "kernels" / "__pycache__").write_text("not a directory")
    cache = tmp_path / "numba-cache"
    env = _env(tmp_path / "site", NUMBA_CACHE_DIR=cache)
    report = _report(run_python(SMALL_KERNELS_SCRIPT, env=env))
    assert all(p.startswith(str(cache)) for p in report["cache_paths"])
    assert _cache_files(cache) and not _cache_files(copy)


def _without_root_privileges():
    """Command prefix under which permission bits bind this process's children.

    Root ignores them (CAP_DAC_OVERRIDE); ``setpriv`` starts the child
    without that capability. None if that cannot be arranged.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.mark.slow
def test_really_read_only_package_directory(tmp_path):
    """The copy's files and directories are read-only (modes 444 and 555)."""
    prefix = _without_root_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot bind")
    copy = _copy_package(tmp_path / "site")
    xdg = tmp_path / "xdg-cache"
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("NUMBA_DISABLE_JIT", None)
    env.update(
        PYTHONPATH=str(tmp_path / "site"),
        PYTHONDONTWRITEBYTECODE="1",
        XDG_CACHE_HOME=str(xdg),
        HOME=str(tmp_path),
    )

    def run(code):
        return subprocess.run(
            prefix + [sys.executable, "-c", code],
            env=env,
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )

    _make_read_only(tmp_path / "site")
    try:
        probe = run(f"open({str(copy / 'kernels' / 'probe')!r}, 'w')")
        if probe.returncode == 0 or "PermissionError" not in probe.stderr:
            pytest.skip("could not drop the privilege to ignore permission bits")
        first = _report(run(SMALL_KERNELS_SCRIPT))
        assert first["kernels_file"].startswith(str(copy))
        assert first["misses"] > 0
        assert all(p.startswith(str(xdg)) for p in first["cache_paths"]), first
        second = _report(run(SMALL_KERNELS_SCRIPT))
        assert second["misses"] == 0 and second["hits"] > 0
        assert second["weights"] == first["weights"]
        assert not _cache_files(copy)
    finally:
        for dirpath, _, _ in os.walk(tmp_path / "site"):
            os.chmod(dirpath, stat.S_IRWXU)


@pytest.mark.slow
def test_two_processes_compile_into_one_fresh_cache_at_once(tmp_path):
    cache = tmp_path / "numba-cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", FIT_SCRIPT],
            env=env,
            cwd=str(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=900)
        assert child.returncode == 0, err[-4000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert reports[0]["weights"] == reports[1]["weights"]
    assert all(r["misses"] > 0 for r in reports)  # both really compiled
    third = subprocess.run(
        [sys.executable, "-c", FIT_SCRIPT],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = _report(third)
    assert report["misses"] == 0 and report["hits"] > 0
    assert report["weights"] == reports[0]["weights"]


CALLER_SCRIPT = r"""
import sys
import threading
import numpy as np
from numba_mlp.kernels.bundles import Blocks
from numba_mlp.kernels.forward import compute_layer
from numba_mlp.kernels.products import weighted_sums
X, W = np.arange(12.0).reshape(3, 4), np.ones((4, 5))
out, kept = np.empty((3, 5)), np.empty((3, 5))
if sys.argv[1] == "callee":
    weighted_sums(X, W, out, Blocks(1, False))
else:  # compute_layer calls weighted_sums, whose machine code reaches a prange loop
    compute_layer(X, W, np.zeros(5), 0, out, kept, Blocks(1, False))
print(out.sum())
"""
# what CALLER_SCRIPT prints, by NumPy: every one of the 5 columns is a row sum
# of X (all-one weights; the identity activation, code 0, keeps them)
X_SUM_TIMES_FIVE = 5 * float(np.arange(12.0).sum())


@pytest.mark.slow
def test_a_kernel_compiled_over_a_cached_parallel_callee_loads_in_a_new_process(tmp_path):
    # the order a user meets: one process caches the products (a minibatch
    # fit), a later one compiles a new caller of them (the first online fit),
    # a third loads that caller. Numba's entry for the caller then omits
    # starting the thread pool, and the third process crashed on a null
    # pointer (signal 11) before kernels/_cache.py started the pool itself.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    env.pop("NUMBA_DISABLE_JIT", None)
    sums = []
    for role in ("callee", "caller", "caller"):
        run = subprocess.run(
            [sys.executable, "-c", CALLER_SCRIPT, role],
            env=env,
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, (role, run.returncode, run.stderr[-2000:])
        sums.append(float(run.stdout.strip().splitlines()[-1]))
    assert sums == [X_SUM_TIMES_FIVE] * 3


# ---------------------------------------------------------------------------
# A change to any kernel module makes every cached kernel stale
# ---------------------------------------------------------------------------

KERNEL_STATS_SCRIPT = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from numba.core.dispatcher import Dispatcher
import numba_mlp, numba_mlp.kernels as kernels
from numba_mlp import MLPClassifier

rng = np.random.RandomState(0)
X = rng.randn(60, 4); y = (X[:, 0] > 0).astype(int)
# alpha=0: the reported loss is the data loss, scaled by losses.loss_scale
est = MLPClassifier(hidden_layer_sizes=(5,), alpha=0.0, max_iter=3, random_state=0).fit(X, y)
est.predict(X)
dispatchers = {
    f"{name}.{attr}": value
    for name, module in list(sys.modules.items()) if name.startswith("numba_mlp.kernels.")
    for attr, value in vars(module).items()
    if isinstance(value, Dispatcher) and value.__module__ == name
}
stats = {name: d.stats for name, d in dispatchers.items()}
train = kernels.train_epoch.stats
print(json.dumps({
    "kernels_file": kernels.__file__,
    "loss_curve": est.loss_curve_,
    "train_epoch_hits": sum(train.cache_hits.values()),
    "train_epoch_misses": sum(train.cache_misses.values()),
    "compiled": sorted(n for n, s in stats.items() if sum(s.cache_misses.values())),
    "loaded": sorted(n for n, s in stats.items() if sum(s.cache_hits.values())),
}))
"""


@pytest.mark.slow
def test_changing_a_callee_in_another_module_recompiles_its_callers(run_python, tmp_path):
    # a writable copy of the tree: the cache lives in kernels/__pycache__, as
    # in a clone where `git switch` changes one module
    copy = _copy_package(tmp_path / "site")
    env = _env(tmp_path / "site", XDG_CACHE_HOME=tmp_path / "xdg-cache")
    losses = copy / "kernels" / "losses.py"
    original = losses.read_text()

    first = _report(run_python(KERNEL_STATS_SCRIPT, env=env))
    assert first["kernels_file"].startswith(str(copy))
    assert first["train_epoch_misses"] > 0 and first["compiled"]
    assert _cache_files(copy / "kernels" / "__pycache__")

    # an unchanged tree: every kernel is loaded, none compiled
    unchanged = _report(run_python(KERNEL_STATS_SCRIPT, env=env))
    assert unchanged["compiled"] == [] and unchanged["train_epoch_hits"] > 0
    assert unchanged["loss_curve"] == first["loss_curve"]

    # loss_scale (losses.py) is compiled into train_epoch (training.py, whose
    # own file does not change): report twice the loss for log-loss
    old = "    return 1.0\n\n\n@kernel(inline=True)\ndef is_canonical("
    assert original.count(old) == 1
    losses.write_text(original.replace(old, old.replace("1.0", "2.0")))
    changed = _report(run_python(KERNEL_STATS_SCRIPT, env=env))
    assert changed["train_epoch_misses"] > 0 and changed["train_epoch_hits"] == 0
    assert changed["loaded"] == []  # every kernel's entry is stale, not only the callers'
    assert "numba_mlp.kernels.network.predict_dense" in changed["compiled"]
    assert changed["loss_curve"] == pytest.approx([2 * v for v in first["loss_curve"]], rel=1e-12)
    # (changing the source back is the same kind of change: a third compile of
    # every kernel, a minute of CI, shows nothing more)


# ---------------------------------------------------------------------------
# NUMBA_DISABLE_JIT=1: the kernels are valid Python
# ---------------------------------------------------------------------------

WEIGHTS_SCRIPT = r"""
import sys, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from numba_mlp import MLPClassifier, MLPRegressor

rng = np.random.RandomState(0)
X = rng.randn(40, 3); y = np.arange(40) % 3; yr = X @ [1.0, -1.0, 0.5]
Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0))
fits = {
    "clf-adam": MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y),
    "reg-sgd-sparse": MLPRegressor(hidden_layer_sizes=(3, 2), solver="sgd", max_iter=3,
                                   batch_size=16, random_state=0).fit(Xs, yr),
    "clf-lbfgs": MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5,
                               random_state=0).fit(X, y),
    "reg-float32-poisson": MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=3,
                                        random_state=0).fit(X.astype(np.float32),
                                                            np.exp(yr / 4)),
}
arrays = {}
for name, est in fits.items():
    for i, a in enumerate(est.coefs_ + est.intercepts_):
        arrays[f"{name}/{i}"] = a
    arrays[f"{name}/predict"] = est.predict(X[:7].astype(est.coefs_[0].dtype))
np.savez(sys.argv[1], **arrays)
"""


def _weights(run_python, tmp_path, name, disable_jit):
    out = tmp_path / f"{name}.npz"
    code = f"import sys; sys.argv = ['x', {str(out)!r}]\n" + WEIGHTS_SCRIPT
    env = {"NUMBA_DISABLE_JIT": "1"} if disable_jit else {}
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(np.load(out))


@pytest.mark.slow
def test_pure_python_kernels_give_the_jitted_weights(run_python, tmp_path):
    jitted = _weights(run_python, tmp_path, "jitted", disable_jit=False)
    python = _weights(run_python, tmp_path, "python", disable_jit=True)
    assert jitted.keys() == python.keys()
    for key in jitted:
        assert jitted[key].dtype == python[key].dtype, key
        # the compiled kernels may fuse multiply-adds (fastmath 'contract')
        rtol = 1e-4 if jitted[key].dtype == np.float32 else 1e-10
        np.testing.assert_allclose(
            python[key], jitted[key], rtol=rtol, atol=rtol * 1e-2, err_msg=key
        )


@pytest.mark.slow
def test_kernel_and_textbook_tests_pass_without_jit(run_python):
    # the kernel tests (reference, finite differences, sparse, float32,
    # optimisers) and the handouts' worked examples, on the kernels as Python
    files = [
        str(TESTS / "kernels" / "test_kernels.py"),
        str(TESTS / "teaching" / "test_textbook.py"),
    ]
    result = run_python(
        f"import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', *{files!r}]))",
        env={"NUMBA_DISABLE_JIT": "1"},
        cwd=TESTS.parent,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_read_only_input_reuses_the_kernels_compiled_for_writable_input(tmp_path):
    # memory-mapped data is read-only, and Numba types read-only arrays apart:
    # without the read-only views the estimators pass, each of these calls
    # would compile every kernel again
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 3), rng.randn(40)
    weights = rng.rand(40)
    for est in (
        numba_mlp.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, dropout=0.2),
        numba_mlp.MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2),
    ):
        est.fit(X, y, sample_weight=weights).predict(X)
    used = (numba_mlp.kernels.train_epoch, numba_mlp.kernels.loss_and_gradient)
    used += (numba_mlp.kernels.predict_dense,)
    compiled = [len(kernel.signatures) for kernel in used]

    for name, array in {"X": X, "y": y, "weights": weights}.items():
        np.save(tmp_path / f"{name}.npy", array)
    X_ro, y_ro, weights_ro = (
        np.load(tmp_path / f"{name}.npy", mmap_mode="r") for name in ("X", "y", "weights")
    )
    assert not X_ro.flags.writeable
    for est in (
        numba_mlp.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, dropout=0.2),
        numba_mlp.MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2),
    ):
        est.fit(X_ro, y_ro, sample_weight=weights_ro).predict(X_ro)
    assert [len(kernel.signatures) for kernel in used] == compiled


# ---------------------------------------------------------------------------
# The index and data files of one kernel, written by several writers at once
# ---------------------------------------------------------------------------


def _cache_file(directory):
    from numba_mlp.kernels._cache import CheckedCacheFile

    return CheckedCacheFile(str(directory), "kernel-1.py311", ("stamp", "package hash"))


def test_writers_of_different_signatures_at_once_leave_every_entry_its_own_code(tmp_path):
    # each thread stands for a process compiling signatures of its own; with
    # Numba's own files, two writers could pick the same data file for two
    # signatures and leave the index naming one's code for the other
    n_writers, n_keys = 8, 12
    barrier = threading.Barrier(n_writers)

    def write(writer):
        cache = _cache_file(tmp_path)  # each writer reads and writes the files itself
        barrier.wait()
        for k in range(n_keys):
            cache.save(("signature", writer, k), f"code of {writer}/{k}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(n_writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader = _cache_file(tmp_path)
    for writer in range(n_writers):
        for k in range(n_keys):
            assert reader.load(("signature", writer, k)) == f"code of {writer}/{k}"


def test_a_data_file_holding_another_entry_is_not_loaded(tmp_path):
    cache = _cache_file(tmp_path)
    cache.save(("signature", "a"), "code of a")
    cache.save(("signature", "b"), "code of b")
    files = sorted(tmp_path.glob("*.nbc"))
    assert len(files) == 2
    # what a writer of another version of the package could leave: b's entry
    # in the file the index names for a
    shutil.copyfile(files[1], files[0])
    assert cache.load(("signature", "a")) is None  # compiled afresh, not b's code run as a's
    assert cache.load(("signature", "b")) == "code of b"
