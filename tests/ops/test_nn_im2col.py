"""im2col / col2im: OpSpecs against a NumPy sliding-window reference in 1-3 spatial dimensions, MXNet 1.9.1's printed
values and errors."""
import itertools
import math

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _full(kernel, stride=(), dilate=(), pad=()):
    n = len(kernel)
    return tuple(kernel), tuple(stride) or (1,) * n, tuple(dilate) or (1,) * n, tuple(pad) or (0,) * n


def _positions(spatial, kernel, stride, dilate, pad):
    out = [(n + 2 * p - (d * (k - 1) + 1)) // s + 1 for n, k, s, d, p in zip(spatial, kernel, stride, dilate, pad)]
    return out, list(itertools.product(*map(range, out))), list(itertools.product(*map(range, kernel)))


def _im2col_ref(x, **attrs):
    kernel, stride, dilate, pad = _full(**attrs)
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    _, outs, taps = _positions(x.shape[2:], kernel, stride, dilate, pad)
    col = np.zeros((x.shape[0], x.shape[1], len(taps), len(outs)))
    for j, o in enumerate(outs):
        for t, tap in enumerate(taps):
            col[:, :, t, j] = padded[(Ellipsis,) + tuple(oi * s + ti * d for oi, s, ti, d in zip(o, stride, tap, dilate))]
    return col.reshape(x.shape[0], -1, len(outs))


def _col2im_ref(col, output_size, **attrs):
    kernel, stride, dilate, pad = _full(**attrs)
    n, c = col.shape[0], col.shape[1] // math.prod(kernel)
    padded = np.zeros((n, c) + tuple(s + 2 * p for s, p in zip(output_size, pad)))
    _, outs, taps = _positions(output_size, kernel, stride, dilate, pad)
    col = col.reshape(n, c, len(taps), len(outs))
    for j, o in enumerate(outs):
        for t, tap in enumerate(taps):
            padded[(Ellipsis,) + tuple(oi * s + ti * d for oi, s, ti, d in zip(o, stride, tap, dilate))] += col[:, :, t, j]
    return padded[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pad, output_size))]


def _draw(rng):
    """(image shape, attrs) of a small image whose every output window exists."""
    while True:
        ndim = int(rng.integers(1, 4))
        kernel = tuple(int(v) for v in rng.integers(1, 3, ndim))
        stride, dilate = (tuple(int(v) for v in rng.integers(1, 3, ndim)) for _ in range(2))
        pad = tuple(int(v) for v in rng.integers(0, 2, ndim))
        spatial = tuple(int(v) for v in rng.integers(1, 5, ndim))
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + spatial
        out, _, _ = _positions(spatial, kernel, stride, dilate, pad)
        if min(out) >= 1 and math.prod(shape) <= 40:
            attrs = {"kernel": kernel}
            for key, value, default in (("stride", stride, 1), ("dilate", dilate, 1), ("pad", pad, 0)):
                if any(v != default for v in value) or rng.random() < 0.5:
                    attrs[key] = value
            return shape, attrs


def _im2col_make(rng):
    shape, attrs = _draw(rng)
    return [rng.standard_normal(shape)], attrs


def _col2im_make(rng):
    shape, attrs = _draw(rng)
    col_shape = _im2col_ref(np.zeros(shape), **attrs).shape
    return [rng.standard_normal(col_shape)], dict(attrs, output_size=shape[2:])


SPECS = [OpSpec("im2col", _im2col_make, _im2col_ref), OpSpec("col2im", _col2im_make, _col2im_ref)]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)

_WINDOW = dict(kernel=(2, 3), stride=(2, 1), pad=(1, 0), dilate=(1, 2))


def test_values_printed_by_mxnet():
    x = mx.nd.array(np.arange(80).reshape(2, 2, 4, 5))
    col = mx.nd.im2col(x, **_WINDOW)
    assert col.shape == (2, 12, 3)
    assert col[0, :3].asnumpy().tolist() == [[0, 5, 15], [0, 7, 17], [0, 9, 19]]
    assert mx.nd.col2im(col, output_size=(4, 5), **_WINDOW)[0, 0].asnumpy().tolist() == \
        [[0, 0, 2, 0, 4], [5, 0, 7, 0, 9], [10, 0, 12, 0, 14], [15, 0, 17, 0, 19]]
    assert mx.nd.im2col(mx.nd.ones((1, 2, 5)), kernel=(2,)).shape == (1, 4, 4)


def test_symbols_infer_shapes():
    col = mx.sym.im2col(mx.sym.var("x"), **_WINDOW)
    assert col.infer_shape(x=(2, 2, 4, 5))[1] == [(2, 12, 3)]
    image = mx.sym.col2im(mx.sym.var("c"), output_size=(4, 5), **_WINDOW)
    assert image.infer_shape(c=(2, 12, 3))[1] == [(2, 2, 4, 5)]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.im2col(mx.nd.ones((1, 2, 3, 3)), kernel=(5, 5)), r"im2col.*exceeds.*\(3, 3\)"),
    (lambda: mx.nd.im2col(mx.nd.ones((1, 2, 3, 3)), kernel=(2,)), r"im2col.*\(2,\).*\(3, 3\)"),
    (lambda: mx.nd.im2col(mx.nd.ones((1, 2, 3, 3)), kernel=(2, 2), stride=(1,)), r"im2col.*stride \(1,\)"),
    (lambda: mx.nd.col2im(mx.nd.ones((1, 7, 4)), output_size=(3, 3), kernel=(2, 2)), r"col2im.*\(1, 7, 4\)"),
    (lambda: mx.nd.col2im(mx.nd.ones((1, 8, 5)), output_size=(3, 3), kernel=(2, 2)),
     r"col2im.*5 columns.*output_size \(3, 3\) gives 4"),
])
def test_errors_name_the_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
