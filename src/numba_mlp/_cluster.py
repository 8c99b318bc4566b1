"""The cluster side of ``numba_mlp.dask``: chunks of rows kept on the workers,
what is computed on them, and the tree reductions that add the results up.

A ``Chunk`` is one block of rows of the training data, converted once for the
kernels and kept in a worker's memory for the whole fit (a future of
``persist_chunks`` holds it). Each L-BFGS evaluation and each round of
parameter averaging is one task per chunk, taking the chunk and the weights
broadcast to every worker; ``tree_sum`` adds the tasks' results pairwise on
the cluster, so the client receives one result of the size of the weight
vector, never the data.
"""

import copy
import math
from typing import NamedTuple

import dask
import numpy as np

from numba_mlp.kernels import loss_and_gradient_sums, predict_outputs
from numba_mlp.kernels.bundles import Net

from ._network import CHUNK_ROWS, checked_params, make_data, make_problem, make_work
from ._training import EpochRunner, shuffled


class Chunk:
    """One block of training rows on a worker, in the dtype the kernels run in.

    ``targets`` are 2-D (the binarised labels of a classifier, as floats);
    ``held_out`` is the block's share of the early-stopping validation set
    (a ``Chunk`` itself) or None.
    """

    def __init__(self, X, targets, sample_weight, held_out=None):
        self.X = X
        self.targets = targets
        self.sample_weight = sample_weight
        self.held_out = held_out

    @property
    def n_rows(self):
        return self.X.shape[0]


def make_chunk(X, targets, sample_weight, dtype, validation_fraction, seed):
    """A ``Chunk`` from one block of X, y and sample weights (runs on a worker).

    With ``validation_fraction`` > 0 a random part of the rows (drawn from
    ``seed``) is held out for early stopping, as ``train_test_split`` would:
    ``ceil(validation_fraction x rows)``, leaving at least one training row.
    """
    X = np.ascontiguousarray(X, dtype=dtype)
    n_rows = X.shape[0]
    targets = np.asarray(targets)
    if targets.shape[0] != n_rows:
        raise ValueError(
            f"A block of y has {targets.shape[0]} rows beside a block of X with {n_rows}: "
            "chunk X, y and sample_weight alike along the rows."
        )
    targets = np.ascontiguousarray(targets.reshape(n_rows, -1), dtype=dtype)
    if sample_weight is None:
        sample_weight = np.ones(n_rows, dtype=dtype)
    elif np.shape(sample_weight) != (n_rows,):
        raise ValueError(
            f"A block of sample_weight has shape {np.shape(sample_weight)} beside a block "
            f"of X with {n_rows} rows: chunk X, y and sample_weight alike along the rows."
        )
    sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    if validation_fraction <= 0 or n_rows < 2:
        return Chunk(X, targets, sample_weight)
    n_held_out = min(math.ceil(validation_fraction * n_rows), n_rows - 1)
    order = np.random.RandomState(seed).permutation(n_rows)
    held, kept = np.sort(order[:n_held_out]), np.sort(order[n_held_out:])
    return Chunk(
        X[kept],
        targets[kept],
        sample_weight[kept],
        held_out=Chunk(X[held], targets[held], sample_weight[held]),
    )


def persist_chunks(client, X, y, sample_weight, dtype, validation_fraction=0.0, seeds=None):
    """Futures of one ``Chunk`` per non-empty row block, built and kept on the workers.

    ``X`` (2-D, one block of columns), ``y`` and ``sample_weight`` (or None)
    are dask arrays with the same row chunks; their blocks are computed where
    the scheduler places them and turned into chunks there, never sent to the
    client. ``seeds[i]`` seeds the validation split of block ``i``.
    """
    x_blocks = X.to_delayed().ravel()
    y_blocks = y.to_delayed().ravel()
    if sample_weight is None:
        w_blocks = [None] * len(x_blocks)
    else:
        w_blocks = sample_weight.to_delayed().ravel()
    build = dask.delayed(make_chunk, pure=True)
    parts = [
        build(x, t, w, dtype, validation_fraction, None if seeds is None else seeds[i])
        for i, (x, t, w) in enumerate(zip(x_blocks, y_blocks, w_blocks))
        if X.chunks[0][i] > 0
    ]
    return client.compute(parts)


