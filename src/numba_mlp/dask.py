"""One model trained across the workers of a Dask cluster.

``numba_mlp.dask.MLPClassifier`` and ``MLPRegressor`` are numba-mlp's
estimators whose ``fit`` also takes dask arrays (and dask DataFrames) chunked
by rows, and trains on the workers of the current ``distributed.Client``:

- ``solver='lbfgs'``: scipy's L-BFGS-B on the client, exactly as in one
  process; each evaluation broadcasts the weights, every chunk computes its
  unfinished loss and gradient sums, a tree of additions on the cluster adds
  them, and the client finishes them (average, L2 term). The result is the
  one-process fit's, up to the order of the sums.
- ``solver='sgd'`` / ``'adam'``: synchronous rounds of parameter averaging;
  each chunk trains ``local_epochs`` epochs from the current weights with its
  own optimiser state, and the next round starts from the average of the
  chunks' weights, weighted by their sample counts.

Prediction on dask input is lazy (one task per block); on NumPy input
everything is the ordinary estimator's, and ``to_local()`` returns one.
See the documentation page "Training on a Dask cluster".
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Self

import numpy as np

try:
    import dask
    import dask.array as da
    import distributed
    from dask.base import is_dask_collection
except ImportError as error:
    raise ImportError(
        "numba_mlp.dask needs dask and distributed: install the dask extra, "
        "pip install -e '.[dask]' from numba-mlp's clone."
    ) from error
from numpy.typing import ArrayLike
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval

from . import _multilayer_perceptron as _mlp
from ._cluster import (
    LossSpec,
    RoundPlan,
    add_sums,
    chunk_totals,
    contribution_of,
    held_out_sums,
    loss_and_gradient_sums_of,
    persist_chunks,
    score_from_sums,
    train_locally,
    tree_sum,
)
from ._network import checked_params, pack, unpack
from ._optimizers import OptimizerState
from ._training import raise_non_finite
from .kernels import finish_gradients, regularised_loss, squared_weights
from .kernels.codes import LOSS_CODES

__all__ = ["MLPClassifier", "MLPRegressor"]


def _weights_of_classes(class_index, class_weights):
    """The weight of each row's class (one block of rows)."""
    return class_weights[class_index]


def _is_dask(X):
    """Whether X is a dask collection (array, DataFrame, Series): trained on the cluster."""
    return is_dask_collection(X)


def current_client() -> distributed.Client:
    """The ``distributed.Client`` the work runs on, or a clear error."""
    try:
        return distributed.get_client()
    except ValueError as error:
        raise ValueError(
            "Fitting on dask input runs on the workers of a distributed.Client, and "
            "none is running: start one first, e.g. `from distributed import Client; "
            "client = Client('tcp://scheduler:8786')` (or Client() for a local cluster)."
        ) from error


def _as_dask_array(data, name, lengths=True):
    """A dask array of a dask array, DataFrame or Series, with the column names."""
    if isinstance(data, da.Array):
        return data, None
    if hasattr(data, "to_dask_array"):
        columns = getattr(data, "columns", None)
        return data.to_dask_array(lengths=lengths), columns
    raise TypeError(
        f"{name} is a {type(data).__name__}; pass a dask array or dask DataFrame "
        "(or NumPy / pandas data, trained in this process)."
    )


def _rows_chunked_like(array, X, name):
    """``array`` (dask, NumPy or a dask Series) as a dask array with X's row chunks."""
    if _is_dask(array):
        array, _ = _as_dask_array(array, name)
    else:
        array = np.asarray(array)
        array = da.from_array(array, chunks=(X.chunks[0],) + array.shape[1:])
    if array.ndim > 0 and any(np.isnan(c) for c in array.chunks[0]):
        array = array.compute_chunk_sizes()
    if array.ndim == 0 or array.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has shape {array.shape} but X has {X.shape[0]} rows: "
            f"give {name} one entry per row of X."
        )
    return array.rechunk({0: X.chunks[0]} | {axis: -1 for axis in range(1, array.ndim)})


