"""What the mx.nd and mx.sym functions of an operator share: binding a call's arguments to the op's
inputs and parameters, the signature and docstring they show, and the registry prefixes that MXNet
exposes as submodules."""
import inspect

from ..base import MXNetError
from . import registry

__all__ = ["PREFIXES", "SPARSE_NAMESPACE", "bind_call", "signature", "docstring"]

# Registry name prefixes that MXNet exposes as submodules: _contrib_X is mx.nd.contrib.X (mx.sym too).
PREFIXES = {"_contrib_": "contrib", "_linalg_": "linalg", "_sparse_": "sparse", "_image_": "image",
            "_random_": "random", "_sample_": "random"}

# Operators MXNet 1.9.1 also lists in mx.nd.sparse and mx.sym.sparse under their own names (those it
# registers with sparse storage support): the same operator, whatever the namespace it is called through.
SPARSE_NAMESPACE = frozenset((
    "ElementWiseSum", "Embedding", "FullyConnected", "LinearRegressionOutput", "LogisticRegressionOutput",
    "MAERegressionOutput", "_contrib_round_ste", "_contrib_sign_ste", "abs", "adagrad_update", "adam_update",
    "add_n", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "broadcast_add", "broadcast_div",
    "broadcast_minus", "broadcast_mul", "broadcast_plus", "broadcast_sub", "cast_storage", "cbrt", "ceil",
    "clip", "concat", "cos", "cosh", "degrees", "dot", "elemwise_add", "elemwise_div", "elemwise_mul",
    "elemwise_sub", "exp", "expm1", "fix", "floor", "ftrl_update", "gamma", "gammaln", "log", "log10", "log1p",
    "log2", "make_loss", "mean", "negative", "norm", "radians", "relu", "retain", "rint", "round", "rsqrt",
    "sgd_mom_update", "sgd_update", "sigmoid", "sign", "sin", "sinh", "slice", "sqrt", "square",
    "stop_gradient", "sum", "tan", "tanh", "trunc", "where", "zeros_like"))


def alias_generated_modules(package, namespaces):
    """MXNet generates its op functions into `gen_op`, `gen_contrib`, ... modules of mx.nd and mx.sym; code
    that imports them by name gets the namespaces they are filled into here."""
    import sys
    for name, module in namespaces.items():
        sys.modules[f"{package.__name__}.gen_{name}"] = module
        setattr(package, f"gen_{name}", module)


def is_variadic(op):
    """Whether the op takes any number of inputs (concat, add_n, ...)."""
    return callable(op.arguments) and op.key_var_num_args is not None


def bind_call(op, args, kwargs, is_input, parse):
    """Bind one call of op's function: `(attrs, inputs)`.

    Leading inputs come positionally (None holds a place in a fixed input list), then op parameters
    positionally or by keyword, and inputs by keyword. `is_input` tells an input (an NDArray, a Symbol)
    from a parameter value; `parse(params)` turns the parameter keywords into the op's attributes (which
    decide the input names of ops like softmax(use_length)). `inputs` has one entry per input name of
    those attributes, None where none was given; a variadic op's inputs all come positionally (a single
    list or tuple of them counts as the inputs) or as keywords holding inputs."""
    kwargs = dict(kwargs)
    if is_variadic(op):
        inputs = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
        inputs += [kwargs.pop(k) for k in [k for k, v in kwargs.items() if is_input(v)]]
        if op.key_var_num_args not in op.defaults:  # a count with a default (num_weights=1) is never guessed
            kwargs.setdefault(op.key_var_num_args, len(inputs))
        attrs = parse(kwargs)
        names = op.list_inputs(attrs)
        if len(inputs) > len(names):
            raise MXNetError(f"{op.name}: {len(inputs)} inputs given, it takes {len(names)}")
        return attrs, inputs + [None] * (len(names) - len(inputs))
    dynamic = callable(op.arguments)
    fixed = () if dynamic else tuple(op.arguments) + op.aux
    # None holds an input's place among the leading positional arguments (Convolution(x, w, None, ...))
    slots = len(signature_inputs(op)) if dynamic else len(fixed)
    n_pos = 0
    while n_pos < len(args) and (is_input(args[n_pos]) or (args[n_pos] is None and n_pos < slots)):
        n_pos += 1
    _positional_params(op, args[n_pos:], kwargs)
    named = {k: kwargs.pop(k) for k in list(kwargs)
             if k in fixed or is_input(kwargs[k]) or (dynamic and kwargs[k] is None and k not in op.params)}
    attrs = parse(kwargs)
    names = op.list_inputs(attrs)
    while n_pos > len(names) and args[n_pos - 1] is None:  # the place of an input these attributes drop (bias)
        n_pos -= 1
    if n_pos > len(names):
        raise MXNetError(f"{op.name}: {n_pos} inputs given, it takes {len(names)} ({', '.join(names)})")
    given = dict(zip(names, args[:n_pos]))
    for key, value in named.items():
        if key not in names:
            if value is None:
                continue  # an input of other attributes, left out
            raise MXNetError(f"{op.name}: unknown input '{key}'; inputs are {names}")
        if given.get(key) is not None:
            raise MXNetError(f"{op.name}: got multiple values for input '{key}'")
        given[key] = value
    return attrs, [given.get(n) for n in names]


