"""exp, sigmoid and tanh in float64 written so that LLVM vectorises loops calling them: libm's exp is a call LLVM
cannot vectorise without a vector math library, which Numba lacks here. exp reduces x = n ln2 + r (Cody-Waite), sums
a Taylor polynomial of e^r and builds 2^n from its bits; relative error ~2e-16. Callers compile with
fastmath={'contract'} (fused multiply-adds) and error_model='numpy' (no zero-division branch) for speed."""
import decimal
import math

import numba
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_LOG2E = 1.0 / math.log(2.0)
# ln 2 split so that n * _LN2_HI is exact for the |n| <= 1075 used here (28 bits after the point, n 11 bits), the
# rest from a 40-digit ln 2.
_LN2_HI = math.ldexp(math.floor(math.ldexp(math.log(2.0), 28)), -28)
_LN2_LO = float(decimal.Context(prec=40).ln(2) - decimal.Decimal(_LN2_HI))
# Taylor coefficients 1/k! for k = 0 .. 12: |r| <= ln2/2 leaves a remainder below 2e-16 of e^r.
_A = tuple(1.0 / math.factorial(k) for k in range(13))
_LOW, _HIGH = -708.0, 709.0  # e^x stays a normal float64 inside
_SHIFT = 4503599627370496.0 + 1023.0  # 2^52: adding it puts an integer n into the low mantissa bits


@intrinsic
def _two_to(typingctx, n):
    """2^n for an integral float64 n in [-1022, 1023], from bits: (n + 1023 + 2^52)'s low bits shifted into the
    exponent field (integer conversions of float64 do not vectorise on AVX2; this does)."""
    sig = types.float64(types.float64)

    def codegen(context, builder, signature, args):
        biased = builder.fadd(args[0], ir.Constant(ir.DoubleType(), _SHIFT))
        bits = builder.shl(builder.bitcast(biased, ir.IntType(64)), ir.Constant(ir.IntType(64), 52))
        return builder.bitcast(bits, ir.DoubleType())
    return sig, codegen


@numba.njit(inline="always", nogil=True, cache=True)
def exp(x):
    """e^x of a float64; NaN stays NaN, beyond the normal range the nearest normal power of e."""
    y = min(max(x, _LOW), _HIGH)
    n = math.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    # Estrin's scheme: pairs, then pairs of pairs, so that the sum is 4 multiply-adds deep rather than 12.
    r2 = r * r
    r4 = r2 * r2
    low = (_A[0] + _A[1] * r + (_A[2] + _A[3] * r) * r2) + (_A[4] + _A[5] * r + (_A[6] + _A[7] * r) * r2) * r4
    high = _A[8] + _A[9] * r + (_A[10] + _A[11] * r) * r2 + _A[12] * r4
    e = (low + high * (r4 * r4)) * _two_to(n)
    return e if x == x else x


@numba.njit(inline="always", nogil=True, cache=True)
def sigmoid(x):
    return 1.0 / (1.0 + exp(-x))


@numba.njit(inline="always", nogil=True, cache=True)
def tanh(x):
    """tanh through one exp (absolute error ~1e-16)."""
    return 2.0 / (1.0 + exp(-2.0 * x)) - 1.0