def tree_sum(client, futures, add):
    """Add ``futures`` pairwise on the cluster, in a fixed order; one future.

    Each level halves the number of results: log2(n) levels for n chunks,
    every addition running where one of its two inputs already is.
    """
    futures = list(futures)
    while len(futures) > 1:
        paired = [client.submit(add, a, b, pure=False) for a, b in zip(futures[::2], futures[1::2])]
        if len(futures) % 2:
            paired.append(futures[-1])
        futures = paired
    return futures[0]


def add_sums(a, b):
    """Element-wise sum of two equal-length tuples of numbers or arrays."""
    return tuple(x + y for x, y in zip(a, b))


def chunk_totals(chunk):
    """``(training rows, their weight sum, held-out rows)`` of a chunk."""
    held_out = 0 if chunk.held_out is None else chunk.held_out.n_rows
    return chunk.n_rows, float(np.sum(chunk.sample_weight, dtype=np.float64)), held_out


def check_chunk_fits(chunk, net):
    """Raise ValueError unless the chunk's columns match the network's layers."""
    units = net.layer_units
    if chunk.X.shape[1] != units[0] or chunk.targets.shape[1] != units[-1]:
        raise ValueError(
            f"A chunk has {chunk.X.shape[1]} features and {chunk.targets.shape[1]} "
            f"targets; layer sizes {list(units)} need {units[0]} and {units[-1]}."
        )


class LossSpec(NamedTuple):
    """The estimator's loss and its settings, as a chunk needs them."""

    name: str
    huber_delta: float
    quantile: float

    @classmethod
    def of(cls, estimator):
        return cls(
            estimator.loss,
            float(getattr(estimator, "huber_delta", 1.0)),
            float(getattr(estimator, "quantile", 0.5)),
        )

    def problem(self, targets, sample_weight, alpha, dtype):
        """The kernels' ``Problem`` for these targets and weights."""
        return make_problem(
            targets,
            sample_weight,
            self.name,
            alpha,
            dtype,
            huber_delta=self.huber_delta,
            quantile=self.quantile,
        )


def loss_and_gradient_sums_of(chunk, packed, net: Net, loss: LossSpec):
    """``(weighted loss sum, weighted gradient sum)`` of a chunk at ``packed``:
    the unfinished sums, the gradient in float64 (runs on a worker)."""
    check_chunk_fits(chunk, net)
    dtype = chunk.X.dtype
    params = checked_params(packed, net, dtype, what="broadcast")
    grads = np.empty_like(params)
    # the sums leave the L2 penalty out: alpha is applied once, when they are finished
    problem = loss.problem(chunk.targets, chunk.sample_weight, 0.0, dtype)
    loss_sum = loss_and_gradient_sums(
        make_data(chunk.X, dtype),
        net,
        problem,
        np.arange(chunk.n_rows, dtype=np.int64),
        params,
        grads,
        make_work(net, chunk.n_rows, dtype, gather=False),
    )
    return float(loss_sum), grads.astype(np.float64)


class RoundPlan(NamedTuple):
    """What a chunk needs for one round of local training."""

    net: Net
    loss: LossSpec
    alpha: float
    batch_size: int | None  #: None: min(200, the chunk's rows), as 'auto'
    local_epochs: int
    shuffle: bool
    seed: int  #: seeds this chunk's shuffles in this round
    learning_rate: float


class LocalState(NamedTuple):
    """A chunk after a round: its weights, its optimiser, and what it trained on."""

    params: np.ndarray
    optimizer: object  #: the chunk's own ``OptimizerState`` (moments and step count)
    loss_sum: float  #: summed batch losses (each batch's mean loss x its size)
    n_samples: int  #: training rows x local epochs


