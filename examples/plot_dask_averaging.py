"""
Parameter averaging on a Dask cluster
=====================================

``numba_mlp.dask.MLPClassifier`` trains Adam on a dask array by synchronous
rounds: every chunk of rows trains ``local_epochs`` epochs from the current
weights, with its own optimiser state, and the next round starts from the
average of the chunks' weights (weighted by their rows). This example draws
the training loss of such fits against rounds, beside one-process training
against epochs, on the digits data split into four chunks.

One round with ``local_epochs=1`` passes over the data once, as an epoch
does, but its minibatch steps run side by side: each chunk takes a quarter of
an epoch's steps from the same weights, and the average of the four results
moves the weights about as far as one chunk's steps would. So a round of
``local_epochs=4`` makes about the progress of one epoch in one process (left
panel), while per pass over the data averaging needs about four times as many
passes, whatever ``local_epochs`` is (right panel). More local epochs save
rounds, and with them the rounds' overhead, not computation. See
:doc:`/dask` for what averaging converges to.

The cluster here is a ``LocalCluster`` of two workers run as threads of this
process (the kernels release the GIL), so that the example runs inside the
documentation build; on a real cluster the workers are processes on other
machines and the code is the same. Threads share the process's BLAS, so the
example limits it to one thread per call (``threadpoolctl``): otherwise each
worker's matrix products would start threads that compete with the other
worker's for the same cores. Worker processes started by dask's nanny get
one BLAS thread each by default.
"""

import warnings

import dask.array as da
import matplotlib.pyplot as plt
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import numba_mlp
from numba_mlp.dask import MLPClassifier

warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

ROUNDS = 40
params = dict(hidden_layer_sizes=(64,), random_state=0, tol=0.0, n_iter_no_change=ROUNDS)

# %%
# One process: one loss per epoch.
one_process = numba_mlp.MLPClassifier(max_iter=ROUNDS, **params).fit(X_train, y_train)

# %%
# Four chunks of rows on the cluster: one loss per round.
with (
    threadpool_limits(limits=1),
    LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster,
    Client(cluster),
):
    rows_per_chunk = -(-X_train.shape[0] // 4)
    dX = da.from_array(X_train, chunks=(rows_per_chunk, -1))
    dy = da.from_array(y_train, chunks=rows_per_chunk)
    averaged = {
        local_epochs: MLPClassifier(max_iter=ROUNDS, local_epochs=local_epochs, **params).fit(
            dX, dy
        )
        for local_epochs in (1, 4)
    }

# %%
# The losses, and the accuracy on the held-out test rows.
fig, (by_step, by_pass) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
by_step.plot(one_process.loss_curve_, label="one process (x: epochs)", color="black")
by_pass.plot(one_process.loss_curve_, label="one process", color="black")
for (local_epochs, model), color in zip(averaged.items(), ["tab:blue", "tab:orange"]):
    label = f"4 chunks, local_epochs={local_epochs}"
    by_step.plot(model.loss_curve_, label=label + " (x: rounds)", color=color)
    # a round's loss is the mean over its local epochs: drawn at their middle
    passes = [local_epochs * r + (local_epochs - 1) / 2 for r in range(model.n_iter_)]
    by_pass.plot(passes, model.loss_curve_, label=label, color=color)
by_step.set(xlabel="epoch or round", ylabel="training loss", yscale="log", title="per step")
by_pass.set(xlabel="passes over the training data", xlim=(0, ROUNDS), title="per pass")
for axis in (by_step, by_pass):
    axis.legend()
fig.tight_layout()

print(f"one process, {ROUNDS} epochs: test accuracy {one_process.score(X_test, y_test):.3f}")
for local_epochs, model in averaged.items():
    print(
        f"4 chunks, {ROUNDS} rounds of local_epochs={local_epochs}: "
        f"test accuracy {model.score(X_test, y_test):.3f}"
    )
