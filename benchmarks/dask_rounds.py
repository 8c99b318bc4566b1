"""What a round of training on a Dask cluster costs beyond its computation.

A plain script (not part of the asv suite, which imports it but finds no
benchmark in it), run from the repository's root with the dask extra installed:

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
- ``round``: one round of parameter averaging (Adam, ``local_epochs=1``):
  ``step_s``, from one round's first training task starting to the next
  round's (the workers' clock, from the task stream); ``compute_s``, the
  slower worker's local epoch; ``overhead_s``, the rest (scheduling, the
  broadcast, the tree sum, the client's average); medians over
  ``4 x repeats`` rounds of one fit;
- ``evaluation``: one L-BFGS evaluation (``ClusterObjective``), measured
  the same way.

The figures depend on the machine and its load: report them with both.
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from numba_mlp._network import make_net
from numba_mlp.benchmark_cases import processor_name

# asv imports every module of benchmarks/ in environments with only the core
# dependencies: without the dask extra this module imports, and main() says why
# it cannot run
try:
    import dask.array as da
    from dask.utils import key_split
    from distributed import Client, LocalCluster, get_task_stream

    from numba_mlp.dask import ClusterObjective, MLPRegressor
except ImportError as error:
    MISSING_DASK = error
else:
    MISSING_DASK = None

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
    client.scatter(np.zeros(8), broadcast=True, hash=False)  # the first scatter opens connections
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


def per_step(tasks, name, n_chunks=2):
    """Seconds from one step's first ``name`` task to the next step's, and the
    longest computation of a step's tasks, one pair per step but the last
    (the steps do not overlap: each waits for the one before)."""
    computes = sorted(
        (part["start"], part["stop"])
        for task in tasks
        if key_split(task["key"]) == name
        for part in task["startstops"]
        if part["action"] == "compute"
    )
    steps = [computes[i : i + n_chunks] for i in range(0, len(computes), n_chunks)]
    return [
        (following[0][0] - step[0][0], max(stop - start for start, stop in step))
        for step, following in zip(steps, steps[1:])
    ]


def summary(rows_per_chunk, weights, steps):
    """Medians over the steps: wall time, the slower worker's computation, the rest."""
    return {
        "rows_per_chunk": rows_per_chunk,
        "weights": weights,
        "step_s": statistics.median(wall for wall, _ in steps),
        "compute_s": statistics.median(compute for _, compute in steps),
        "overhead_s": statistics.median(wall - compute for wall, compute in steps),
    }


def round_costs(client, rows_per_chunk, hidden_key, rounds):
    """One averaging round: its wall time on the workers' clock, the slower
    worker's local epoch, and the rest (scheduling, broadcast, tree sum)."""
    X, y = cluster_data(client, rows_per_chunk)
    params = dict(
        hidden_layer_sizes=HIDDEN[hidden_key], random_state=0, tol=0.0, n_iter_no_change=np.inf
    )
    MLPRegressor(max_iter=1, **params).fit(X, y)  # the workers load the kernels
    with get_task_stream(client) as tasks:
        MLPRegressor(max_iter=rounds + 1, **params).fit(X, y)
    steps = per_step(tasks.data, "train_locally")
    return summary(rows_per_chunk, n_weights(HIDDEN[hidden_key]), steps)


def evaluation_costs(client, rows_per_chunk, hidden_key, evaluations):
    """One L-BFGS evaluation, measured as a round (``round_costs``)."""
    X, y = cluster_data(client, rows_per_chunk)
    units = [N_FEATURES, *HIDDEN[hidden_key], 1]
    net = make_net(units, "relu", "identity")
    rng = np.random.default_rng(1)
    objective = ClusterObjective(client, X, y.reshape(-1, 1), None, net, "squared_error", 1e-4)
    objective(rng.normal(scale=0.1, size=n_weights(HIDDEN[hidden_key])))
    with get_task_stream(client) as tasks:
        for _ in range(evaluations + 1):
            objective(rng.normal(scale=0.1, size=n_weights(HIDDEN[hidden_key])))
    steps = per_step(tasks.data, "loss_and_gradient_sums_of")
    return summary(rows_per_chunk, n_weights(HIDDEN[hidden_key]), steps)


def modelled_overhead(n_workers, n_weights, task, broadcast_fixed_s, bandwidth):
    """The scaling model's overhead of a round (or an evaluation), in seconds.

    A round with one chunk per worker broadcasts the weights from the
    scheduler to every worker (``P x 8W`` bytes through one link), runs
    ``3P - 1`` tasks through the scheduler (P trainings, P contributions,
    P - 1 additions; an evaluation has 2P - 1) and waits for ``log2 P``
    levels of additions, each a task's round trip plus ``8W`` bytes moved
    between two workers.
    """
    weight_bytes = 8 * n_weights
    levels = int(np.ceil(np.log2(n_workers)))
    return (
        broadcast_fixed_s
        + n_workers * weight_bytes / bandwidth
        + (3 * n_workers - 1) * task["per_task_s"]
        + levels * (task["latency_s"] + weight_bytes / bandwidth)
    )


def model_table(results, bandwidth, per_task_s=None):
    """The model at 2 workers beside the measured rounds, and at 8, 64 and 512;
    with the measured scheduler time per task, or ``per_task_s``."""
    small = min(results["broadcast"], key=lambda row: row["weights"])
    fixed = small["broadcast_s"]
    task = dict(results["task"])
    if per_task_s is not None:
        task["per_task_s"] = per_task_s
    rows = []
    for measured in results["round_by_weights"]:
        row = {"weights": measured["weights"], "measured_2_s": measured["overhead_s"]}
        for n_workers in (2, 8, 64, 512):
            row[f"model_{n_workers}_s"] = modelled_overhead(
                n_workers, measured["weights"], task, fixed, bandwidth
            )
        rows.append(row)
    return rows


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
    parser.add_argument(
        "--bandwidth",
        type=float,
        default=1.25e9,
        help="bytes/s between machines for the model's larger clusters (default: 10 GbE)",
    )
    args = parser.parse_args()
    if MISSING_DASK is not None:
        parser.exit(
            1,
            f"dask_rounds.py needs the dask extra (pip install -e '.[dask]'): {MISSING_DASK}\n",
        )
    repeats = args.repeats or (3 if args.quick else 5)
    steps = 4 * repeats  # rounds or evaluations timed per shape
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
            "round_by_chunk": [round_costs(client, n, "h16", steps) for n in chunk_sweep],
            "round_by_weights": [round_costs(client, 1_000, k, steps) for k in weight_sweep],
            "evaluation_by_chunk": [evaluation_costs(client, n, "h16", steps) for n in chunk_sweep],
            "evaluation_by_weights": [
                evaluation_costs(client, 1_000, k, steps) for k in weight_sweep
            ],
        }
    print(f"{results['processor']}, 2 worker processes, medians of {repeats} runs or {steps} steps")
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
    results["model"] = model_table(results, args.bandwidth)
    print_table(
        f"round overhead: measured on 2 workers, modelled for 2 to 512 "
        f"({args.bandwidth / 1e9:g} GB/s between machines, the measured time per task)",
        results["model"],
    )
    # distributed's documentation: "Each task suffers about 1ms of overhead"
    results["model_1ms_per_task"] = model_table(results, args.bandwidth, per_task_s=1e-3)
    print_table("the same with 1 ms per task", results["model_1ms_per_task"])
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
