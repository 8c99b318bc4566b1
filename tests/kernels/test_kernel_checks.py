"""The public kernels refuse arrays whose sizes do not fit, before reading them.

Each case starts from a call that works and spoils one array; the kernel must
raise ValueError and leave the parameters as they were (a kernel that read on
would index out of bounds: garbage at best, a crash at worst).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from numba_mlp import kernels
from numba_mlp._network import read_only

from helpers import (
    dense_data,
    make_net,
    make_problem,
    make_work,
    optimizer_bundle,
    problem_bundle,
    sparse_data,
)

SETTINGS = (0.05, 0.9, 1.0, 0.9, 0.999, 1e-8)
BATCH = 3


def _training_call(spoil):
    """The arguments of a train_epoch call that works, with ``spoil`` applied."""
    problem, params = make_problem("relu", "softmax", "log_loss", seed=3)
    units = problem["units"]
    n = problem["X"].shape[0]
    args = dict(
        data=dense_data(problem["X"]),
        net=make_net(units, "relu", "softmax"),
        problem=problem_bundle(problem),
        order=np.arange(n, dtype=np.int64),
        batch_size=BATCH,
        params=params,
        grads=np.empty_like(params),
        work=make_work(units, BATCH, np.float64),
        optimizer=optimizer_bundle(
            "adam", np.zeros_like(params), np.zeros_like(params), np.zeros(1, np.int64), SETTINGS
        ),
    )
    spoil(args, problem, units)
    return args


def _bundle(bundle, **changes):
    return bundle._replace(**changes)


SPOILERS = {
    "params one short": lambda a, p, u: a.update(params=a["params"][:-1].copy()),
    "gradients one short": lambda a, p, u: a.update(grads=a["grads"][:-1].copy()),
    "buffers for fewer rows than a batch": lambda a, p, u: a.update(
        work=make_work(u, BATCH - 1, np.float64)
    ),
    "X with a feature fewer": lambda a, p, u: a.update(
        data=dense_data(np.ascontiguousarray(p["X"][:, :-1]))
    ),
    "a row index past the samples": lambda a, p, u: a["order"].__setitem__(0, len(p["X"])),
    "a negative row index": lambda a, p, u: a["order"].__setitem__(0, -1),
    "targets a row short": lambda a, p, u: a.update(
        problem=_bundle(a["problem"], targets=read_only(p["y"][:-1]))
    ),
    "targets a column short": lambda a, p, u: a.update(
        problem=_bundle(a["problem"], targets=read_only(np.ascontiguousarray(p["y"][:, :-1])))
    ),
    "sample weights one short": lambda a, p, u: a.update(
        problem=_bundle(a["problem"], sample_weight=read_only(p["sw"][:-1]))
    ),
    "optimizer moments one short": lambda a, p, u: a.update(
        optimizer=_bundle(a["optimizer"], second_moments=np.zeros(a["params"].size - 1))
    ),
    "a CSR column past the features": lambda a, p, u: a.update(data=_bad_csr(p["X"])),
    "layer sizes with an empty layer": lambda a, p, u: a.update(
        net=_bundle(a["net"], layer_units=np.array([u[0], 0, u[-1]], dtype=np.int64))
    ),
    "a dropout rate per layer, one too many": lambda a, p, u: a.update(
        net=_bundle(a["net"], dropout_rates=np.full(len(u) - 1, 0.1))
    ),
}


def _bad_csr(X):
    data = sparse_data(sp.csr_matrix(X))
    indices = data.indices.copy()
    indices[-1] = X.shape[1]  # one past the last feature
    return data._replace(indices=indices)


@pytest.mark.parametrize("spoiled", list(SPOILERS))
def test_train_epoch_refuses_sizes_that_do_not_fit(spoiled):
    args = _training_call(SPOILERS[spoiled])
    before = args["params"].copy()
    with pytest.raises(ValueError):
        kernels.train_epoch(*args.values(), 0)
    np.testing.assert_array_equal(args["params"], before)


def test_the_unspoiled_call_trains():
    args = _training_call(lambda a, p, u: None)
    before = args["params"].copy()
    loss = kernels.train_epoch(*args.values(), 0)
    assert np.isfinite(loss) and not np.array_equal(args["params"], before)


@pytest.mark.parametrize(
    "spoiled", ["params one short", "a row index past the samples", "targets a row short"]
)
def test_train_examples_refuses_sizes_that_do_not_fit(spoiled):
    args = _training_call(SPOILERS[spoiled])
    args["work"] = make_work(args["net"].layer_units, 1, np.float64)
    before = args["params"].copy()
    with pytest.raises(ValueError):
        kernels.train_examples(
            args["data"], args["net"], args["problem"], args["order"], args["params"],
            args["work"], args["optimizer"],
        )  # fmt: skip
    np.testing.assert_array_equal(args["params"], before)


def test_train_examples_refuses_csr_input():
    args = _training_call(lambda a, p, u: a.update(data=sparse_data(sp.csr_matrix(p["X"]))))
    with pytest.raises(ValueError, match="dense X"):
        kernels.train_examples(
            args["data"], args["net"], args["problem"], args["order"], args["params"],
            make_work(args["net"].layer_units, 1, np.float64), args["optimizer"],
        )  # fmt: skip


@pytest.mark.parametrize(
    "spoiled", ["gradients one short", "a row index past the samples", "X with a feature fewer"]
)
def test_loss_and_gradient_refuses_sizes_that_do_not_fit(spoiled):
    args = _training_call(SPOILERS[spoiled])
    n = len(args["order"])
    work = make_work(args["net"].layer_units, n, np.float64)
    with pytest.raises(ValueError):
        kernels.loss_and_gradient(
            args["data"], args["net"], args["problem"], args["order"], args["params"],
            args["grads"], work,
        )  # fmt: skip


@pytest.mark.parametrize("outputs_shape", [(6, 3), (7, 2)])
def test_predict_outputs_refuses_outputs_that_do_not_fit(outputs_shape):
    args = _training_call(lambda a, p, u: None)
    assert len(args["order"]) == 7 and args["net"].layer_units[-1] == 3
    work = make_work(args["net"].layer_units, 4, np.float64)
    with pytest.raises(ValueError, match="outputs"):
        kernels.predict_outputs(
            args["data"], args["net"], args["params"], work, np.empty(outputs_shape)
        )