def _check_finite(name, *arrays):
    """Raise ValueError if any of the dask ``arrays`` has a NaN or infinity
    (one pass on the cluster; one boolean comes back)."""
    (finite,) = dask.compute(da.stack([da.isfinite(a).all() for a in arrays]).all())
    if not finite:
        raise ValueError(
            f"Input {name} contains NaN or infinity; drop or impute those values "
            "(e.g. with dask-ml's SimpleImputer) before fitting."
        )


def _predict_block(local, method, block, columns):
    """``local.<method>(block)`` on one block of rows (runs on a worker).

    An empty block has an empty result, where the estimator refuses 0 rows as
    scikit-learn's does: it is computed for one row of zeros and cut to none.
    """
    n_rows = block.shape[0]
    if n_rows == 0:
        block = np.zeros((1, block.shape[1]), dtype=block.dtype)
    if columns is not None:
        import pandas as pd

        block = pd.DataFrame(block, columns=columns)
    return getattr(local, method)(block)[:n_rows]


class _ClusterTraining:
    """What the two dask estimators add to numba-mlp's: dask input in ``fit``
    and ``predict``, and ``to_local``."""

    _local_class: type

    # ------------------------------------------------------------------ input
    def _validate_input(self, X, y, incremental, reset):
        if not _is_dask(X):
            if _is_dask(y):
                raise TypeError(
                    "y is a dask collection but X is not: give both as dask arrays, or both "
                    "as NumPy arrays."
                )
            return super()._validate_input(X, y, incremental, reset)
        if incremental:
            raise TypeError(
                "partial_fit takes NumPy data. For dask arrays call fit (rounds of "
                "local_epochs on every chunk), or wrap numba_mlp's estimator in "
                "dask_ml.wrappers.Incremental (one partial_fit per block, in order)."
            )
        X = self._dask_features(X, reset=reset)
        y = _rows_chunked_like(y, X, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples, ), for example using ravel().",
                DataConversionWarning,
            )
            y = y[:, 0]
        # computed once, kept on the workers: the checks and the chunks read these
        X, y = current_client().persist([X, y])
        return X, self._dask_targets(X, y)

    def _dask_features(self, X, reset):
        """X as a float dask array chunked by rows only, checked on the cluster;
        sets (or checks) ``n_features_in_`` and ``feature_names_in_``."""
        X, columns = _as_dask_array(X, "X")
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2D dask array for X, got {X.ndim} dimension(s) with shape "
                f"{X.shape}; reshape it to (n_samples, n_features)."
            )
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        if X.dtype not in (np.float32, np.float64):
            if X.dtype.kind not in "biuf":
                raise ValueError(
                    f"X has dtype {X.dtype}; numba-mlp trains on numbers: convert the "
                    "columns to float (X.astype('float64'))."
                )
            X = X.astype(np.float64)
        X = X.rechunk({1: -1})
        names = None
        if columns is not None and all(isinstance(c, str) for c in columns):
            names = np.asarray(list(columns), dtype=object)
        if reset:
            self.n_features_in_ = X.shape[1]
            if names is None:
                self.__dict__.pop("feature_names_in_", None)
            else:
                self.feature_names_in_ = names
        else:
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            fitted = getattr(self, "feature_names_in_", None)
            if (fitted is None) != (names is None) or (
                names is not None and list(fitted) != list(names)
            ):
                raise ValueError(
                    "The feature names of X differ from those seen in the first fit; "
                    "pass the columns of that fit, in its order."
                )
        return X

    # ----------------------------------------------------------- sample weight
    def _validate_sample_weight(self, sample_weight, X):
        if not _is_dask(X):
            return super()._validate_sample_weight(sample_weight, X)
        if isinstance(sample_weight, Real):
            sample_weight = da.full(X.shape[0], sample_weight, chunks=(X.chunks[0],), dtype=X.dtype)
        sample_weight = _rows_chunked_like(sample_weight, X, "sample_weight")
        if sample_weight.ndim != 1:
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; it must be 1D, one weight "
                "per row of X."
            )
        (sample_weight,) = current_client().persist([sample_weight.astype(X.dtype)])
        _check_finite("sample_weight", sample_weight)
        (weighted,) = dask.compute((sample_weight != 0).any())
        if not weighted:  # scikit-learn's check and message
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return sample_weight

    # ----------------------------------------------------------------- L-BFGS
    def _lbfgs_objective(self, X, y, sample_weight, layer_units):
        if not _is_dask(X):
            return super()._lbfgs_objective(X, y, sample_weight, layer_units)
        return ClusterObjective(
            current_client(),
            X,
            y,
            sample_weight,
            self._net(layer_units),
            LossSpec.of(self),
            self.alpha,
        )

    # ------------------------------------------------- parameter averaging
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
        """SGD or Adam by rounds of parameter averaging on dask input; written as
        the one-process loop, with rounds for epochs (and its bookkeeping,
        ``_update_no_improvement_count``, reused)."""
        if not _is_dask(X):
            return super()._fit_stochastic(
                X, y, sample_weight, layer_units, incremental, validation, dropout_rates, tasks
            )
        client = current_client()
        dtype = X.dtype
        params = pack(self.coefs_, self.intercepts_, dtype)
        self.coefs_, self.intercepts_ = unpack(params, layer_units)
        # the client's optimiser keeps the learning-rate schedule; each chunk
        # starts from a copy of it and keeps its own moments from then on
        self._optimizer = OptimizerState(self, params.shape[0], dtype)
        early_stopping = self.early_stopping
        base_seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        n_blocks = len(X.chunks[0])
        chunks = persist_chunks(
            client,
            X,
            y,
            sample_weight,
            dtype,
            validation_fraction=self.validation_fraction if early_stopping else 0.0,
            seeds=[_seed(base_seed, block) for block in range(n_blocks)],
        )
        totals = client.gather([client.submit(chunk_totals, chunk) for chunk in chunks])
        if sum(weight for _, weight, _ in totals) == 0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        n_held_out = sum(held_out for _, _, held_out in totals)
        if early_stopping and n_held_out < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        validation = HeldOutRows(client, chunks, self, layer_units) if early_stopping else None
        batch_size = self._chunk_batch_size(min(rows for rows, _, _ in totals))
        net = self._net(layer_units)

        states = [client.scatter(self._optimizer, broadcast=True, hash=False)] * len(chunks)
        weights = client.scatter(params, broadcast=True, hash=False)
        reached_max_iter = False
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            round_index = self.n_iter_
            plans = [
                _round_plan(self, net, batch_size, _seed(base_seed, block, round_index))
                for block in range(len(chunks))
            ]
            states, (weighted_sum, loss_sum, n_samples) = _train_round(
                client, chunks, states, weights, plans
            )
            averaged = (weighted_sum / n_samples).astype(dtype)
            if not early_stopping:
                if not np.isfinite(loss_sum):
                    raise_non_finite(
                        f"the training loss became {loss_sum} during round {round_index + 1}"
                    )
                if not np.isfinite(averaged).all():
                    raise_non_finite(f"weights became non-finite during round {round_index + 1}")
            params[:] = averaged
            weights = client.scatter(params, broadcast=True, hash=False)

            self.n_iter_ += 1
            self.loss_ = loss_sum / n_samples
            self.t_ += n_samples
            self.loss_curve_.append(self.loss_)
            if validation is not None:
                validation.weights = weights
            self._update_no_improvement_count(early_stopping, validation, None, None)
            if tasks is not None:
                tasks.step_begins("round")
                if tasks.step_ends(self._fitted_state):
                    break
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
            self._optimizer.iteration_ends(self.t_)

            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
                    what,
                    self.tol,
                    self.n_iter_no_change,
                )
                if self._optimizer.trigger_stopping(msg, self.verbose):
                    break
                self._no_improvement_count = 0
            reached_max_iter = self.n_iter_ == self.max_iter

        if early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts
            if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
                raise_non_finite("no round gave finite weights")
        if tasks is not None:
            tasks.end(self._fitted_state)
        if reached_max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
            )

    def _chunk_batch_size(self, smallest_chunk):
        """The batch size each chunk uses: None for 'auto' (min(200, its rows)),
        else ``batch_size``, which a smaller chunk clips to its rows."""
        if self.batch_size == "auto":
            return None
        if self.batch_size > smallest_chunk:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the smallest chunk's "
                f"{smallest_chunk} training rows: such chunks train in one batch. Make the "
                "chunks larger (X.rechunk) or batch_size smaller."
            )
        return int(self.batch_size)

    def _score(self, X, y, sample_weight=None):
        # the early-stopping score of the rows held out on the workers
        if isinstance(X, HeldOutRows):
            return X.score()
        return super()._score(X, y, sample_weight=sample_weight)

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | float | None = None,
        coefs_init: Sequence[ArrayLike] | None = None,
        intercepts_init: Sequence[ArrayLike] | None = None,
    ) -> Self:
        """Fit the model to X and y: on the cluster for dask input, here for NumPy.

        Parameters
        ----------
        X : {dask array, dask DataFrame, array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. Dask input is trained on the workers of the current
            ``distributed.Client``, chunk by chunk along the rows.
        y : {dask array, dask Series, array-like} of shape (n_samples,) or (n_samples, n_outputs)
            The target values (one class label per row for the classifier on dask input).
        sample_weight : {dask array, dask Series, array-like, float}, default=None
            Sample weights, one per row of X.
        coefs_init : list of arrays, default=None
            Initial weight matrices, shaped like ``coefs_``.
        intercepts_init : list of arrays, default=None
            Initial bias vectors, shaped like ``intercepts_``.

        Returns
        -------
        self : object
            The trained model.
        """
        if _is_dask(X):
            self._check_cluster_parameters()
        return super().fit(
            X,
            y,
            sample_weight=sample_weight,
            coefs_init=coefs_init,
            intercepts_init=intercepts_init,
        )

    def _check_cluster_parameters(self):
        """Refuse, before anything runs, what training on a cluster does not do yet."""
        unsupported = {
            "dropout": bool(np.any(np.asarray(self.dropout) > 0)),
            "scoring": self.scoring is not None,
        }
        named = [name for name, given in unsupported.items() if given]
        if named:
            raise ValueError(
                f"{', '.join(named)} cannot be used yet when training on a Dask cluster. "
                "Leave them at their defaults for dask input, or fit to NumPy data."
            )

    # ------------------------------------------------------------- predicting
    def _map_rows(self, X, method):
        """``method`` of the fitted model on every block of a dask X: a lazy array."""
        self._check_is_fitted()
        X, columns = _as_dask_array(X, "X", lengths=None)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {X.shape}, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        X = X.rechunk({1: -1})
        if columns is not None:
            columns = list(columns)
        local = self.to_local()
        # the shape and dtype of one row's result describe every block's
        sample = _predict_block(local, method, np.zeros((1, X.shape[1]), X.dtype), columns)
        if sample.ndim == 1:
            chunks, drop_axis = (X.chunks[0],), 1
        else:
            chunks, drop_axis = (X.chunks[0], (sample.shape[1],)), []
        return da.map_blocks(
            _predict_block,
            local,
            method,
            X,
            columns,
            chunks=chunks,
            drop_axis=drop_axis,
            dtype=sample.dtype,
            meta=np.empty((0,) * sample.ndim, dtype=sample.dtype),
        )

    def predict(self, X: ArrayLike) -> np.ndarray | da.Array:
        """Predict with the fitted network; a lazy dask array for dask input.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray or dask array
            The predictions (classes or values), block by block for dask input.
        """
        if _is_dask(X):
            return self._map_rows(X, "predict")
        return super().predict(X)

    def to_local(self) -> _mlp.BaseMultilayerPerceptron:
        """This fitted model as a plain numba-mlp estimator (NumPy in and out).

        Returns
        -------
        estimator : numba_mlp.MLPClassifier or numba_mlp.MLPRegressor
            The same parameters (without ``local_epochs``) and fitted
            attributes, copied: it no longer needs dask to predict, pickle or
            go on training.
        """
        self._check_is_fitted()
        parameters = self.get_params(deep=False)
        parameters.pop("local_epochs")
        local = self._local_class(**parameters)
        for name, value in self.__dict__.items():
            if name not in parameters and name != "local_epochs":
                setattr(local, name, copy.deepcopy(value))
        return local


