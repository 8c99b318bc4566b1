"""Borrowed views are the arrays they were made from, without the reference
count: same memory, shape and strides, reads and writes seen both ways.

(The online path built on them is compared weight for weight with the
minibatch path in ``test_online.py``.)
"""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from numba_mlp.kernels.borrowed import borrowed


@njit
def _write_through_borrowed(array, row, value):
    view = borrowed(array)
    view[row] = value
    return view.shape == array.shape and view.strides == array.strides


@njit
def _sum_of_rows_of_borrowed(array):
    view = borrowed(array)
    total = 0.0
    for i in range(view.shape[0]):
        total += view[i].sum()
    return total


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(12.0).reshape(3, 4),
        lambda: np.arange(24.0).reshape(6, 4)[::2],  # rows two apart
        lambda: np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    ],
    ids=["C-ordered", "strided", "Fortran-ordered"],
)
def test_a_borrowed_view_is_the_same_array(make):
    array = make()
    expected = array.copy()
    expected[1] = -7.0
    assert _write_through_borrowed(array, 1, -7.0)
    np.testing.assert_array_equal(array, expected)
    assert _sum_of_rows_of_borrowed(array) == expected.sum()


def test_only_arrays_can_be_borrowed():
    @njit
    def borrow(value):
        return borrowed(value)

    with pytest.raises(TypingError):
        borrow(3.0)
