"""Builds the mx.nd functions from the operator registry: one generic caller per OpDef with a real
signature and docstring (no generated source is executed).
"""
import inspect

from ..base import MXNetError
from ..context import Context, current_context
from ..ops import registry
from ..ops.invoke import invoke

__all__ = ["make_function", "populate", "PREFIXES"]

# Registry name prefixes that MXNet exposes as submodules: _contrib_X is mx.nd.contrib.X.
PREFIXES = {"_contrib_": "contrib", "_linalg_": "linalg", "_sparse_": "sparse", "_image_": "image",
            "_random_": "random", "_sample_": "random"}


def _parse_ctx(ctx):
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    text = str(ctx)
    dev, _, rest = text.partition("(")
    return Context(dev, int(rest.rstrip(")") or 0))


def make_function(op, name=None):
    """The mx.nd function of `op`: inputs positionally or by name, then op parameters."""
    from .ndarray import NDArray
    variadic = callable(op.arguments) and op.key_var_num_args is not None
    dynamic = callable(op.arguments) and not variadic
    fixed_inputs = () if callable(op.arguments) else tuple(op.arguments) + op.aux
    num_args_key = op.key_var_num_args

    def call(*args, out=None, name=None, ctx=None, **kwargs):
        if variadic:
            inputs = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) \
                else list(args)
            for key in [k for k in kwargs if isinstance(kwargs[k], NDArray)]:
                inputs.append(kwargs.pop(key))
            if num_args_key and num_args_key not in kwargs:
                kwargs[num_args_key] = len(inputs)
            attrs = op.parse_attrs(kwargs)
        else:
            # Leading NDArrays are inputs (None holds a place among a static input list); the
            # input names of ops like softmax(use_length) are known only once attributes are parsed.
            n_pos, limit = 0, len(fixed_inputs) if not dynamic else len(args)
            while n_pos < limit and n_pos < len(args) and (
                    isinstance(args[n_pos], NDArray) or (args[n_pos] is None and not dynamic)):
                n_pos += 1
            positional_params(op, args[n_pos:], kwargs)
            named = {k: kwargs.pop(k) for k in list(kwargs)
                     if k in fixed_inputs or isinstance(kwargs[k], NDArray)
                     or (dynamic and kwargs[k] is None and k not in op.params)}
            attrs = op.parse_attrs(kwargs)
            names = op.list_inputs(attrs)
            if n_pos > len(names):
                raise MXNetError(f"{op.name}: {n_pos} inputs given, it takes {len(names)} ({', '.join(names)})")
            given = dict(zip(names, args[:n_pos]))
            for key, value in named.items():
                if key not in names:
                    if value is None:
                        continue
                    raise MXNetError(f"{op.name}: unknown input '{key}'; inputs are {names}")
                if given.get(key) is not None:
                    raise MXNetError(f"{op.name}: got multiple values for input '{key}'")
                given[key] = value
            inputs = []
            for key in names:
                value = given.get(key)
                if value is None:
                    raise MXNetError(f"{op.name}: required input '{key}' is missing")
                inputs.append(value)
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                raise MXNetError(f"{op.name}: input {i} must be an NDArray, got {type(x).__name__}")
        for x in inputs:
            if x.stype != "default":
                from .sparse import dispatch
                outs = dispatch(op, inputs, attrs, out)
                break
        else:
            outs = invoke(op, inputs, attrs, out, _parse_ctx(ctx) if not inputs else None)
        if op.visible_outputs is not None:
            outs = outs[:op.n_visible_outputs(attrs)]
        return outs[0] if len(outs) == 1 else outs

    call.__name__ = name or op.name
    call.__qualname__ = call.__name__
    call.__doc__ = _docstring(op)
    call.__signature__ = _signature(op, variadic, signature_inputs(op))
    return call


def positional_params(op, values, kwargs):
    """Put positional values after the inputs into `kwargs` under the op's parameter names, in order."""
    names = tuple(op.params)
    if len(values) > len(names):
        raise MXNetError(f"{op.name}: too many positional arguments")
    for pname, value in zip(names, values):
        if pname in kwargs:
            raise MXNetError(f"{op.name}: got multiple values for argument '{pname}'")
        kwargs[pname] = value


def signature_inputs(op):
    """Input names to show in a signature: the static list, or for attribute-dependent inputs those of
    the default attributes (softmax: data; with use_length=True it also takes length)."""
    if not callable(op.arguments):
        return tuple(op.arguments) + op.aux
    if op.key_var_num_args is not None:
        return ()
    try:
        return tuple(op.list_inputs(dict(op.defaults)))
    except Exception:  # noqa: BLE001 - required attributes missing: show no input names
        return ()


def _signature(op, variadic, fixed_inputs):
    P = inspect.Parameter
    params = []
    if variadic:
        params.append(P("data", P.VAR_POSITIONAL))
    else:
        params += [P(n, P.POSITIONAL_OR_KEYWORD, default=None) for n in fixed_inputs]
    kind = P.KEYWORD_ONLY if variadic else P.POSITIONAL_OR_KEYWORD
    for p in op.params.values():
        default = p.default if p.default is not registry.REQUIRED else P.empty
        if default is P.empty and kind is P.POSITIONAL_OR_KEYWORD:
            default = None  # required params may follow optional inputs; parse_attrs checks them
        params.append(P(p.name, kind, default=default))
    params += [P("out", P.KEYWORD_ONLY, default=None), P("name", P.KEYWORD_ONLY, default=None),
               P("kwargs", P.VAR_KEYWORD)]
    return inspect.Signature(params)


def _docstring(op):
    lines = [op.doc or op.name, "", "Parameters", "----------"]
    if callable(op.arguments):
        lines += ["*data : NDArray", "    Input arrays."]
    else:
        lines += [f"{n} : NDArray" for n in tuple(op.arguments) + op.aux]
    for p in op.params.values():
        default = "required" if p.default is registry.REQUIRED else f"default={p.default!r}"
        choices = f", one of {p.choices}" if p.choices else ""
        lines += [f"{p.name} : {p.kind}, {default}{choices}"] + ([f"    {p.doc}"] if p.doc else [])
    lines += ["out : NDArray, optional", "    The output array.", "", "Returns", "-------",
              "out : NDArray or list of NDArrays"]
    return "\n".join(lines)


def populate(namespaces):
    """Put a function for every registered name into `namespaces` (name -> module dict)."""
    for key in registry.names():
        op = registry.get(key)
        fn = make_function(op, key)
        namespaces["_internal"][key] = fn
        for prefix, module in PREFIXES.items():
            if key.startswith(prefix):
                namespaces[module].setdefault(key[len(prefix):], fn)
                break
        else:
            if not key.startswith("_"):
                namespaces["op"][key] = fn
