"""numba_mlp.dask: one model trained across a real LocalCluster (the ``client``
fixture of conftest.py: two single-threaded worker processes).

References are independent of the code under test: the one-process
numba-mlp estimator on the same data (computed here from the same dask
arrays), and scikit-learn's metrics. The training data of the fits are made
on the workers (``dask.array.random``) unless a test says otherwise.
"""

import pickle
import warnings

import dask
import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from dask.sizeof import sizeof
from dask.utils import key_split
from distributed import get_task_stream
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import numba_mlp
from numba_mlp._cluster import Chunk, LossSpec, held_out_sums, score_from_sums
from numba_mlp._network import make_net, pack
from numba_mlp.dask import ClusterObjective, MLPClassifier, MLPRegressor

pytestmark = [
    pytest.mark.slow,  # a LocalCluster of worker processes
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use"),
]

N_ROWS, N_FEATURES, CHUNK = 600, 5, 200


def cluster_data(seed=0, n_rows=N_ROWS, chunk=CHUNK):
    """X, a 3-class label, a real target and sample weights, made on the workers."""
    random = da.random.RandomState(seed)
    X = random.normal(size=(n_rows, N_FEATURES), chunks=(chunk, N_FEATURES))
    labels = (X[:, 0] > 0.3).astype(int) + (X[:, 1] + X[:, 2] > 0).astype(int)
    target = X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.1 * X[:, 3]
    weight = random.uniform(0.5, 2.0, size=n_rows, chunks=chunk)
    # computed on the workers and kept there; each test computes its references
    # from these very arrays
    return distributed.get_client().persist([X, labels, target, weight])


def assert_same_weights(a, b, rtol):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------- L-BFGS


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_equals_one_process_fit(client, kind):
    X, labels, target, weight = cluster_data()
    y = labels if kind == "classifier" else target
    # L-BFGS amplifies the rounding of the sums' other order: relative differences
    # of ~1e-13 after 10 iterations, ~1e-11 after 20, ~1e-7 after 40 on this problem
    params = dict(hidden_layer_sizes=(7,), solver="lbfgs", max_iter=20, alpha=1e-3, random_state=0)
    distributed_model = {"classifier": MLPClassifier, "regressor": MLPRegressor}[kind](**params)
    with get_task_stream(client) as tasks:
        distributed_model.fit(X, y, sample_weight=weight)
    X_np, y_np, weight_np = (a.compute() for a in (X, y, weight))
    local_class = {"classifier": numba_mlp.MLPClassifier, "regressor": numba_mlp.MLPRegressor}
    one_process = local_class[kind](**params).fit(X_np, y_np, sample_weight=weight_np)

    assert_same_weights(distributed_model, one_process, rtol=1e-8)
    assert distributed_model.n_iter_ == one_process.n_iter_
    np.testing.assert_allclose(distributed_model.loss_, one_process.loss_, rtol=1e-10)
    if kind == "classifier":
        np.testing.assert_array_equal(distributed_model.classes_, [0, 1, 2])
    # every evaluation summed the 3 chunks on the workers, both of them busy
    sums = [t for t in tasks.data if key_split(t["key"]) == "loss_and_gradient_sums_of"]
    assert len(sums) >= 3 * one_process.n_iter_
    assert {t["worker"] for t in sums} == set(client.scheduler_info()["workers"])


def test_objective_evaluated_twice_at_the_same_weights(client):
    # L-BFGS may ask for one point twice in a row; the second answer is the first
    X, _, target, weight = cluster_data(seed=11)
    net = make_net([N_FEATURES, 4, 1], "tanh", "identity")
    objective = ClusterObjective(
        client, X, target.reshape(-1, 1), weight, net, LossSpec("squared_error", 1.0, 0.5), 0.1
    )
    packed = np.random.RandomState(0).randn(N_FEATURES * 4 + 4 + 4 + 1)
    first, second = objective(packed), objective(packed)
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])


