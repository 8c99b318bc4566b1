"""Elementary functions that vectorise: exp, expm1, log, log1p, tanh, the logistic, erf.

Numba compiles ``math.exp``, ``np.exp``, ``math.tanh``, ``math.log1p`` and their kin
to one call of the C library (libm) per element. LLVM cannot vectorise a loop
around such a call, so a layer of tanh nodes costs several times a layer of
ReLUs, and every softmax output node pays the same. The functions here are
the textbook algorithms written out in arithmetic, with no call and no
data-dependent branch: every edge case (infinity, NaN, overflow, underflow,
-0.0) is a ``select`` on the finished value, so a loop that calls them
compiles to vector instructions.

The methods:

- ``exp``, ``expm1``: Cody and Waite's reduction x = k ln 2 + r, |r| <= ln(2)/2,
  with ln 2 split in two parts as in fdlibm (Cephes' split for float32);
  e^r - 1 by its Taylor polynomial (to r^13/13! in float64, r^8/8! in
  float32), then e^x = 2^k (1 + (e^r - 1)) and
  e^x - 1 = 2^k (e^r - 1) + (2^k - 1), which loses nothing to cancellation
  for small x. 2^k is built in the exponent bits, in two factors so that
  results in the subnormal range round once.
- ``log``, ``log1p``: fdlibm's method. x = 2^k m with m in [sqrt(2)/2, sqrt(2))
  (read from the bits), f = m - 1, s = f / (2 + f), and
  log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), R fdlibm's minimax polynomial
  (FreeBSD's shorter one for float32). ``log1p`` takes the logarithm of
  u = 1 + x and adds the rounding error of that sum, (1 + x - u) / u, as
  fdlibm's ``log1p`` does.
- ``tanh``: below |x| = 0.7, x + x g(x^2) with g a polynomial fit to
  tanh(x)/x - 1; above, fdlibm's 1 - 2 / (expm1(2|x|) + 2), with the sign
  of x.
- ``logistic``: 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, one
  exp of -|x| for both, so neither side overflows; below zero the rounding
  error of 1 + e^x (exact by Fast2Sum) corrects the quotient.
- ``erf``: for |x| < 1, x + x g(x^2) with g a polynomial fit to
  erf(sqrt t)/sqrt t - 1 on [0, 1]; above, 1 - e^(-x^2) h(x) with h a
  polynomial fit to erfc(x) e^(x^2), on [1, 6] in float64 ([1, 4] in float32, beyond which erf
  rounds to 1), weighted by e^(-x^2) so that the fit is tight where erfc is
  not small beside 1. These coefficients (erf's and tanh's) are
  least-squares fits at Chebyshev nodes in 50-digit arithmetic (mpmath),
  rounded to the dtype. Both sides are computed and one is selected per
  element, as SLEEF does, so the loop stays branch-free.

Each function is one generic formula with a set of constants per dtype
(``FLOAT64``, ``FLOAT32``): a float32 argument is computed in float32 with
fewer terms, at float32's vector width. The dtype is chosen when the caller
is compiled (``numba.extending.overload``). Called from Python (and in
kernels run as Python, ``NUMBA_DISABLE_JIT=1``), each function runs the same
implementation on NumPy scalars.

Every function is compiled with its own floating-point flags, not its
caller's: ``contract`` only (a multiply and an add may be fused into one
rounding), never reassociation, which would fold the rounding
constant of the reduction away or undo the split of ln 2. LLVM's
``alwaysinline`` (``forceinline``) pastes each one into its caller after
compilation, keeping those flags, so that the caller's loop sees plain
arithmetic; the pieces they share (the reduction, Horner's rule) are pasted
into them by Numba before compilation, under the same flags.

The accuracy, in ulps against mpmath over the whole float range, is measured
by ``tests/kernels/test_elementary.py`` and listed in ``docs/kernels.md``.
"""

import functools
import math
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, typeof, types
from numba.extending import intrinsic, overload

#: How each elementary function is compiled (and inlined into its callers).
ELEMENTARY_JIT = {
    "fastmath": {"contract"},
    "forceinline": True,
    "nogil": True,
    "error_model": "numpy",
}
#: How the pieces they share are compiled (pasted into them, ``piece``).
PIECE_JIT = {"fastmath": {"contract"}, "nogil": True, "error_model": "numpy"}