def _seed(*entropy):
    """A seed for a RandomState, from the estimator's draw and block (and round)."""
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0])


def _train_round(client, chunks, states, weights, plans):
    """One round on the cluster: each chunk trains from ``weights``, going on
    from its ``states``; returns the chunks' new states (futures, kept on
    their workers) and the tree sum of their contributions to the average."""
    states = [
        client.submit(train_locally, chunk, weights, state, plan)
        for chunk, state, plan in zip(chunks, states, plans)
    ]
    contributions = [client.submit(contribution_of, state) for state in states]
    return states, tree_sum(client, contributions, add_sums).result()


def _round_plan(estimator, net, batch_size, seed):
    """What every chunk needs for one round, from the estimator's settings."""
    return RoundPlan(
        net,
        LossSpec.of(estimator),
        float(estimator.alpha),
        batch_size,
        int(estimator.local_epochs),
        bool(estimator.shuffle),
        seed,
        float(estimator._optimizer.learning_rate),
    )


class ClusterObjective:
    """L-BFGS's objective summed over chunks on the workers; called as the
    one-process ``FullBatchObjective`` is: ``(loss, gradient)`` at packed weights.

    The chunks are built on the workers when the objective is made and
    released with it. Each call broadcasts the weights once, computes every
    chunk's unfinished sums there, adds them in a tree on the cluster and
    finishes them here with the kernels ``finish_gradients`` and
    ``regularised_loss``.
    """

    def __init__(self, client, X, y, sample_weight, net, loss, alpha):
        self.client = client
        self.net = net
        self.loss = loss
        self.alpha = float(alpha)
        self.chunks = persist_chunks(client, X, y, sample_weight, X.dtype)
        totals = [client.submit(chunk_totals, chunk) for chunk in self.chunks]
        _, self.total_weight, _ = tree_sum(client, totals, add_sums).result()
        if self.total_weight == 0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")

    def __call__(self, packed):
        params = checked_params(packed, self.net, np.float64)
        # a fresh key each time (hash=False): scattering equal weights again under
        # the key of a future being released could lose them
        weights = self.client.scatter(params, broadcast=True, hash=False)
        sums = [
            self.client.submit(loss_and_gradient_sums_of, chunk, weights, self.net, self.loss)
            for chunk in self.chunks
        ]
        loss_sum, grads = tree_sum(self.client, sums, add_sums).result()
        if grads.shape != params.shape:  # the kernel would write past the buffer
            raise ValueError(
                f"The chunks returned gradients of shape {grads.shape} for {params.shape} "
                "weights: were the workers' numba-mlp and this one the same version?"
            )
        finish_gradients(self.net, params, grads, self.alpha, self.total_weight)
        loss = regularised_loss(
            LOSS_CODES[self.loss.name],
            int(self.net.layer_units[-1]),
            loss_sum,
            self.alpha,
            squared_weights(params, self.net.layer_units),
            self.total_weight,
        )
        return loss, grads


