"""The mx.test_utils helpers that run Symbols: simple_forward, check_symbolic_forward/backward,
check_numeric_gradient and check_consistency (re-exported by mxcy.test_utils under MXNet's names)."""
import numpy as np

from . import ndarray as nd
from .base import MXNetError
from .test_utils import _numpy, assert_almost_equal, default_context, executor_function, numeric_grad

__all__ = ["simple_forward", "check_symbolic_forward", "check_symbolic_backward", "check_numeric_gradient",
           "check_consistency", "random_projection"]


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
    return {k: nd.array(v, ctx=ctx, dtype=dtype) for k, v in values.items()}


def _bind(sym, ctx, args, aux, dtype, grads=None, reqs=None):
    names = sym.list_arguments()
    return sym.bind(ctx, args=_nd(args, ctx, dtype), args_grad=grads,
                    grad_req={k: (reqs or {}).get(k, "null") for k in names},
                    aux_states=_nd(aux, ctx, dtype))


def random_projection(shape):
    """Random weights that reduce a symbol's output to a scalar for gradient checks."""
    return np.random.uniform(-1.0, 1.0, shape)


def simple_forward(sym, ctx=None, is_train=False, **inputs):
    """sym's outputs as NumPy arrays for NumPy `inputs`; a single output is returned bare."""
    ctx = ctx or default_context()
    exe = sym.bind(ctx, args={k: nd.array(v, ctx=ctx) for k, v in inputs.items()}, grad_req="null")
    outs = [o.asnumpy() for o in exe.forward(is_train=is_train)]
    return outs[0] if len(outs) == 1 else outs


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None, ctx=None,
                           equal_nan=False, dtype=np.float32):
    """Bind sym to `location`, run forward (inference) and compare each output with `expected`."""
    ctx = ctx or default_context()
    args = _named(location, sym.list_arguments(), "check_symbolic_forward")
    aux = _named(aux_states, sym.list_auxiliary_states(), "check_symbolic_forward")
    outputs = [o.asnumpy() for o in _bind(sym, ctx, args, aux, dtype).forward(is_train=False)]
    expected = _named(expected, sym.list_outputs(), "check_symbolic_forward")
    for name, out in zip(sym.list_outputs(), outputs):
        assert_almost_equal(expected[name], out, rtol, atol, ("EXPECTED_" + name, "FORWARD_" + name),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False,
                            dtype=np.float32):
    """Forward (training) and backward with `out_grads`; compare argument gradients with `expected`.
    With grad_req 'add' the gradients are added onto random initial values, which are subtracted."""
    ctx = ctx or default_context()
    names = sym.list_arguments()
    args = _named(location, names, "check_symbolic_backward")
    aux = _named(aux_states, sym.list_auxiliary_states(), "check_symbolic_backward")
    expected = _named(expected, names, "check_symbolic_backward")
    reqs = dict(grad_req) if isinstance(grad_req, dict) else {k: grad_req for k in expected}
    initial = {k: np.random.normal(size=args[k].shape) for k in expected}
    grads = _nd(initial, ctx, dtype)
    exe = _bind(sym, ctx, args, aux, dtype, grads, reqs)
    exe.forward(is_train=True)
    if out_grads is not None:
        seq = [out_grads[k] for k in sym.list_outputs()] if isinstance(out_grads, dict) else \
            (out_grads if isinstance(out_grads, (list, tuple)) else [out_grads])
        out_grads = [nd.array(_numpy(g), ctx=ctx, dtype=dtype) for g in seq]
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
    return result


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None, atol=None,
                           grad_nodes=None, use_forward_train=True, ctx=None, grad_stype_dict=None,
                           dtype=np.float32):
    """Compare sym's backward with central differences of sum(output * random projection)."""
    ctx = ctx or default_context()
    dtype = np.dtype(dtype)
    wide = dtype == np.float64
    numeric_eps = numeric_eps if numeric_eps is not None else (1e-6 if wide else 1e-3)
    rtol = rtol if rtol is not None else (1e-5 if wide else 1e-2)
    atol = atol if atol is not None else (1e-8 if wide else 1e-4)
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
    exe = _bind(sym, ctx, args, aux, dtype, grads, reqs)
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


_PRECISION = {np.dtype(np.float16): 0, np.dtype(np.float32): 1, np.dtype(np.float64): 2}
_DEFAULT_TOL = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-5}


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None, aux_params=None,
                      tol=None, raise_on_err=True, ground_truth=None, equal_nan=False, use_uniform=False,
                      rand_type=np.float64):
    """Run sym for every {'ctx', shapes..., 'type_dict'} in ctx_list from the same random inputs and
    check outputs and gradients against the most precise run (or `ground_truth`)."""
    if tol is None:
        tol = _DEFAULT_TOL
    elif not isinstance(tol, dict):
        tol = {t: tol for t in _PRECISION}
    syms = list(sym) if isinstance(sym, (list, tuple)) else [sym] * len(ctx_list)
    exes = []
    for s, spec in zip(syms, ctx_list):
        spec = dict(spec)
        ctx, type_dict = spec.pop("ctx"), spec.pop("type_dict", {})
        exes.append(s.simple_bind(ctx, grad_req=grad_req, type_dict=type_dict, **spec))
    arg_params, aux_params = dict(arg_params or {}), dict(aux_params or {})
    for name, arr in exes[0].arg_dict.items():
        if name not in arg_params:
            arg_params[name] = (np.random.uniform(-scale, scale, arr.shape) if use_uniform else
                                np.random.normal(size=arr.shape, scale=scale)).astype(rand_type)
    for name, arr in exes[0].aux_dict.items():
        aux_params.setdefault(name, np.zeros(arr.shape, rand_type))
    results = []
    for exe in exes:
        exe.copy_params_from({k: _numpy(v) for k, v in arg_params.items()},
                             {k: _numpy(v) for k, v in aux_params.items()}, allow_extra_params=True)
        outs = exe.forward(is_train=grad_req != "null")
        res = {f"output{i}": o.asnumpy() for i, o in enumerate(outs)}
        if grad_req != "null":
            exe.backward([nd.array(np.full(o.shape, 0.1), ctx=o.context, dtype=o.dtype) for o in outs])
            res.update({f"grad_{k}": g.asnumpy() for k, g in exe.grad_dict.items()})
        results.append(res)
    dtypes = [np.dtype(e.outputs[0].dtype) for e in exes]
    best = max(range(len(exes)), key=lambda i: _PRECISION.get(dtypes[i], 1))
    truth = ground_truth if ground_truth is not None else results[best]
    for i, res in enumerate(results):
        if i == best and ground_truth is None:
            continue
        t = tol[dtypes[i]]
        for key, value in res.items():
            try:
                assert_almost_equal(np.asarray(truth[key], np.float64), value.astype(np.float64), rtol=t,
                                    atol=t, names=(f"ctx{best}_{key}", f"ctx{i}_{key}"), equal_nan=equal_nan)
            except AssertionError:
                if raise_on_err:
                    raise
    return results
