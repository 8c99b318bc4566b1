"""Borrowed views are the arrays they were made from, without the reference
count: same memory, shape and strides, reads and writes seen both ways, and
no reference counts for the views taken of them.

(The online path built on them is compared weight for weight with the
minibatch path in ``test_online.py``.)
"""

import re

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


def _sum_of_row_views(array):
    views = [array[i] for i in range(array.shape[0])]  # a reference counted per view
    total = 0.0
    for view in views:  # and per view fetched from the list
        total += view.sum()
    return total


def _reference_counts(function, *args):
    """The reference counts in the body of ``function`` compiled for ``args``:
    the calls of Numba's NRT_incref and NRT_decref, and any atomic instruction
    inlined in their place.

    Only the function's own body is read: the module also holds Numba's
    wrapper for Python callers, and some Numba versions (0.60) the definitions
    of NRT_incref and NRT_decref, whose atomic instructions are there whatever
    the function does."""
    compiled = njit(function)
    compiled(*args)
    module = compiled.inspect_llvm(compiled.signatures[0])
    bodies = [
        body.group(0)
        for body in re.finditer(r"^define [^@]*@(\S+?)\(.*?^}", module, flags=re.S | re.M)
        if function.__name__ in body.group(1)
        and not body.group(1).startswith(("_ZN7cpython", "cpython.", "cfunc.", "NRT_"))
    ]
    assert len(bodies) == 1, [b.splitlines()[0] for b in bodies]
    return sum(bodies[0].count(op) for op in ("@NRT_incref(", "@NRT_decref(", "atomicrmw"))


def test_views_of_a_borrowed_array_are_not_counted():
    array = np.ones((4, 3))
    counted = _reference_counts(_sum_of_row_views, array)
    assert counted > 0  # the counts are there to remove

    def sum_of_borrowed_row_views(array):
        return _sum_of_row_views_jit(borrowed(array))

    # what is left counts the list itself, which the kernel allocated
    left = _reference_counts(sum_of_borrowed_row_views, array)
    assert left < counted
    assert _sum_of_row_views_jit(borrowed(array)) == array.sum()


_sum_of_row_views_jit = njit(inline="always")(_sum_of_row_views)


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
