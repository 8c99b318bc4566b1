"""One BLAS matrix product on parts of larger matrices, without copying them.

``np.dot`` in a kernel needs contiguous arrays: a block of a matrix's
columns, or of a transposed matrix's rows, is copied before BLAS sees it.
BLAS itself reads any block whose rows (or columns) are evenly spaced: it
takes a pointer to the first element and the distance between rows (the
*leading dimension*). ``strided_product`` hands the blocks to BLAS so, through
the same GEMM that Numba's ``np.dot`` calls (SciPy's BLAS, reached through
Numba's ``numba_xxgemm``).
"""

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.linalg import _BLAS, get_blas_kind
from numba.np.numpy_support import as_dtype

from ._jit import kernel

NOT_TRANSPOSED = ord("n")
TRANSPOSED = ord("t")


def strided_product(left, right, out):
    """out = left @ right, in one BLAS call when every matrix has a unit stride."""
    out[...] = left @ right  # as Python (NUMBA_DISABLE_JIT): any views


@kernel(inline=True)
def submatrix(matrix, rows, columns):
    """The view ``matrix[rows[0]:rows[1], columns[0]:columns[1]]``, typed as a
    matrix of any strides (the explicit step makes Numba's layout 'A'), so
    that one compilation of ``strided_product`` serves every block of every
    product, whatever the layouts of the matrices it is cut from."""
    return matrix[rows[0] : rows[1] : 1, columns[0] : columns[1] : 1]


@kernel(inline=True)
def _layout(matrix, item_size):
    """How BLAS reads ``matrix`` as BLAS's column-major operand of the
    transposed product (``out.T = right.T @ left.T``): (transposed, leading
    dimension), or (0, 0) when its elements are not laid out so."""
    n_rows, n_columns = matrix.shape
    row_step, column_step = matrix.strides
    if column_step == item_size and row_step >= item_size * max(1, n_columns):
        return NOT_TRANSPOSED, row_step // item_size
    if row_step == item_size and column_step >= item_size * max(1, n_rows):
        return TRANSPOSED, column_step // item_size
    return 0, 0


@overload(strided_product, jit_options={"nogil": True})
def _strided_product(left, right, out):
    if not all(isinstance(a, types.Array) and a.ndim == 2 for a in (left, right, out)):
        raise TypingError("strided_product takes three matrices")
    if not left.dtype == right.dtype == out.dtype:
        raise TypingError("strided_product takes matrices of one dtype")
    gemm = _BLAS().numba_xxgemm(out.dtype)
    kind = ord(get_blas_kind(out.dtype, "strided_product"))
    dtype = as_dtype(out.dtype)

    def product(left, right, out):
        n_rows, n_columns = out.shape
        inner = left.shape[1]
        if n_rows == 0 or n_columns == 0:
            return
        if inner == 0:
            out[:, :] = 0.0
            return
        item_size = out.itemsize
        # BLAS is column-major: a row-major matrix is, to it, its transpose
        right_trans, right_step = _layout(right, item_size)
        left_trans, left_step = _layout(left, item_size)
        out_trans, out_step = _layout(out, item_size)
        if right_trans == 0 or left_trans == 0 or out_trans != NOT_TRANSPOSED:
            raise ValueError("strided_product: a matrix without a unit stride")
        scalars = np.array((1.0, 0.0), dtype=dtype)  # alpha, beta: out = 1 * product + 0 * out
        status = gemm(
            kind, right_trans, left_trans, n_columns, n_rows, inner,
            scalars.ctypes, right.ctypes, right_step, left.ctypes, left_step,
            scalars[1:].ctypes, out.ctypes, out_step,
        )  # fmt: skip
        if status != 0:
            raise RuntimeError("no BLAS GEMM: SciPy's BLAS could not be loaded")

    return product