def test_sample_weight_changes_the_fit(client):
    # the weights reach the chunks: unit weights give another model
    X, labels, _, weight = cluster_data()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=15, random_state=0)
    weighted = MLPClassifier(**params).fit(X, labels, sample_weight=weight)
    unweighted = MLPClassifier(**params).fit(X, labels)
    assert not np.allclose(weighted.coefs_[0], unweighted.coefs_[0])
    assert_same_weights(
        unweighted, MLPClassifier(**params).fit(X, labels, sample_weight=da.ones(N_ROWS)), 1e-12
    )


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 2: 0.5}])
def test_class_weight_as_in_one_process(client, class_weight):
    # 'balanced' is counted on the cluster; the fit is the one-process fit with
    # the same class weights (and a sample_weight), to rounding
    X, labels, _, weight = cluster_data()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=15, random_state=0)
    on_cluster = MLPClassifier(class_weight=class_weight, **params)
    on_cluster.fit(X, labels, sample_weight=weight)
    X_np, labels_np, weight_np = dask.compute(X, labels, weight)
    here = numba_mlp.MLPClassifier(class_weight=class_weight, **params)
    here.fit(X_np, labels_np, sample_weight=weight_np)
    assert_same_weights(on_cluster, here, 1e-8)
    unweighted = MLPClassifier(**params).fit(X, labels, sample_weight=weight)
    assert not np.allclose(unweighted.coefs_[0], on_cluster.coefs_[0])


