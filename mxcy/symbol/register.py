"""Builds the mx.sym functions from the operator registry, with mx.nd's signatures and MXNet's naming:
a node is named by NameManager from the lowercased function name, and each missing input becomes a
variable `<node name>_<input name>`. Arguments bind as in mx.nd (ops/frontend.py)."""
import numpy as np

from ..attribute import AttrScope
from ..base import MXNetError
from ..name import NameManager
from ..ops.frontend import bind_call, docstring, signature
from .graph import HIDDEN_KEYS, Node, hide_key
from .symbol import Symbol

__all__ = ["make_symbol_function"]

_CACHE = {}


def _param_string(param, value):
    """A parameter as MXNet's Python front end writes it into the graph: str(value), dtypes by name."""
    if param is not None and param.kind == "dtype" and value is not None and not isinstance(value, str):
        return np.dtype(value).name
    return str(_python_scalars(value))


def _python_scalars(value):
    """NumPy scalars as Python ones, inside tuples and lists too: NumPy 2 writes str((np.int64(5),)) as
    '(np.int64(5),)', which no parameter parser (nor MXNet) reads."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_python_scalars(v) for v in value)
    return value


def make_symbol_function(op, func_name):
    key = (op.name, func_name)
    fn = _CACHE.get(key)
    if fn is None:
        fn = _CACHE[key] = _make(op, func_name)
    return fn


def _make(op, func_name):
    hint = func_name.lower()

    def creator(*args, name=None, attr=None, out=None, **kwargs):  # noqa: ARG001 - out: MXNet ignores it too
        strings = {}
        # lr_mult, wd_mult, ctx_group, ... given as arguments become the node's hidden attributes (MXNet's kHiddenKeys)
        hidden = {hide_key(k): str(kwargs.pop(k)) for k in HIDDEN_KEYS if k in kwargs}

        def parse(params):
            strings.update((k, _param_string(op.params.get(k), v)) for k, v in params.items())
            for k, v in AttrScope.current.get(attr).items():
                strings[hide_key(k)] = v
            strings.update(hidden)
            return op.parse_attrs(strings)

        if not (callable(op.arguments) or op.arguments or op.aux):
            # nnvm matches keyword symbols only to inputs not given positionally: an op without inputs drops
            # them (MXNet 1.9.1's test_random passes data= to sym.random.randn)
            kwargs = {k: v for k, v in kwargs.items() if not isinstance(v, Symbol)}
        params, given = bind_call(op, args, kwargs, lambda v: isinstance(v, Symbol), parse)
        name = NameManager.current.get(name, hint)
        inputs = []
        for input_name, sym in zip(op.list_inputs(params), given):
            if sym is None:  # a missing input becomes a variable carrying the op's attributes, as in MXNet
                attrs = dict(strings)
                attrs.update(op.input_var_attrs.get(input_name, {}))
                inputs.append((Node(None, f"{name}_{input_name}", attrs), 0))
                continue
            if not isinstance(sym, Symbol):
                raise MXNetError(f"{op.name}: input '{input_name}' must be a Symbol, got {type(sym).__name__}")
            if len(sym._outputs) != 1:
                raise MXNetError(f"{op.name}: input '{input_name}' has {len(sym._outputs)} outputs; "
                                 "a single-output symbol is needed")
            inputs.append(sym._outputs[0])
        node = Node(op, name, strings, inputs, params=params)
        return Symbol([(node, i) for i in range(op.n_visible_outputs(params))])

    creator.__name__ = func_name
    creator.__qualname__ = func_name
    creator.__doc__ = docstring(op, "Symbol")
    creator.__signature__ = signature(op, ("name", "attr", "out"))
    return creator
