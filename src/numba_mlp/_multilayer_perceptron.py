"""MLPClassifier and MLPRegressor: scikit-learn's face on the Numba kernels.

This module does what scikit-learn's ``_multilayer_perceptron`` does around
its matrix products, written as scikit-learn writes it so that the two can be
read side by side: parameter and input validation, label encoding, weight
initialisation (drawing the same random numbers in the same order), the fit
loops (``_fit_stochastic``, ``_fit_lbfgs``, ``_update_no_improvement_count``)
and the fitted attributes. Where scikit-learn loops over minibatches, these
loops call one compiled kernel per epoch (``_training``).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Self

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from numba_mlp.kernels import predict_dense, predict_outputs
from numba_mlp.kernels.bundles import WHOLE
from numba_mlp.kernels.codes import ACTIVATION_CODES

from ._callbacks import CALLBACK_ATTRIBUTES, CallbackSupportMixin, FitTasks
from ._network import (
    CHUNK_ROWS,
    kernel_dtype,
    kernel_weights,
    make_data,
    make_net,
    make_problem,
    make_work,
    pack,
    read_only,
    share_weights,
    still_views_of,
    unpack,
)
from ._optimizers import OptimizerState
from ._progress import EpochProgress
from ._threads import WHOLE_PRODUCTS, blas_threads_for, prediction_blocks
from ._training import (
    EpochRunner,
    FullBatchObjective,
    ctrl_c_held_back,
    mean_loss,
    raise_non_finite,
    shuffled,
)
from ._validation import (
    HIDDEN_ACTIVATIONS,
    check_class_weight,
    check_dropout,
    check_fitted_shapes,
    check_fitted_weights,
    check_hidden_layer_sizes,
    check_initial_weights,
    check_output_activation,
    check_poisson_targets,
    check_scoring_fits,
    check_sparse_input,
)

_STOCHASTIC_SOLVERS = ["sgd", "adam"]
# numpy's dtypes of the built-in types are singletons: ``is`` compares them
# several times faster than ``==`` with a type, which counts in a one-row predict
_FLOAT64 = np.dtype(np.float64)
_FLOAT32 = np.dtype(np.float32)
_NO_CLASS_INDICES = np.empty(0, dtype=np.int64)  # the kernel writes none into it


#: The fitted lists fit appends to (a failed fit cuts them back to their
#: length), and the one object it changes in place (the thread choice's
#: timings: a failed fit puts back a copy). Fit rebinds every other attribute
#: it sets (``_optimizer`` included: training goes on with a copy of it,
#: ``OptimizerState.continued``).
_APPENDED_TO = ("loss_curve_", "validation_scores_")
_CHANGED_IN_PLACE = ("_thread_choice",)


@contextmanager
def _unchanged_on_error(estimator):
    """Put the estimator's fitted state back as it was if fitting raises.

    A failed ``fit`` must not leave a half-trained model that looks fitted,
    nor damage a model fitted earlier (warm_start, partial_fit). The very
    objects are put back, the lists fit appends to cut back to their length
    and only what it changes in place (``_CHANGED_IN_PLACE``) copied, so that
    any other attribute (a lock, a file, a module set by the user) is neither
    copied nor replaced, and constructor parameters stay the objects the
    caller passed (a shared RandomState goes on with its sequence, as in
    scikit-learn). A ConvergenceWarning turned into an error by a warnings
    filter is raised once training is complete, so the model it leaves is
    kept, as scikit-learn keeps its own.
    """
    saved = {
        name: value for name, value in estimator.__dict__.items() if name not in CALLBACK_ATTRIBUTES
    }
    lengths = {name: len(saved[name]) for name in _APPENDED_TO if type(saved.get(name)) is list}
    copies = {name: copy.deepcopy(saved[name]) for name in _CHANGED_IN_PLACE if name in saved}
    try:
        yield
    except ConvergenceWarning:
        raise
    except BaseException:
        callbacks = {
            name: value for name, value in estimator.__dict__.items() if name in CALLBACK_ATTRIBUTES
        }
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        estimator.__dict__.update(copies)
        estimator.__dict__.update(callbacks)
        for name, length in lengths.items():
            del saved[name][length:]
        raise


def _fit_method(fit_method):
    """A fit method run in scikit-learn's ``_fit_context`` (parameter checks,
    the callbacks' setup and teardown), all of it inside
    ``_unchanged_on_error``: a check, a kernel or a callback hook (teardown
    included) that raises leaves the estimator as it was."""
    in_context = _fit_context(prefer_skip_nested_validation=True)(fit_method)

    @functools.wraps(fit_method)
    def rolled_back(estimator, *args, **kwargs):
        with _unchanged_on_error(estimator):
            return in_context(estimator, *args, **kwargs)

    return rolled_back


def _times_class_weights(sample_weight, sample_class_weights, dtype):
    """Each sample's weight (1 if None) times the weight of its class."""
    if sample_weight is None:
        return sample_class_weights.astype(dtype)
    return (sample_weight * sample_class_weights).astype(dtype, copy=False)


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator):
    """Shared logic of MLPClassifier and MLPRegressor (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "out_activation": [None, StrOptions({"identity", "logistic", "softmax", "exp"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "scoring": [str, callable, None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
    }

    def _default_output_activation(self):
        """scikit-learn's choice of output activation for this task."""
        if not is_classifier(self):
            return "exp" if self.loss == "poisson" else "identity"
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _initialize(self, y, layer_units, dtype, draw_weights):
        """Set the attributes of a new network; draw its weights if asked."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self.out_activation or self._default_output_activation()

        self.coefs_ = []
        self.intercepts_ = []
        if draw_weights:
            for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
                coef_init, intercept_init = self._init_coef(fan_in, fan_out, dtype)
                self.coefs_.append(coef_init)
                self.intercepts_.append(intercept_init)

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        """Glorot-uniform weights and biases, drawn as scikit-learn draws them."""
        factor = 6.0
        if self.activation == "logistic":
            factor = 2.0
        init_bound = np.sqrt(factor / (fan_in + fan_out))
        coef_init = self._random_state.uniform(-init_bound, init_bound, (fan_in, fan_out))
        intercept_init = self._random_state.uniform(-init_bound, init_bound, fan_out)
        return coef_init.astype(dtype, copy=False), intercept_init.astype(dtype, copy=False)

    def _fit(
        self,
        X,
        y,
        sample_weight=None,
        incremental=False,
        coefs_init=None,
        intercepts_init=None,
        validation=(None, None, None),
    ):
        """Validate, initialise or continue, train (callers are wrapped in
        ``_fit_method``). ``validation`` is ``fit``'s
        ``(X_val, y_val, sample_weight_val)``."""
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        tasks_data = (X, y, sample_weight)  # as given: what callbacks are handed

        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        X = check_sparse_input(X)
        if not is_classifier(self) and self.loss == "poisson":
            check_poisson_targets(y)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = self._validate_sample_weight(sample_weight, X)

        if y.ndim == 1:
            y = y.reshape((-1, 1))

        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        class_weights = self._class_weights(y, incremental)
        if class_weights is not None:
            sample_weight = _times_class_weights(
                sample_weight, self._weight_of_each_sample(y, class_weights), X.dtype
            )
        validation = self._check_validation_set(*validation, class_weights=class_weights)
        dropout_rates = check_dropout(self.dropout, len(hidden_layer_sizes), self.solver)
        if self.early_stopping and self.scoring not in (None, "loss"):
            # an unknown name, or one this estimator cannot answer, fails here, not later
            check_scoring_fits(self, check_scoring(self, scoring=self.scoring), self.scoring)

        self._random_state = check_random_state(self.random_state)

        coefs_init, intercepts_init = check_initial_weights(
            coefs_init, intercepts_init, layer_units, X.dtype
        )
        if first_pass:
            draw = coefs_init is None or intercepts_init is None
            self._initialize(y, layer_units, X.dtype, draw_weights=draw)
        if coefs_init is not None:
            self.coefs_ = coefs_init
        if intercepts_init is not None:
            self.intercepts_ = intercepts_init
        check_output_activation(self, self.n_outputs_, classifier=is_classifier(self))
        check_fitted_shapes(self, layer_units)
        self._layer_units = layer_units
        if not first_pass:
            # a later batch is converted to the dtype the model was fitted in
            X = X.astype(kernel_dtype(self.coefs_[0].dtype), copy=False)

        if first_pass and self.early_stopping:
            self._best_coefs = [c.copy() for c in self.coefs_]
            self._best_intercepts = [i.copy() for i in self.intercepts_]
        tasks = FitTasks(self, 1 if incremental else self.max_iter, *tasks_data)
        tasks.begin()
        # partial_fit goes on with what earlier calls timed (numba_mlp._threads)
        earlier = self.__dict__.get("_thread_choice") if incremental else None
        with blas_threads_for(layer_units, self._batch_rows(n_samples), earlier) as choice:
            self._thread_choice = choice
            if self.solver in _STOCHASTIC_SOLVERS:
                self._fit_stochastic(
                    X, y, sample_weight, layer_units, incremental, validation, dropout_rates, tasks
                )
            elif self.solver == "lbfgs":
                self._fit_lbfgs(X, y, sample_weight, layer_units, tasks)
        self._share_fitted_weights()
        return self

    def _batch_rows(self, n_samples):
        """Samples per minibatch (all of them for L-BFGS)."""
        if self.solver == "lbfgs":
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(int(self.batch_size), n_samples)

    def _fitted_state(self, coefs=None, intercepts=None):
        """What makes a copy of this estimator a fitted one, as it stands now
        (or with the given weights): handed to callbacks."""
        coefs = self.coefs_ if coefs is None else coefs
        intercepts = self.intercepts_ if intercepts is None else intercepts
        return {
            "coefs_": [c.copy() for c in coefs],
            "intercepts_": [b.copy() for b in intercepts],
        }

    def _net(self, layer_units, dropout_rates=0.0):
        """The ``Net`` bundle of this network (dropping nodes only when
        training is given ``dropout_rates``)."""
        return make_net(layer_units, self.activation, self.out_activation_, dropout_rates)

    def _problem(self, y, sample_weight, dtype):
        """The ``Problem`` bundle: what this network learns from ``y``."""
        return make_problem(
            y,
            sample_weight,
            self.loss,
            self.alpha,
            dtype,
            huber_delta=getattr(self, "huber_delta", 1.0),
            quantile=getattr(self, "quantile", 0.5),
        )

    def _class_weights(self, y, incremental):
        """The weight of each class of ``classes_``, or None (regressors, and
        classifiers without ``class_weight``)."""
        return None

    def _check_validation_set(self, X_val, y_val, sample_weight_val, class_weights=None):
        """``fit``'s validation set, checked and converted, or None if none was given."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val is given without a validation set: pass X_val "
                    "and y_val too, or leave sample_weight_val out."
                )
            return None
        if y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        if not self.early_stopping or self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "X_val and y_val are passed to fit, but only early stopping uses a "
                f"validation set, and early_stopping={self.early_stopping!r} with "
                f"solver={self.solver!r}. Set early_stopping=True with solver='sgd' "
                "or 'adam', or leave X_val and y_val out."
            )
        X_val = check_sparse_input(
            validate_data(
                self,
                X_val,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        )
        y_val = self._check_validation_targets(y_val)
        check_consistent_length(X_val, y_val)
        if X_val.shape[0] < 2:
            raise ValueError(
                f"The validation set has {X_val.shape[0]} sample; early stopping needs at least 2."
            )
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(sample_weight_val, X_val)
        if class_weights is not None:
            sample_weight_val = _times_class_weights(
                sample_weight_val,
                class_weights[np.searchsorted(self.classes_, y_val)],
                X_val.dtype,
            )
        return X_val, y_val, sample_weight_val

    def _validation_score(self, X, y, sample_weight):
        """What early stopping watches on the validation set (``scoring``)."""
        if self.scoring is None:
            return self._score(X, y, sample_weight=sample_weight)
        if self.scoring == "loss":
            targets = self._encoded_targets(y)
            params = pack(self.coefs_, self.intercepts_, kernel_dtype(self.coefs_[0].dtype))
            problem = self._problem(targets, sample_weight, params.dtype)
            net = self._net(self._layer_units)
            return -float(mean_loss(X, problem, net, params))
        scorer = check_scoring(self, scoring=self.scoring)
        # a plain callable scorer(estimator, X, y) may take no sample_weight
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        with warnings.catch_warnings():
            # X is the validated array: feature names were checked once, in fit
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return scorer(self, X, y, **weights)

    def _encoded_targets(self, y):
        """Targets as the network's outputs see them."""
        return y

    def _validate_sample_weight(self, sample_weight, X):
        """``sample_weight`` checked against ``X`` (a hook: numba_mlp.dask keeps
        dask arrays lazy)."""
        return _check_sample_weight(sample_weight, X)

    def _lbfgs_objective(self, X, y, sample_weight, layer_units):
        """The function L-BFGS minimises: ``(loss, gradient)`` at packed
        parameters (a hook: numba_mlp.dask sums it over a cluster)."""
        return FullBatchObjective(
            X, self._problem(y, sample_weight, X.dtype), self._net(layer_units), X.dtype
        )

    def _fit_lbfgs(self, X, y, sample_weight, layer_units, tasks=None):
        # Run LBFGS
        objective = self._lbfgs_objective(X, y, sample_weight, layer_units)
        packed_coef_inter = pack(self.coefs_, self.intercepts_, np.float64)

        if self.verbose is True or self.verbose >= 1:
            iprint = 1
        else:
            iprint = -1

        stopped_by_callback = []

        def iteration_ends(intermediate_result):
            """One L-BFGS iteration is one task for scikit-learn's callbacks."""
            tasks.step_begins("iteration")
            state = unpack(np.asarray(intermediate_result.x, dtype=X.dtype), layer_units)
            if tasks.step_ends(lambda: self._fitted_state(*state)):
                stopped_by_callback.append(True)
                raise StopIteration

        opt_res = scipy.optimize.minimize(
            objective,
            packed_coef_inter,
            method="L-BFGS-B",
            jac=True,
            callback=iteration_ends if tasks is not None and tasks.active else None,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        self.n_iter_ = min(opt_res.nit, self.max_iter)
        self.loss_ = opt_res.fun
        final = np.asarray(opt_res.x, dtype=X.dtype)
        if not np.isfinite(self.loss_):
            raise_non_finite(f"the training loss became {self.loss_}")
        if not np.isfinite(final).all():
            raise_non_finite("L-BFGS produced non-finite weights")
        self.coefs_, self.intercepts_ = unpack(final, layer_units)
        if tasks is not None:
            tasks.end(self._fitted_state)
        # last, once the model is complete: a warnings filter may raise it
        if not stopped_by_callback:
            _check_optimize_result("lbfgs", opt_res, self.max_iter)

    def _fit_stochastic(
        self,
        X,
        y,
        sample_weight,
        layer_units,
        incremental,
        validation=None,
        dropout_rates=None,
        tasks=None,
    ):
        params = pack(self.coefs_, self.intercepts_, X.dtype)
        # coefs_ become views of the buffer the kernels train: no second copy
        self.coefs_, self.intercepts_ = unpack(params, layer_units)
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = OptimizerState(self, params.shape[0], X.dtype)
        else:
            self._optimizer = self._optimizer.continued()

        # early_stopping in partial_fit doesn't make sense
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping and validation is not None:
            # a validation set given to fit: no split, all of X is trained on
            X_train, y_train, sample_weight_train = X, y, sample_weight
            X_val, y_val, sample_weight_val = validation
        elif early_stopping:
            # don't stratify in multilabel classification
            should_stratify = is_classifier(self) and self.n_outputs_ == 1
            stratify = y if should_stratify else None
            if sample_weight is None:
                X_train, X_val, y_train, y_val = train_test_split(
                    X,
                    y,
                    random_state=self._random_state,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                )
                sample_weight_train = sample_weight_val = None
            else:
                (
                    X_train,
                    X_val,
                    y_train,
                    y_val,
                    sample_weight_train,
                    sample_weight_val,
                ) = train_test_split(
                    X,
                    y,
                    sample_weight,
                    random_state=self._random_state,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )

            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(y_val)
        else:
            X_train, y_train, sample_weight_train = X, y, sample_weight
            X_val = y_val = sample_weight_val = None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.int64)

        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = np.clip(self.batch_size, 1, n_samples)

        dropping = dropout_rates is not None and dropout_rates.any()
        epochs = EpochRunner(
            X_train,
            self._problem(y_train, sample_weight_train, X.dtype),
            self._net(layer_units, dropout_rates if dropping else 0.0),
            params,
            batch_size,
        )
        progress = EpochProgress(self, incremental)  # verbose lines or a tqdm bar
        if tasks is None:
            tasks = FitTasks(self, 1, X, y, sample_weight)
        reached_max_iter = False
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffled(sample_idx, self._random_state)

                # drawn only with dropout: without, the draws are scikit-learn's
                dropout_seed = self._random_state.randint(2**31 - 1) if dropping else 0
                tasks.step_begins("epoch")

                with ctrl_c_held_back():  # an epoch is counted whole or not at all
                    accumulated_loss = epochs.run_epoch(sample_idx, self._optimizer, dropout_seed)
                    if not early_stopping:
                        # without a best model to go back to, stop where it happens
                        if not np.isfinite(accumulated_loss):
                            raise_non_finite(
                                f"the training loss became {accumulated_loss} "
                                f"during epoch {self.n_iter_ + 1}"
                            )
                        if not np.isfinite(params).all():
                            raise_non_finite(
                                f"weights became non-finite during epoch {self.n_iter_ + 1}"
                            )

                    self.n_iter_ += 1
                    self.loss_ = accumulated_loss / X_train.shape[0]

                    self.t_ += n_samples
                    self.loss_curve_.append(self.loss_)
                    # update no_improvement_count based on training loss or
                    # validation score according to early_stopping
                    self._update_no_improvement_count(
                        early_stopping, X_val, y_val, sample_weight_val
                    )
                    progress.epoch_ends(self, early_stopping)

                    # for learning rate that needs to be updated at iteration end
                    self._optimizer.iteration_ends(self.t_)
                    stop_asked = tasks.step_ends(self._fitted_state)

                if stop_asked:
                    break  # a callback asked to stop after this (counted) epoch

                if self._no_improvement_count > self.n_iter_no_change:
                    # not better than last `n_iter_no_change` iterations by tol
                    # stop or decrease learning rate
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )

                    is_stopping = self._optimizer.trigger_stopping(
                        msg, self.verbose, say=progress.say
                    )
                    if is_stopping:
                        break
                    else:
                        self._no_improvement_count = 0

                if incremental:
                    break

                reached_max_iter = self.n_iter_ == self.max_iter
        except KeyboardInterrupt:
            progress.close()  # the warning goes below the bar, not into it
            warnings.warn("Training interrupted by user.")
        finally:
            progress.close()

        if early_stopping:
            # restore best weights (a diverged epoch's are never the best: its
            # validation score is NaN)
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts
            if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
                raise_non_finite("no epoch gave finite weights")
        tasks.end(self._fitted_state)

        # last, once the model is complete: a warnings filter may raise it
        if reached_max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
            )

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            # compute validation score (can be NaN), use that for stopping
            val_score = self._validation_score(X, y, sample_weight)

            self.validation_scores_.append(val_score)

            # update best parameters
            # use validation_scores_, not loss_curve_
            # let's hope no-one overloads .score with mse
            last_valid_score = self.validation_scores_[-1]

            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0

            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    @_fit_method
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        coefs_init: Sequence[ArrayLike] | None = None,
        intercepts_init: Sequence[ArrayLike] | None = None,
        *,
        X_val: ArrayLike | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        coefs_init : list of arrays, default=None
            Initial weight matrices, shaped like ``coefs_`` (``coefs_init[i]``
            is ``(n_units[i], n_units[i + 1])``). Replaces the random
            initialisation (and, with ``warm_start``, the previous weights).
        intercepts_init : list of arrays, default=None
            Initial bias vectors, shaped like ``intercepts_``.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            A validation set for early stopping (``early_stopping=True``,
            stochastic solvers): it replaces the ``validation_fraction``
            split, so all of X is trained on. numba-mlp only, as in
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            The validation set's targets.
        sample_weight_val : array-like of shape (n_val,), default=None
            The validation set's sample weights.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=False,
            coefs_init=coefs_init,
            intercepts_init=intercepts_init,
            validation=(X_val, y_val, sample_weight_val),
        )

    def _loss_grad_lbfgs(
        self,
        packed_coef_inter,
        X,
        y,
        sample_weight,
        activations,
        deltas,
        coef_grads,
        intercept_grads,
    ):
        """L-BFGS's objective at ``packed_coef_inter``: the loss and its flat gradient.

        scikit-learn's private method of the same signature (its tests and
        some users call it); the scratch lists are not needed and are left
        alone. ``y`` is the binarized target, as the solver sees it.
        """
        layer_units = check_fitted_weights(self)
        X = check_sparse_input(
            check_array(X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
        )
        y = check_array(y, ensure_2d=False, dtype=(np.float64, np.float32))
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        for name, array, shape in (
            ("X", X, (X.shape[0], layer_units[0])),
            ("y", y, (X.shape[0], layer_units[-1])),
            ("sample_weight", sample_weight, (X.shape[0],)),
        ):
            if array is not None and np.shape(array) != shape:
                raise ValueError(
                    f"{name} has shape {np.shape(array)}, expected {shape} for layer "
                    f"sizes {list(layer_units)}."
                )
        dtype = kernel_dtype(X.dtype, self.coefs_[0].dtype)
        objective = FullBatchObjective(
            X, self._problem(y, sample_weight, dtype), self._net(layer_units), dtype
        )
        return objective(packed_coef_inter)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _validate_for_predict(self, X):
        """``validate_data(reset=False)``, and any dtype but float32 and
        float64 converted to float64, as fit converts it."""
        X = check_sparse_input(validate_data(self, X, accept_sparse=["csr", "csc"], reset=False))
        if X.dtype not in (np.float64, np.float32):
            X = X.astype(np.float64)
        return X

    def _check_is_fitted(self):
        """``check_is_fitted``, answering at once for a fitted model."""
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)

    def _forward_pass_fast(self, X, check_input=True):
        """Output activations for X, by the forward kernel."""
        return self._forward(X, check_input)[0]

    def _forward(self, X, check_input=True, *, with_class_indices=False, pairs=False):
        """``(outputs, class_indices)`` for X, by the forward kernel.

        With ``pairs``, a network with one output gives ``1 - p, p`` a row
        (a binary classifier's probabilities). With ``with_class_indices``,
        the dense kernel also gives each row's class index
        (``kernels.class_index``); otherwise, or for sparse X,
        ``class_indices`` is None.

        Plain input (``_takes_as_is``) skips scikit-learn's checks but for
        finiteness, which the kernel checks as it reads X.
        """
        if check_input and not self._takes_as_is(X):
            X = self._validate_for_predict(X)
        params, layer_units, largest_weights, n_outputs = self._kernel_weights(X.dtype)
        dtype = params.dtype
        n_rows = X.shape[0]
        pairs = pairs and n_outputs == 1
        max_rows = min(n_rows, CHUNK_ROWS) or 1
        policy = prediction_blocks(largest_weights, max_rows)
        if type(X) is not np.ndarray and sp.issparse(X):
            net = self._net(layer_units)
            outputs = np.empty((n_rows, n_outputs), dtype=dtype)
            with policy as blocks:
                work = make_work(net, max_rows, dtype, gather=False, backward=False, blocks=blocks)
                predict_outputs(make_data(X, dtype), net, params, work, outputs)
            # the pairs as scikit-learn makes them (the dense kernel makes its own)
            return (np.hstack([1 - outputs, outputs]) if pairs else outputs), None
        outputs = np.empty((n_rows, 2 if pairs else n_outputs), dtype=dtype)
        if X.dtype is not dtype or not X.flags.c_contiguous:
            X = np.ascontiguousarray(X, dtype=dtype)
        X = read_only(X)
        indices = np.empty(n_rows, dtype=np.int64) if with_class_indices else _NO_CLASS_INDICES
        hidden, output = ACTIVATION_CODES[self.activation], ACTIVATION_CODES[self.out_activation_]
        arguments = (X, layer_units, hidden, output, params, max_rows, outputs, indices)
        if policy is WHOLE_PRODUCTS:  # a small prediction: no threads to set up
            finite = predict_dense(*arguments, WHOLE.count, WHOLE.shared)
        else:
            with policy as blocks:
                finite = predict_dense(*arguments, blocks.count, blocks.shared)
        if not finite:
            validate_data(self, X, reset=False)  # raises scikit-learn's error for non-finite X
        return outputs, (indices if with_class_indices else None)

    def _takes_as_is(self, X):
        """True for input that needs no conversion and passes every check of
        ``validate_data`` but finiteness: a 2-D float32/float64 ndarray with
        samples and the fitted number of features, for a model fitted
        without feature names."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and (X.dtype is _FLOAT64 or X.dtype is _FLOAT32)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
        )

    def _kernel_weights(self, input_dtype):
        """The fitted network as ``KernelWeights``, its weights in the dtype
        input of ``input_dtype`` is computed in.

        The buffer fit left (``_share_fitted_weights``) is used as it is
        while ``coefs_`` and ``intercepts_`` are still its views; weights
        put in their place are checked and packed anew.
        """
        shared = self.__dict__.get("_shared_weights")
        if (
            shared is not None
            and (input_dtype is _FLOAT32 or shared.for_kernels.params.dtype is _FLOAT64)
            and still_views_of(shared, self.coefs_, self.intercepts_)
        ):
            return shared.for_kernels
        layer_units = check_fitted_weights(self)
        dtype = kernel_dtype(input_dtype, self.coefs_[0].dtype)
        return kernel_weights(pack(self.coefs_, self.intercepts_, dtype), layer_units)

    def _share_fitted_weights(self):
        """Make ``coefs_`` and ``intercepts_`` views of one packed buffer, so
        that predictions need not pack the weights at every call."""
        self.coefs_, self.intercepts_, self._shared_weights = share_weights(
            self.coefs_, self.intercepts_, self._layer_units
        )

    def __getstate__(self):
        """Pickle (and copy) without the shared buffer: ``coefs_`` and
        ``intercepts_`` hold the weights, and ``__setstate__`` shares them anew.
        The thread choice is left out too: it was timed on this machine, now."""
        state = dict(super().__getstate__())  # not the instance's own __dict__
        state.pop("_shared_weights", None)
        state.pop("_thread_choice", None)
        return state

    def __setstate__(self, state):
        """Unpickle (and copy): the weights are shared anew, as fit leaves them."""
        super().__setstate__(state)
        self.__dict__.pop("_shared_weights", None)
        if hasattr(self, "coefs_") and hasattr(self, "_layer_units"):
            try:
                check_fitted_weights(self)
            except (ValueError, TypeError, AttributeError):
                return  # predict will say what is wrong with them
            self._share_fitted_weights()

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Private score method without input validation."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of nodes in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', \
'gelu', 'softplus', 'silu'}, default='relu'
        Activation function of the hidden nodes. Besides scikit-learn's four,
        numba-mlp has 'leaky_relu' (slope 0.01 below zero), 'elu'
        (``exp(x) - 1`` below zero), 'gelu' (exact, with erf), 'softplus'
        (``log(1 + exp(x))``) and 'silu' (``x / (1 + exp(-x))``).
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization.
    alpha : float, default=0.0001
        Strength of the L2 regularization term.
    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers; 'auto' is
        ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule for weight updates (solver='sgd').
    learning_rate_init : float, default=0.001
        The initial learning rate (solver='sgd' or 'adam').
    power_t : float, default=0.5
        Exponent for inverse scaling learning rate.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Whether to shuffle samples in each epoch (stochastic solvers).
    random_state : int, RandomState instance, default=None
        Seeds weight initialization, shuffling and the early-stopping split,
        drawn exactly as scikit-learn draws them.
    tol : float, default=1e-4
        Tolerance for the optimization.
    verbose : bool, default=False
        Whether to print progress messages to stdout.
    warm_start : bool, default=False
        Reuse the solution of the previous call to fit as initialization.
    momentum : float, default=0.9
        Momentum for gradient descent update (solver='sgd').
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum (solver='sgd', momentum > 0).
    early_stopping : bool, default=False
        Whether to stop when the validation score stops improving.
    validation_fraction : float, default=0.1
        Proportion of training data set aside for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first moment estimates.
    beta_2 : float, default=0.999
        Decay rate of Adam's second moment estimates.
    epsilon : float, default=1e-8
        Value for numerical stability in Adam.
    n_iter_no_change : int, default=10
        Maximum number of epochs without ``tol`` improvement.
    max_fun : int, default=15000
        Maximum number of loss function calls (solver='lbfgs').
    out_activation : {'identity', 'logistic', 'softmax', 'exp'}, default=None
        Activation of the output nodes. None keeps scikit-learn's choice
        (logistic or softmax for classification, identity or exp for
        regression). A classifier's must give the probabilities its target
        means: softmax for a multiclass target, logistic for a binary or
        multilabel one. numba-mlp only.
    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Probability that a hidden node is dropped during training (inverted
        dropout: kept activations are divided by ``1 - dropout``), one rate
        for every hidden layer or one per hidden layer. Prediction never
        drops. The masks are drawn from ``random_state``, so a fit is
        reproducible; 0.0 draws nothing and gives scikit-learn's results.
        Stochastic solvers only. numba-mlp only.
    scoring : str, callable or None, default=None
        What early stopping watches on the validation set (and records in
        ``validation_scores_``): None for the estimator's ``score``
        (scikit-learn's behaviour), 'loss' for the negative mean validation
        loss (without the L2 term, so that higher is better), or a
        scikit-learn scorer name or callable ``scorer(estimator, X, y)``.
        numba-mlp only, as in :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
"""

