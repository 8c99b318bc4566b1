"""``blas.strided_product``: one BLAS call on views of larger matrices, the
product NumPy computes, written into exactly the view it is given; a matrix
BLAS cannot read as it is raises instead."""

import numpy as np
import pytest

from numba_mlp.kernels._jit import kernel
from numba_mlp.kernels.blas import strided_product

RNG = np.random.default_rng(11)


@kernel
def product_in_kernel(left, right, out):
    strided_product(left, right, out)


def views(dtype):
    """(name, left, right): operands laid out as the blocks of a product are,
    and others whose rows or columns are evenly spaced."""
    left = RNG.standard_normal((30, 40)).astype(dtype)
    right = RNG.standard_normal((40, 50)).astype(dtype)
    fortran_left, fortran_right = np.asfortranarray(left), np.asfortranarray(right)
    return [
        ("whole", left, right),
        ("transposed", left.T.copy().T, right.T.copy().T),
        ("rows of left", left[3:20], right),
        ("inner block", left[:, 5:30], right[5:30]),
        ("columns of right", left[:, 5:30], right[5:30, 7:41]),
        ("rows of a transposed left", fortran_left[2:9], fortran_right[:, 3:9]),
        ("every other row", left[::2], right),
        ("one row, one column", left[4:5], right[:, 6:7]),
        # an axis of length 1 made with None has a step of 0 (NumPy still
        # calls such an array contiguous, so the estimators pass it on)
        ("one column made with None", left[:, 0].copy()[:, None], right[:1]),
        ("one row made with None", left[0].copy()[None, :], right),
        ("empty inner size", left[:, :0], right[:0]),
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_product_of_views_lands_in_a_view_and_nowhere_else(dtype):
    for name, left, right in views(dtype):
        left_before, right_before = left.copy(), right.copy()
        expected = left.astype(np.float64) @ right.astype(np.float64)
        # the result is a view inside a larger matrix whose border must stay NaN
        frame = np.full((left.shape[0] + 4, right.shape[1] + 6), np.nan, dtype=dtype)
        out = frame[2:-2, 3:-3]
        product_in_kernel(left, right, out)
        tolerance = 1e-12 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance, err_msg=name)
        border = frame.copy()
        border[2:-2, 3:-3] = 0.0
        assert np.isnan(border).sum() == frame.size - out.size, name
        np.testing.assert_array_equal(left, left_before)
        np.testing.assert_array_equal(right, right_before)


def test_a_matrix_without_a_unit_stride_is_refused_before_blas_reads_it():
    left, right = RNG.standard_normal((6, 8)), RNG.standard_normal((8, 5))
    out = np.zeros((6, 5))
    for bad_left, bad_right in ((left[:, ::-1], right), (left, right[:, ::-1])):
        with pytest.raises(ValueError, match="unit stride"):
            product_in_kernel(bad_left, bad_right, out)
    np.testing.assert_array_equal(out, 0.0)
