"""Builds the mx.nd functions from the operator registry: one generic caller per OpDef with a real
signature and docstring (no generated source is executed); arguments bind as in mx.sym (ops/frontend.py).
"""
from ..base import MXNetError
from ..context import Context, current_context
from ..ops import registry
from ..ops.frontend import PREFIXES, SPARSE_NAMESPACE, bind_call, docstring, signature
from ..ops.invoke import invoke

__all__ = ["make_function", "populate", "wants_sparse"]


def _parse_ctx(ctx):
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    text = str(ctx)
    dev, _, rest = text.partition("(")
    return Context(dev, int(rest.rstrip(")") or 0))


def wants_sparse(inputs, attrs, out):
    """Whether a call goes through mx.nd.sparse's dispatch: a sparse input or out=, or a sparse result
    asked for (cast_storage's stype, dot's forward_stype). GraphPlan asks the same of each graph node."""
    outs = out if isinstance(out, (list, tuple)) else (out,)
    return any(x.stype != "default" for x in inputs) or any(o is not None and o.stype != "default" for o in outs) \
        or attrs.get("stype", "default") != "default" or attrs.get("forward_stype") not in (None, "default")


def make_function(op, name=None):
    """The mx.nd function of `op`: inputs positionally or by name, then op parameters."""
    from .ndarray import NDArray

    def call(*args, out=None, name=None, ctx=None, **kwargs):
        attrs, inputs = bind_call(op, args, kwargs, lambda v: isinstance(v, NDArray), op.parse_attrs)
        if any(x is None for x in inputs):
            names = op.list_inputs(attrs)
            missing = names[[x is None for x in inputs].index(True)]
            count = f" for {op.key_var_num_args}={attrs[op.key_var_num_args]}" if op.key_var_num_args else ""
            raise MXNetError(f"{op.name}: required input '{missing}' is missing; it takes {len(names)} inputs "
                             f"({', '.join(names)}){count}")
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                raise MXNetError(f"{op.name}: input {i} must be an NDArray, got {type(x).__name__}")
        if wants_sparse(inputs, attrs, out):
            from .sparse import dispatch
            outs = dispatch(op, inputs, attrs, out)
        else:
            outs = invoke(op, inputs, attrs, out, _parse_ctx(ctx) if not inputs else None)
        if op.visible_outputs is not None:
            outs = outs[:op.n_visible_outputs(attrs)]
        return outs[0] if len(outs) == 1 else outs

    call.__name__ = name or op.name
    call.__qualname__ = call.__name__
    call.__doc__ = docstring(op, "NDArray")
    call.__signature__ = signature(op, ("out", "name"))
    return call


def populate(namespaces):
    """Put a function for every registered name into `namespaces` (name -> module dict)."""
    for key in registry.names():
        op = registry.get(key)
        fn = make_function(op, key)
        namespaces["_internal"][key] = fn
        if key in SPARSE_NAMESPACE:
            namespaces["sparse"].setdefault(key, fn)  # the hand-written sparse functions come first
        for prefix, module in PREFIXES.items():
            if key.startswith(prefix):
                namespaces[module].setdefault(key[len(prefix):], fn)
                break
        else:
            if not key.startswith("_"):
                namespaces["op"][key] = fn