class Constants(NamedTuple):
    """The constants of every function for one float dtype."""

    zero: object
    one: object
    two: object
    half: object
    infinity: object
    nan: object
    # the floats' layout
    mantissa_bits: int
    exponent_bias: int
    max_exponent: int
    min_normal: object
    # x that every function returning x + O(x^2) rounds to x
    tiny: object
    # the reduction x = k ln 2 + r
    round_shift: object  # 1.5 * 2^mantissa_bits: adding it rounds to an integer
    log2_e: object
    ln2_high: object  # few bits, so k * ln2_high is exact
    ln2_low: object
    # e^r - 1 = r + r^2 P(r), Taylor coefficients from the highest
    expm1_terms: tuple
    exp_min: object  # e^x rounds to 0 below
    exp_max: object  # e^x overflows above
    expm1_min: object  # e^x - 1 rounds to -1 below
    # log(1 + f) = f - f^2/2 + s (f^2/2 + z P(z)), z = s^2, coefficients from the highest
    log_terms: tuple
    sqrt_half_bits: int  # the bits of sqrt(1/2): log's reduction puts m at or above it
    subnormal_scale: object  # 2^subnormal_shift lifts a subnormal into the normal range
    subnormal_shift: int
    # tanh: x + x g(x^2) below tanh_split, g a polynomial in x^2 / tanh_half_width - 1
    tanh_small_terms: tuple
    tanh_inverse_half_width: object
    tanh_split: object
    # erf: x + x g(x^2) below 1, g a polynomial in 2x^2 - 1; 1 - e^(-x^2) h(x) above,
    # h a polynomial in (x - erf_center) / erf_half_width
    erf_small_terms: tuple
    erf_large_terms: tuple
    erf_center: object
    erf_inverse_half_width: object
    erf_max: object  # erf(x) rounds to 1 above


FLOAT64 = Constants(
    zero=0.0,
    one=1.0,
    two=2.0,
    half=0.5,
    infinity=math.inf,
    nan=math.nan,
    mantissa_bits=52,
    exponent_bias=1023,
    max_exponent=1023,
    min_normal=2.0**-1022,
    tiny=2.0**-54,
    round_shift=1.5 * 2.0**52,
    log2_e=1.0 / math.log(2.0),
    ln2_high=6.93147180369123816490e-01,
    ln2_low=1.90821492927058770002e-10,
    expm1_terms=tuple(1.0 / math.factorial(n) for n in range(13, 1, -1)),
    exp_min=-746.0,
    exp_max=710.0,
    expm1_min=-40.0,
    log_terms=(
        1.479819860511658591e-01,
        1.531383769920937332e-01,
        1.818357216161805012e-01,
        2.222219843214978396e-01,
        2.857142874366239149e-01,
        3.999999999940941908e-01,
        6.666666666666735130e-01,
    ),
    sqrt_half_bits=0x3FE6A09E667F3BCD,
    subnormal_scale=2.0**54,
    subnormal_shift=54,
    tanh_small_terms=(
        -2.0256498852897178e-14, 2.238018448538999e-13, -2.4068180508708323e-12,
        2.6647432235122144e-11, -2.9511187034391847e-10, 3.2671890182576408e-09,
        -3.617106594802972e-08, 4.0045090521744386e-07, -4.43341411502753e-06,
        4.908355646729867e-05, -0.0005435091146085547, 0.006027100700408698,
        -0.06776075163326901, -0.07438531863243897,
    ),
    tanh_inverse_half_width=1.0 / 0.245,
    tanh_split=0.7,
    erf_small_terms=(
        -3.8078827395263415e-13, 9.211251258348265e-12, -2.035228404899467e-10,
        4.115751497588646e-09, -7.51156928660089e-08, 1.2233827638116999e-06,
        -1.7537169441124826e-05, 0.00021751715603563404, -0.0022854855611441132,
        0.019852496688984218, -0.1405360890227171, 0.9654687386698673 - 1.0,
    ),
    erf_large_terms=(
        -4.6550247709912024e-05, -0.00030469142368617913, -0.0009036664403600674,
        -0.0014773516795248594, -0.0013233682968100172, -0.0002881981041679986,
        0.0006479947877834917, 0.0008792126103441283, 0.00023678268458466296,
        0.0001725931979672902, -0.0005618316680967901, 0.0007681553377768347,
        -0.001534751571629678, 0.002809354801112592, -0.005025941945537224,
        0.008833571012865506, -0.015182584036648034, 0.02549554189318269,
        -0.04176678901755872, 0.0666320825791328, -0.10330894456973855,
        0.15529365560908334,
    ),
    erf_center=3.5,
    erf_inverse_half_width=1.0 / 2.5,
    erf_max=6.0,
)  # fmt: skip

