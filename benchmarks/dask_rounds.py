"""What a round of training on a Dask cluster costs beyond its computation.

A plain script (not part of the asv suite), run from the repository's root:

    python benchmarks/dask_rounds.py            # about 5 minutes on 2 cores
    python benchmarks/dask_rounds.py --quick    # fewer shapes and repeats
    python benchmarks/dask_rounds.py --json results.json

It starts a LocalCluster of two single-threaded worker processes on
127.0.0.1, makes the data on the workers (two row chunks, one per worker)
and measures, each as the median of ``--repeats`` runs:

- ``task``: one no-op task submitted and its result received (the latency
  every step of a round pays), and the scheduler's cost per task when 400
  are submitted at once;
- ``broadcast``: ``client.scatter(weights, broadcast=True)`` of a weight
  vector to both workers, by its length;
- ``round``: one round of parameter averaging (Adam, ``local_epochs=1``),
  timed as the difference between fits of ``1 + k`` and 1 rounds divided by
  ``k`` (what a fit pays once is left out); beside it ``epoch``, one epoch of
  one chunk's rows in this process (the computation a worker does in a
  round), and ``overhead = round - epoch``;
- ``evaluation``: one L-BFGS evaluation on the cluster, beside the
  one-process evaluation of one chunk's rows, and their difference.

The figures depend on the machine and its load: report them with both.
"""

import argparse
import json
import statistics
import time
import warnings

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning

import numba_mlp
from numba_mlp._network import make_net
from numba_mlp._training import FullBatchObjective
from numba_mlp.benchmark_cases import processor_name
from numba_mlp.dask import ClusterObjective, MLPRegressor

N_FEATURES = 32
#: hidden layers -> weights and biases with 32 inputs and one output
HIDDEN = {"h16": (16,), "h256": (256,), "h512-512": (512, 512), "h1024-1024": (1024, 1024)}


def n_weights(hidden):
    units = [N_FEATURES, *hidden, 1]
    return sum(a * b for a, b in zip(units, units[1:])) + sum(units[1:])


