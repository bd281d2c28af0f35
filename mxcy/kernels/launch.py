"""Launch and compile utilities shared by the CUDA drivers of every kernel family: launch shapes,
a shared-memory block sum, the write-request store, products that are never fused into an fma, and `dual`
for helpers compiled for both CPU and CUDA code."""
import numba
from numba import config, cuda

from .common import REQ_ADD


def dual(fn):
    """(CPU, CUDA) compilations of one helper that takes arrays: an inlined njit function for CPU drivers and
    an inlined device function for kernels (the CUDA simulator cannot pass its arrays into njit code).
    Such helpers may call scalar njit helpers only."""
    return numba.njit(inline="always", nogil=True)(fn), cuda.jit(device=True, inline="always")(fn)


@cuda.jit(device=True, inline="always")
def store(out, i, v, req):
    """out[i] = v under write/inplace, out[i] += v under add (cast to out's dtype)."""
    if req == REQ_ADD:
        out[i] += v
    else:
        out[i] = v


if config.ENABLE_CUDASIM:
    @cuda.jit(device=True)
    def mul_rn32(a, b):
        """a * b rounded on its own: the simulator multiplies NumPy scalars, which round each product already."""
        return a * b
    mul_rn64 = mul_rn32
else:
    from numba.cuda import libdevice

    @cuda.jit(device=True, inline="always")
    def mul_rn32(a, b):
        """a * b rounded to float32 on its own. A GPU fuses a * b + c into one fma rounded once, where the CPU (and
        NumPy) round the product first: kernels that must equal the CPU bit for bit multiply through libdevice's
        round-to-nearest product, which is never fused."""
        return libdevice.fmul_rn(a, b)

    @cuda.jit(device=True, inline="always")
    def mul_rn64(a, b):
        """mul_rn32 in float64."""
        return libdevice.dmul_rn(a, b)


# Grid-stride kernels launch at most this many blocks per streaming multiprocessor: enough resident
# blocks to hide latency, no more than can be resident at once.
BLOCKS_PER_SM = 16
# The CUDA simulator's device has no SM count; its launches are shaped as on a large GPU (an H100's
# 132 SMs), so simulated kernels walk the same grid-stride paths as real ones.
SIMULATOR_SMS = 132
_max_blocks = {}


def max_blocks():
    """The most blocks a grid-stride launch uses on the current device: BLOCKS_PER_SM per SM."""
    device = cuda.get_current_device()
    n = _max_blocks.get(device)
    if n is None:
        n = _max_blocks[device] = BLOCKS_PER_SM * getattr(device, "MULTIPROCESSOR_COUNT", SIMULATOR_SMS)
    return n


def grid_1d(n, threads=256):
    """(blocks, threads) for a grid-stride loop over n items; never more blocks than can be resident."""
    threads = max(1, min(threads, n))
    return max(1, min((n + threads - 1) // threads, max_blocks())), threads


@cuda.jit(device=True, inline="always")
def _tree_sum(acc, tid, nt):
    """Tree-sum shared acc[0:nt] into acc[0]; nt must be a power of two; ends synchronized."""
    s = nt // 2
    while s > 0:
        if tid < s:
            acc[tid] += acc[tid + s]
        cuda.syncthreads()
        s //= 2


@cuda.jit(device=True, inline="always")
def block_sum(acc, value, tid, nt):
    """Each thread's value into shared acc[tid], then their sum into acc[0]: a block-wide reduction over nt
    threads (a power of two); ends synchronized."""
    acc[tid] = value
    cuda.syncthreads()
    _tree_sum(acc, tid, nt)


@cuda.jit(device=True, inline="always")
def block_sum_pair(sa, sb, a, b, tid, nt):
    """block_sum of two values at once (the running sums of a moments or gradient reduction), one sync
    before the two tree sums."""
    sa[tid] = a
    sb[tid] = b
    cuda.syncthreads()
    _tree_sum(sa, tid, nt)
    _tree_sum(sb, tid, nt)

def pow2_threads(n, cap=256):
    """Smallest power of two >= min(n, cap): block size for one-block-per-row reductions."""
    t = 1
    while t < min(n, cap):
        t *= 2
    return t


def rows_launch(rows, inner, threads=256):
    """(blocks, (tx, ty)) for kernels over `rows` rows of `inner` items: x threads along a row, y threads
    across rows, so short rows still fill warps; both powers of two."""
    tx = pow2_threads(inner, threads)
    ty = min(threads // tx, pow2_threads(rows, threads))
    return max(1, min(-(-rows // ty), max_blocks())), (tx, ty)
