"""Philox4x32-10 against Random123's published known-answer vectors (tests/kat_vectors, the three
"philox4x32 10" lines: counter words, key words, expected words), on the CPU and in a CUDA kernel, and the
word-to-float conversions against their definitions."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import philox

# (counter c0..c3, key k0 k1, expected words) from Random123's kat_vectors
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_known_answers_on_the_cpu(counter, key, expected):
    assert tuple(int(w) for w in philox.philox4x32(*counter, *key)) == expected


@cuda.jit
def _kat_kernel(words, out):
    i = cuda.grid(1)
    if i < words.shape[0]:
        r = philox.philox4x32(words[i, 0], words[i, 1], words[i, 2], words[i, 3], words[i, 4], words[i, 5])
        for j in range(4):
            out[i, j] = r[j]


@pytest.mark.cuda
def test_known_answers_in_a_cuda_kernel():
    words = np.array([c + k for c, k, _ in KAT], np.uint64)
    out = cuda.device_array((len(KAT), 4), np.uint64)
    _kat_kernel[1, 32](cuda.to_device(words), out)
    np.testing.assert_array_equal(out.copy_to_host(), np.array([e for _, _, e in KAT], np.uint64))


def test_block_lays_position_draw_call_and_seed_into_counter_and_key():
    seed, call, position, draw = 0xa4093822_299f31d0, 2 ** 40 + 5, 2 ** 33 + 9, 3
    got = philox.block(seed, call, position, draw)
    want = philox.philox4x32(position & 0xFFFFFFFF, (position >> 32) | (draw << 16), call & 0xFFFFFFFF,
                             call >> 32, seed & 0xFFFFFFFF, seed >> 32)
    assert got == want
    assert philox.block(seed, call, position, draw + 1) != got
    assert philox.block(seed, call + 1, position, draw) != got


def test_word_conversions():
    top = 0xFFFFFFFF
    assert philox.unit24(np.uint64(0)) == 0.0
    assert philox.unit24(np.uint64(top)) == 1 - 2.0 ** -24
    assert np.float32(philox.unit24(np.uint64(top))) < 1
    assert philox.unit53(np.uint64(0), np.uint64(0)) == 0.0
    assert philox.unit53(np.uint64(top), np.uint64(top)) == 1 - 2.0 ** -53
    assert philox.unit53(np.uint64(1 << 5), np.uint64(1 << 6)) == (2.0 ** 26 + 1) * 2.0 ** -53
    assert philox.open_unit32(np.uint64(0)) == 2.0 ** -33
    assert philox.open_unit32(np.uint64(top)) == 1 - 2.0 ** -33
