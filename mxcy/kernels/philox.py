"""Philox4x32-10 (Salmon et al., SC'11; the generator of cuRAND and JAX), the one source of random bits for the CPU
and CUDA samplers, and the conversions of its 32-bit words to uniform floats.

Every function is a scalar `njit(inline="always")` helper: CPU drivers inline it and CUDA kernels compile it for
the device, so both compute the same words from the same (seed, call, position, draw) — integer arithmetic only,
hence bit-identical on both. All arithmetic is on uint64 with explicit 32-bit masks (numba turns a uint64 mixed
with an int64 into a float64); word arguments are converted to uint64 on entry, since the CUDA simulator calls
these helpers from Python with plain ints.

Stream layout of one random op call: the 64-bit seed is Philox's key; the 128-bit counter holds
(position low 32 bits, position bits 32..47 | draw << 16, call low 32 bits, call high 32 bits), where `call` is the
op call's counter from mxcy.random, `position` indexes blocks of four words, and `draw` (< 2**16) numbers the
blocks one position consumes (rejection samplers draw several)."""
import numba
import numpy as np

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT16 = np.uint64(16)
_SHIFT32 = np.uint64(32)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)  # Weyl key increments: golden ratio and sqrt(3) - 1, in 32 bits
_W1 = np.uint64(0xBB67AE85)
_TWO_POW_M24 = 2.0 ** -24
_TWO_POW_M32 = 2.0 ** -32
_TWO_POW_M53 = 2.0 ** -53
_SHIFT5 = np.uint64(5)
_SHIFT6 = np.uint64(6)
_SHIFT8 = np.uint64(8)
_SHIFT26 = np.uint64(26)

DRAWS = 1 << 16  # blocks one position may consume


@numba.njit(inline="always", nogil=True, cache=True)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """The four 32-bit words (as uint64) of counter (c0, c1, c2, c3) under key (k0, k1), ten rounds."""
    c0, c1, c2, c3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _SHIFT32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _SHIFT32) ^ c3 ^ k1, p0 & _MASK32
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


@numba.njit(inline="always", nogil=True, cache=True)
def block(seed, call, position, draw):
    """The four words of block `draw` at `position` in op call `call` under `seed` (all non-negative ints)."""
    seed, call, position = np.uint64(seed), np.uint64(call), np.uint64(position)
    return philox4x32(position & _MASK32, (position >> _SHIFT32) | (np.uint64(draw) << _SHIFT16),
                      call & _MASK32, call >> _SHIFT32, seed & _MASK32, seed >> _SHIFT32)


@numba.njit(inline="always", nogil=True, cache=True)
def unit24(w):
    """[0, 1) from the top 24 bits of word w: exact in float32."""
    return np.float64(np.uint64(w) >> _SHIFT8) * _TWO_POW_M24


@numba.njit(inline="always", nogil=True, cache=True)
def unit53(w0, w1):
    """[0, 1) from 53 bits of words w0, w1: exact in float64 (joined as integers: no float add to fuse)."""
    return np.float64(((np.uint64(w0) >> _SHIFT5) << _SHIFT26) | (np.uint64(w1) >> _SHIFT6)) * _TWO_POW_M53


@numba.njit(inline="always", nogil=True, cache=True)
def open_unit32(w):
    """(0, 1) from word w: never 0, so safe under log."""
    return (np.float64(np.uint64(w)) + 0.5) * _TWO_POW_M32


@numba.njit(inline="always", nogil=True, cache=True)
def below_bound(w_hi, w_lo, low, span):
    """low + (the 64 bits w_hi, w_lo modulo span), in int64 arithmetic that wraps: an integer in [low, low + span)
    with a bias below span / 2**64."""
    return np.int64(low) + np.int64(((np.uint64(w_hi) << _SHIFT32) | np.uint64(w_lo)) % np.uint64(span))
