"""The kernel side of a fit: bundles built once per fit, one kernel call per
epoch (or per L-BFGS evaluation); a few for an epoch that times the two ways
of computing large products (``numba_mlp._threads``).

The fit loops are the estimator's own methods (``_fit_stochastic``,
``_fit_lbfgs`` in ``_multilayer_perceptron``), written as scikit-learn's;
they call what is here:

- ``EpochRunner``: every minibatch of an epoch in one ``train_epoch`` call
  (in parts when it times the two ways);
- ``FullBatchObjective``: the loss and flat gradient L-BFGS asks for, in one
  ``loss_and_gradient`` call;
- ``mean_loss``: the mean data loss on a validation set, in one
  ``mean_data_loss`` call;
- ``ctrl_c_held_back``, ``shuffled`` and ``raise_non_finite``: what those
  loops need around the kernels.
"""

import functools
import math
import signal
import threading
import time
from contextlib import contextmanager

import numpy as np

from numba_mlp.kernels import loss_and_gradient, mean_data_loss, train_epoch, train_examples

from ._network import CHUNK_ROWS, checked_params, make_data, make_work
from ._threads import current_choice

#: A timing of the two ways runs each for at least this long (or half an
#: epoch): long enough for the load of the machine to show (``_timed_epoch``).
TIMED_SECONDS = 0.05

