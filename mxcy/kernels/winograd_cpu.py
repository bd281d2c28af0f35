"""Winograd F(4x4, 3x3) and F(2x2, 3x3) CPU kernels for 3x3 convolutions with stride 1, dilation 1 and one
group (NCHW data, weight (O, C, 3, 3)); conv_cpu decides when to use them and pins the BLAS to one thread.

Formula (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): the output is cut
into 4x4 tiles; the tile at output rows/columns (4i, 4j) reads the 6x6 input tile d_c at
(4i - offh, 4j - offw) of every channel c (zero outside the image; the offsets are the padding) and is

    Y = A^T [ sum_c (G g_c G^T) (.) (B^T d_c B) ] A            (.) elementwise over 6x6

    B^T = [[4,  0, -5,  0, 1, 0],      G = [[ 1/4,     0,    0],     A^T = [[1, 1,  1, 1,  1, 0],
           [0, -4, -4,  1, 1, 0],           [-1/6,  -1/6, -1/6],            [0, 1, -1, 2, -2, 0],
           [0,  4, -4, -1, 1, 0],           [-1/6,   1/6, -1/6],            [0, 1,  1, 4,  4, 0],
           [0, -2, -1,  2, 1, 0],           [1/24,  1/12,  1/6],            [0, 1, -1, 8, -8, 1]]
           [0,  2, -1, -2, 1, 0],           [1/24, -1/12,  1/6],
           [0,  4,  0, -5, 0, 1]]           [   0,     0,    1]]

36 multiplications per tile and channel pair instead of 144 (4x fewer). At each position q = 6u + v
of the 6x6 transform domain the sum over channels is a GEMM over a block of nt tiles:

    M[q] (O, nt) = U[q] (O, C) @ V[q]^T (C, nt),   U = G g G^T,   V = B^T d B

Layouts: U (36, O, C); V (36, nt, C), channels fastest, built from a zero-padded channel-last copy of
the input so that the input transform runs along the channels (along the tiles, whose rows are only
4-14 tiles long, it ran 1.3-2.5x slower); M (36, O, nt), tiles fastest, transformed in place and
scattered into the NCHW output. Positions of a block are PAD elements further apart than their size.
Tiles are numbered (image, tile row, tile column) across the batch and cut into blocks of `tb`;
chunks of consecutive blocks run in parallel, each with single-threaded GEMMs.

The data gradient (stride 1) is the same convolution of dy with each filter rotated by 180 degrees and
the channel axes swapped (filter_transform's flip), at offset 2 - pad. The weight gradient is the
adjoint of the forward formula: dU[q] = sum over tiles of Z[q] (O, nt) @ V[q] (nt, C) with
Z = A dY A^T per 4x4 tile of dy (zero past the output's edge), then dw = G^T dU G.

F(2x2, 3x3) is the same scheme on 4x4 input tiles, 16 positions (2.25x fewer multiplications than direct):

    B^T = [[1,  0, -1,  0],      G = [[  1,    0,   0],     A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],           [1/2,  1/2, 1/2],            [0, 1, -1, -1]]
           [0, -1,  1,  0],           [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]           [  0,    0,   1]]

It serves the forward pass (and the data gradient) of planes too small for 4x4 tiles: 256 channels at 14 x 14,
batch 1, is 16 tiles of 4x4 but 49 of 2x2. The kernels below take the tile edge as an argument (a filter
transform of 16 positions means F(2x2, 3x3)); the weight gradient runs F(4x4, 3x3) only.

Accuracy: the transform constants (up to 8, and 1/24) cost precision: in float32 the largest error is
~1e-5 of the largest output (measured 6e-6 to 1.5e-5 for 64-512 channels, 2e-6 to 5e-6 for the weight
gradient; im2col's direct sums: 2e-7 to 5e-7). The filter transforms run in float64.
"""
import numpy as np
from numba import njit, prange, uint64

from .common import assign, parallel_kernel