# ----------------------------------------------------- parameter averaging


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_adam_reaches_one_process_accuracy_on_digits(client, digits):
    X_train, X_test, y_train, y_test = digits
    params = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    one_process = numba_mlp.MLPClassifier(max_iter=30, **params).fit(X_train, y_train)
    dX = da.from_array(X_train, chunks=(X_train.shape[0] // 2 + 1, -1))
    dy = da.from_array(y_train, chunks=dX.chunks[0])
    averaged = MLPClassifier(max_iter=30, local_epochs=2, **params).fit(dX, dy)
    expected = accuracy_score(y_test, one_process.predict(X_test))
    reached = accuracy_score(y_test, averaged.predict(X_test))
    assert expected > 0.95
    assert reached >= expected - 0.01, (reached, expected)
    assert averaged.n_iter_ == len(averaged.loss_curve_) == 30
    # each round trains every training row local_epochs times
    assert averaged.t_ == 30 * 2 * X_train.shape[0]
    assert averaged.loss_curve_[-1] < averaged.loss_curve_[0] / 5


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_averaging_is_deterministic(client, solver):
    X, labels, _, weight = cluster_data(seed=1)
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        max_iter=6,
        batch_size=40,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=100,
        random_state=3,
    )
    first = MLPClassifier(**params).fit(X, labels, sample_weight=weight)
    second = MLPClassifier(**params).fit(X, labels, sample_weight=weight)
    for a, b in zip(first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    assert first.validation_scores_ == second.validation_scores_
    assert len(first.validation_scores_) == first.n_iter_ == 6
    other_seed = MLPClassifier(**{**params, "random_state": 4}).fit(X, labels)
    assert not np.allclose(other_seed.coefs_[0], first.coefs_[0])


def test_one_chunk_and_one_local_epoch_is_one_process_training(client):
    # with a single chunk, averaging is the identity: rounds are epochs of the
    # one-process fit, but the chunk's shuffles come from its own seed, so
    # without shuffling the two fits are the same fit
    X, _, target, _ = cluster_data(seed=2, chunk=N_ROWS)
    params = dict(hidden_layer_sizes=(6,), max_iter=8, shuffle=False, random_state=0)
    averaged = MLPRegressor(**params).fit(X, target)
    one_process = numba_mlp.MLPRegressor(**params).fit(X.compute(), target.compute())
    assert_same_weights(averaged, one_process, rtol=1e-10)
    np.testing.assert_allclose(averaged.loss_curve_, one_process.loss_curve_, rtol=1e-10)


def test_averaging_full_chunk_gradient_steps_is_full_batch_gradient_descent(client):
    # one plain gradient step per chunk (batch = chunk, no momentum, no penalty),
    # averaged by rows, is one gradient step on all rows: the one-process fit
    # with batch_size = n_samples, epoch for round
    X, _, target, _ = cluster_data(seed=12)
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        momentum=0.0,
        alpha=0.0,
        learning_rate_init=0.05,
        max_iter=5,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="larger than the smallest chunk"):
        averaged = MLPRegressor(batch_size=N_ROWS, **params).fit(X, target)
    one_process = numba_mlp.MLPRegressor(batch_size=N_ROWS, **params)
    one_process.fit(X.compute(), target.compute())
    assert_same_weights(averaged, one_process, rtol=1e-10)
    np.testing.assert_allclose(averaged.loss_curve_, one_process.loss_curve_, rtol=1e-10)


def test_early_stopping_scores_the_rows_held_out_on_the_workers(client):
    X, _, target, _ = cluster_data(seed=5)
    model = MLPRegressor(
        hidden_layer_sizes=(8,),
        max_iter=40,
        learning_rate_init=0.01,
        batch_size=25,
        local_epochs=2,
        early_stopping=True,
        n_iter_no_change=3,
        tol=1e-2,
        random_state=0,
    ).fit(X, target)
    assert model.n_iter_ < 40  # stopped early
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_validation_score_ > 0.5
    # the best round's weights are restored, and score about as well on all rows
    X_np, y_np = X.compute(), target.compute()
    assert r2_score(y_np, model.predict(X_np)) > model.best_validation_score_ - 0.1


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_held_out_sums_give_sklearn_scores(kind):
    # the validation score from sums over two chunks equals scikit-learn's metric
    rng = np.random.RandomState(0)
    units = [3, 4, 3 if kind == "classifier" else 2]
    output = "softmax" if kind == "classifier" else "identity"
    net = make_net(units, "tanh", output)
    coefs = [rng.randn(a, b) for a, b in zip(units, units[1:])]
    intercepts = [rng.randn(b) for b in units[1:]]
    packed = pack(coefs, intercepts, np.float64)
    X, weight = rng.randn(30, 3), rng.uniform(0.5, 2, 30)
    if kind == "classifier":
        truth = np.eye(3)[rng.randint(0, 3, 30)]
    else:
        truth = rng.randn(30, 2)
    chunks = [
        Chunk(X[:0], truth[:0], weight[:0], held_out=Chunk(X[rows], truth[rows], weight[rows]))
        for rows in (slice(0, 12), slice(12, 30))
    ]
    sums = [held_out_sums(c, packed, net, kind == "classifier") for c in chunks]
    total = tuple(a + b for a, b in zip(*sums))
    score = score_from_sums(total, kind == "classifier")
    outputs = np.tanh(X @ coefs[0] + intercepts[0]) @ coefs[1] + intercepts[1]
    if kind == "classifier":
        expected = accuracy_score(truth.argmax(1), outputs.argmax(1), sample_weight=weight)
    else:
        expected = r2_score(truth, outputs, sample_weight=weight)
    np.testing.assert_allclose(score, expected, rtol=1e-12)


# ------------------------------------------------------ uneven chunks


def with_empty_block(array):
    """``array`` with a block of 0 rows after its first block (what a filter leaves)."""
    first, *rest = array.chunks[0]
    return array.rechunk({0: (first, 0, *rest)})


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_block_of_no_rows_changes_nothing(client, solver):
    # a block of 0 rows (what a filter leaves) trains nothing, and its
    # prediction is an empty block; the reference is the fit without it
    X, labels, target, _ = cluster_data(seed=13)
    params = dict(hidden_layer_sizes=(4,), solver=solver, max_iter=4, random_state=0)
    gapped = [with_empty_block(a) for a in (X, labels, target)]
    assert 0 in gapped[0].chunks[0]
    clf = MLPClassifier(**params).fit(gapped[0], gapped[1])
    assert_same_weights(clf, MLPClassifier(**params).fit(X, labels), rtol=1e-12)
    reg = MLPRegressor(**params).fit(gapped[0], gapped[2])
    assert_same_weights(reg, MLPRegressor(**params).fit(X, target), rtol=1e-12)
    X_np = X.compute()
    for model, method in [
        (clf, "predict"),
        (clf, "predict_proba"),
        (clf, "predict_log_proba"),
        (reg, "predict"),
    ]:
        lazy = getattr(model, method)(gapped[0])
        assert lazy.chunks[0] == gapped[0].chunks[0]
        computed = lazy.compute()
        expected = getattr(model, method)(X_np)  # the one-process prediction
        assert computed.shape == expected.shape and computed.dtype == expected.dtype
        np.testing.assert_allclose(computed, expected, rtol=1e-12)
        empty = lazy.blocks[1].compute()
        assert empty.shape == (0,) + expected.shape[1:] and empty.dtype == expected.dtype


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_chunk_without_weight_is_left_out_of_the_average(client, solver):
    # in one process the rows of zero weight share batches with others and the
    # fit runs; on the cluster a chunk whose weights sum to zero has nothing to
    # train on: the fit is the fit without that chunk (unshuffled, so that the
    # chunks' own seeds do not enter)
    X, labels, _, weight = cluster_data(seed=14)
    without_weight = da.concatenate(
        [weight[:CHUNK], da.zeros(CHUNK, chunks=CHUNK), weight[2 * CHUNK :]]
    )
    kept = np.r_[0:CHUNK, 2 * CHUNK : N_ROWS]
    params = dict(hidden_layer_sizes=(4,), solver=solver, max_iter=4, shuffle=False, random_state=0)
    fitted = MLPClassifier(**params).fit(X, labels, sample_weight=without_weight)
    X_np, labels_np, weight_np = dask.compute(X, labels, weight)
    reference = MLPClassifier(**params).fit(
        da.from_array(X_np[kept], chunks=(CHUNK, -1)),
        da.from_array(labels_np[kept], chunks=CHUNK),
        sample_weight=da.from_array(weight_np[kept], chunks=CHUNK),
    )
    assert_same_weights(fitted, reference, rtol=1e-12)
    assert fitted.loss_curve_ == reference.loss_curve_
    assert fitted.t_ == reference.t_ == 4 * 2 * CHUNK
    # the same data fits in one process, where shuffled batches mix the rows
    one_process = numba_mlp.MLPClassifier(**{**params, "shuffle": True})
    one_process.fit(X_np, labels_np, sample_weight=without_weight.compute())
    assert np.isfinite(one_process.loss_)
    # weights that sum to zero over all chunks: refused before a round, as
    # L-BFGS on the cluster and every batch in one process refuse them
    cancelling = da.concatenate([da.ones(CHUNK, chunks=CHUNK), -da.ones(CHUNK, chunks=CHUNK)])
    half = {"hidden_layer_sizes": (4,), "solver": solver, "max_iter": 4}
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        MLPClassifier(**half).fit(X[: 2 * CHUNK], labels[: 2 * CHUNK], sample_weight=cancelling)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        MLPClassifier(**{**half, "solver": "lbfgs"}).fit(
            X[: 2 * CHUNK], labels[: 2 * CHUNK], sample_weight=cancelling
        )


# ------------------------------------------------- where the data stays


def test_client_never_receives_the_training_data(client, monkeypatch):
    # every result the client receives passes through Client._gather: record sizes
    received = []
    gather = distributed.Client._gather

    async def recording_gather(self, futures, *args, **kwargs):
        results = await gather(self, futures, *args, **kwargs)
        received.append(sizeof(results))
        return results

    monkeypatch.setattr(distributed.Client, "_gather", recording_gather)
    X, labels, target, _ = cluster_data(seed=7, n_rows=20_000, chunk=5_000)
    n_params = N_FEATURES * 4 + 4 + 4 * 3 + 3
    MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0).fit(
        X, labels
    )
    MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, early_stopping=True, random_state=0).fit(
        X, target
    )
    assert len(received) > 5  # the recorder saw the fits' results...
    assert max(received) >= 8 * n_params  # ...a gradient among them...
    assert max(received) < X.nbytes / 100  # ...but never more than a sliver of X
    assert sum(received) < X.nbytes / 4