class HeldOutRows:
    """The early-stopping validation rows, held out on the workers chunk by chunk.

    ``score()`` is the estimator's validation score (accuracy or R^2) at the
    weights last broadcast (``weights``), computed from sums over the chunks.
    """

    def __init__(self, client, chunks, estimator, layer_units):
        self.client = client
        self.chunks = chunks
        self.net = estimator._net(layer_units)
        self.is_classifier = is_classifier(estimator)
        self.weights = None

    def score(self):
        parts = [
            self.client.submit(held_out_sums, chunk, self.weights, self.net, self.is_classifier)
            for chunk in self.chunks
        ]
        sums = tree_sum(self.client, parts, _add_present).result()
        return score_from_sums(sums, self.is_classifier)


def _add_present(a, b):
    """``add_sums`` where a chunk without held-out rows contributes None."""
    if a is None:
        return b
    if b is None:
        return a
    return add_sums(a, b)


_LOCAL_EPOCHS_DOC = """    local_epochs : int, default=1
        Epochs each chunk trains from the current weights before they are
        averaged (solver='sgd' or 'adam' on dask input).
"""


class MLPClassifier(_ClusterTraining, _mlp.MLPClassifier):
    __doc__ = (
        """Multi-layer Perceptron classifier trained across a Dask cluster.

    numba-mlp's :class:`numba_mlp.MLPClassifier`, whose ``fit`` also takes
    dask arrays or DataFrames chunked by rows (with labels ``y`` and
    ``sample_weight`` chunked alike) and trains on the workers of the current
    ``distributed.Client``: L-BFGS exactly, SGD and Adam by averaging the
    chunks' weights after every round of ``local_epochs``. ``predict`` and
    ``predict_proba`` of dask input return lazy dask arrays. NumPy input is
    trained and predicted in this process, as by numba-mlp's estimator.

    Parameters
    ----------"""
        + _mlp._COMMON_PARAMETERS_DOC
        + """    loss : {'log_loss', 'squared_error'}, default='log_loss'
        The loss minimised.
"""
        + _LOCAL_EPOCHS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (found on the cluster with ``da.unique`` for dask input)."""
        + _mlp._COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    numba_mlp.MLPClassifier : the same model in one process (``to_local()``).

    Notes
    -----
    ``n_iter_`` counts rounds and ``loss_curve_`` has one entry per round for
    the stochastic solvers on dask input. Multilabel targets and sparse
    blocks are not supported on dask input.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from numba_mlp.dask import MLPClassifier
    >>> client = Client()  # doctest: +SKIP
    >>> X = da.random.random((10_000, 20), chunks=(2_500, 20))  # doctest: +SKIP
    >>> y = (X[:, 0] > 0.5).astype(int)  # doctest: +SKIP
    >>> clf = MLPClassifier(solver="lbfgs", random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.predict(X).compute()  # doctest: +SKIP
    """
    )

    _local_class = _mlp.MLPClassifier
    _parameter_constraints: dict = {
        **_mlp.MLPClassifier._parameter_constraints,
        "local_epochs": [Interval(Integral, 1, None, closed="left")],
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
        local_epochs=1,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            loss=loss,
            out_activation=out_activation,
            class_weight=class_weight,
            scoring=scoring,
            dropout=dropout,
        )
        self.local_epochs = local_epochs

    def _dask_targets(self, X, y):
        """The binarised labels as a dask array of booleans; the classes are
        found on the cluster (``da.unique``), and only they reach the client."""
        if y.ndim != 1:
            raise ValueError(
                f"y has shape {y.shape}: on dask input the classifier takes one label per "
                "row (binary or multiclass). Train multilabel targets on NumPy arrays."
            )
        (classes,) = dask.compute(da.unique(y))
        _check_finite("X", X)
        if not hasattr(self, "classes_") or not self.warm_start:
            self._label_binarizer = LabelBinarizer().fit(classes)
            self.classes_ = self._label_binarizer.classes_
        elif set(classes) != set(self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same "
                "classes as in the previous call to fit. Previously "
                f"got {self.classes_}, `y` has {classes}"
            )
        binarizer = self._label_binarizer
        n_outputs = 1 if len(binarizer.classes_) <= 2 else len(binarizer.classes_)
        return y.map_blocks(
            _binarized,
            binarizer,
            new_axis=1,
            chunks=(y.chunks[0], (n_outputs,)),
            dtype=bool,
            meta=np.empty((0, 0), dtype=bool),
        )

    def _class_weights(self, y, incremental):
        """As in one process; 'balanced' counts the classes on the cluster (only
        the counts reach the client) and weighs each class, as scikit-learn's
        ``compute_class_weight`` does, by ``n_samples / (n_classes * count)``."""
        if not _is_dask(y) or self.class_weight != "balanced":
            return super()._class_weights(y, incremental)
        n_classes = len(self.classes_)
        (counts,) = dask.compute(da.bincount(self._class_index(y), minlength=n_classes))
        return counts.sum() / (n_classes * counts.astype(np.float64))

    def _labels_for_class_weight(self, y):
        """A dict of class weights counts nothing: the classes stand for dask labels."""
        return self.classes_ if _is_dask(y) else super()._labels_for_class_weight(y)

    def _weight_of_each_sample(self, y, class_weights):
        """Each row's class weight, lazily on the cluster for dask labels."""
        if not _is_dask(y):
            return super()._weight_of_each_sample(y, class_weights)
        return self._class_index(y).map_blocks(
            _weights_of_classes, class_weights, dtype=class_weights.dtype, meta=np.empty(0)
        )

    def predict_proba(self, X: ArrayLike) -> np.ndarray | da.Array:
        """Probability estimates; a lazy dask array for dask input.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray or dask array of shape (n_samples, n_classes)
            The probability of each class, ordered as ``classes_``.
        """
        if _is_dask(X):
            return self._map_rows(X, "predict_proba")
        return super().predict_proba(X)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray | da.Array:
        """Log of the probability estimates; a lazy dask array for dask input.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray or dask array of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        if _is_dask(X):
            return self._map_rows(X, "predict_log_proba")
        return super().predict_log_proba(X)


def _binarized(labels, binarizer):
    """One block of labels, binarised as the estimator's ``LabelBinarizer`` does."""
    return binarizer.transform(labels).astype(bool)


