"""The vectorisable elementary functions (kernels/elementary.py): accuracy,
edges, vectorisation.

- Accuracy: the maximum error in ulps of each function, float64 and float32,
  against mpmath at 40 digits, over a log-spaced sample of the whole float
  range (both signs, subnormals to the largest float) plus dense samples
  around each function's thresholds and range-reduction boundaries.
- Edges: +-0, +-inf, NaN, subnormals and the overflow and underflow
  thresholds give libm's results (``math`` and NumPy's float32 functions).
- Vectorisation: a loop calling each function, compiled with the kernels'
  flags, holds vector floating-point instructions and no call.

``python tests/kernels/test_elementary.py`` prints the maximum errors measured
over a sample 20 times larger (the table in docs/kernels.md; a few minutes).
"""

import math
import re

import numpy as np
import pytest
import scipy.special
from numba import njit

from numba_mlp.kernels import elementary
from numba_mlp.kernels._jit import FASTMATH_FLAGS

mp = pytest.importorskip("mpmath")

#: The largest error allowed, in ulps.
MAX_ULPS = {np.float64: 2.0, np.float32: 2.5}

DTYPES = [np.float64, np.float32]

LN2 = math.log(2.0)


def _logistic_exact(x):
    return 1 / (1 + mp.exp(-x))


def _logistic_libm(x):
    """libm's exp in the same overflow-free form (scipy's expit rounds to 0
    where the logistic is subnormal)."""
    e = np.exp(-np.abs(x))
    return np.where(x < 0, e, 1) / (1 + e)


# name -> (mpmath reference, libm reference taking a float64 or float32 array,
#          points around which the result changes regime, per dtype)
FUNCTIONS = {
    "exp": (
        mp.exp,
        np.exp,
        {
            np.float64: [709.782712893384, -708.3964185322641, -745.1332191019411, LN2 / 2,
                         -LN2 / 2, 1.5 * LN2, 0.0],
            np.float32: [88.72283, -87.33654, -103.97208, LN2 / 2, -LN2 / 2, 1.5 * LN2, 0.0],
        },
    ),
    "expm1": (
        mp.expm1,
        np.expm1,
        {
            np.float64: [709.782712893384, LN2 / 2, -LN2 / 2, 1.5 * LN2, -1.5 * LN2, -37.4,
                         2.0**-54, 0.0],
            np.float32: [88.72283, LN2 / 2, -LN2 / 2, 1.5 * LN2, -1.5 * LN2, -17.3,
                         2.0**-25, 0.0],
        },
    ),
    "log": (
        mp.log,
        np.log,
        {
            np.float64: [1.0, math.sqrt(0.5), math.sqrt(2.0), 2.0**-1022, 2.0],
            np.float32: [1.0, math.sqrt(0.5), math.sqrt(2.0), 2.0**-126, 2.0],
        },
    ),
    "log1p": (
        mp.log1p,
        np.log1p,
        {
            np.float64: [0.0, -1.0 + 2.0**-20, math.sqrt(2.0) - 1, math.sqrt(0.5) - 1, 1.0,
                         2.0**53, -0.5],
            np.float32: [0.0, -1.0 + 2.0**-10, math.sqrt(2.0) - 1, math.sqrt(0.5) - 1, 1.0,
                         2.0**24, -0.5],
        },
    ),
    "tanh": (
        mp.tanh,
        np.tanh,
        {
            np.float64: [0.7, -0.7, 19.06, 2.0**-54, 0.0, LN2 / 4],
            np.float32: [0.7, -0.7, 9.01, 2.0**-25, 0.0, LN2 / 4],
        },
    ),
    "logistic": (
        _logistic_exact,
        _logistic_libm,
        {
            np.float64: [0.0, 36.7, -708.4, -745.13, LN2 / 2, -LN2 / 2],
            np.float32: [0.0, 16.6, -87.3, -103.97, LN2 / 2, -LN2 / 2],
        },
    ),
    "erf": (
        mp.erf,
        scipy.special.erf,
        {
            np.float64: [1.0, -1.0, 5.92, 6.0, 0.0, 2.0**-1022],
            np.float32: [1.0, -1.0, 3.92, 4.0, 0.0, 2.0**-126],
        },
    ),
}  # fmt: skip