_f32 = np.float32

FLOAT32 = Constants(
    zero=_f32(0.0),
    one=_f32(1.0),
    two=_f32(2.0),
    half=_f32(0.5),
    infinity=_f32(math.inf),
    nan=_f32(math.nan),
    mantissa_bits=23,
    exponent_bias=127,
    max_exponent=127,
    min_normal=_f32(2.0**-126),
    tiny=_f32(2.0**-25),
    round_shift=_f32(1.5 * 2.0**23),
    log2_e=_f32(1.0 / math.log(2.0)),
    ln2_high=_f32(0.693359375),
    ln2_low=_f32(-2.12194440e-4),
    expm1_terms=tuple(_f32(1.0 / math.factorial(n)) for n in range(8, 1, -1)),
    exp_min=_f32(-104.0),
    exp_max=_f32(89.0),
    expm1_min=_f32(-20.0),
    log_terms=tuple(
        _f32(c) for c in (0.24279078841, 0.28498786688, 0.40000972152, 0.66666662693)
    ),
    sqrt_half_bits=0x3F3504F3,
    subnormal_scale=_f32(2.0**24),
    subnormal_shift=24,
    tanh_small_terms=tuple(_f32(c) for c in (
        4.0706100890020025e-07, -4.497383542911848e-06, 4.90794081997592e-05,
        -0.000543477013707161, 0.006027101539075375, -0.06776075810194016,
        -0.07438531517982483,
    )),
    tanh_inverse_half_width=_f32(1.0 / 0.245),
    tanh_split=_f32(0.7),
    erf_small_terms=tuple(_f32(c) for c in (
        1.2316402262513293e-06, -1.7669080989435315e-05, 0.00021751198801212013,
        -0.002285419497638941, 0.019852498546242714, -0.1405360996723175,
        0.9654687643051147 - 1.0,
    )),
    erf_large_terms=tuple(_f32(c) for c in (
        -0.0010251032654196024, -0.0012808883329853415, -0.0020347514655441046,
        0.002721776021644473, -0.004930512513965368, 0.012711744755506516,
        -0.027020610868930817, 0.05608997866511345, -0.1115235909819603,
        0.21080638468265533,
    )),
    erf_center=_f32(2.5),
    erf_inverse_half_width=_f32(1.0 / 1.5),
    erf_max=_f32(4.0),
)  # fmt: skip


def piece(function):
    """``function`` as written when called from Python, and pasted by Numba into
    the compiled functions that call it."""

    @functools.wraps(function)  # the signature Numba checks the implementation against
    def implementation(*argument_types):
        return function

    overload(function, jit_options=PIECE_JIT, inline="always")(implementation)
    return function


def constants_for(float_type):
    """The constants for a Numba float type (float32's for float32, else float64's)."""
    return FLOAT32 if float_type == types.float32 else FLOAT64


# ---------------------------------------------------------------------------
# the bits of a float, and the pieces every function shares
# ---------------------------------------------------------------------------


def as_bits(x):
    """The bits of float ``x`` as a signed integer of its width."""
    return np.asarray(x).view(np.int32 if isinstance(x, np.float32) else np.int64)[()]


def from_bits(bits, like):
    """The float of ``like``'s type whose bits are the low bits of ``bits``."""
    if isinstance(like, np.float32):
        return np.asarray(np.int64(bits) & 0xFFFFFFFF).astype(np.uint32).view(np.float32)[()]
    return np.asarray(bits).astype(np.int64).view(np.float64)[()]


def to_float(integer, like):
    """``integer`` converted to ``like``'s float type."""
    return type(like)(integer)


@intrinsic
def _bitcast_to_integer(typingctx, x):
    width = x.bitwidth
    signature = (types.int64 if width == 64 else types.int32)(x)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(width))

    return signature, codegen


