"""The mx.test_utils helpers that run Symbols or Gluon blocks: simple_forward,
check_symbolic_forward/backward, check_numeric_gradient, check_consistency, check_speed and
check_gluon_hybridize_consistency (re-exported by mxcy.test_utils under MXNet's names)."""
import numpy as np

import time
import traceback

from . import autograd
from . import ndarray as nd
from .base import MXNetError
from .ndarray.sparse import BaseSparseNDArray
from .test_utils import (_numpy, assert_almost_equal, default_context, default_numeric_eps, executor_function,
                         get_tolerance, get_tols, numeric_grad)

__all__ = ["simple_forward", "check_symbolic_forward", "check_symbolic_backward", "check_numeric_gradient",
           "check_consistency", "check_speed", "check_gluon_hybridize_consistency", "random_projection"]


def _named(values, names, what):
    """values (a list in `names` order, or a dict) -> dict name -> NumPy array."""
    if values is None:
        return {}
    if isinstance(values, dict):
        unknown = set(values) - set(names)
        if unknown:
            raise MXNetError(f"{what}: {sorted(unknown)} not among {names}")
        return {k: _numpy(v) for k, v in values.items()}
    values = list(values)
    if len(values) != len(names):
        raise MXNetError(f"{what}: {len(values)} arrays given for {len(names)} ({names})")
    return {k: _numpy(v) for k, v in zip(names, values)}


def _nd(values, ctx, dtype):
    """NDArrays of `dtype` (or, for MXNet's dtype="asnumpy", of each value's own dtype) from NumPy values; sparse
    NDArrays are bound as they are (MXNet binds given NDArrays)."""
    return {k: v if isinstance(v, BaseSparseNDArray) else nd.array(v, ctx=ctx, dtype=_dtype_for(v, dtype))
            for k, v in values.items()}


def _dtype_for(value, dtype):
    """`dtype`, or for MXNet's dtype="asnumpy" the NumPy value's own dtype."""
    return np.asarray(value).dtype if isinstance(dtype, str) and dtype == "asnumpy" else dtype


def _keep_sparse(named, given, names):
    """`named` (name -> NumPy value) with the sparse NDArrays of `given` (a list in `names` order or a dict) back."""
    pairs = given.items() if isinstance(given, dict) else zip(names, given or ())
    return {**named, **{k: v for k, v in pairs if isinstance(v, BaseSparseNDArray)}}


def _bind(sym, ctx, args, aux, dtype, grads=None, reqs=None):
    names = sym.list_arguments()
    return sym.bind(ctx, args=_nd(args, ctx, dtype), args_grad=grads,
                    grad_req={k: (reqs or {}).get(k, "null") for k in names},
                    aux_states=_nd(aux, ctx, dtype))


def random_projection(shape):
    """Random weights that reduce a symbol's output to a scalar for gradient checks: in [0.1, 1.1) as MXNet 1.9.1's,
    none so small that the difference quotient loses the precision of float32 outputs."""
    return np.random.rand(*shape) + 0.1