class MLPRegressor(_ClusterTraining, _mlp.MLPRegressor):
    __doc__ = (
        """Multi-layer Perceptron regressor trained across a Dask cluster.

    numba-mlp's :class:`numba_mlp.MLPRegressor`, whose ``fit`` also takes
    dask arrays or DataFrames chunked by rows (with targets ``y`` and
    ``sample_weight`` chunked alike) and trains on the workers of the current
    ``distributed.Client``: L-BFGS exactly, SGD and Adam by averaging the
    chunks' weights after every round of ``local_epochs``. ``predict`` of
    dask input returns a lazy dask array. NumPy input is trained and
    predicted in this process, as by numba-mlp's estimator.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss minimised."""
        + _mlp._COMMON_PARAMETERS_DOC
        + _LOCAL_EPOCHS_DOC
        + """
    Attributes
    ----------"""
        + _mlp._COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    numba_mlp.MLPRegressor : the same model in one process (``to_local()``).

    Notes
    -----
    ``n_iter_`` counts rounds and ``loss_curve_`` has one entry per round for
    the stochastic solvers on dask input. Sparse blocks are not supported on
    dask input.
    """
    )

    _local_class = _mlp.MLPRegressor
    _parameter_constraints: dict = {
        **_mlp.MLPRegressor._parameter_constraints,
        "local_epochs": [Interval(Integral, 1, None, closed="left")],
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
        local_epochs=1,
    ):
        super().__init__(
            loss,
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            out_activation=out_activation,
            huber_delta=huber_delta,
            quantile=quantile,
            scoring=scoring,
            dropout=dropout,
        )
        self.local_epochs = local_epochs

    def _dask_targets(self, X, y):
        """The numeric targets as a float dask array, checked on the cluster."""
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"y has dtype {y.dtype}; a regressor needs numeric targets (y.astype(float))."
            )
        if y.dtype not in (np.float32, np.float64):
            y = y.astype(np.float64)
        _check_finite("X or y", X, y)
        return y