def _loop_of(name):
    """A loop applying ``elementary.<name>`` to an array, compiled as the kernels are."""
    function = getattr(elementary, name)

    @njit(fastmath=FASTMATH_FLAGS, error_model="numpy", nogil=True)
    def apply(x, out):
        for i in range(x.shape[0]):
            out[i] = function(x[i])

    return apply


_LOOPS = {}


def compiled(name, x):
    """``elementary.<name>`` of every element of ``x``, in x's dtype."""
    if name not in _LOOPS:
        _LOOPS[name] = _loop_of(name)
    out = np.empty_like(x)
    _LOOPS[name](x, out)
    return out


def sample(name, dtype, n_log=1500, n_dense=60, seed=0):
    """Arguments for ``name``: log-spaced magnitudes from the smallest subnormal
    to the largest float, both signs, uniform draws where the function varies,
    and the floats within a few ulps and within 1e-3 of each threshold."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    magnitudes = np.exp(
        rng.uniform(np.log(float(info.smallest_subnormal)), np.log(float(info.max)), n_log)
    )
    points = [magnitudes, -magnitudes, rng.uniform(-4.0, 4.0, n_log)]
    for centre in FUNCTIONS[name][2][dtype]:
        c = dtype(centre)
        points.append(c * (1.0 + rng.uniform(-1e-3, 1e-3, n_dense)))
        nearby = [c]
        for _ in range(8):
            nearby = [np.nextafter(nearby[0], dtype(-np.inf)), *nearby,
                      np.nextafter(nearby[-1], dtype(np.inf))]  # fmt: skip
        points.append(np.array(nearby, dtype=np.float64))
    x = np.concatenate(points).astype(dtype)
    if name == "log":
        x = np.abs(x)
    if name == "log1p":
        x = np.concatenate([x[x >= -1], rng.uniform(-1.0, 0.0, n_log).astype(dtype)])
    return x[np.isfinite(x)]


def ulp_errors(computed, x, exact_function, dtype):
    """|computed - exact| in units of the last place of the exact value in ``dtype``
    (subnormal spacing below the smallest normal); 0 for a correctly
    overflowed infinity, inf for any other non-finite result."""
    info = np.finfo(dtype)
    precision = info.nmant + 1
    largest = mp.mpf(float(info.max))
    errors = np.empty(len(x))
    with mp.workdps(40):
        for i, (value, argument) in enumerate(zip(computed.tolist(), x.tolist())):
            exact = exact_function(mp.mpf(argument))
            if abs(exact) > largest * (1 + mp.mpf(2) ** -precision):
                errors[i] = 0.0 if value == math.copysign(math.inf, exact) else math.inf
                continue
            if not math.isfinite(value):
                errors[i] = math.inf
                continue
            if exact == 0:
                errors[i] = 0.0 if value == 0 else math.inf
                continue
            exponent = max(int(mp.floor(mp.log(abs(exact), 2))), info.minexp)
            errors[i] = float(abs(mp.mpf(value) - exact) / mp.ldexp(1, exponent - precision + 1))
    return errors


def measured_max_ulps(name, dtype, n_log=1500):
    """(maximum error in ulps, argument where it is reached) over ``sample``."""
    x = sample(name, dtype, n_log=n_log, n_dense=n_log // 25)
    errors = ulp_errors(compiled(name, x), x, FUNCTIONS[name][0], dtype)
    worst = int(np.argmax(errors))
    return errors[worst], x[worst]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_maximum_error_in_ulps(name, dtype):
    worst, where = measured_max_ulps(name, dtype)
    assert worst <= MAX_ULPS[dtype], f"{name}({where!r}) is {worst:.3f} ulps off"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_result_has_the_argument_dtype(name, dtype):
    assert compiled(name, np.ones(3, dtype=dtype)).dtype == dtype


def edge_arguments(name, dtype):
    """+-0, +-inf, NaN, the smallest subnormals and normals, the largest float,
    and the floats on either side of each threshold."""
    info = np.finfo(dtype)
    tiny_values = [info.smallest_subnormal, 3 * info.smallest_subnormal, info.smallest_normal]
    values = [0.0, np.inf, np.nan, info.max, *tiny_values]
    for centre in FUNCTIONS[name][2][dtype]:
        c = dtype(centre)
        values += [np.nextafter(c, dtype(-np.inf)), c, np.nextafter(c, dtype(np.inf))]
    values = np.array(values, dtype=dtype)
    return np.concatenate([values, -values])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_edges_as_libm(name, dtype):
    x = edge_arguments(name, dtype)
    with np.errstate(all="ignore"):
        expected = FUNCTIONS[name][1](x).astype(dtype)
        got = compiled(name, x)
    special = ~np.isfinite(expected) | (expected == 0)
    # infinities, NaNs and zeros exactly, the sign of a zero included
    np.testing.assert_array_equal(got[special], expected[special], err_msg=name)
    assert (np.signbit(got[special]) == np.signbit(expected[special]))[
        ~np.isnan(expected[special])
    ].all(), (name, x[special], got[special])
    # every finite value (subnormals included) within the bound of the exact one
    finite = ~special
    errors = ulp_errors(got[finite], x[finite], FUNCTIONS[name][0], dtype)
    assert errors.max() <= MAX_ULPS[dtype], (name, x[finite][np.argmax(errors)])


@pytest.mark.parametrize(
    ("dtype", "vector"), [(np.float64, "double"), (np.float32, "float")], ids=["float64", "float32"]
)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_loop_compiles_to_vector_instructions(name, dtype, vector):
    compiled(name, np.ones(4, dtype=dtype))
    (llvm,) = [
        ir
        for signature, ir in _LOOPS[name].inspect_llvm().items()
        if str(signature[0].dtype) == np.dtype(dtype).name
    ]
    # the loop's body: vector operations on floats of the argument's dtype ...
    assert re.search(rf"fmul (?:\w+ )*<(?:4|8|16) x {vector}>", llvm), name
    # ... and no call left, to the C library or to a function of elementary.py
    calls = set(re.findall(r"call [^@]*@([\w.]+)\(", llvm))
    assert not {c for c in calls if re.search("exp|log|tanh|erf|polynomial|power|reduce", c)}, calls


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_python_calls_run_the_formula_as_accurately(name, dtype):
    # as the kernels do with NUMBA_DISABLE_JIT=1. Not bit for bit the compiled
    # results: the compilation fuses multiply-adds, which can move the
    # reduction's rounding of x / ln 2 at a half.
    x = np.concatenate([sample(name, dtype, n_log=40, n_dense=2), edge_arguments(name, dtype)])
    with np.errstate(all="ignore"):
        in_python = np.array([getattr(elementary, name)(v) for v in x])
    assert in_python.dtype == dtype
    got = compiled(name, x)
    special = ~np.isfinite(got) | (got == 0)
    np.testing.assert_array_equal(in_python[special], got[special])
    signed = special & ~np.isnan(got)
    assert (np.signbit(in_python[signed]) == np.signbit(got[signed])).all()
    errors = ulp_errors(in_python[~special], x[~special], FUNCTIONS[name][0], dtype)
    assert errors.max() <= MAX_ULPS[dtype], x[~special][np.argmax(errors)]


if __name__ == "__main__":
    # the test's sample, 20 times larger
    print("| function | float64 max ulps | float32 max ulps |")
    print("|---|---|---|")
    for function_name in FUNCTIONS:
        cells = [f"{measured_max_ulps(function_name, dt, n_log=30_000)[0]:.2f}" for dt in DTYPES]
        print(f"| `{function_name}` | {cells[0]} | {cells[1]} |")
