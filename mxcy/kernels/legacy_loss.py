"""Kernels of MXNet 1.x's legacy loss layers, CPU and CUDA from one source: SVMOutput's one-vs-all hinge-loss gradient
and IdentityAttachKLSparseReg's moving average of each unit's mean activation. Labels arrive validated (class indices
in range, as floats); sums in float64; arrays C-contiguous."""
from numba import cuda, prange

from .common import REQ_NULL, assign, flat, parallel_kernel
from .launch import dual, grid_1d, store


def _svm_value(out, label, e, classes, margin, coef, linear):
    """The gradient at score e of out (rows, classes) flat: the label's class is pushed above +margin, the others
    below -margin; by a constant (L1, linear) or twice the violation (L2); times coef."""
    row, c = e // classes, e % classes
    is_label = int(label[row]) == c
    signed = out[e] if is_label else -out[e]
    if margin <= signed:
        return 0.0
    step = 1.0 if linear else 2.0 * (margin - signed)
    return coef * (-step if is_label else step)


def _average_unit(data, moving_avg, u, rows, units, momentum):
    """moving_avg[u] = momentum * moving_avg[u] + (1 - momentum) * the mean of unit u over data (rows, units)."""
    acc = 0.0
    for r in range(rows):
        acc += data[r * units + u]
    moving_avg[u] = momentum * moving_avg[u] + (1.0 - momentum) * (acc / rows)


_svm_value_cpu, _svm_value_dev = dual(_svm_value)
_average_unit_cpu, _average_unit_dev = dual(_average_unit)


@parallel_kernel(nogil=True, cache=True)
def _svm_grad_cpu(out, label, grad, classes, margin, coef, linear, req):
    for e in prange(grad.size):
        grad[e] = assign(grad[e], _svm_value_cpu(out, label, e, classes, margin, coef, linear), req)


@parallel_kernel(nogil=True, cache=True)
def _moving_average_cpu(data, moving_avg, rows, momentum):
    units = moving_avg.size
    for u in prange(units):
        _average_unit_cpu(data, moving_avg, u, rows, units, momentum)


def _svm_grad_kernel(out, label, grad, classes, margin, coef, linear, req):
    e = cuda.grid(1)
    while e < grad.size:
        store(grad, e, _svm_value_dev(out, label, e, classes, margin, coef, linear), req)
        e += cuda.gridsize(1)


def _moving_average_kernel(data, moving_avg, rows, momentum):
    u = cuda.grid(1)
    while u < moving_avg.size:
        _average_unit_dev(data, moving_avg, u, rows, moving_avg.size, momentum)
        u += cuda.gridsize(1)


svm_grad_kernel = cuda.jit(_svm_grad_kernel)
moving_average_kernel = cuda.jit(_moving_average_kernel)


def svm_grad_cpu(out, label, grad, margin, coef, linear, req):
    """grad (req)= SVMOutput's gradient for scores out (..., classes) and labels (one per row of classes)."""
    if req != REQ_NULL:
        _svm_grad_cpu(flat(out), flat(label), flat(grad), out.shape[-1], margin, coef, linear, req)


def moving_average_cpu(data, moving_avg, momentum):
    """moving_avg (units,) moves towards the mean activation per unit of data (batch, units, 1...), in place."""
    _moving_average_cpu(flat(data), moving_avg, data.shape[0], momentum)


def svm_grad_gpu(out, label, grad, margin, coef, linear, req, stream=0):
    """CUDA twin of svm_grad_cpu."""
    if req != REQ_NULL and grad.size:
        blocks, threads = grid_1d(grad.size)
        classes = out.shape[out.ndim - 1]  # the simulator's shapes take no negative index
        svm_grad_kernel[blocks, threads, stream](flat(out), flat(label), flat(grad), classes, margin, coef, linear,
                                                 req)


def moving_average_gpu(data, moving_avg, momentum, stream=0):
    """CUDA twin of moving_average_cpu."""
    if moving_avg.size:
        blocks, threads = grid_1d(moving_avg.size)
        moving_average_kernel[blocks, threads, stream](flat(data), moving_avg, data.shape[0], momentum)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a = f"{_t}[::1]"
    PTX_CHECKS += [(_svm_grad_kernel, f"void({_a}, {_a}, {_a}, int64, float64, float64, boolean, int64)"),
                   (_moving_average_kernel, f"void({_a}, {_a}, int64, float64)")]