def median_time(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def noop(x=None):
    return x


def task_costs(client, repeats):
    """Latency of one task's round trip; scheduler time per task in a batch of 400."""
    latency = median_time(lambda: client.submit(noop, pure=False).result(), 5 * repeats)

    def batch():
        client.gather([client.submit(noop, i, pure=False) for i in range(400)])

    return {"latency_s": latency, "per_task_s": median_time(batch, repeats) / 400}


def broadcast_costs(client, repeats, hidden_keys):
    rows = []
    for key in hidden_keys:
        weights = np.random.default_rng(0).normal(size=n_weights(HIDDEN[key]))
        seconds = median_time(
            lambda weights=weights: client.scatter(weights, broadcast=True, hash=False), repeats
        )
        rows.append({"weights": weights.size, "bytes": weights.nbytes, "broadcast_s": seconds})
    return rows


def cluster_data(client, rows_per_chunk):
    random = da.random.RandomState(0)
    X = random.normal(size=(2 * rows_per_chunk, N_FEATURES), chunks=(rows_per_chunk, -1))
    y = X[:, 0] - X[:, 1] ** 2
    return client.persist([X, y])


def round_costs(client, rows_per_chunk, hidden_key, repeats, rounds=4):
    """Seconds per averaging round, per local epoch of a chunk, and their difference."""
    X, y = cluster_data(client, rows_per_chunk)
    params = dict(
        hidden_layer_sizes=HIDDEN[hidden_key], random_state=0, tol=0.0, n_iter_no_change=np.inf
    )

    def fit_rounds(n):
        return lambda: MLPRegressor(max_iter=n, **params).fit(X, y)

    MLPRegressor(max_iter=1, **params).fit(X, y)  # the workers load the kernels
    one = median_time(fit_rounds(1), repeats)
    more = median_time(fit_rounds(1 + rounds), repeats)
    per_round = (more - one) / rounds

    X_chunk, y_chunk = X.blocks[0].compute(), y.blocks[0].compute()

    def fit_epochs(n):
        return lambda: numba_mlp.MLPRegressor(max_iter=n, **params).fit(X_chunk, y_chunk)

    fit_epochs(1)()
    epoch = median_time(fit_epochs(1 + rounds), repeats) - median_time(fit_epochs(1), repeats)
    epoch /= rounds
    return {
        "rows_per_chunk": rows_per_chunk,
        "weights": n_weights(HIDDEN[hidden_key]),
        "round_s": per_round,
        "epoch_s": epoch,
        "overhead_s": per_round - epoch,
    }


def evaluation_costs(client, rows_per_chunk, hidden_key, repeats):
    """Seconds per L-BFGS evaluation on the cluster and of one chunk in this process."""
    X, y = cluster_data(client, rows_per_chunk)
    units = [N_FEATURES, *HIDDEN[hidden_key], 1]
    net = make_net(units, "relu", "identity")
    weights = np.random.default_rng(1).normal(scale=0.1, size=n_weights(HIDDEN[hidden_key]))
    objective = ClusterObjective(client, X, y.reshape(-1, 1), None, net, "squared_error", 1e-4)
    objective(weights)
    on_cluster = median_time(lambda: objective(weights), 3 * repeats)
    X_chunk, y_chunk = X.blocks[0].compute(), y.blocks[0].compute().reshape(-1, 1)
    local = FullBatchObjective(X_chunk, y_chunk, None, net, "squared_error", 1e-4, X_chunk.dtype)
    local(weights)
    one_chunk = median_time(lambda: local(weights), 3 * repeats)
    return {
        "rows_per_chunk": rows_per_chunk,
        "weights": weights.size,
        "evaluation_s": on_cluster,
        "one_chunk_s": one_chunk,
        "overhead_s": on_cluster - one_chunk,
    }


def print_table(title, rows):
    print(f"\n{title}")
    keys = list(rows[0])
    print(" | ".join(f"{k:>14}" for k in keys))
    for row in rows:
        cells = [f"{v:14.4f}" if isinstance(v, float) else f"{v:>14}" for v in row.values()]
        print(" | ".join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    parser.add_argument("--repeats", type=int, default=None, help="runs per median (default 5)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    chunk_sweep = [1_000, 10_000] if args.quick else [1_000, 10_000, 40_000]
    weight_sweep = ["h16", "h256", "h512-512"] + ([] if args.quick else ["h1024-1024"])
    warnings.simplefilter("ignore", ConvergenceWarning)

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        results = {
            "processor": processor_name(),
            "workers": 2,
            "repeats": repeats,
            "task": task_costs(client, repeats),
            "broadcast": broadcast_costs(client, repeats, weight_sweep),
            "round_by_chunk": [round_costs(client, n, "h16", repeats) for n in chunk_sweep],
            "round_by_weights": [round_costs(client, 1_000, k, repeats) for k in weight_sweep],
            "evaluation_by_chunk": [
                evaluation_costs(client, n, "h16", repeats) for n in chunk_sweep
            ],
            "evaluation_by_weights": [
                evaluation_costs(client, 1_000, k, repeats) for k in weight_sweep
            ],
        }
    print(f"{results['processor']}, 2 worker processes, medians of {repeats} runs")
    print(
        f"task round trip {results['task']['latency_s'] * 1e3:.2f} ms, "
        f"scheduler time per task {results['task']['per_task_s'] * 1e3:.3f} ms"
    )
    print_table("broadcast of the weights", results["broadcast"])
    print_table("averaging round against rows per chunk (32-16-1)", results["round_by_chunk"])
    print_table(
        "averaging round against weights (1000 rows per chunk)", results["round_by_weights"]
    )
    print_table(
        "L-BFGS evaluation against rows per chunk (32-16-1)", results["evaluation_by_chunk"]
    )
    print_table(
        "L-BFGS evaluation against weights (1000 rows per chunk)", results["evaluation_by_weights"]
    )
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