def train_locally(chunk, packed, previous, plan: RoundPlan):
    """``local_epochs`` epochs of minibatch training on a chunk from ``packed``.

    ``previous`` is the chunk's ``LocalState`` from the round before, or, in
    the first round, the estimator's fresh ``OptimizerState``: the chunk goes
    on with its own optimiser moments and step count, from the averaged
    weights. Neither input is modified (a task may be run again).

    A chunk whose sample weights sum to zero has nothing to learn from (each
    of its batches would divide by a zero weight): it trains no rows and so
    counts nothing in the average.
    """
    check_chunk_fits(chunk, plan.net)
    dtype = chunk.X.dtype
    params = checked_params(packed, plan.net, dtype, what="broadcast")
    previous_optimizer = previous.optimizer if isinstance(previous, LocalState) else previous
    if np.sum(chunk.sample_weight, dtype=np.float64) == 0:
        return LocalState(params, previous_optimizer, 0.0, 0)
    optimizer = copy.deepcopy(previous_optimizer)
    optimizer.learning_rate = plan.learning_rate
    batch_size = min(200 if plan.batch_size is None else plan.batch_size, chunk.n_rows)
    problem = plan.loss.problem(chunk.targets, chunk.sample_weight, plan.alpha, dtype)
    epochs = EpochRunner(chunk.X, problem, plan.net, params, batch_size)
    random_state = np.random.RandomState(plan.seed)
    order = np.arange(chunk.n_rows, dtype=np.int64)
    loss_sum = 0.0
    for _ in range(plan.local_epochs):
        if plan.shuffle:
            order = shuffled(order, random_state)
        loss_sum += epochs.run_epoch(order, optimizer)
    return LocalState(params, optimizer, float(loss_sum), chunk.n_rows * plan.local_epochs)


def contribution_of(state):
    """``(sample-weighted sum of weights, loss sum, samples)`` of a chunk's
    ``LocalState``: what the average needs, without the optimiser moments
    (which stay on the chunk's worker)."""
    return (state.params.astype(np.float64) * state.n_samples, state.loss_sum, state.n_samples)


def held_out_sums(chunk, packed, net: Net, is_classifier):
    """The validation score's sums over a chunk's held-out rows (runs on a worker).

    Classifier: ``(weight of correctly predicted rows, total weight)``, the
    predicted class being the most probable (one output: probability > 0.5).
    Regressor, per output: ``(sum w, sum w y, sum w y^2, sum w (y - p)^2)``,
    from which the coefficient of determination follows. Non-finite
    predictions give NaN sums, so the score is NaN as in one process.
    """
    held_out = chunk.held_out
    if held_out is None or held_out.n_rows == 0:
        return None
    check_chunk_fits(held_out, net)
    dtype = held_out.X.dtype
    params = checked_params(packed, net, dtype, what="broadcast")
    max_rows = max(1, min(held_out.n_rows, CHUNK_ROWS))
    outputs = np.empty(held_out.targets.shape, dtype=dtype)
    predict_outputs(
        make_data(held_out.X, dtype),
        net,
        params,
        make_work(net, max_rows, dtype, gather=False, backward=False),
        outputs,
    )
    weight = held_out.sample_weight.astype(np.float64)
    if not np.isfinite(outputs).all():
        return (np.nan, np.nan) if is_classifier else (np.nan,) * 4
    truth = held_out.targets
    if is_classifier:
        if outputs.shape[1] == 1:
            correct = (outputs[:, 0] > 0.5) == (truth[:, 0] > 0.5)
        else:
            correct = outputs.argmax(axis=1) == truth.argmax(axis=1)
        return float(weight @ correct), float(weight.sum())
    truth = truth.astype(np.float64)
    residual = truth - outputs
    return (
        np.full(truth.shape[1], weight.sum()),
        weight @ truth,
        weight @ truth**2,
        weight @ residual**2,
    )


def score_from_sums(sums, is_classifier):
    """Accuracy, or the mean over outputs of R^2, from the added ``held_out_sums``
    (scikit-learn's ``r2_score``: a constant target scores 1 if predicted
    exactly, else 0)."""
    if is_classifier:
        correct, total = sums
        return correct / total
    weight, weighted_y, weighted_y2, squared_residuals = (np.asarray(s) for s in sums)
    if not np.isfinite(squared_residuals).all():
        return np.nan
    total_squares = weighted_y2 - weighted_y**2 / weight
    scores = np.where(squared_residuals == 0, 1.0, 0.0)
    varying = total_squares != 0
    scores[varying] = 1 - squared_residuals[varying] / total_squares[varying]
    return float(np.mean(scores))
