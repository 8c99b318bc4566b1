"""Training drivers: Python runs once per epoch (or once per L-BFGS call).

``fit_stochastic`` follows scikit-learn's ``_fit_stochastic`` step for step
(same random draws for the early-stopping split and the shuffles, same
bookkeeping, same messages); the minibatch loop itself is one call of the
``train_epoch`` kernel. ``fit_lbfgs`` hands scipy's L-BFGS-B one fused
loss-and-gradient kernel.
"""

import signal
import threading
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from numba_mlp.kernels import loss_and_gradient, train_epoch
from numba_mlp.kernels.codes import LOSS_CODES

from ._network import make_data, make_net, make_work, pack, unpack
from ._optimizers import OptimizerState
from ._progress import EpochProgress

NON_FINITE_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def _raise_non_finite(what):
    """Stop training: a loss or weight became NaN or infinite."""
    raise ValueError(
        f"{NON_FINITE_MESSAGE} ({what}; scale the inputs, e.g. with "
        "StandardScaler, or lower learning_rate_init.)"
    )


class _Problem:
    """What every kernel call of one fit shares: data, targets, weights, network."""

    def __init__(self, estimator, X, y, sample_weight, layer_units, dtype, max_rows,
                 consecutive_rows=False):
        self.data = make_data(X, dtype)
        self.targets = np.ascontiguousarray(y, dtype=dtype)
        n_samples = X.shape[0]
        if sample_weight is None:
            sample_weight = np.ones(n_samples, dtype=dtype)
        self.sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        self.net = make_net(
            layer_units, estimator.activation, estimator.out_activation_
        )
        self.loss = LOSS_CODES[estimator.loss]
        self.alpha = float(estimator.alpha)
        self.eps = float(np.finfo(dtype).eps)
        sparse_input = self.data[4]
        self.work = make_work(
            layer_units, max_rows, dtype, gather=not (sparse_input or consecutive_rows)
        )


def fit_stochastic(est, X, y, sample_weight, layer_units, incremental, dtype):
    """Train with SGD or Adam, one kernel call per epoch; set fitted attributes."""
    params = pack(est.coefs_, est.intercepts_, dtype)
    # coefs_ become views of the buffer being trained: no second copy of the weights
    est.coefs_, est.intercepts_ = unpack(params, layer_units)
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = OptimizerState(est, params.shape[0], dtype)
    optimizer = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if early_stopping:
        # don't stratify in multilabel classification
        should_stratify = is_classifier(est) and est.n_outputs_ == 1
        stratify = y if should_stratify else None
        if sample_weight is None:
            X_train, X_val, y_train, y_val = train_test_split(
                X,
                y,
                random_state=est._random_state,
                test_size=est.validation_fraction,
                stratify=stratify,
            )
            sample_weight_train = sample_weight_val = None
        else:
            (X_train, X_val, y_train, y_val, sample_weight_train, sample_weight_val) = (
                train_test_split(
                    X,
                    y,
                    sample_weight,
                    random_state=est._random_state,
                    test_size=est.validation_fraction,
                    stratify=stratify,
                )
            )
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        if is_classifier(est):
            y_val = est._label_binarizer.inverse_transform(y_val)
    else:
        X_train, y_train, sample_weight_train = X, y, sample_weight
        X_val = y_val = sample_weight_val = None

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=np.int64)

    if est.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if est.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = int(np.clip(est.batch_size, 1, n_samples))

    problem = _Problem(
        est, X_train, y_train, sample_weight_train, layer_units, dtype, batch_size
    )
    grads = np.empty_like(params)
    progress = EpochProgress(est, incremental)  # verbose lines or a tqdm bar

    reached_max_iter = False
    try:
        est.n_iter_ = 0
        for it in range(est.max_iter):
            if est.shuffle:
                sample_idx = _shuffled(sample_idx, est._random_state)

            with _ctrl_c_held_back():
                accumulated_loss = train_epoch(
                    problem.data,
                    problem.net,
                    problem.loss,
                    problem.targets,
                    problem.sample_weight,
                    sample_idx,
                    batch_size,
                    problem.alpha,
                    problem.eps,
                    params,
                    grads,
                    problem.work,
                    optimizer.code,
                    (optimizer.first_moments, optimizer.second_moments),
                    optimizer.kernel_settings(),
                    optimizer.step,
                )
                if not early_stopping:
                    # without a best model to go back to, stop where it happens
                    if not np.isfinite(accumulated_loss):
                        _raise_non_finite(f"the training loss became {accumulated_loss} "
                                          f"during epoch {est.n_iter_ + 1}")
                    if not np.isfinite(params).all():
                        _raise_non_finite(
                            f"weights became non-finite during epoch {est.n_iter_ + 1}"
                        )

                est.n_iter_ += 1
                est.loss_ = accumulated_loss / n_samples

                est.t_ += n_samples
                est.loss_curve_.append(est.loss_)

                _update_no_improvement_count(
                    est, early_stopping, params, layer_units, X_val, y_val, sample_weight_val
                )
                progress.epoch_ends(est, early_stopping)

                optimizer.iteration_ends(est.t_)

            if est._no_improvement_count > est.n_iter_no_change:
                if early_stopping:
                    msg = (
                        "Validation score did not improve more than "
                        "tol=%f for %d consecutive epochs."
                        % (est.tol, est.n_iter_no_change)
                    )
                else:
                    msg = (
                        "Training loss did not improve more than tol=%f"
                        " for %d consecutive epochs." % (est.tol, est.n_iter_no_change)
                    )

                if optimizer.trigger_stopping(msg, est.verbose):
                    break
                est._no_improvement_count = 0

            if incremental:
                break

            reached_max_iter = est.n_iter_ == est.max_iter
    except KeyboardInterrupt:
        # Ctrl-C waits for the running epoch (see _ctrl_c_held_back), so the
        # weights are those of the last completed, counted epoch.
        warnings.warn("Training interrupted by user.")
    finally:
        progress.close()

    if early_stopping:
        # restore best weights (those of a diverged epoch are never the best:
        # its validation score is NaN)
        est.coefs_ = est._best_coefs
        est.intercepts_ = est._best_intercepts
        if not all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_):
            _raise_non_finite("no epoch gave finite weights")
    else:
        est.coefs_, est.intercepts_ = unpack(params, layer_units)

    # last, once the model is complete: a warnings filter may raise it
    if reached_max_iter:
        warnings.warn(
            "Stochastic Optimizer: Maximum iterations (%d) "
            "reached and the optimization hasn't converged yet." % est.max_iter,
            ConvergenceWarning,
        )


