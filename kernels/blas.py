"""One BLAS matrix product on parts of larger matrices, without copying them.

``np.dot`` in a kernel needs contiguous arrays: a block of a matrix's
columns, or of a transposed matrix's rows, is copied before BLAS sees it.
BLAS itself reads any block whose rows (or columns) are evenly spaced: it
takes a pointer to the first element and the distance between rows (the
*leading dimension*). ``strided_product`` hands the blocks to BLAS so, through
the same GEMM that Numba's ``np.dot`` calls (SciPy's BLAS, reached through
Numba's ``numba_xxgemm``).

That GEMM is reached through Numba's private ``numba.np.linalg._BLAS``. A
Numba without it gets ``np.dot`` on contiguous copies of the blocks (one
``NumbaInternalsWarning``): the same product, a copy of each block slower,
and any views accepted.
"""

import numba
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from ._cache import NumbaInternalsWarning, warn_once
from ._jit import kernel

#: The largest size or leading dimension BLAS's (32-bit) integers hold.
MAX_BLAS_INT = 2**31 - 1

NOT_TRANSPOSED = ord("n")
TRANSPOSED = ord("t")


def strided_product(left, right, out):
    """out = left @ right, in one BLAS call; compiled, it raises ValueError for
    a matrix without a unit stride (as Python, any views will do)."""
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
    dimension), or (0, 0) when its elements are not laid out so.

    The step along an axis of length 1 is never taken, and may be anything
    (NumPy gives ``x[:, None]`` a step of 0): there the leading dimension is
    the least BLAS accepts."""
    n_rows, n_columns = matrix.shape
    row_step, column_step = matrix.strides
    if row_step % item_size or column_step % item_size:
        return 0, 0
    least_by_rows, least_by_columns = max(1, n_columns), max(1, n_rows)
    rows_apart = row_step // item_size if n_rows > 1 else least_by_rows
    columns_apart = column_step // item_size if n_columns > 1 else least_by_columns
    if (column_step == item_size or n_columns == 1) and rows_apart >= least_by_rows:
        return NOT_TRANSPOSED, rows_apart
    if (row_step == item_size or n_rows == 1) and columns_apart >= least_by_columns:
        return TRANSPOSED, columns_apart
    return 0, 0


@overload(strided_product, jit_options={"nogil": True})
def _strided_product(left, right, out):
    if not all(isinstance(a, types.Array) and a.ndim == 2 for a in (left, right, out)):
        raise TypingError("strided_product takes three matrices")
    if not left.dtype == right.dtype == out.dtype:
        raise TypingError("strided_product takes matrices of one dtype")
    # imported when a kernel is compiled, not when the package is: a kernel
    # loaded from the cache needs none of it
    try:
        from numba.np.linalg import _BLAS, get_blas_kind

        gemm = _BLAS().numba_xxgemm(out.dtype)
    except (ImportError, AttributeError):
        warn_once(
            "strided_product",
            f"numba {numba.__version__} lacks numba.np.linalg._BLAS.numba_xxgemm: "
            "large products are computed by np.dot on contiguous copies of their "
            "blocks (the same results, a copy slower)",
            NumbaInternalsWarning,
        )
        return _product_of_copies
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
        if max(n_rows, n_columns, inner, right_step, left_step, out_step) > MAX_BLAS_INT:
            raise ValueError("strided_product: a size too large for BLAS's 32-bit integers")
        scalars = np.array((1.0, 0.0), dtype=dtype)  # alpha, beta: out = 1 * product + 0 * out
        status = gemm(
            kind, right_trans, left_trans, n_columns, n_rows, inner,
            scalars.ctypes, right.ctypes, right_step, left.ctypes, left_step,
            scalars[1:].ctypes, out.ctypes, out_step,
        )  # fmt: skip
        if status != 0:
            raise RuntimeError("no BLAS GEMM: SciPy's BLAS could not be loaded")

    return product


def _product_of_copies(left, right, out):
    """``strided_product`` through ``np.dot``, which takes contiguous arrays only."""
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    if left.shape[1] == 0:
        out[:, :] = 0.0
        return
    out[:, :] = np.dot(np.ascontiguousarray(left), np.ascontiguousarray(right))
