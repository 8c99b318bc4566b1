"""The public kernels refuse arrays whose sizes do not fit, before reading them.

Every kernel that ``numba_mlp.kernels`` exports has its cases here
(``WRONG_SIZES``: a test fails when a new one has none). Each case starts
from a call that works and spoils one array; the kernel must raise
ValueError and leave the parameters as they were (a kernel that read on
would index out of bounds: garbage at best, a crash at worst). The cases run
in a child interpreter, so that a kernel that reads on fails its test
instead of killing pytest.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numba.core import types

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


def _training_call(spoil, work_rows=BATCH):
    """The arguments of kernel calls that work (``work`` holds ``work_rows``
    samples), with ``spoil`` applied."""
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
        work=make_work(units, work_rows, np.float64),
        optimizer=optimizer_bundle(
            "adam", np.zeros_like(params), np.zeros_like(params), np.zeros(1, np.int64), SETTINGS
        ),
        outputs=np.empty((n, units[-1])),
        class_indices=np.empty(0, np.int64),
    )
    spoil(args, problem, units)
    return args


def _bundle(bundle, **changes):
    return bundle._replace(**changes)


SPOILERS = {
    "params one short": lambda a, p, u: a.update(params=a["params"][:-1].copy()),
    "gradients one short": lambda a, p, u: a.update(grads=a["grads"][:-1].copy()),
    "work buffers a row short": lambda a, p, u: a.update(
        work=make_work(u, a["work"].max_rows - 1, np.float64)
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
    "layer sizes of one layer": lambda a, p, u: a.update(
        net=_bundle(a["net"], layer_units=np.array([u[0]], dtype=np.int64))
    ),
    # the parameters of a network of 10^10 weights, not these few
    "layer sizes far too large": lambda a, p, u: a.update(
        net=_bundle(a["net"], layer_units=np.array([100_000, 100_000, 1], dtype=np.int64))
    ),
    # 1 x -2 + -2 x 10 weights and -2 + 10 biases: 6 parameters, from no network
    "negative layer sizes that count the parameters given": lambda a, p, u: a.update(
        net=_bundle(a["net"], layer_units=np.array([1, -2, 10], dtype=np.int64)),
        params=np.ones(6),
    ),
    "outputs a row short": lambda a, p, u: a.update(outputs=a["outputs"][:-1].copy()),
    "outputs a column short": lambda a, p, u: a.update(
        outputs=np.ascontiguousarray(a["outputs"][:, :-1])
    ),
    "class indices a row short": lambda a, p, u: a.update(
        class_indices=np.empty(len(p["X"]) - 1, np.int64)
    ),
    "no rows per block": lambda a, p, u: a.update(work=make_work(u, 0, np.float64)),
}


def _bad_csr(X):
    data = sparse_data(sp.csr_matrix(X))
    indices = data.indices.copy()
    indices[-1] = X.shape[1]  # one past the last feature
    return data._replace(indices=indices)


LAYERS = ["layer sizes of one layer", "layer sizes far too large"]
LAYERS += [
    "layer sizes with an empty layer",
    "negative layer sizes that count the parameters given",
]
TRAINING = [
    "params one short",
    "gradients one short",
    "work buffers a row short",
    "X with a feature fewer",
    "a row index past the samples",
    "a negative row index",
    "targets a row short",
    "targets a column short",
    "sample weights one short",
    "a CSR column past the features",
    "a dropout rate per layer, one too many",
    *LAYERS,
]
OPTIMIZER = ["optimizer moments one short"]

# Every kernel numba_mlp.kernels exports: (rows its work buffers hold, the
# call of it on the arguments of _training_call, the spoilers it must refuse).
WRONG_SIZES = {
    "train_epoch": (
        BATCH,
        lambda a: kernels.train_epoch(
            a["data"],
            a["net"],
            a["problem"],
            a["order"],
            a["batch_size"],
            a["params"],
            a["grads"],
            a["work"],
            a["optimizer"],
            0,
        ),  # fmt: skip
        TRAINING + OPTIMIZER,
    ),
    "train_examples": (
        1,
        lambda a: kernels.train_examples(
            a["data"],
            a["net"],
            a["problem"],
            a["order"],
            a["params"],
            a["work"],
            a["optimizer"],
        ),  # fmt: skip
        # no gradient vector; CSR input is refused whatever its sizes
        [s for s in TRAINING if s not in ("gradients one short", "a CSR column past the features")]
        + OPTIMIZER,
    ),
    "loss_and_gradient": (
        7,
        lambda a: kernels.loss_and_gradient(
            a["data"], a["net"], a["problem"], a["order"], a["params"], a["grads"], a["work"]
        ),
        TRAINING,
    ),
    "loss_and_gradient_sums": (
        7,
        lambda a: kernels.loss_and_gradient_sums(
            a["data"], a["net"], a["problem"], a["order"], a["params"], a["grads"], a["work"]
        ),
        TRAINING,
    ),
    "mean_data_loss": (
        BATCH,
        lambda a: kernels.mean_data_loss(a["data"], a["net"], a["problem"], a["params"], a["work"]),
        [
            "params one short",
            "X with a feature fewer",
            "targets a row short",
            "targets a column short",
            "sample weights one short",
            "a CSR column past the features",
            "a dropout rate per layer, one too many",
            "no rows per block",
            *LAYERS,
        ],
    ),
    "predict_outputs": (
        BATCH,
        lambda a: kernels.predict_outputs(
            a["data"], a["net"], a["params"], a["work"], a["outputs"]
        ),
        [
            "params one short",
            "X with a feature fewer",
            "a CSR column past the features",
            "outputs a row short",
            "outputs a column short",
            "no rows per block",
            *LAYERS,
        ],
    ),
    "predict_dense": (
        BATCH,
        lambda a: kernels.predict_dense(
            a["data"].X,
            a["net"].layer_units,
            a["net"].hidden_activation,
            a["net"].output_activation,
            a["params"],
            a["work"].max_rows,
            a["outputs"],
            a["class_indices"],
            1,
            False,
        ),  # fmt: skip
        [
            "params one short",
            "X with a feature fewer",
            "outputs a row short",
            "outputs a column short",
            "class indices a row short",
            "no rows per block",
            *LAYERS,
        ],
    ),
    "finish_gradients": (
        BATCH,
        lambda a: kernels.finish_gradients(a["net"], a["params"], a["grads"], 0.1, 7.0),
        ["params one short", "gradients one short", *LAYERS],
    ),
    "squared_weights": (
        BATCH,
        lambda a: kernels.squared_weights(a["params"], a["net"].layer_units),
        ["params one short", *LAYERS],
    ),
}

#: Exported kernels that take no arrays, only numbers: no size to check.
NO_ARRAYS = {"regularised_loss": lambda: kernels.regularised_loss(2, 3, 4.5, 0.1, 2.0, 7.0)}


def outcome(kernel, spoiled=None):
    """What the call of ``kernel`` with the spoiler ``spoiled`` (None: none)
    does: 'ran', 'ValueError', or what else happened."""
    work_rows, call, _ = WRONG_SIZES[kernel]
    args = _training_call(SPOILERS[spoiled] if spoiled else lambda a, p, u: None, work_rows)
    before = args["params"].copy()
    try:
        call(args)
    except ValueError:
        unchanged = np.array_equal(args["params"], before, equal_nan=True)
        return "ValueError" if unchanged else "ValueError, the parameters changed"
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        return f"{type(error).__name__}: {error}"
    return "ran"


def _exported_kernels():
    """The names in ``kernels.__all__`` that are functions (not bundles or modules)."""
    return {
        name
        for name in kernels.__all__
        if callable(getattr(kernels, name)) and not isinstance(getattr(kernels, name), type)
    }


def test_every_exported_kernel_has_its_wrong_size_cases():
    # a kernel added to __all__ must come with its cases here
    assert set(WRONG_SIZES) | set(NO_ARRAYS) == _exported_kernels()
    assert not set(WRONG_SIZES) & set(NO_ARRAYS)
    for name, (_, _, spoilers) in WRONG_SIZES.items():
        assert spoilers and set(spoilers) <= set(SPOILERS), name


def test_the_kernels_without_cases_take_numbers_only():
    for name, call in NO_ARRAYS.items():
        assert np.isfinite(call())
        kernel = getattr(kernels, name)
        for signature in getattr(kernel, "signatures", []):  # none without the JIT
            assert all(isinstance(t, (types.Number, types.Boolean)) for t in signature), name


CHILD_SCRIPT = r"""
import json, sys
sys.path[:0] = sys.argv[1:]
from test_kernel_checks import WRONG_SIZES, outcome
for kernel, (_, _, spoilers) in WRONG_SIZES.items():
    for spoiled in (None, *spoilers):
        print(json.dumps([kernel, spoiled]), flush=True)  # the case a crash stopped in
        print(json.dumps([kernel, spoiled, outcome(kernel, spoiled)]), flush=True)