def simple_forward(sym, ctx=None, is_train=False, **inputs):
    """sym's outputs as NumPy arrays for NumPy `inputs`; a single output is returned bare."""
    ctx = ctx or default_context()
    exe = sym.bind(ctx, args={k: nd.array(v, ctx=ctx) for k, v in inputs.items()}, grad_req="null")
    outs = [o.asnumpy() for o in exe.forward(is_train=is_train)]
    return outs[0] if len(outs) == 1 else outs


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None, ctx=None,
                           equal_nan=False, dtype=np.float32):
    """Bind sym to `location`, run forward (inference) and compare each output with `expected`; returns the
    executor's outputs (NDArrays in the storage types the graph gives, as MXNet's)."""
    ctx = ctx or default_context()
    names = sym.list_arguments()
    args = _keep_sparse(_named(location, names, "check_symbolic_forward"), location, names)
    aux = _named(aux_states, sym.list_auxiliary_states(), "check_symbolic_forward")
    outputs = _bind(sym, ctx, args, aux, dtype).forward(is_train=False)
    expected = _named(expected, sym.list_outputs(), "check_symbolic_forward")
    for name, out in zip(sym.list_outputs(), outputs):
        assert_almost_equal(expected[name], out.asnumpy(), rtol, atol, ("EXPECTED_" + name, "FORWARD_" + name),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False,
                            dtype=np.float32):
    """Forward (training) and backward with `out_grads`; compare argument gradients with `expected`.
    With grad_req 'add' the gradients are added onto random initial values, which are subtracted. Gradients
    named in grad_stypes with a sparse type go to empty sparse arrays; returns {name: gradient NDArray}."""
    ctx = ctx or default_context()
    names = sym.list_arguments()
    args = _keep_sparse(_named(location, names, "check_symbolic_backward"), location, names)
    aux = _named(aux_states, sym.list_auxiliary_states(), "check_symbolic_backward")
    expected = _named(expected, names, "check_symbolic_backward")
    reqs = dict(grad_req) if isinstance(grad_req, dict) else {k: grad_req for k in expected}
    initial = {k: np.random.normal(size=args[k].shape) for k in expected}
    # gradients in `dtype`, or with dtype="asnumpy" in the expected values' dtype (as MXNet's)
    grads = {k: nd.array(v, ctx=ctx, dtype=_dtype_for(expected[k], dtype)) for k, v in initial.items()}
    for name, stype in (grad_stypes or {}).items():
        if name in grads and stype not in (None, "default"):
            initial[name] = np.zeros(args[name].shape)
            grads[name] = nd.sparse.zeros(stype, args[name].shape, ctx=ctx, dtype=_dtype_for(expected[name], dtype))
    exe = _bind(sym, ctx, args, aux, dtype, grads, reqs)
    exe.forward(is_train=True)
    if out_grads is not None:
        seq = [out_grads[k] for k in sym.list_outputs()] if isinstance(out_grads, dict) else \
            (out_grads if isinstance(out_grads, (list, tuple)) else [out_grads])
        out_grads = [g if isinstance(g, BaseSparseNDArray) else
                     nd.array(_numpy(g), ctx=ctx, dtype=_dtype_for(_numpy(g), dtype)) for g in seq]
    exe.backward(out_grads)
    result = {k: g.asnumpy() for k, g in grads.items()}
    for name, want in expected.items():
        got, req = result[name], reqs.get(name, "null")
        if req == "add":
            got = got - initial[name].astype(got.dtype)
        elif req == "null":
            want = initial[name].astype(got.dtype)
        assert_almost_equal(want, got, rtol, atol, ("EXPECTED_" + name, "BACKWARD_" + name),
                            equal_nan=equal_nan)
    return grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None, atol=None,
                           grad_nodes=None, use_forward_train=True, ctx=None, grad_stype_dict=None,
                           dtype=np.float32):
    """Compare sym's backward with central differences of sum(output * random projection). As MXNet 1.9.1's, the
    step and the tolerances not given are those of `dtype` (default_numeric_eps; default_rtols/default_atols)."""
    ctx = ctx or default_context()
    dtype = np.dtype(dtype)
    numeric_eps = get_tolerance(np.zeros((), dtype), numeric_eps, default_numeric_eps())
    names = sym.list_arguments()
    args = {k: v.astype(dtype) for k, v in _named(location, names, "check_numeric_gradient").items()}
    aux = _named(aux_states, sym.list_auxiliary_states(), "check_numeric_gradient")
    reqs = dict(grad_nodes) if isinstance(grad_nodes, dict) else \
        {k: "write" for k in (names if grad_nodes is None else grad_nodes)}
    _, out_shapes, _ = sym.infer_shape(**{k: v.shape for k, v in args.items()})
    if out_shapes is None or len(out_shapes) != 1:
        raise MXNetError("check_numeric_gradient: the symbol must have one output of known shape")
    proj = random_projection(out_shapes[0]).astype(dtype)
    initial = {k: np.random.normal(0, 0.01, size=args[k].shape).astype(dtype) for k in reqs}
    grads = _nd(initial, ctx, dtype)
    # sparse arrays are bound in their storage (as MXNet's: BatchNorm refuses fix_gamma on them), as copies: the
    # numeric runs write perturbed values into the bound arrays
    bound = {k: v.copy() if isinstance(v, BaseSparseNDArray) else v for k, v in _keep_sparse(args, location, names).items()}
    exe = _bind(sym, ctx, bound, _keep_sparse(aux, aux_states, sym.list_auxiliary_states()), dtype, grads, reqs)
    exe.forward(is_train=use_forward_train)
    exe.backward([nd.array(proj, ctx=ctx, dtype=dtype)])
    symbolic = {k: g.asnumpy() for k, g in grads.items()}
    run = executor_function(exe, aux, use_forward_train, dtype)
    numeric = numeric_grad(lambda loc: run(loc).asnumpy() * proj, {k: args[k] for k in reqs},
                           eps=numeric_eps, dtype=dtype)
    for name, req in reqs.items():
        want, got = numeric[name], symbolic[name]
        if req == "add":
            got = got - initial[name]
        elif req == "null":
            want = initial[name]
        assert_almost_equal(want, got, rtol, atol, ("NUMERICAL_" + name, "BACKWARD_" + name))


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None, aux_params=None,
                      rtol=None, atol=None, raise_on_err=True, ground_truth=None, equal_nan=False,
                      use_uniform=False, rand_type=np.float64):
    """Run sym (or one Symbol per entry) for every {'ctx': ..., <input>: shape, 'type_dict': ...} in
    ctx_list from the same random inputs (normal with std `scale`, or uniform in +-0.92*scale), and
    compare outputs and, unless grad_req is 'null', gradients with the run of the widest output
    dtype (or `ground_truth`). Backward uses the first run's outputs, cast to the narrowest dtype, as
    head gradients. Tolerances default by dtype. Returns the reference {name: NDArray}."""
    assert len(ctx_list) > 1, "check_consistency: needs at least two contexts to compare"
    syms = list(sym) if isinstance(sym, (list, tuple)) else [sym] * len(ctx_list)
    assert len(syms) == len(ctx_list)
    output_names, arg_names = syms[0].list_outputs(), syms[0].list_arguments()
    exes = []
    for s, spec in zip(syms, ctx_list):
        assert s.list_arguments() == arg_names and s.list_outputs() == output_names
        exes.append(s.simple_bind(grad_req=grad_req, **spec))
    arg_params = {} if arg_params is None else arg_params
    aux_params = {} if aux_params is None else aux_params
    for name, arr in sorted(exes[0].arg_dict.items()):
        if name not in arg_params:
            arg_params[name] = (np.random.uniform(-0.92 * scale, 0.92 * scale, arr.shape) if use_uniform else
                                np.random.normal(size=arr.shape, scale=scale)).astype(rand_type)
    for name in exes[0].aux_dict:
        aux_params.setdefault(name, 0)
    for exe in exes:
        for name, arr in exe.arg_dict.items():
            arr[:] = _numpy(arg_params[name])
        for name, arr in exe.aux_dict.items():
            arr[:] = _numpy(aux_params[name])
        if grad_req == "add":
            for arr in exe.grad_arrays:
                if arr is not None:
                    arr[:] = 0
    dtypes = [np.dtype(exe.outputs[0].dtype) for exe in exes]
    ref = int(np.argmax([d.itemsize if d.kind == "f" else 0 for d in dtypes]))

    def compare(i, pairs, phase):
        for name, arr, want in pairs:
            try:
                rt, at = rtol, atol
                if rt is None or at is None:  # the narrower dtype of each side sets the default
                    rt, at = get_tols(_narrow(arr, dtypes[i]), _narrow(want, dtypes[ref]), rtol, atol)
                assert_almost_equal(arr, want, rtol=rt, atol=at, equal_nan=equal_nan,
                                    names=(f"{phase}_ctx{i}_{name}", f"{phase}_ctx{ref}_{name}"))
            except AssertionError:
                if raise_on_err:
                    raise
                traceback.print_exc()

    for exe in exes:
        exe.forward(is_train=False)
    gt = ground_truth if ground_truth is not None else {n: o.copy() for n, o in exes[ref].output_dict.items()}
    for i, exe in enumerate(exes):
        if i != ref:
            compare(i, [(n, o, gt[n]) for n, o in zip(output_names, exe.outputs)], "forward")
    if grad_req == "null":
        return gt
    for exe in exes:
        exe.forward(is_train=True)
    narrowest = [min((np.dtype(e.outputs[k].dtype) for e in exes), key=lambda d: d.itemsize)
                 for k in range(len(output_names))]
    heads = [o.astype(d).asnumpy() for o, d in zip(exes[0].outputs, narrowest)]
    for exe in exes:
        exe.backward([nd.array(h, ctx=o.context, dtype=o.dtype) for h, o in zip(heads, exe.outputs)])
    if ground_truth is None:
        gt = {n: o.copy() for n, o in exes[ref].output_dict.items()}
        gt.update({n: g.copy() for n, g in exes[ref].grad_dict.items()})
    for i, exe in enumerate(exes):
        if i != ref:
            pairs = [(n, o, gt[n]) for n, o in zip(output_names, exe.outputs)]
            pairs += [(n, g, gt[n]) for n, g in exe.grad_dict.items() if n in gt]
            compare(i, pairs, "backward")
    return gt