TILE = 4    # output tile edge of F(4x4, 3x3)
ALPHA = 6   # input tile edge, TILE + 3 - 1
NPOS = ALPHA * ALPHA
SMALL_TILE = 2  # output tile edge of F(2x2, 3x3)
# Positions of a block lie PAD elements further apart than their size: at a power-of-two distance
# the streams of a transform share L1 sets (the dy transform ran up to 1.7x slower).
PAD = 16
# G, for the filter transform and, transposed, the weight gradient's last step.
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
G_SMALL = np.array([[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]])


def positions(tile):
    """Transform positions of the tile edge `tile`: (tile + 2)^2."""
    return (tile + 2) ** 2


@njit(inline="always", nogil=True)
def _segment(t, t1, TH, TW):
    """The run of tiles from global tile t to at most t1 inside one tile row: (image, tile row, first
    tile column, count)."""
    tj0 = t % TW
    return t // (TH * TW), t // TW % TH, tj0, min(TW - tj0, t1 - t)


@njit(nogil=True, cache=True)
def _nhwc_row(xf, xt, n, hp, Hp, Wp, C, H, W, offh, offw):
    """Row hp of image n of the zero-padded channel-last copy: xt[n, hp, wp, c] = x[n, c, hp - offh,
    wp - offw] (0 outside x)."""
    h = hp - offh
    w0, w1 = max(0, -offw), min(W, Wp - offw)
    row = uint64((n * Hp + hp) * Wp * C)
    if h < 0 or h >= H or w1 <= w0:
        for k in range(uint64(Wp * C)):
            xt[row + k] = 0
        return
    for k in range(uint64((w0 + offw) * C)):
        xt[row + k] = 0
    for k in range(uint64((w1 + offw) * C), uint64(Wp * C)):
        xt[row + k] = 0
    # Channels innermost: strided reads, contiguous writes (the other order ran 2.5x slower).
    hw, cu = uint64(H * W), uint64(C)
    for w in range(w0, w1):
        src, dst = uint64((n * C * H + h) * W + w), row + uint64((w + offw) * C)
        for c in range(cu):
            xt[dst + c] = xf[src + c * hw]


@njit(inline="always", nogil=True)
def _bt6(dst, d0, ds, src, s0, ss, n):
    """F(4x4, 3x3): dst[d0 + u*ds + k] = (B^T s)[u], u < 6, for k < n, with s_i = src[s0 + i*ss + k]; two loops of
    three results each (with more pointers per loop LLVM gives up vectorising)."""
    one = dst.dtype.type(1)
    two, four, five = one + one, one + one + one + one, one + one + one + one + one
    d0, ds, s0, ss = uint64(d0), uint64(ds), uint64(s0), uint64(ss)
    a0, a1, a2, a3, a4, a5 = (s0, s0 + ss, s0 + uint64(2) * ss, s0 + uint64(3) * ss, s0 + uint64(4) * ss,
                              s0 + uint64(5) * ss)
    b0, b1, b2, b3, b4, b5 = (d0, d0 + ds, d0 + uint64(2) * ds, d0 + uint64(3) * ds, d0 + uint64(4) * ds,
                              d0 + uint64(5) * ds)
    for k in range(uint64(n)):
        x1, x2, x3, x4 = src[a1 + k], src[a2 + k], src[a3 + k], src[a4 + k]
        dst[b0 + k] = four * src[a0 + k] - five * x2 + x4
        dst[b1 + k] = (x4 - four * x2) + (x3 - four * x1)
        dst[b2 + k] = (x4 - four * x2) - (x3 - four * x1)
    for k in range(uint64(n)):
        x1, x2, x3, x4 = src[a1 + k], src[a2 + k], src[a3 + k], src[a4 + k]
        dst[b3 + k] = (x4 - x2) + two * (x3 - x1)
        dst[b4 + k] = (x4 - x2) - two * (x3 - x1)
        dst[b5 + k] = four * x1 - five * x3 + src[a5 + k]


