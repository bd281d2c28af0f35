"""The imperative path of every operator: infer -> allocate -> engine.push -> autograd record.

This is the hot path of `a + b`; keep it free of work that does not need doing per call.
"""
from functools import partial

import numpy as np

from .. import engine, storage
from .. import random as _random
from ..base import MXNetError
from ..error import compatible
from ..kernels.common import REQ_NULL, REQ_WRITE

__all__ = ["invoke", "infer"]

_ag = None  # mxcy.autograd, bound on first use to avoid an import cycle
_NDArray = None
_empty = np.empty
_LIGHT = engine.LIGHT_ELEMENTS


def _bind():
    global _ag, _NDArray
    from .. import autograd
    from ..ndarray.ndarray import NDArray
    _ag, _NDArray = autograd, NDArray


def infer(op, attrs, in_shapes, in_types):
    """Run the op's shape and type rules, turning any failure into an MXNetError naming op and shapes."""
    try:
        _, out_shapes = op.infer_shape(attrs, in_shapes)
        _, out_types = op.infer_type(attrs, in_types)
    except MXNetError:
        raise
    except Exception as err:  # noqa: BLE001 - a rule's IndexError/ValueError is bad input
        raise compatible(err)(f"{op.name}: invalid inputs of shapes {list(in_shapes)} and dtypes "
                         f"{[getattr(t, 'name', t) for t in in_types]}: {err}") from None
    if not isinstance(out_types, (list, tuple)):
        out_types = [out_types] * len(out_shapes)
    return out_shapes, out_types


def invoke(op, inputs, attrs, out=None, ctx=None, req=REQ_WRITE):
    """Run `op` on NDArrays `inputs` with parsed `attrs`; returns the list of output NDArrays.

    `out` (an NDArray or list of them) receives the outputs instead of new arrays; `req=REQ_ADD`
    accumulates into `out`.
    """
    if _NDArray is None:
        _bind()
    datas, in_shapes, in_types = [], [], []
    if inputs:
        ctx = inputs[0]._ctx
        for x in inputs:
            if x._ctx is not ctx and x._ctx != ctx and not _host_pair(x._ctx, ctx):
                raise MXNetError(f"{op.name}: all inputs must be on one context; got "
                                 f"{', '.join(str(i._ctx) for i in inputs)}")
            d = x._data
            datas.append(d)
            in_shapes.append(tuple(d.shape))  # the CUDA simulator's shapes are not tuples
            in_types.append(d.dtype)
    elif out is not None:
        # As MXNet: an op without inputs runs where its out= array lives.
        ctx = (out if isinstance(out, _NDArray) else out[0])._ctx
    compute = op.compute.get(ctx.device_type)
    if compute is None:
        raise MXNetError(f"{op.name}: not implemented on {ctx}")
    n = len(in_shapes)
    uniform = op.elementwise and in_shapes.count(in_shapes[0]) == n and in_types.count(in_types[0]) == n
    if uniform:
        out_shapes, out_types = (in_shapes[0],), (in_types[0],)
    else:
        out_shapes, out_types = infer(op, attrs, in_shapes, in_types)
    if out is None:
        if ctx.device_type == "cpu":
            outputs = [_NDArray(_empty(out_shapes[0], out_types[0]), ctx)] if len(out_shapes) == 1 else \
                [_NDArray(_empty(s, t), ctx) for s, t in zip(out_shapes, out_types)]
        else:
            outputs = [_NDArray(storage.alloc(s, t, ctx), ctx) for s, t in zip(out_shapes, out_types)]
    elif uniform and out is inputs[0]:
        outputs = [out]  # x op= y: the output is an input of the output's shape, type and context
    else:
        outputs = [out] if isinstance(out, _NDArray) else list(out)
        if len(outputs) < len(out_shapes) and len(outputs) == op.n_visible_outputs(attrs):
            outputs += [_NDArray(storage.alloc(s, t, ctx), ctx)
                        for s, t in zip(out_shapes[len(outputs):], out_types[len(outputs):])]
        _check_out(op, outputs, out_shapes, out_types, ctx)
    if op.random:
        attrs = dict(attrs, __key__=_random.next_key(ctx))
    if op.train_aware:
        attrs = dict(attrs, __is_train__=_ag._local.training)
    aux = op.aux_inputs(attrs)
    if len(outputs) == 1 and not aux and not op.mutate_inputs:
        w = outputs[0]._var
        writes = (w,)
        if len(inputs) == 1:
            a = inputs[0]._var
            reads = () if a is w else (a,)
        elif len(inputs) == 2:
            a, b = inputs[0]._var, inputs[1]._var
            reads = (() if a is w else (a,)) if a is b else \
                (b,) if a is w else (a,) if b is w else (a, b)
        else:
            reads = tuple({x._var: None for x in inputs if x._var is not w})
    else:
        reads, writes = _vars(op, attrs, inputs, aux, outputs)
    reqs = (req,) * len(outputs)
    if req != REQ_WRITE and op.visible_outputs is not None:
        n_visible = op.n_visible_outputs(attrs)  # hidden outputs are always rewritten
        reqs = reqs[:n_visible] + (REQ_WRITE,) * (len(outputs) - n_visible)
    skip = _ag._local.skip_gradients
    if skip is not None and skip[0] == op.name:
        _ag._local.skip_gradients = None
        reqs = tuple(REQ_NULL if k < len(skip[1]) and skip[1][k] else r for k, r in enumerate(reqs))
    out_datas = [o._data for o in outputs]
    engine.push(partial(compute, attrs, datas, out_datas, reqs), reads, writes, ctx, 0, op.name,
                _is_light(datas, out_datas))
    if _ag._local.recording and op.gradient is not None:
        # the gradient sees the arguments only: auxiliary states get none
        _ag._record(op, attrs, [x for k, x in enumerate(inputs) if k not in aux] if aux else inputs[:], outputs)
    return outputs


def _is_light(datas, out_datas):
    for d in datas:
        if d.size > _LIGHT:
            return False
    for d in out_datas:
        if d.size > _LIGHT:
            return False
    return True


def _check_out(op, outputs, out_shapes, out_types, ctx):
    if len(outputs) != len(out_shapes):
        raise MXNetError(f"{op.name}: expected {len(out_shapes)} output arrays in out=, got "
                         f"{len(outputs)}")
    for o, s, t in zip(outputs, out_shapes, out_types):
        if tuple(o._data.shape) != tuple(s):
            raise MXNetError(f"{op.name}: out= has shape {o.shape}, the op produces shape {tuple(s)}")
        if o._data.dtype != t:
            raise MXNetError(f"{op.name}: out= has dtype {o._data.dtype.name}, the op produces "
                             f"{t.name if hasattr(t, 'name') else t}")
        if o._ctx != ctx and not _host_pair(o._ctx, ctx):
            raise MXNetError(f"{op.name}: out= is on {o._ctx}, the inputs on {ctx}")


def _host_pair(a, b):
    # cpu, cpu_pinned and cpu_shared are all host memory: MXNet lets one op mix them (same dev_mask).
    return a.device_type == "cpu" == b.device_type


def _vars(op, attrs, inputs, aux, outputs):
    """Engine read/write sets: each var once, a var both read and written counted as written."""
    writes = [o._var for o in outputs]
    writes += [inputs[k]._var for k in aux]  # aux states (BatchNorm's moving stats) update in place
    writes += [inputs[i]._var for i in op.mutated_inputs(attrs)]
    writes = tuple(dict.fromkeys(writes))
    wset = set(writes)
    reads = tuple(v for v in dict.fromkeys(x._var for x in inputs) if v not in wset)
    return reads, writes