@contextmanager
def _ctrl_c_held_back():
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


def _shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=...)``: the same draws,
    without its input checks (which cost more than the shuffle itself)."""
    permutation = np.arange(sample_idx.shape[0])
    random_state.shuffle(permutation)
    return sample_idx[permutation]


def _update_no_improvement_count(est, early_stopping, params, layer_units, X, y, sample_weight):
    """Count epochs without progress; keep the best weights under early stopping."""
    if early_stopping:
        est.coefs_, est.intercepts_ = unpack(params, layer_units)
        # compute validation score (can be NaN), use that for stopping
        val_score = est._score(X, y, sample_weight=sample_weight)
        est.validation_scores_.append(val_score)

        last_valid_score = est.validation_scores_[-1]

        if last_valid_score < (est.best_validation_score_ + est.tol):
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0

        if last_valid_score > est.best_validation_score_:
            est.best_validation_score_ = last_valid_score
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


def loss_and_gradient_at(est, X, y, sample_weight, layer_units, dtype, packed):
    """The full-batch loss and its flat gradient at the parameters ``packed``."""
    n_samples = X.shape[0]
    for name, array, shape in (
        ("X", X, (n_samples, layer_units[0])),
        ("y", y, (n_samples, layer_units[-1])),
        ("sample_weight", sample_weight, (n_samples,)),
    ):
        if array is not None and np.shape(array) != shape:
            raise ValueError(
                f"{name} has shape {np.shape(array)}, expected {shape} for layer sizes "
                f"{list(layer_units)}."
            )
    problem = _Problem(
        est, X, y, sample_weight, layer_units, dtype, n_samples, consecutive_rows=True
    )
    params = np.array(packed, dtype=dtype)  # a copy: the caller's vector stays as it is
    if params.shape != (sum(a * b for a, b in zip(layer_units, layer_units[1:]))
                        + sum(layer_units[1:]),):
        raise ValueError(
            f"The packed parameters have shape {params.shape}; layer sizes "
            f"{list(layer_units)} need one vector of every weight and bias."
        )
    grads = np.empty_like(params)
    loss = loss_and_gradient(
        problem.data, problem.net, problem.loss, problem.targets, problem.sample_weight,
        np.arange(n_samples, dtype=np.int64), problem.alpha, problem.eps, params, grads,
        problem.work,
    )
    return loss, grads


def fit_lbfgs(est, X, y, sample_weight, layer_units, dtype):
    """Minimise the full-batch loss with scipy's L-BFGS-B; set fitted attributes."""
    n_samples = X.shape[0]
    # one batch of all samples, as scikit-learn's L-BFGS uses (and the same memory)
    problem = _Problem(
        est, X, y, sample_weight, layer_units, dtype, n_samples, consecutive_rows=True
    )
    rows = np.arange(n_samples, dtype=np.int64)
    params = np.empty(0, dtype=dtype)
    grads = None

    def loss_and_grad(packed):
        nonlocal params, grads
        params = np.ascontiguousarray(packed, dtype=dtype)
        if grads is None:
            grads = np.empty_like(params)
        loss = loss_and_gradient(
            problem.data,
            problem.net,
            problem.loss,
            problem.targets,
            problem.sample_weight,
            rows,
            problem.alpha,
            problem.eps,
            params,
            grads,
            problem.work,
        )
        return loss, grads.astype(np.float64)

    iprint = 1 if (est.verbose is True or est.verbose >= 1) else -1
    opt_res = scipy.optimize.minimize(
        loss_and_grad,
        pack(est.coefs_, est.intercepts_, np.float64),
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": est.max_fun,
            "maxiter": est.max_iter,
            "gtol": est.tol,
            **_get_additional_lbfgs_options_dict("iprint", iprint),
        },
    )
    est.n_iter_ = min(opt_res.nit, est.max_iter)
    est.loss_ = opt_res.fun
    final = np.asarray(opt_res.x, dtype=dtype)
    if not np.isfinite(est.loss_):
        _raise_non_finite(f"the training loss became {est.loss_}")
    if not np.isfinite(final).all():
        _raise_non_finite("L-BFGS produced non-finite weights")
    est.coefs_, est.intercepts_ = unpack(final, layer_units)
    # last, once the model is complete: its ConvergenceWarning may be raised
    # by a warnings filter
    _check_optimize_result("lbfgs", opt_res, est.max_iter)
