"""The three sums of a layer (``products``) against NumPy's products, for the
shapes small enough to run as loops (one node, one input, one sample) and
for ones BLAS takes."""

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
