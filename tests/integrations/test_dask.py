"""Dask: a real dask.distributed LocalCluster (worker processes, 127.0.0.1 only;
the ``client`` fixture of conftest.py).

(a) GridSearchCV through joblib's "dask" backend; (b) out-of-core training
with dask_ml.wrappers.Incremental, partial_fit block by block on a dask
array whose blocks are read from disk one at a time.
"""

import warnings

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
from dask_ml.wrappers import Incremental
from distributed import get_task_stream
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from numba_mlp import MLPClassifier, MLPRegressor

pytestmark = [
    pytest.mark.slow,  # a LocalCluster of worker processes
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # the scheduler's HTTP routes (no dashboard) move to a free port if 8787 is taken
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use"),
]

BLOCK = 50


def _listening_hosts():
    """Hosts of this process's listening TCP sockets."""
    import psutil

    return sorted(
        {
            c.laddr.ip
            for c in psutil.Process().net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }
    )


def test_cluster_listens_on_loopback_only(client):
    info = client.scheduler_info()
    addresses = [info["address"]] + list(info["workers"])
    assert len(info["workers"]) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in addresses), addresses
    # every listening socket: scheduler and its HTTP routes (in this process),
    # workers and nannies
    hosts = set(_listening_hosts())
    for per_process in (client.run(_listening_hosts), client.run(_listening_hosts, nanny=True)):
        for worker_hosts in per_process.values():
            hosts.update(worker_hosts)
    assert hosts == {"127.0.0.1"}, hosts


def test_grid_search_on_the_cluster(client):
    rng = np.random.RandomState(0)
    X = rng.randn(150, 6)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    grid = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-1]}

    def search():
        return GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=3, n_jobs=-1)

    with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        on_dask = search().fit(X, y)
    with joblib.parallel_backend("sequential"):
        local = search().fit(X, y)
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert on_dask.best_params_ == local.best_params_
    # the 12 fits (4 candidates x 3 folds) ran on the workers
    workers = {task["worker"] for task in tasks.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])
    assert any(client.run(lambda: __import__("sys").modules.get("numba_mlp") is not None).values())


def _read_block(path, start, stop):
    """Rows start:stop of a .npy file, read through a memory map (the file is
    never read whole); leaves a marker saying which rows were read."""
    import pathlib

    block = np.array(np.load(path, mmap_mode="r")[start:stop])
    pathlib.Path(f"{path}.read-{start}-{stop}").touch()
    return block


def lazy_array(path, n_rows, n_columns, dtype):
    """A dask array of ``path``'s rows, BLOCK rows per block, read on demand."""
    blocks = []
    for start in range(0, n_rows, BLOCK):
        stop = min(start + BLOCK, n_rows)
        shape = (stop - start, n_columns) if n_columns else (stop - start,)
        blocks.append(
            da.from_delayed(
                dask.delayed(_read_block)(str(path), start, stop), shape=shape, dtype=dtype
            )
        )
    return da.concatenate(blocks)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_incremental_partial_fit_block_by_block(client, tmp_path, kind):
    rng = np.random.RandomState(0)
    n_rows = 400
    X = rng.randn(n_rows, 5)
    if kind == "classifier":
        y = (X[:, 0] - X[:, 2] > 0).astype(int)
        make = lambda: MLPClassifier(hidden_layer_sizes=(8,), random_state=0)  # noqa: E731
        fit_params = {"classes": [0, 1]}
    else:
        y = X[:, 0] - 0.5 * X[:, 2]
        make = lambda: MLPRegressor(hidden_layer_sizes=(8,), random_state=0)  # noqa: E731
        fit_params = {}
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    dX = lazy_array(tmp_path / "X.npy", n_rows, 5, X.dtype)
    dy = lazy_array(tmp_path / "y.npy", n_rows, 0, y.dtype)
    assert dX.numblocks == (n_rows // BLOCK, 1)

    incremental = Incremental(make(), shuffle_blocks=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        incremental.fit(dX, dy, **fit_params)
    model = incremental.estimator_
    assert isinstance(model, type(make()))
    # one partial_fit call per block: one loss per call, every sample seen once
    assert len(model.loss_curve_) == n_rows // BLOCK
    assert model.t_ == n_rows
    # the files were read block by block, never whole
    read = sorted(p.name for p in tmp_path.glob("X.npy.read-*"))
    assert read == sorted(f"X.npy.read-{s}-{s + BLOCK}" for s in range(0, n_rows, BLOCK))

    # the same as partial_fit by hand on the same blocks, in order
    by_hand = make()
    for start in range(0, n_rows, BLOCK):
        by_hand.partial_fit(X[start : start + BLOCK], y[start : start + BLOCK], **fit_params)
    for a, b in zip(model.coefs_ + model.intercepts_, by_hand.coefs_ + by_hand.intercepts_):
        np.testing.assert_array_equal(a, b)
    # prediction is blockwise too (a block's sums may round differently from the
    # whole array's: small products run as loops, large ones through BLAS)
    predicted = incremental.predict(dX)
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), by_hand.predict(X), rtol=1e-12)