def _narrow(arr, dtype):
    """arr as NumPy in the narrower of its dtype and `dtype` (tolerances follow the less precise)."""
    values = _numpy(arr)
    return values.astype(dtype) if np.dtype(dtype).itemsize < values.dtype.itemsize else values


def check_speed(sym, location=None, ctx=None, N=20, grad_req=None, typ="whole", **kwargs):
    """Seconds per forward+backward (typ 'whole') or per inference forward (typ 'forward') of sym,
    averaged over N runs after one warm-up; inputs from `location` or standard normal draws for the
    shapes in kwargs."""
    ctx = ctx or default_context()
    grad_req = grad_req or "write"
    if location is None:
        exe = sym.simple_bind(grad_req=grad_req, ctx=ctx, **kwargs)
        location = {k: np.random.normal(size=arr.shape, scale=1.0) for k, arr in exe.arg_dict.items()}
    else:
        if not isinstance(location, dict):
            raise MXNetError(f"check_speed: location must be a dict of name -> array, got {type(location).__name__}")
        exe = sym.simple_bind(grad_req=grad_req, ctx=ctx, **{k: v.shape for k, v in location.items()})
    for name, value in location.items():
        exe.arg_dict[name][:] = value.astype(exe.arg_dict[name].dtype)
    if typ not in ("whole", "forward"):
        raise MXNetError(f'check_speed: typ can only be "whole" or "forward", got {typ!r}')

    def step():
        exe.forward(is_train=typ == "whole")
        if typ == "whole":
            exe.backward(out_grads=exe.outputs)

    step()
    nd.waitall()
    tic = time.time()
    for _ in range(N):
        step()
    nd.waitall()
    return (time.time() - tic) / N


