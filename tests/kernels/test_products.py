"""The three sums of a layer (``products``) against NumPy's products, for the
shapes small enough to run as loops (one node, one input, one sample) and
for ones BLAS takes."""

import json

import numpy as np
import pytest

from numba_mlp.kernels.bundles import WHOLE
from numba_mlp.kernels.products import SMALL_PRODUCT, back_signals, gradient_sums, weighted_sums

RNG = np.random.default_rng(5)

# (samples, nodes in, nodes out): loops, one node out, one node in, one
# sample, and a product large enough for BLAS
SHAPES = [(3, 7, 5), (4, 9, 1), (6, 1, 8), (1, 20, 32), (1, 32, 1), (64, 40, 30)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_layer_sums_are_numpys_products(shape, dtype):
    n_rows, fan_in, fan_out = shape
    inputs = RNG.standard_normal((n_rows, fan_in)).astype(dtype)
    weights = RNG.standard_normal((fan_in, fan_out)).astype(dtype)
    deltas = RNG.standard_normal((n_rows, fan_out)).astype(dtype)
    as64 = [a.astype(np.float64) for a in (inputs, weights, deltas)]
    expected = {
        "weighted": as64[0] @ as64[1],
        "back": as64[2] @ as64[1].T,
        "gradient": as64[0].T @ as64[2],
    }
    found = {
        "weighted": np.full((n_rows, fan_out), np.nan, dtype),
        "back": np.full((n_rows, fan_in), np.nan, dtype),
        "gradient": np.full((fan_in, fan_out), np.nan, dtype),
    }
    weighted_sums(inputs, weights, found["weighted"], WHOLE)
    back_signals(deltas, weights, found["back"], WHOLE)
    gradient_sums(inputs, deltas, found["gradient"], WHOLE)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for name, out in found.items():
        assert out.dtype == dtype
        np.testing.assert_allclose(out, expected[name], rtol=tolerance, atol=tolerance,
                                   err_msg=name)  # fmt: skip


def test_the_shapes_reach_both_ways():
    sizes = [n_rows * fan_in * fan_out for n_rows, fan_in, fan_out in SHAPES]
    assert min(sizes) < SMALL_PRODUCT <= max(sizes)


PRODUCTS_OF_EVERY_KIND = """
import json
import numpy as np
from numba_mlp.kernels.bundles import Blocks, WHOLE
from numba_mlp.kernels.products import back_signals, gradient_sums, product_in_blocks, weighted_sums

rng = np.random.default_rng(0)
for dtype in (np.float64, np.float32):
    X = rng.standard_normal((3000, 40)).astype(dtype)
    X.setflags(write=False)  # as the estimator hands X to the kernels
    weights = rng.standard_normal((40, 30)).astype(dtype)
    nodes = np.empty((3000, 30), dtype=dtype)
    for blocks in (WHOLE, Blocks(4, False)):
        weighted_sums(X, weights, nodes, blocks)  # read-only inputs
        weighted_sums(nodes, weights[:30], np.empty((3000, 30), dtype), blocks)
        back_signals(nodes, weights, np.empty((3000, 40), dtype), blocks)  # weights.T
        gradient_sums(X, nodes, np.empty((40, 30), dtype), blocks)  # X.T
print(json.dumps([[str(a.dtype), a.layout, not a.mutable] for s in product_in_blocks.signatures
                  for a in s[:3]]))
"""


@pytest.mark.slow
def test_every_product_shares_one_compilation_per_dtype(run_python, tmp_path):
    """Read-only X, writable buffers and transposed views, as a fit meets
    them, all run through one compilation of the block products per dtype
    (``kernels.retyped``): a layout or read-only flag of their own would
    compile it, and everything below it, again. A fresh cache, so that the
    kernels compile here."""
    result = run_python(PRODUCTS_OF_EVERY_KIND, env={"NUMBA_CACHE_DIR": tmp_path / "cache"})
    assert result.returncode == 0, result.stderr[-3000:]
    arrays = json.loads(result.stdout.strip().splitlines()[-1])
    assert arrays == [["float64", "A", False]] * 3 + [["float32", "A", False]] * 3
