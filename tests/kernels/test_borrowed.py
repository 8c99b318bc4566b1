"""Borrowed views are the arrays they were made from, without the reference
count: same memory, shape and strides, reads and writes seen both ways, and
no atomic instruction for the views taken of them.

(The online path built on them is compared weight for weight with the
minibatch path in ``test_online.py``.)
"""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from numba_mlp.kernels.borrowed import borrowed
from numba_mlp.kernels.bundles import Problem


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


def _sum_of_rows(array):
    total = 0.0
    for i in range(array.shape[0]):
        total += array[i].sum()  # a view of each row: a reference counted
    return total


def _atomic_instructions(function, *args):
    """The atomic read-modify-write instructions in ``function``'s LLVM IR,
    compiled for ``args``: Numba counts references with them."""
    compiled = njit(function)
    compiled(*args)
    return compiled.inspect_llvm(compiled.signatures[0]).count("atomicrmw")


def test_views_of_a_borrowed_array_are_not_counted():
    array = np.ones((4, 3))
    assert _atomic_instructions(_sum_of_rows, array) > 0  # the count is there to remove

    def sum_of_rows_borrowed(array):
        return _sum_of_rows_jit(borrowed(array))

    assert _atomic_instructions(sum_of_rows_borrowed, array) == 0


_sum_of_rows_jit = njit(inline="always")(_sum_of_rows)


@njit
def _scale_borrowed_bundle(problem, factor):
    borrowed_problem = borrowed(problem)
    borrowed_problem.targets[:] *= factor
    return borrowed_problem.loss_code, borrowed_problem.alpha


def test_a_borrowed_bundle_has_the_same_arrays_and_settings():
    problem = Problem(np.ones((3, 2)), np.ones(3), 2, 0.5, 1e-10, 1.35, 0.5)
    assert _scale_borrowed_bundle(problem, 3.0) == (2, 0.5)
    np.testing.assert_array_equal(problem.targets, np.full((3, 2), 3.0))


def test_as_python_nothing_is_borrowed():
    # NUMBA_DISABLE_JIT runs the kernels as Python, where nothing is counted
    array = np.ones(3)
    problem = Problem(np.ones((3, 2)), array, 2, 0.5, 1e-10, 1.35, 0.5)
    assert borrowed(array) is array and borrowed(problem) is problem


def test_only_arrays_and_bundles_can_be_borrowed():
    @njit
    def borrow(value):
        return borrowed(value)

    with pytest.raises(TypingError):
        borrow(3.0)