NON_FINITE_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def batches_in(n_samples, batch_size):
    """Minibatches of ``batch_size`` it takes to visit ``n_samples`` samples."""
    return -(-n_samples // batch_size)


def raise_non_finite(what):
    """Stop training: a loss or weight became NaN or infinite."""
    raise ValueError(
        f"{NON_FINITE_MESSAGE} ({what}; scale the inputs, e.g. with "
        "StandardScaler, or lower learning_rate_init.)"
    )


class EpochRunner:
    """Runs epochs of minibatch training on one training set, in place on ``params``."""

    def __init__(self, X, problem, net, params, batch_size):
        dtype = params.dtype
        self.data = make_data(X, dtype)
        self.problem = problem
        self.net = net
        self.params = params
        self.grads = np.empty_like(params)
        self.batch_size = int(batch_size)
        # sparse rows are read in place; dense ones are gathered in visiting order
        self.work = make_work(net, self.batch_size, dtype, gather=not self.data.is_sparse)
        # online learning on dense data without dropout: the per-example loop
        self.per_example = (
            self.batch_size == 1 and not self.data.is_sparse and net.dropout_rates.shape[0] == 0
        )
        self.choice = current_choice()  # how the products run (numba_mlp._threads)

    def run_epoch(self, sample_idx, optimizer, dropout_seed=0):
        """Every minibatch of one epoch, visiting ``sample_idx`` in order, with
        dropout masks drawn from ``dropout_seed``; the summed batch losses
        (each batch's mean loss x its size)."""
        if self.per_example:
            return train_examples(
                self.data, self.net, self.problem, sample_idx, self.params, self.work,
                optimizer.bundle(),
            )  # fmt: skip
        choice = self.choice
        n_batches = batches_in(sample_idx.shape[0], self.batch_size)
        with choice.sharing() as can_share:
            if can_share and choice.timing_due and n_batches >= 2:
                return self._timed_epoch(sample_idx, optimizer, dropout_seed, n_batches)
            run = functools.partial(self._train, sample_idx, optimizer, dropout_seed)
            return choice.whole_step(can_share, run, n_batches)

    def _train(self, order, optimizer, seed, blocks, loss_so_far=0.0):
        """``train_epoch`` over the samples ``order``, its products in ``blocks``."""
        return train_epoch(
            self.data,
            self.net,
            self.problem,
            order,
            self.batch_size,
            self.params,
            self.grads,
            self.work._replace(blocks=blocks),
            optimizer.bundle(),
            seed,
            loss_so_far,
        )

    def _timed_epoch(self, sample_idx, optimizer, dropout_seed, n_batches):
        """The epoch in parts of whole batches, the two ways taking turns until
        each has run ``TIMED_SECONDS`` or half the epoch, then the rest the
        faster way (``numba_mlp._threads``): the same epoch, bit for bit.

        The first part runs in turn. If at that pace the epoch is too short
        to win back what sharing costs on a busy machine, sharing is not
        tried; else it is tried on one batch first, and the timing stops as
        soon as sharing is far slower. A
        fit's first timing starts with a batch in turn, untimed: it loads the
        kernels."""
        choice, batch = self.choice, self.batch_size
        part = max(1, n_batches // 16) * batch  # samples a part
        seconds, batches = {True: 0.0, False: 0.0}, {True: 0, False: 0}
        loss, seed, start, n_samples = 0.0, dropout_seed, 0, sample_idx.shape[0]

        def run(shared, size, timed=True):
            nonlocal loss, seed, start
            order = sample_idx[start : start + size]
            begin = time.perf_counter()
            loss = self._train(order, optimizer, seed, choice.way(shared), loss)
            if timed:
                seconds[shared] += time.perf_counter() - begin
                batches[shared] += batches_in(order.shape[0], batch)
            seed, start = -1, start + order.shape[0]

        if choice.timings == 0 and n_batches >= 4:
            run(False, batch, timed=False)
        while 2 * start < n_samples:
            for shared in choice.timing_order():
                if shared and not batches[True]:
                    epoch_in_turn = seconds[False] / batches[False] * n_batches
                    if not choice.worth_sharing(epoch_in_turn):
                        seconds[True], batches[True] = math.inf, 1  # not tried
                        break
                    run(True, batch)  # a first try of one batch: a busy core shows at once
                    continue
                run(shared, part)
            if min(seconds.values()) >= TIMED_SECONDS or choice.given_up(seconds, batches):
                break
        choice.record_timing({way: seconds[way] / max(batches[way], 1) for way in seconds})
        if start < n_samples:
            rest = choice.way(choice.shared)
            loss = self._train(sample_idx[start:], optimizer, seed, rest, loss)
        return loss


class FullBatchObjective:
    """The full-batch loss and its flat gradient at given parameters: the
    function L-BFGS minimises (all samples form one batch, as in scikit-learn)."""

    def __init__(self, X, problem, net, dtype):
        self.data = make_data(X, dtype)
        self.problem = problem
        self.net = net
        self.dtype = dtype
        n_samples = X.shape[0]
        self.rows = np.arange(n_samples, dtype=np.int64)
        # rows 0..n-1 are consecutive: X is read in place, nothing gathered
        self.work = make_work(net, n_samples, dtype, gather=False)
        self.choice = current_choice()  # how the products run (numba_mlp._threads)

    def __call__(self, packed):
        """``(loss, gradient)`` at ``packed``, the gradient in float64 for scipy."""
        params = checked_params(packed, self.net, self.dtype)
        grads = np.empty_like(params)

        def run(blocks):
            work = self.work._replace(blocks=blocks)
            return loss_and_gradient(
                self.data, self.net, self.problem, self.rows, params, grads, work
            )

        with self.choice.sharing() as can_share:
            loss = self.choice.whole_step(can_share, run)
        return loss, grads.astype(np.float64)


def mean_loss(X, problem, net, params):
    """Mean data loss (no L2 term) of the network ``params`` on ``X`` and the
    targets of ``problem``, computed at most ``CHUNK_ROWS`` samples at a time."""
    dtype = params.dtype
    max_rows = max(1, min(X.shape[0], CHUNK_ROWS))
    work = make_work(net, max_rows, dtype, gather=False, backward=False)
    return mean_data_loss(make_data(X, dtype), net, problem, params, work)


@contextmanager
def ctrl_c_held_back():
    """Hold Ctrl-C back until the block (an epoch and its bookkeeping) is done.

    An epoch kernel cannot be stopped half-way, and a KeyboardInterrupt raised
    as it returns would leave weights that ``n_iter_`` and ``loss_curve_`` do
    not count. So SIGINT is only recorded during the block and delivered, to
    whatever handler was there, right after it. Python delivers signals to
    the main thread only; elsewhere there is nothing to hold back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        signal.raise_signal(signal.SIGINT)


def shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=...)``: the same draws,
    without its input checks (which cost more than the shuffle itself)."""
    permutation = np.arange(sample_idx.shape[0])
    random_state.shuffle(permutation)
    return sample_idx[permutation]