@njit(inline="always", nogil=True)
def _bt4(dst, d0, ds, src, s0, ss, n):
    """F(2x2, 3x3): dst[d0 + u*ds + k] = (B^T s)[u], u < 4, for k < n, with s_i = src[s0 + i*ss + k]."""
    d0, ds, s0, ss = uint64(d0), uint64(ds), uint64(s0), uint64(ss)
    a0, a1, a2, a3 = s0, s0 + ss, s0 + uint64(2) * ss, s0 + uint64(3) * ss
    b0, b1, b2, b3 = d0, d0 + ds, d0 + uint64(2) * ds, d0 + uint64(3) * ds
    for k in range(uint64(n)):
        x1, x2 = src[a1 + k], src[a2 + k]
        dst[b0 + k] = src[a0 + k] - x2
        dst[b1 + k] = x1 + x2
    for k in range(uint64(n)):
        x1, x2 = src[a1 + k], src[a2 + k]
        dst[b2 + k] = x2 - x1
        dst[b3 + k] = x1 - src[a3 + k]


@njit(inline="always", nogil=True)
def _bt(dst, d0, ds, src, s0, ss, n, tile):
    """B^T of the tile edge `tile` along n vectors (see _bt6)."""
    if tile == TILE:
        _bt6(dst, d0, ds, src, s0, ss, n)
    else:
        _bt4(dst, d0, ds, src, s0, ss, n)


@njit(nogil=True, cache=True)
def _input_block(xt, Hp, Wp, C, TH, TW, t0, t1, V, qs, tmp, tile):
    """V[q*qs + (t - t0)*C + c] = (B^T d B)[q] for the tiles t0 <= t < t1, from the padded channel-last
    input xt (tile (n, ti, tj) at its rows tile*ti.., columns tile*tj..); vectorised over channels; tmp is
    scratch of positions(tile) * C elements."""
    rs, alpha = Wp * C, tile + 2
    for t in range(t0, t1):
        n, ti, tj = t // (TH * TW), t // TW % TH, t % TW
        base = ((n * Hp + tile * ti) * Wp + tile * tj) * C
        for j in range(alpha):  # B^T down each column j of the tile into tmp[u, j]
            _bt(tmp, j * C, alpha * C, xt, base + j * C, rs, C, tile)
        for u in range(alpha):  # B along each row u
            _bt(V, alpha * u * qs + (t - t0) * C, qs, tmp, alpha * u * C, C, C, tile)


@njit(inline="always", nogil=True)
def _at6(M, p, step, n):
    """F(4x4, 3x3): A^T applied in place to the six rows M[p + i*step + k], k < n: rows 0..3 get the result."""
    one = M.dtype.type(1)
    two, four = one + one, one + one + one + one
    eight = four + four
    s = uint64(step)
    p0 = uint64(p)
    p1, p2, p3 = p0 + s, p0 + s + s, p0 + uint64(3) * s
    p4, p5 = p0 + uint64(4) * s, p0 + uint64(5) * s
    for k in range(uint64(n)):
        m0, m1, m2, m3, m4, m5 = M[p0 + k], M[p1 + k], M[p2 + k], M[p3 + k], M[p4 + k], M[p5 + k]
        a, b, c, e = m1 + m2, m1 - m2, m3 + m4, m3 - m4
        M[p0 + k] = m0 + a + c
        M[p1 + k] = b + two * e
        M[p2 + k] = a + four * c
        M[p3 + k] = b + eight * e + m5


@njit(inline="always", nogil=True)
def _at4(M, p, step, n):
    """F(2x2, 3x3): A^T applied in place to the four rows M[p + i*step + k], k < n: rows 0..1 get the result."""
    s = uint64(step)
    p0 = uint64(p)
    p1, p2, p3 = p0 + s, p0 + s + s, p0 + uint64(3) * s
    for k in range(uint64(n)):
        m1, m2 = M[p1 + k], M[p2 + k]
        M[p0 + k] = M[p0 + k] + m1 + m2
        M[p1 + k] = m1 - m2 - M[p3 + k]


@njit(inline="always", nogil=True)
def _at(M, p, step, n, tile):
    """A^T of the tile edge `tile` in place along n vectors (see _at6)."""
    if tile == TILE:
        _at6(M, p, step, n)
    else:
        _at4(M, p, step, n)


