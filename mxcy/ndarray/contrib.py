"""mx.nd.contrib: functions generated from the operator registry (filled in by mxcy.ndarray)."""

import numpy as _np

from ..error import MXNetValueError as _MXNetValueError


def boolean_mask(data=None, index=None, axis=0, out=None, name=None, **kwargs):
    """The rows of `data` where the vector `index` is nonzero (MXNet 1.9.1 supports axis 0 only).

    The output's shape depends on index's values, so the positions are found on the host (NumPy); the
    rows are gathered by `take`, whose gradient scatters the head gradient back to them."""
    if axis != 0:
        raise _MXNetValueError(f"boolean_mask: axis={axis} is not supported (MXNet 1.9.1 supports axis 0 only)")
    if index.ndim != 1 or index.shape[0] != data.shape[0]:
        raise _MXNetValueError(f"boolean_mask: index must be a vector as long as data's axis 0, got data "
                               f"{data.shape} and index {index.shape}")
    from . import op
    from .utils import array
    positions = array(_np.flatnonzero(index.asnumpy()), ctx=data.context, dtype="int64")
    return op.take(data, positions, axis=0, out=out)


# The AdamW and LAMB update wrappers of MXNet 1.9.1's ndarray/contrib.py: lists of arrays flattened into the
# variadic update ops, and a Python number as rescale_grad made a one-element array on the weights' context.
def _rescale_array(rescale_grad, ctx):
    from .ndarray import NDArray
    from .utils import full
    return rescale_grad if isinstance(rescale_grad, NDArray) else full((1,), rescale_grad, ctx=ctx)


def _interleaved(*lists):
    return [a for group in zip(*lists) for a in group]


def adamw_update(weight, grad, mean, var, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0,
                 clip_gradient=-1, out=None, name=None, **kwargs):
    """AdamW update (`_adamw_update`); rescale_grad may be a number or a one-element NDArray."""
    from . import _internal
    return _internal._adamw_update(weight, grad, mean, var, _rescale_array(rescale_grad, weight.context), lr=lr,
                                   eta=eta, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                                   clip_gradient=clip_gradient, out=out, name=name, **kwargs)


def mp_adamw_update(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1=0.9, beta2=0.999,
                    epsilon=1e-8, wd=0, clip_gradient=-1, out=None, name=None, **kwargs):
    """Multi-precision AdamW update (`_mp_adamw_update`) on the float32 master weight32."""
    from . import _internal
    return _internal._mp_adamw_update(weight, grad, mean, var, weight32,
                                      _rescale_array(rescale_grad, weight.context), lr=lr, eta=eta, beta1=beta1,
                                      beta2=beta2, epsilon=epsilon, wd=wd, clip_gradient=clip_gradient, out=out,
                                      name=name, **kwargs)


def multi_adamw_update(weights, grads, mean, var, rescale_grad, lrs, wds, etas, out=None, name=None, size=0,
                       **kwargs):
    """AdamW on lists of weights at once (`_multi_adamw_update`); size defaults to len(weights)."""
    from . import _internal
    return _internal._multi_adamw_update(
        *_interleaved(weights, grads, mean, var), _rescale_array(rescale_grad, weights[0].context), out=out,
        num_weights=size or len(weights), lrs=lrs, wds=wds, etas=etas, name=name, **kwargs)


def multi_mp_adamw_update(weights, grads, mean, var, weights32, rescale_grad, lrs, wds, etas, out=None, name=None,
                          size=0, **kwargs):
    """Multi-precision AdamW on lists of weights at once (`_multi_mp_adamw_update`)."""
    from . import _internal
    return _internal._multi_mp_adamw_update(
        *_interleaved(weights, grads, mean, var, weights32), _rescale_array(rescale_grad, weights[0].context),
        out=out, num_weights=size or len(weights), lrs=lrs, wds=wds, etas=etas, name=name, **kwargs)


def multi_lamb_update(weights, grads, mean, var, step_count, lrs, wds, out=None, num_tensors=0, **kwargs):
    """LAMB on lists of tensors at once (`_multi_lamb_update`); step_count, lrs and wds per tensor."""
    from . import _internal
    return _internal._multi_lamb_update(*_interleaved(weights, grads, mean, var), out=out,
                                        num_tensors=num_tensors or len(weights), step_count=step_count,
                                        learning_rates=lrs, wds=wds, **kwargs)


def multi_mp_lamb_update(weights, grads, mean, var, weights32, step_count, lrs, wds, out=None, num_tensors=0,
                         **kwargs):
    """Multi-precision LAMB on lists of tensors at once (`_multi_mp_lamb_update`)."""
    from . import _internal
    return _internal._multi_mp_lamb_update(*_interleaved(weights, grads, mean, var, weights32), out=out,
                                           num_tensors=num_tensors or len(weights), step_count=step_count,
                                           learning_rates=lrs, wds=wds, **kwargs)


from .control_flow import cond, foreach, while_loop  # noqa: E402,F401 - MXNet's imperative control flow
from .._zipfian import nd_rand_zipfian as rand_zipfian  # noqa: E402,F401
from ..context import current_context  # noqa: E402,F401 - MXNet's nd.contrib hands these out too
from .random import uniform  # noqa: E402,F401


# INT8 quantization: named, not computed yet (mxcy/_int8.py)
from .._int8 import not_yet_functions as _not_yet_functions  # noqa: E402
globals().update(_not_yet_functions("nd"))