def _positional_params(op, values, kwargs):
    """Put positional values after the inputs into `kwargs` under the op's parameter names, in order."""
    names = tuple(op.params)
    if len(values) > len(names):
        raise MXNetError(f"{op.name}: too many positional arguments")
    for pname, value in zip(names, values):
        if pname in kwargs:
            raise MXNetError(f"{op.name}: got multiple values for argument '{pname}'")
        kwargs[pname] = value


def signature_inputs(op):
    """Input names to show in a signature: the fixed list, or for attribute-dependent inputs those of
    the default attributes (softmax: data; with use_length=True it also takes length)."""
    if not callable(op.arguments):
        return tuple(op.arguments) + op.aux
    if op.key_var_num_args is not None:
        return ()
    if op.signature_arguments is not None:
        return tuple(op.signature_arguments)
    try:
        return tuple(op.list_inputs(dict(op.defaults)))
    except Exception:  # noqa: BLE001 - required attributes missing: show no input names
        return ()


def signature(op, trailing):
    """The function's signature: inputs, parameters, then the keyword-only `trailing` names (out, name,
    attr, ...) and **kwargs."""
    P = inspect.Parameter
    # Custom's inputs are whatever its op_type's CustomOpProp lists: they come positionally, as in MXNet.
    variadic = is_variadic(op) or op.name == "Custom"
    params = [P("data", P.VAR_POSITIONAL)] if variadic else \
        [P(n, P.POSITIONAL_OR_KEYWORD, default=None) for n in signature_inputs(op)]
    kind = P.KEYWORD_ONLY if variadic else P.POSITIONAL_OR_KEYWORD
    for p in op.params.values():
        default = p.default if p.default is not registry.REQUIRED else P.empty
        if default is P.empty and kind is P.POSITIONAL_OR_KEYWORD:
            default = None  # required params may follow optional inputs; parse_attrs checks them
        params.append(P(p.name, kind, default=default))
    params += [P(n, P.KEYWORD_ONLY, default=None) for n in trailing] + [P("kwargs", P.VAR_KEYWORD)]
    return inspect.Signature(params)


def docstring(op, kind):
    """The function's docstring; `kind` names what it takes and returns (NDArray or Symbol)."""
    lines = [op.doc or op.name, "", "Parameters", "----------"]
    if callable(op.arguments):
        lines += [f"*data : {kind}", "    Inputs."]
    else:
        lines += [f"{n} : {kind}" for n in tuple(op.arguments) + op.aux]
    for p in op.params.values():
        default = "required" if p.default is registry.REQUIRED else f"default={p.default!r}"
        choices = f", one of {p.choices}" if p.choices else ""
        lines += [f"{p.name} : {p.kind}, {default}{choices}"] + ([f"    {p.doc}"] if p.doc else [])
    if kind == "NDArray":
        lines += ["out : NDArray, optional", "    The output array."]
    lines += ["", "Returns", "-------", f"out : {kind} or list of {kind}s"]
    return "\n".join(lines)