@intrinsic
def _bitcast_to_float(typingctx, bits, like):
    signature = like(bits, like)

    def codegen(context, builder, signature, args):
        value = args[0]
        if bits.bitwidth > like.bitwidth:
            value = builder.trunc(value, ir.IntType(like.bitwidth))
        return builder.bitcast(value, context.get_value_type(like))

    return signature, codegen


@intrinsic
def _integer_to_float(typingctx, integer, like):
    signature = like(integer, like)

    def codegen(context, builder, signature, args):
        return builder.sitofp(args[0], context.get_value_type(like))

    return signature, codegen


@overload(as_bits, inline="always")
def _as_bits(x):
    return lambda x: _bitcast_to_integer(x)


@overload(from_bits, inline="always")
def _from_bits(bits, like):
    return lambda bits, like: _bitcast_to_float(bits, like)


@overload(to_float, inline="always")
def _to_float(integer, like):
    return lambda integer, like: _integer_to_float(integer, like)


def polynomial(y, coefficients):
    """sum_i coefficients[i] y^(n - 1 - i), by Horner's rule (highest first)."""
    total = coefficients[0]
    for coefficient in coefficients[1:]:
        total = total * y + coefficient
    return total


@overload(polynomial, jit_options=ELEMENTARY_JIT, inline="always")
def _polynomial(y, coefficients):
    # Horner's rule written out term by term: LLVM leaves a loop over a long
    # tuple rolled, and a loop inside the caller's loop keeps it scalar
    steps = "".join(
        f"    total = total * y + coefficients[{i}]\n" for i in range(1, len(coefficients))
    )
    source = f"def horner(y, coefficients):\n    total = coefficients[0]\n{steps}    return total\n"
    namespace = {}
    exec(source, namespace)
    return namespace["horner"]


@piece
def power_of_two(k, like, c):
    """2^k as a float of ``like``'s type, for a normal exponent k."""
    return from_bits((k + c.exponent_bias) << c.mantissa_bits, like)


@piece
def reduce_by_ln2(x, c):
    """(r, k) with x = k ln 2 + r, |r| <= ln(2)/2, for |x| well below 2^mantissa_bits."""
    shifted = x * c.log2_e + c.round_shift
    k = as_bits(shifted) - as_bits(c.round_shift)
    k_float = shifted - c.round_shift
    return (x - k_float * c.ln2_high) - k_float * c.ln2_low, k


@piece
def expm1_reduced(r, c):
    """e^r - 1 for |r| <= ln(2)/2."""
    return r + (r * r) * polynomial(r, c.expm1_terms)


@piece
def clamp(x, low, high):
    """x limited to [low, high]; NaN stays NaN."""
    x = low if x < low else x
    return high if x > high else x


@piece
def log_reduced(u, k_offset, correction, c):
    """log(u + correction) for a positive normal u, minus k_offset ln 2."""
    u_bits = as_bits(u)
    k = (u_bits - c.sqrt_half_bits) >> c.mantissa_bits
    f = from_bits(u_bits - (k << c.mantissa_bits), u) - c.one
    k_float = to_float(k - k_offset, u)
    s = f / (c.two + f)
    z = s * s
    half_f_squared = c.half * f * f
    tail = s * (half_f_squared + z * polynomial(z, c.log_terms))
    return k_float * c.ln2_high - (
        (half_f_squared - (tail + (k_float * c.ln2_low + correction))) - f
    )


# ---------------------------------------------------------------------------
# the functions
# ---------------------------------------------------------------------------


def compiled_once_per_dtype(stub):
    """Make the decorated function (a Numba float type -> the Python function
    for that dtype) what compiled code calling ``stub`` runs.

    The function for each dtype is compiled once, as a function of its own that
    LLVM pastes into its callers. (Numba's overload would compile it again for
    every set of flags its callers are compiled with.)
    """

    def register(formula):
        compiled = {}

        def implementation(x):
            if not isinstance(x, types.Float):
                return None
            if x not in compiled:
                compiled[x] = njit(**ELEMENTARY_JIT)(formula(x))
            function = compiled[x]
            return lambda x: function(x)

        overload(stub, jit_options=ELEMENTARY_JIT)(implementation)
        return formula

    return register


def exp(x):
    """e^x."""
    return _exp(typeof(x))(x)


def expm1(x):
    """e^x - 1, accurate for small x."""
    return _expm1(typeof(x))(x)