@njit(nogil=True, cache=True)
def _output_transform(M, qs, size, tile):
    """In place over a block M of positions(tile) positions qs elements apart, `size` used elements each:
    M[alpha*u + v] for u, v < tile become the output tiles A^T M A (the others are left as scratch)."""
    alpha = tile + 2
    for v in range(alpha):
        _at(M, v * qs, alpha * qs, size, tile)
    for u in range(tile):
        _at(M, alpha * u * qs, qs, size, tile)


@njit(nogil=True, cache=True)
def _store_block(M, qs, o0, o1, O, of, OH, OW, TH, TW, t0, t1, b, has_bias, req, tile):
    """out (+)= the tiles t0 <= t < t1 of the transformed block M (positions, O, nt) (+ b[o]) for the output
    channels o0 <= o < o1: rows tile*ti .., columns tile*tj .. of tile (n, ti, tj), tile x tile cut to OH x OW;
    channel by channel."""
    nt, st, alpha = t1 - t0, uint64(qs), tile + 2
    for o in range(o0, o1):
        bias = b[o] if has_bias else b.dtype.type(0)
        t = t0
        while t < t1:
            n, ti, tj0, nseg = _segment(t, t1, TH, TW)
            oh0, ow0 = tile * ti, tile * tj0
            full = min(nseg, (OW - ow0) // tile)  # tiles whose columns are all inside
            for a in range(min(tile, OH - oh0)):
                dst = uint64(((n * O + o) * OH + oh0 + a) * OW + ow0)
                m0 = uint64(alpha * a) * st + uint64(o * nt + t - t0)
                for v in range(tile):
                    # The last tile of a row whose width is not a multiple of the tile has fewer columns.
                    cols = full + 1 if full < nseg and v < OW - ow0 - tile * full else full
                    mv, dv = m0 + uint64(v) * st, dst + uint64(v)
                    for j in range(uint64(cols)):
                        k = dv + uint64(tile) * j
                        of[k] = assign(of[k], M[mv + j] + bias, req)
            t += nseg


@njit(nogil=True, cache=True)
def _load_grad_block(yf, O, OH, OW, TH, TW, t0, t1, Z, qs):
    """Z[6u + v, o, t - t0] for u, v < 4 = dy[n, o, 4ti + u, 4tj + v] (zero past OH x OW) for the
    tiles t = (n, ti, tj) in [t0, t1); Z is a block (36, O, nt); channel by channel."""
    nt, st = t1 - t0, uint64(qs)
    for o in range(O):
        t = t0
        while t < t1:
            n, ti, tj0, nseg = _segment(t, t1, TH, TW)
            oh0, ow0 = TILE * ti, TILE * tj0
            full = min(nseg, (OW - ow0) // TILE)
            for a in range(TILE):
                m0 = uint64(ALPHA * a) * st + uint64(o * nt + t - t0)
                m1, m2, m3 = m0 + st, m0 + st + st, m0 + uint64(3) * st
                if oh0 + a >= OH:
                    for j in range(uint64(nseg)):
                        Z[m0 + j] = 0
                        Z[m1 + j] = 0
                        Z[m2 + j] = 0
                        Z[m3 + j] = 0
                    continue
                src = uint64(((n * O + o) * OH + oh0 + a) * OW + ow0)
                for j in range(uint64(full)):
                    k = src + uint64(4) * j
                    Z[m0 + j] = yf[k]
                    Z[m1 + j] = yf[k + uint64(1)]
                    Z[m2 + j] = yf[k + uint64(2)]
                    Z[m3 + j] = yf[k + uint64(3)]
                if full < nseg:
                    rem = OW - ow0 - TILE * full
                    for v in range(TILE):
                        m = m0 + uint64(v) * st + uint64(full)
                        Z[m] = yf[src + uint64(TILE * full + v)] if v < rem else 0
            t += nseg


@njit(inline="always", nogil=True)
def _a(Z, p, step, n):
    """A (the transpose of A^T) applied in place to the rows Z[p + i*step + k], k < n: four rows in,
    six out."""
    one = Z.dtype.type(1)
    two, four = one + one, one + one + one + one
    eight = four + four
    s = uint64(step)
    p0 = uint64(p)
    p1, p2, p3 = p0 + s, p0 + s + s, p0 + uint64(3) * s
    p4, p5 = p0 + uint64(4) * s, p0 + uint64(5) * s
    for k in range(uint64(n)):
        y0, y1, y2, y3 = Z[p0 + k], Z[p1 + k], Z[p2 + k], Z[p3 + k]
        e, f, g, h = y0 + y2, y1 + y3, y0 + four * y2, two * y1 + eight * y3
        Z[p1 + k] = e + f
        Z[p2 + k] = e - f
        Z[p3 + k] = g + h
        Z[p4 + k] = g - h
        Z[p5 + k] = y3


@njit(nogil=True, cache=True)
def _grad_transform(Z, qs, size):
    """In place over a block Z (as in _output_transform) holding 4x4 tiles dY at positions 6u + v,
    u, v < 4: Z becomes A dY A^T."""
    for v in range(TILE):
        _a(Z, v * qs, ALPHA * qs, size)
    for u in range(ALPHA):
        _a(Z, ALPHA * u * qs, qs, size)


@parallel_kernel(nogil=True, cache=True)
def filter_transform(w, U, flip):
    """U[q, o, c] = (G w[o, c] G^T)[q] for w (O, C, 3, 3); with flip, U[q, c, o] = the transform of
    w[o, c] rotated by 180 degrees (the data gradient's filter). U of NPOS positions is F(4x4, 3x3)'s, of 16
    F(2x2, 3x3)'s. In float64, vectorised along U's last axis (a 6x6 product per (o, c) pair ran 2-4x slower)."""
    g = G if U.shape[0] == NPOS else G_SMALL
    alpha = g.shape[0]
    A, B = U.shape[1], U.shape[2]
    C = w.shape[1]
    wf = w.reshape(w.size)
    sa, sb = (9, 9 * C) if flip else (9 * C, 9)
    for a in prange(A):
        # The taps of row a gathered once into contiguous rows: the products below then run along b (reading
        # the filters' taps in place, 9 floats apart, kept them scalar: 512 x 512 took 7-9 ms).
        taps = np.empty((9, B))
        for b in range(B):
            base = a * sa + b * sb
            for k in range(9):
                taps[k, b] = wf[base + (8 - k if flip else k)]
        t = np.empty((alpha, 3, B))
        for u in range(alpha):  # t[u, j] = sum_i G[u, i] w[i, j]
            for j in range(3):
                g0, g1, g2 = g[u, 0], g[u, 1], g[u, 2]
                r0, r1, r2 = taps[j], taps[3 + j], taps[6 + j]
                for b in range(B):
                    t[u, j, b] = g0 * r0[b] + g1 * r1[b] + g2 * r2[b]
        for u in range(alpha):  # U[alpha*u + v] = sum_j t[u, j] G[v, j]
            for v in range(alpha):
                g0, g1, g2 = g[v, 0], g[v, 1], g[v, 2]
                for b in range(B):
                    U[alpha * u + v, a, b] = t[u, 0, b] * g0 + t[u, 1, b] * g1 + t[u, 2, b] * g2


@njit(inline="always", nogil=True)
def _block(buf, q, qs, rows, nt):
    """Position q of a block (rows, nt) in buf, as a C-contiguous GEMM operand."""
    return buf[q * qs:q * qs + rows * nt].reshape((rows, nt))


@njit(inline="always", nogil=True)
def _tiling(N, OH, OW, tb, tile):
    """(tile rows, tile columns, tiles, blocks of tb tiles) of N outputs of OH x OW."""
    TH, TW = (OH + tile - 1) // tile, (OW + tile - 1) // tile
    T = N * TH * TW
    return TH, TW, T, (T + tb - 1) // tb


@parallel_kernel(nogil=True, cache=True)
def _padded_nhwc(x, TH, TW, offh, offw, tile):
    """The input of TH x TW tiles of edge `tile` at offsets offh, offw as a zero-padded channel-last array, flat."""
    N, C, H, W = x.shape
    Hp, Wp = tile * TH + 2, tile * TW + 2
    xt = np.empty(N * Hp * Wp * C, x.dtype)
    xf = x.reshape(x.size)
    for nh in prange(N * Hp):
        _nhwc_row(xf, xt, nh // Hp, nh % Hp, Hp, Wp, C, H, W, offh, offw)
    return xt


@parallel_kernel(nogil=True, cache=True)
def conv(x, U, b, has_bias, out, req, offh, offw, tb, nchunks):
    """out (+)= the 3x3 stride-1 convolution of x (N, C, H, W) at offsets offh, offw (the padding)
    with the transformed filter U (positions, O, C) (of F(4x4, 3x3) or F(2x2, 3x3), see filter_transform),
    + b[o]; out is (N, O, OH, OW), any OH, OW >= 1."""
    N, C = x.shape[0], x.shape[1]
    O, OH, OW = out.shape[1], out.shape[2], out.shape[3]
    npos = U.shape[0]
    tile = TILE if npos == NPOS else SMALL_TILE
    TH, TW, T, nblk = _tiling(N, OH, OW, tb, tile)
    xt = _padded_nhwc(x, TH, TW, offh, offw, tile)
    of = out.reshape(out.size)
    for ch in prange(nchunks):
        V = np.empty(npos * (C * tb + PAD), x.dtype)
        M = np.empty(npos * (O * tb + PAD), x.dtype)
        tmp = np.empty(npos * C, x.dtype)
        for blk in range(ch * nblk // nchunks, (ch + 1) * nblk // nchunks):
            t0 = blk * tb
            t1 = min(T, t0 + tb)
            nt = t1 - t0
            qv, qm = C * nt + PAD, O * nt + PAD
            _input_block(xt, tile * TH + 2, tile * TW + 2, C, TH, TW, t0, t1, V, qv, tmp, tile)
            for q in range(npos):
                np.dot(U[q], _block(V, q, qv, nt, C).T, _block(M, q, qm, O, nt))
            _output_transform(M, qm, O * nt, tile)
            _store_block(M, qm, 0, O, O, of, OH, OW, TH, TW, t0, t1, b, has_bias, req, tile)


@parallel_kernel(nogil=True, cache=True)
def conv_few_tiles(x, U, b, has_bias, out, req, offh, offw, nchunks):
    """conv for outputs of few tiles: one block of all tiles, whose transforms the threads split by tiles and by
    output channels, and whose GEMMs by positions (a block per thread would make GEMMs 1/nchunks as wide: 256
    channels at 14 x 14, batch 1, on 2 threads: 1.8 -> 1.3 ms)."""
    N, C = x.shape[0], x.shape[1]
    O, OH, OW = out.shape[1], out.shape[2], out.shape[3]
    npos = U.shape[0]
    tile = TILE if npos == NPOS else SMALL_TILE
    TH, TW, T, _ = _tiling(N, OH, OW, 1, tile)
    xt = _padded_nhwc(x, TH, TW, offh, offw, tile)
    of = out.reshape(out.size)
    qv, qm = C * T + PAD, O * T + PAD
    V = np.empty(npos * qv, x.dtype)
    M = np.empty(npos * qm, x.dtype)
    for ch in prange(nchunks):
        t0, t1 = ch * T // nchunks, (ch + 1) * T // nchunks
        # From tile t0 on: _input_block places tile t at (t - t0) * C of the view, t * C of V.
        _input_block(xt, tile * TH + 2, tile * TW + 2, C, TH, TW, t0, t1, V[t0 * C:], qv, np.empty(npos * C, x.dtype),
                     tile)
    for ch in prange(nchunks):
        for q in range(ch * npos // nchunks, (ch + 1) * npos // nchunks):
            np.dot(U[q], _block(V, q, qv, T, C).T, _block(M, q, qm, O, T))
    for ch in prange(nchunks):
        o0, o1 = ch * O // nchunks, (ch + 1) * O // nchunks
        _output_transform(M[o0 * T:], qm, (o1 - o0) * T, tile)
        _store_block(M, qm, o0, o1, O, of, OH, OW, TH, TW, 0, T, b, has_bias, req, tile)


@parallel_kernel(nogil=True, cache=True)
def bwd_weight(x, dy, part, offh, offw, tb, nchunks):
    """The weight gradient before G^T . G (see filter_grad), written into part (P, 36, O, C); x (N, C, H, W), dy
    (N, O, OH, OW). P == nchunks: part[k] = the sum over chunk k's tiles of Z[q] @ V[q]. P == 1: the sum over all
    tiles, the chunks splitting the 36 positions instead; each then transforms every tile, a small share of the
    work for many channels, and the partial sums take one (36, O, C) buffer rather than nchunks."""
    N, C = x.shape[0], x.shape[1]
    O, OH, OW = dy.shape[1], dy.shape[2], dy.shape[3]
    split_positions = part.shape[0] == 1
    TH, TW, T, nblk = _tiling(N, OH, OW, tb, TILE)
    xt = _padded_nhwc(x, TH, TW, offh, offw, TILE)
    yf = dy.reshape(dy.size)
    for ch in prange(nchunks):
        V = np.empty(NPOS * (C * tb + PAD), x.dtype)
        Z = np.empty(NPOS * (O * tb + PAD), x.dtype)
        tmp = np.empty(NPOS * C, x.dtype)
        dU = np.empty((O, C), x.dtype)
        c = np.int64(ch)  # the prange index may be unsigned: with 0 it would unify to a float
        k = 0 if split_positions else c
        b0, b1 = (0, nblk) if split_positions else (c * nblk // nchunks, (c + 1) * nblk // nchunks)
        q0, q1 = (c * NPOS // nchunks, (c + 1) * NPOS // nchunks) if split_positions else (0, NPOS)
        if b0 == b1:
            part[k, q0:q1] = 0
        for blk in range(b0, b1):
            t0 = blk * tb
            t1 = min(T, t0 + tb)
            nt = t1 - t0
            qv, qz = C * nt + PAD, O * nt + PAD
            _input_block(xt, TILE * TH + 2, TILE * TW + 2, C, TH, TW, t0, t1, V, qv, tmp, TILE)
            _load_grad_block(yf, O, OH, OW, TH, TW, t0, t1, Z, qz)
            _grad_transform(Z, qz, O * nt)
            for q in range(q0, q1):
                if blk == b0:
                    np.dot(_block(Z, q, qz, O, nt), _block(V, q, qv, nt, C), part[k, q])
                else:
                    np.dot(_block(Z, q, qz, O, nt), _block(V, q, qv, nt, C), dU)
                    acc = part[k, q]
                    acc += dU  # in place; `part[k, q] += dU` would allocate a temporary


@parallel_kernel(nogil=True, cache=True)
def filter_grad(part, dw, req):
    """dw[o, c] (+)= G^T (sum_k part[k, :, o, c] as 6x6) G, for dw (O, C, 3, 3); in float64,
    vectorised over c."""
    O, C = dw.shape[0], dw.shape[1]
    for o in prange(O):
        g = np.zeros((NPOS, C))
        t = np.empty((3, ALPHA, C))
        for k in range(part.shape[0]):
            for q in range(NPOS):
                for c in range(C):
                    g[q, c] += part[k, q, o, c]
        for i in range(3):  # t[i, v] = sum_u G[u, i] g[u, v]
            for v in range(ALPHA):
                for c in range(C):
                    t[i, v, c] = 0
                for u in range(ALPHA):
                    gu = G[u, i]
                    for c in range(C):
                        t[i, v, c] += gu * g[ALPHA * u + v, c]
        for i in range(3):  # dw[i, j] = sum_v t[i, v] G[v, j]
            for j in range(3):
                g0, g1, g2, g3, g4, g5 = G[0, j], G[1, j], G[2, j], G[3, j], G[4, j], G[5, j]
                for c in range(C):
                    acc = (t[i, 0, c] * g0 + t[i, 1, c] * g1 + t[i, 2, c] * g2 + t[i, 3, c] * g3
                           + t[i, 4, c] * g4 + t[i, 5, c] * g5)
                    dw[o, c, i, j] = assign(dw[o, c, i, j], acc, req)