"""


@pytest.mark.slow
def test_every_exported_kernel_refuses_sizes_that_do_not_fit(run_python):
    here = Path(__file__).resolve().parent
    result = run_python(
        f"import sys; sys.argv = ['-c', {str(here.parent)!r}, {str(here)!r}]\n" + CHILD_SCRIPT
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]
    assert result.returncode == 0, (result.returncode, lines[-1:], result.stderr[-3000:])
    outcomes = {(k, s): o for k, s, *o in lines if o}
    expected = {
        (kernel, spoiled): "ValueError" if spoiled else "ran"
        for kernel, (_, _, spoilers) in WRONG_SIZES.items()
        for spoiled in (None, *spoilers)
    }
    assert {case: o[0] for case, o in outcomes.items()} == expected


def test_the_unspoiled_call_trains():
    args = _training_call(lambda a, p, u: None)
    before = args["params"].copy()
    loss = WRONG_SIZES["train_epoch"][1](args)
    assert np.isfinite(loss) and not np.array_equal(args["params"], before)


def test_train_examples_refuses_csr_input():
    args = _training_call(lambda a, p, u: a.update(data=sparse_data(sp.csr_matrix(p["X"]))), 1)
    with pytest.raises(ValueError, match="dense X"):
        WRONG_SIZES["train_examples"][1](args)