# ---------------------------------------------------------- predicting


def test_prediction_of_dask_input_is_lazy_and_equals_numpy(client):
    X, labels, target, _ = cluster_data(seed=8)
    X_np = X.compute()
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    clf.fit(X, labels)
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    reg.fit(X, target)
    for model, method in [
        (clf, "predict"),
        (clf, "predict_proba"),
        (clf, "predict_log_proba"),
        (reg, "predict"),
    ]:
        lazy = getattr(model, method)(X)
        assert isinstance(lazy, da.Array)
        assert lazy.numblocks[0] == X.numblocks[0]
        expected = getattr(model, method)(X_np)
        assert isinstance(expected, np.ndarray)
        computed = lazy.compute()
        assert computed.shape == expected.shape and computed.dtype == expected.dtype
        if method == "predict" and model is clf:
            np.testing.assert_array_equal(computed, expected)
        else:
            np.testing.assert_allclose(computed, expected, rtol=1e-12)


def test_dask_dataframes_keep_feature_names(client):
    X, labels, _, _ = cluster_data(seed=9)
    columns = [f"f{i}" for i in range(N_FEATURES)]
    frame = dd.from_dask_array(X, columns=columns)
    series = dd.from_dask_array(labels)
    model = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=10, random_state=0)
    model.fit(frame, series)
    np.testing.assert_array_equal(model.feature_names_in_, columns)
    X_np = X.compute()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning on the workers
        predicted = model.predict(frame).compute()
    np.testing.assert_array_equal(predicted, model.predict(pd.DataFrame(X_np, columns=columns)))