_COMMON_ATTRIBUTES_DOC = """
    loss_ : float
        The current loss computed with the loss function.
    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting.
    loss_curve_ : list of shape (``n_iter_``,)
        The loss at the end of each epoch (stochastic solvers).
    validation_scores_ : list of shape (``n_iter_``,) or None
        The validation score (what ``scoring`` names) at each epoch when
        ``early_stopping=True``.
    best_validation_score_ : float or None
        The best validation score when ``early_stopping=True``.
    t_ : int
        The number of training samples seen by the solver during fitting.
    coefs_ : list of shape (n_layers - 1,)
        ``coefs_[i]`` is the weight matrix from layer i to layer i + 1.
    intercepts_ : list of shape (n_layers - 1,)
        ``intercepts_[i]`` is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit (string column names only).
    n_iter_ : int
        The number of iterations the solver has run.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation function.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    __doc__ = (
        """Multi-layer Perceptron classifier, trained by compiled node-by-node kernels.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters, attributes and results for the same ``random_state``.

    Parameters
    ----------"""
        + _COMMON_PARAMETERS_DOC
        + """    loss : {'log_loss', 'squared_error'}, default='log_loss'
        The loss minimised. 'squared_error' (half squared error, as in the
        textbooks) is a numba-mlp addition.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, ``{class_label: weight}``: a sample's weight
        is its ``sample_weight`` times its class's weight. 'balanced' gives
        ``n_samples / (n_classes * np.bincount(y))``. Not for multilabel
        targets; ``partial_fit`` takes a dict only. numba-mlp only, as in
        scikit-learn's other classifiers.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output."""
        + _COMMON_ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from numba_mlp import MLPClassifier
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> clf = MLPClassifier(random_state=1, max_iter=300).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    """
    )

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        loss="log_loss",
        out_activation=None,
        class_weight=None,
        scoring=None,
        dropout=0.0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.loss = loss
        self.out_activation = out_activation
        self.class_weight = class_weight
        self.scoring = scoring
        self.dropout = dropout

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # First fit (or a fit that is neither warm nor incremental) defines
        # classes_; later ones must stay within them.
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )

        # Booleans keep float32 data from being upcast.
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def _class_weights(self, y, incremental):
        """The weight of each class of ``classes_`` (``class_weight``), or None."""
        if self.class_weight is None:
            return None
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "class_weight is not supported for multilabel targets (y is an "
                "indicator matrix, one binary output per label). Pass per-sample "
                "weights as sample_weight instead."
            )
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                f"class_weight '{self.class_weight}' is not supported for "
                "partial_fit. In order to use 'balanced' weights, use "
                f"compute_class_weight('{self.class_weight}', classes=classes, y=y). "
                "In place of y you can use a large enough sample of the full "
                "training set target to properly estimate the class frequency "
                "distributions. Pass the resulting weights as the class_weight "
                "parameter."
            )
        check_class_weight(self.class_weight)
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self._labels_for_class_weight(y)
        )
        if not weights.any():
            raise ValueError(
                f"class_weight gives every class a weight of 0 ({self.class_weight!r}): "
                "no sample would count in the loss. Give at least one class a weight > 0."
            )
        return weights

    def _labels_for_class_weight(self, y):
        """The labels ``compute_class_weight`` counts, from the binarized ``y``."""
        return self.classes_[self._class_index(y)]

    def _weight_of_each_sample(self, y, class_weights):
        """Each sample's class weight, from the binarized ``y``."""
        return class_weights[self._class_index(y)]

    def _class_index(self, y):
        """Index in ``classes_`` of each sample's class, from the binarized ``y``."""
        if y.shape[1] == 1:
            return y[:, 0].astype(np.intp)
        return y.argmax(axis=1)

    def _check_validation_targets(self, y_val):
        """Validation labels of the training target's kind, all among ``classes_``."""
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        y_type = self._label_binarizer.y_type_
        y_val_type = type_of_target(y_val, input_name="y_val")
        if y_type.startswith("multilabel"):
            if not y_val_type.startswith("multilabel") or y_val.shape[1] != len(self.classes_):
                shape = "x".join(map(str, y_val.shape))
                raise ValueError(
                    f"y_val must be a multilabel indicator matrix with {len(self.classes_)} "
                    f"columns, as y is, but it is {y_val_type} of shape ({shape}). Give "
                    "y_val as y was given: one 0/1 column per label."
                )
        elif y_val_type not in ("binary", "multiclass"):
            raise ValueError(
                f"y_val must hold one class label per sample, as y ({y_type}) does, "
                f"but its target type is {y_val_type!r}. Give y_val as y was given "
                "(not one-hot encoded)."
            )
        unknown = np.setdiff1d(unique_labels(y_val), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y_val has classes not seen in y: {list(unknown)}. The classes are "
                f"{list(self.classes_)}."
            )
        return y_val

    def _encoded_targets(self, y):
        """Labels binarized as the network's outputs see them."""
        return self._label_binarizer.transform(y)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        """Private predict method with optional input validation.

        For one label a sample (binary or multiclass), the dense kernel
        picks each row's class as ``LabelBinarizer.inverse_transform`` would;
        other targets, and sparse X, go through the binarizer."""
        y_type = self._label_binarizer.y_type_
        one_label = y_type == "multiclass" or (
            y_type == "binary" and self.n_outputs_ == 1 and self.classes_.shape[0] == 2
        )
        y_pred, class_indices = self._forward(X, check_input, with_class_indices=one_label)
        if class_indices is not None:
            return self.classes_.take(class_indices)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return super()._score_with_function(
            X, y, sample_weight=sample_weight, score_function=accuracy_score
        )

    @available_if(lambda est: est._check_solver())
    @_fit_method
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> Self:
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of each class, ordered as ``classes_``.
        """
        self._check_is_fitted()
        # one output: scikit-learn's np.vstack([1 - y_pred, y_pred]).T
        return self._forward(X, pairs=True)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = (
        """Multi-layer Perceptron regressor, trained by compiled node-by-node kernels.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: same
    parameters, attributes and results for the same ``random_state``.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'huber', 'quantile'}, default='squared_error'
        The loss minimised: half squared error, or half Poisson deviance
        (with an exp output activation); or, numba-mlp only, the Huber loss
        (``0.5 r**2`` for ``|r| <= huber_delta``, else
        ``huber_delta * (|r| - huber_delta / 2)``, r = y - prediction), robust
        to outliers, or the pinball loss of ``quantile`` (``q r`` for
        ``r >= 0``, else ``(q - 1) r``), which predicts that quantile of y
        given X. Both are reported, like the squared error, as a mean over
        outputs."""
        + _COMMON_PARAMETERS_DOC
        + """    huber_delta : float, default=1.0
        Where the Huber loss turns from squared to linear (loss='huber').
        numba-mlp only.
    quantile : float in (0, 1), default=0.5
        The quantile the pinball loss predicts (loss='quantile'). numba-mlp
        only.

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from numba_mlp import MLPRegressor
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, random_state=1)
    >>> regr = MLPRegressor(random_state=1, max_iter=50).fit(X, y)
    >>> regr.predict(X[:2]).shape
    (2,)
    """
    )

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "huber", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        out_activation=None,
        huber_delta=1.0,
        quantile=0.5,
        scoring=None,
        dropout=0.0,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.out_activation = out_activation
        self.huber_delta = huber_delta
        self.quantile = quantile
        self.scoring = scoring
        self.dropout = dropout

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        """Private predict method with optional input validation."""
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return super()._score_with_function(
            X, y, sample_weight=sample_weight, score_function=r2_score
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _check_validation_targets(self, y_val):
        """Validation targets: finite numbers, one column per output."""
        y_val = check_array(
            y_val, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y_val"
        )
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        n_outputs = 1 if y_val.ndim == 1 else y_val.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(f"y_val has {n_outputs} output(s), but y has {self.n_outputs_}.")
        if self.loss == "poisson":
            check_poisson_targets(y_val)
        return y_val

    @available_if(lambda est: est._check_solver())
    @_fit_method
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