def check_gluon_hybridize_consistency(net_builder, data_l, numpy_func=None, test_grad=True, rtol=1e-4,
                                      atol=1e-4):
    """Check that net_builder(prefix='net_')'s output (and input gradients when test_grad) agree
    between the imperative and the hybridized network, all runs starting from the first run's
    parameters; also against numpy_func(*inputs) when given. The network must draw no random
    numbers. MXNet runs it under NumPy semantics (mx.np arrays); mxcy runs it on NDArrays."""
    from .initializer import Initializer

    class _FromNumpy(Initializer):
        """Sets each parameter to the value saved from the first network."""
        def __init__(self, values):
            super().__init__()
            self._values = values

        def _init_weight(self, name, arr):
            arr[:] = self._values[name]

    saved_out, saved_grads, init = None, None, None
    for hybridize in (False, True):
        for use_autograd in ((False, True) if test_grad else (False,)):
            net = net_builder(prefix="net_")
            if init is None:
                net.initialize()
            else:
                net.initialize(init)
            if hybridize:
                net.hybridize()
            inputs = [x.copy() for x in data_l]
            if use_autograd:
                for x in inputs:
                    x.attach_grad()
                with autograd.record():
                    out = net(*inputs)
                out.backward(out)
            else:
                out = net(*inputs)
            if init is None:
                init = _FromNumpy({k: v.data().asnumpy() for k, v in net.collect_params().items()})
            if saved_out is None:
                saved_out = out.asnumpy()
            else:
                assert_almost_equal(out.asnumpy(), saved_out, rtol=rtol, atol=atol)
            if use_autograd:
                grads = [x.grad.asnumpy() for x in inputs]
                if saved_grads is None:
                    saved_grads = grads
                for got, want in zip(grads, saved_grads):
                    assert_almost_equal(got, want, rtol=rtol, atol=atol)
    if numpy_func is not None:
        assert_almost_equal(saved_out, numpy_func(*[x.asnumpy() for x in data_l]), rtol=rtol, atol=atol)
