"""Builds the mx.sym functions from the operator registry, with mx.nd's signatures and MXNet's naming:
a node is named by NameManager from the lowercased function name, and each missing input becomes a
variable `<node name>_<input name>`."""
import numpy as np

from ..attribute import AttrScope
from ..base import MXNetError
from ..name import NameManager
from ..ndarray.register import _docstring, _signature, positional_params, signature_inputs
from .graph import Node, hide_key
from .symbol import Symbol

__all__ = ["make_symbol_function"]

_CACHE = {}


def _param_string(param, value):
    """A parameter as MXNet's Python front end writes it into the graph: str(value), dtypes by name."""
    if param is not None and param.kind == "dtype" and value is not None and not isinstance(value, str):
        return np.dtype(value).name
    return str(value)


def make_symbol_function(op, func_name):
    key = (op.name, func_name)
    fn = _CACHE.get(key)
    if fn is None:
        fn = _CACHE[key] = _make(op, func_name)
    return fn


def _make(op, func_name):
    variadic = callable(op.arguments) and op.key_var_num_args is not None
    fixed_inputs = signature_inputs(op)
    hint = func_name.lower()

    def creator(*args, name=None, attr=None, **kwargs):
        positional = []
        n_pos = 0
        while n_pos < len(args) and isinstance(args[n_pos], Symbol):
            positional.append(args[n_pos])
            n_pos += 1
        positional_params(op, args[n_pos:], kwargs)
        named = {k: kwargs.pop(k) for k in list(kwargs) if isinstance(kwargs[k], Symbol)}
        for k in [k for k in kwargs if kwargs[k] is None and k not in op.params]:
            del kwargs[k]  # an input given as None is left to become a variable, as in MXNet
        if variadic:
            positional += list(named.values())
            named = {}
            if op.key_var_num_args and op.key_var_num_args not in kwargs:
                kwargs[op.key_var_num_args] = len(positional)
        strings = {k: _param_string(op.params.get(k), v) for k, v in kwargs.items()}
        for k, v in AttrScope.current.get(attr).items():
            strings[hide_key(k)] = v
        params = op.parse_attrs(strings)
        name = NameManager.current.get(name, hint)
        input_names = op.list_inputs(params)
        if len(positional) > len(input_names):
            raise MXNetError(f"{op.name}: {len(positional)} inputs given, it takes {len(input_names)} "
                             f"({', '.join(input_names)})")
        for key in named:
            if key not in input_names:
                raise MXNetError(f"{op.name}: unknown input '{key}'; inputs are {input_names}")
        inputs = []
        for i, input_name in enumerate(input_names):
            sym = positional[i] if i < len(positional) else named.get(input_name)
            if sym is None:
                attrs = dict(strings)
                attrs.update(op.input_var_attrs.get(input_name, {}))
                inputs.append((Node(None, f"{name}_{input_name}", attrs), 0))
                continue
            if len(sym._outputs) != 1:
                raise MXNetError(f"{op.name}: input '{input_name}' has {len(sym._outputs)} outputs; "
                                 "a single-output symbol is needed")
            inputs.append(sym._outputs[0])
        node = Node(op, name, strings, inputs, params=params)
        return Symbol([(node, i) for i in range(op.n_visible_outputs(params))])

    creator.__name__ = func_name
    creator.__qualname__ = func_name
    creator.__doc__ = _docstring(op)
    creator.__signature__ = _signature(op, variadic, fixed_inputs)
    return creator
