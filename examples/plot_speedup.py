"""
Speed-up over scikit-learn
==========================

Fit time per epoch of numba-mlp and scikit-learn on four shapes of data, from
small to medium, **measured while this page was built, on the machine that
built it**: other machines, and other loads on this one, give other numbers.
The dated reference measurements are on the :doc:`Performance </performance>`
page (``python -m numba_mlp bench``).

Both libraries fit the same data with the same parameters (Adam, batch 200,
float64, the same ``random_state``). As in ``bench``, the time per epoch is the
difference between a fit of ``1 + k`` epochs and a fit of one epoch, divided by
``k``, so that the cost every fit pays once (validation, label encoding) is left
out; the two libraries take turns, and each time is the median of a few runs.

Both libraries run their matrix products with one BLAS thread here: a machine
that builds documentation is often shared with other work, and there
multi-threaded BLAS calls can wait on each other for far longer than they
compute, which would chart the machine's load rather than the libraries. (The
performance table uses every core.) ``threadpoolctl`` sets the limit; it is
installed with scikit-learn.
"""

import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from threadpoolctl import threadpool_limits

import numba_mlp
from numba_mlp import MLPClassifier
from numba_mlp.benchmark_cases import processor_name

warnings.simplefilter("ignore", ConvergenceWarning)  # short fits on purpose

SHAPES = [  # (samples, features, hidden layers)
    (2_000, 20, (100,)),
    (20_000, 20, (100,)),
    (5_000, 100, (256, 128)),
    (2_000, 784, (256,)),
]
EXTRA_EPOCHS = 3  # k
REPEATS = 3
LIBRARIES = {"numba_mlp": MLPClassifier, "scikit-learn": SklearnMLPClassifier}


def fit_seconds(estimator_class, X, y, hidden, epochs):
    """Wall time of one fit of exactly ``epochs`` epochs."""
    model = estimator_class(
        hidden_layer_sizes=hidden,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


# compile (or load from Numba's cache) the kernels before anything is timed
MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(*make_classification(100, 5))

per_epoch = {name: [] for name in LIBRARIES}
with threadpool_limits(limits=1, user_api="blas"):
    for n_samples, n_features, hidden in SHAPES:
        X, y = make_classification(
            n_samples, n_features, n_informative=10, n_classes=2, random_state=0
        )
        times = {name: [] for name in LIBRARIES}
        for _ in range(REPEATS):
            for name, estimator_class in LIBRARIES.items():  # interleaved
                one = fit_seconds(estimator_class, X, y, hidden, 1)
                more = fit_seconds(estimator_class, X, y, hidden, 1 + EXTRA_EPOCHS)
                times[name].append((more - one) / EXTRA_EPOCHS)
        for name in LIBRARIES:
            per_epoch[name].append(float(np.median(times[name])))

labels = [f"{n:,} x {d}, {h}" for n, d, h in SHAPES]
speedups = np.divide(per_epoch["scikit-learn"], per_epoch["numba_mlp"])

machine = (
    f"{processor_name()}, {os.cpu_count()} cores, one BLAS thread; "
    f"numba-mlp {numba_mlp.__version__}, scikit-learn {sklearn.__version__}"
)
print(f"measured at build time on the build machine: {machine}")
print(f"{'shape':<28} {'numba_mlp':>10} {'sklearn':>10} {'speed-up':>9}")
for label, ours, theirs, speedup in zip(
    labels, per_epoch["numba_mlp"], per_epoch["scikit-learn"], speedups
):
    print(f"{label:<28} {ours * 1e3:>8.2f}ms {theirs * 1e3:>8.2f}ms {speedup:>8.2f}x")

# %%
# The chart
# ---------
# Left: milliseconds per epoch (log scale). Right: scikit-learn's time divided
# by numba-mlp's.

fig, (ax_time, ax_speedup) = plt.subplots(1, 2, figsize=(11, 4.2))
positions = np.arange(len(SHAPES))
height = 0.38
for offset, (name, color) in zip(
    (-height / 2, height / 2), (("numba_mlp", "C0"), ("scikit-learn", "C1"))
):
    ax_time.barh(
        positions + offset, np.multiply(per_epoch[name], 1e3), height, label=name, color=color
    )
ax_time.set_xscale("log")
ax_time.set_yticks(positions, labels)
ax_time.invert_yaxis()
ax_time.set_xlabel("fit time per epoch (ms, log scale)")
ax_time.legend(loc="upper right")

bars = ax_speedup.barh(positions, speedups, color="C2")
ax_speedup.bar_label(bars, labels=[f"{s:.1f}x" for s in speedups], padding=3)
ax_speedup.axvline(1.0, color="k", linewidth=0.8)
ax_speedup.set_yticks(positions, [])
ax_speedup.invert_yaxis()
ax_speedup.set_xlim(0, max(speedups) * 1.2)
ax_speedup.set_xlabel("speed-up (scikit-learn time / numba-mlp time)")
fig.suptitle("Measured at documentation build time, on the build machine\n" + machine, fontsize=10)
fig.tight_layout()
plt.show()