def log(x):
    """The natural logarithm."""
    return _log(typeof(x))(x)


def log1p(x):
    """log(1 + x), accurate for small x."""
    return _log1p(typeof(x))(x)


def tanh(x):
    """The hyperbolic tangent."""
    return _tanh(typeof(x))(x)


def logistic(x):
    """1 / (1 + e^-x), without overflow for either sign."""
    return _logistic(typeof(x))(x)


def erf(x):
    """The error function."""
    return _erf(typeof(x))(x)


@compiled_once_per_dtype(exp)
def _exp(x):
    c = constants_for(x)

    def exp_impl(x):
        r, k = reduce_by_ln2(clamp(x, c.exp_min, c.exp_max), c)
        # two factors: 2^k alone is not a normal float near either threshold
        k_half = k >> 1
        return (
            (c.one + expm1_reduced(r, c))
            * power_of_two(k_half, x, c)
            * power_of_two(k - k_half, x, c)
        )

    return exp_impl


@compiled_once_per_dtype(expm1)
def _expm1(x):
    c = constants_for(x)

    def expm1_impl(x):
        r, k = reduce_by_ln2(clamp(x, c.expm1_min, c.exp_max), c)
        # 2^k (e^r - 1) + (2^k - 1); at k = max_exponent + 1 the -1 is far below an ulp
        k_normal = c.max_exponent if k > c.max_exponent else k
        scale = power_of_two(k_normal, x, c)
        value = (scale * expm1_reduced(r, c) + (scale - c.one)) * power_of_two(k - k_normal, x, c)
        return x if abs(x) < c.tiny else value

    return expm1_impl


@compiled_once_per_dtype(log)
def _log(x):
    c = constants_for(x)

    def log_impl(x):
        subnormal = x < c.min_normal
        u = x * c.subnormal_scale if subnormal else x
        value = log_reduced(u, c.subnormal_shift if subnormal else 0, c.zero, c)
        value = value if x > 0 else (-c.infinity if x == 0 else c.nan)
        return x if x == c.infinity else value

    return log_impl


@compiled_once_per_dtype(log1p)
def _log1p(x):
    c = constants_for(x)

    def log1p_impl(x):
        u = c.one + x
        # the rounding error 1 + x - u, exact in either form where it is used
        error = (c.one - (u - x)) if u >= c.two else (x - (u - c.one))
        value = log_reduced(u, 0, error / u, c)
        value = value if x > -c.one else (-c.infinity if x == -c.one else c.nan)
        value = x if x == c.infinity else value
        return x if abs(x) < c.tiny else value

    return log1p_impl


@compiled_once_per_dtype(tanh)
def _tanh(x):
    c = constants_for(x)

    def tanh_impl(x):
        a = abs(x)
        y = (x * x) * c.tanh_inverse_half_width - c.one
        small = x + x * polynomial(y, c.tanh_small_terms)
        large = np.copysign(c.one - c.two / (expm1(c.two * a) + c.two), x)
        value = small if a < c.tanh_split else large
        return x if a < c.tiny else value

    return tanh_impl


@compiled_once_per_dtype(logistic)
def _logistic(x):
    c = constants_for(x)

    def logistic_impl(x):
        e = exp(-abs(x))
        total = c.one + e
        # 1 / (1 + e^-x) for x >= 0; e^x / (1 + e^x), the same value, below
        ratio = (e if x < 0 else c.one) / total
        # below zero, corrected by the rounding error of 1 + e (exact, as e <= 1);
        # above, where that error is damped by e / (1 + e), left to round as
        # scipy's expit (scikit-learn's probabilities) does: to 1 where e < 2^-53
        rounding_error = (c.one - total) + e
        return ratio - ratio * (rounding_error / total) if x < 0 else ratio

    return logistic_impl


@compiled_once_per_dtype(erf)
def _erf(x):
    c = constants_for(x)

    def erf_impl(x):
        a = abs(x)
        small = x + x * polynomial(c.two * (x * x) - c.one, c.erf_small_terms)
        a_limited = c.erf_max if a > c.erf_max else a
        y = (a_limited - c.erf_center) * c.erf_inverse_half_width
        erfc = exp(-(a_limited * a_limited)) * polynomial(y, c.erf_large_terms)
        large = np.copysign(c.one - erfc, x)
        return small if a < c.one else large

    return erf_impl