# ----------------------------------------------- plain estimators and errors


def test_to_local_is_a_plain_estimator_that_pickles(client):
    X, _, target, _ = cluster_data(seed=10)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, target)
    local = model.to_local()
    assert type(local) is numba_mlp.MLPRegressor
    assert "local_epochs" not in local.get_params()
    restored = pickle.loads(pickle.dumps(local))
    X_np = X.compute()
    np.testing.assert_array_equal(restored.predict(X_np), model.predict(X_np))
    # the dask estimator pickles too (it keeps no client or future)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(model)).predict(X_np), local.predict(X_np)
    )


def test_numpy_input_is_the_ordinary_estimator():
    rng = np.random.RandomState(0)
    X, y = rng.randn(80, 4), rng.randint(0, 2, 80)
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    ours = MLPClassifier(**params).fit(X, y)
    plain = numba_mlp.MLPClassifier(**params).fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, plain.coefs_ + plain.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_refused_calls_say_what_to_do(client):
    X, labels, _, _ = cluster_data()
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2)
    with pytest.raises(TypeError, match="partial_fit takes NumPy data"):
        model.partial_fit(X, labels, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="one entry per row of X"):
        model.fit(X, labels[:-1])
    with pytest.raises(ValueError, match="contains NaN or infinity"):
        model.fit(da.where(X > 2, np.nan, X), labels)
    with pytest.raises(ValueError, match="one label per row"):
        model.fit(X, da.stack([labels, labels], axis=1))
    with pytest.raises(ValueError, match="local_epochs"):
        MLPClassifier(local_epochs=0).fit(X, labels)
    for solver in ["lbfgs", "adam"]:  # as numba_mlp.MLPClassifier (scikit-learn's check)
        with pytest.raises(ValueError, match="at least one non-zero number"):
            MLPClassifier(solver=solver).fit(
                X, labels, sample_weight=da.zeros(N_ROWS, chunks=CHUNK)
            )
        with pytest.raises(ValueError, match="at least one non-zero number"):
            MLPClassifier(solver=solver).fit(X, labels, sample_weight=0.0)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("params", [dict(dropout=0.2), dict(scoring="loss")])
def test_what_the_cluster_does_not_do_yet_is_refused_before_anything_runs(client, params):
    X, labels, _, _ = cluster_data()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0, **params)
    # the data is made on the workers in the background: let it be made first,
    # as the task stream records every task that finishes while it is open
    distributed.wait([X, labels])
    with get_task_stream(client) as tasks:
        with pytest.raises(ValueError, match="cannot be used yet when training on a Dask"):
            model.fit(X, labels)
    assert tasks.data == [] and not hasattr(model, "coefs_")
