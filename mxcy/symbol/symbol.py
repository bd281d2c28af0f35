"""Symbol: outputs of an operator graph, with MXNet's composition, introspection and arithmetic."""
import ctypes
from numbers import Number

import numpy as np

from ..attribute import AttrScope
from ..base import DTYPE_TO_FLAG, MXNetError, NotImplementedForSymbol, np_dtype
from ..error import MXNetIndexError, MXNetTypeError
from ..ops.binary import OPERATOR_OPS, legacy_name
from .graph import HIDDEN_KEYS, Node, copy_graph, hide_key, registry_op, topo_order

_AMP_CASTS = ("amp_cast", "amp_multicast")

__all__ = ["Symbol", "Variable", "var", "Group", "STORAGE_TYPE_ID"]

STORAGE_TYPE_ID = {"default": 0, "row_sparse": 1, "csr": 2}


class Symbol:
    """A list of graph outputs, each a (Node, output index) pair."""
    __slots__ = ("_outputs", "__weakref__")

    def __init__(self, outputs=None, handle=None):
        if isinstance(outputs, ctypes.c_void_p):  # MXNet's Symbol(handle)
            outputs, handle = None, outputs
        if handle is not None:  # a handle from mx.base._LIB's functions (_capi.py): this symbol takes it over
            from .._capi import adopt
            outputs = adopt(handle, Symbol)._outputs
        self._outputs = list(outputs or ())

    @property
    def handle(self):
        """A ctypes.c_void_p naming this symbol for mx.base._LIB's functions (_capi.py)."""
        from .._capi import handle_of
        return handle_of(self)

    # --- naming and outputs ----------------------------------------------------------------
    @property
    def name(self):
        return self._outputs[0][0].name if len(self._outputs) == 1 else None

    def list_outputs(self):
        return [node.output_name(i) for node, i in self._outputs]

    def __len__(self):
        return len(self._outputs)

    def __iter__(self):
        return (Symbol([entry]) for entry in self._outputs)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            matches = [i for i, n in enumerate(names) if n == index]
            if not matches:
                raise MXNetError(f"Symbol: no output named {index!r}; outputs are {names}")
            if len(matches) > 1:
                raise MXNetError(f"Symbol: more than one output named {index!r}")
            index = matches[0]
        if isinstance(index, slice):
            return Symbol(self._outputs[index])
        if not isinstance(index, (int, np.integer)):
            raise MXNetTypeError(f"Symbol indices must be int, slice or output name, not {type(index).__name__}")
        if not -len(self._outputs) <= index < len(self._outputs):
            raise MXNetIndexError(f"Symbol output index {index} out of range for {len(self._outputs)} outputs")
        return Symbol([self._outputs[index]])

    def __repr__(self):
        if len(self._outputs) == 1:
            return f"<Symbol {self.name}>"
        return "<Symbol group [" + ", ".join(n.name for n, _ in self._outputs) + "]>"

    # --- graph walks -----------------------------------------------------------------------
    def _topo(self):
        return topo_order(self._outputs)

    def _variables(self):
        """(argument nodes, auxiliary nodes) in topological order, as MXNet lists them."""
        aux = set()
        order = self._topo()
        for node in order:
            if node.op is not None:
                aux.update(id(node.inputs[k][0]) for k in node.aux_inputs())
        args = [n for n in order if n.op is None and id(n) not in aux]
        auxs = [n for n in order if n.op is None and id(n) in aux]
        return args, auxs

    def list_arguments(self):
        return [n.name for n in self._variables()[0]]

    def list_auxiliary_states(self):
        return [n.name for n in self._variables()[1]]

    def list_inputs(self):
        return [n.name for n in self._topo() if n.op is None]

    def get_internals(self):
        return Symbol([(node, i) for node in self._topo() for i in range(node.num_visible_outputs())])

    def get_children(self):
        """The inputs of the nodes behind the outputs (each node once, as MXNet)."""
        nodes = list(dict.fromkeys(node for node, _ in self._outputs))
        entries = [e for node in nodes for e in node.inputs]
        return Symbol(entries) if entries else None

    def _gen_atomic_symbol(self):
        """The op of this single-node symbol with its attributes, on fresh variables named after its inputs."""
        nodes = {node for node, _ in self._outputs}
        if len(nodes) != 1:
            raise MXNetError(f"Symbol._gen_atomic_symbol: the outputs come from {len(nodes)} nodes, not one")
        node = nodes.pop()
        if node.op is None:
            raise MXNetError(f"Symbol._gen_atomic_symbol: '{node.name}' is a variable, not an operator")
        inputs = [(Node(None, name, {}), 0) for name in node.op.list_inputs(node.params)]
        return Symbol([(Node(node.op, node.name, dict(node.attrs), inputs, params=node.params), i)
                       for i in range(node.op.n_visible_outputs(node.params))])

    # --- attributes ------------------------------------------------------------------------
    def _single_node(self, what):
        if len(self._outputs) != 1:
            raise MXNetError(f"Symbol.{what}: only a single-output symbol has attributes")
        return self._outputs[0][0]

    def attr(self, key):
        attrs = self._single_node("attr").attrs
        if key in attrs:
            return attrs[key]
        return attrs.get(hide_key(key))

    def list_attr(self, recursive=False):
        if recursive:
            raise MXNetError("Symbol.list_attr: recursive=True is deprecated; use attr_dict()")
        return _visible_attrs(self._single_node("list_attr").attrs)

    def attr_dict(self):
        return {n.name: _visible_attrs(n.attrs) for n in self._topo() if n.attrs}

    def _set_attr(self, **kwargs):
        node = self._single_node("_set_attr")
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise MXNetError(f"Symbol._set_attr: attribute {key!r} must be a string")
            node.attrs[hide_key(key)] = value

    # --- composition -----------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        out = self.__copy__()
        out._compose(*args, **kwargs)
        return out

    def _compose(self, *args, name=None, **kwargs):
        """Replace this symbol's free variables by the given symbols: positionally in list_arguments
        order, or by name."""
        args_nodes, _ = self._variables()
        replace = {}
        if args and kwargs:
            raise MXNetError("Symbol compose: give inputs either positionally or by name, not both")
        if len(args) > len(args_nodes):
            raise MXNetError(f"Symbol compose: {len(args)} inputs given, the symbol has "
                             f"{len(args_nodes)} arguments {[n.name for n in args_nodes]}")
        for node, value in zip(args_nodes, args):
            replace[node] = _single_entry(value, node.name)
        by_name = {n.name: n for n in self._topo() if n.op is None}
        for key, value in kwargs.items():
            if key in by_name:
                replace[by_name[key]] = _single_entry(value, key)
        self._outputs = copy_graph(self._outputs, replace)
        if name is not None and len(self._outputs) == 1 and self._outputs[0][0].op is not None:
            self._outputs[0][0].name = name

    def __copy__(self):
        return Symbol(copy_graph(self._outputs))

    def __deepcopy__(self, memo):
        return self.__copy__()

    def copy(self):
        return self.__copy__()

    def as_nd_ndarray(self):
        """This symbol: it is already an mx.sym symbol (mxcy has no mx.np symbols yet)."""
        return self

    def as_np_ndarray(self):
        raise MXNetError("as_np_ndarray: MXNet's NumPy-compatible symbols (mx.np) are not implemented in mxcy yet")

    def gradient(self, wrt):
        raise MXNetError("Symbol.gradient: symbolic differentiation into a new Symbol is not available (MXNet 1.x's "
                         "backend does not implement it either); bind an Executor and call backward")

    def get_backend_symbol(self, backend):
        raise MXNetError(f"get_backend_symbol: no subgraph backend {backend!r}: mxcy registers none")

    def optimize_for(self, backend, args=None, aux=None, ctx=None, shape_dict=None, type_dict=None,
                     stype_dict=None, skip_infer=False, **kwargs):
        """This graph partitioned by subgraph backend `backend` (symbol/partition.py: MXNet's `default` and
        `default_v2`, selecting the op names set with MXSetSubgraphPropertyOpNamesV2). They select by op name
        alone, so the arrays, context, shapes and types that MXNet hands a backend change nothing here;
        `dedup_subgraph=True` makes a region's repeated input or output entries one."""
        from .partition import partition, property_op_names
        op_names = property_op_names(backend, "optimize_for")
        return partition(self, op_names, dedup=str(kwargs.get("dedup_subgraph", False)).lower() in ("true", "1"))

    def split_v2(self, *args, **kwargs):
        from .creation import split_v2
        return split_v2(self, *args, **kwargs)

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        from .json_io import load_json
        self._outputs = load_json(state["json"])._outputs

    # --- arithmetic: ops/binary.OPERATOR_OPS, under MXNet's legacy names (which name the nodes) -----
    def _binary(self, other, operation):
        row = OPERATOR_OPS[operation]
        if isinstance(other, Symbol):
            return _call(row.symbols, self, other)
        if isinstance(other, Number):
            return _call(legacy_name(row.scalar), self, scalar=other)
        raise TypeError(f"type {type(other).__name__} not supported by Symbol arithmetic")

    def _rbinary(self, other, operation):
        if isinstance(other, Number):
            return _call(legacy_name(OPERATOR_OPS[operation].rscalar), self, scalar=other)
        raise TypeError(f"type {type(other).__name__} not supported by Symbol arithmetic")

    def __add__(self, other):
        return self._binary(other, "add")

    def __radd__(self, other):
        return self._rbinary(other, "add")

    def __sub__(self, other):
        return self._binary(other, "subtract")

    def __rsub__(self, other):
        return self._rbinary(other, "subtract")

    def __mul__(self, other):
        return self._binary(other, "multiply")

    def __rmul__(self, other):
        return self._rbinary(other, "multiply")

    def __truediv__(self, other):
        return self._binary(other, "divide")

    def __rtruediv__(self, other):
        return self._rbinary(other, "divide")

    def __mod__(self, other):
        return self._binary(other, "modulo")

    def __rmod__(self, other):
        return self._rbinary(other, "modulo")

    def __pow__(self, other):
        return self._binary(other, "power")

    def __rpow__(self, other):
        return self._rbinary(other, "power")

    def __neg__(self):
        return _call("_MulScalar", self, scalar=-1.0)

    def __abs__(self):
        return _call("abs", self)

    def __eq__(self, other):
        return self._binary(other, "equal")

    def __ne__(self, other):
        return self._binary(other, "not_equal")

    def __gt__(self, other):
        return self._binary(other, "greater")

    def __ge__(self, other):
        return self._binary(other, "greater_equal")

    def __lt__(self, other):
        return self._binary(other, "lesser")

    def __le__(self, other):
        return self._binary(other, "lesser_equal")

    __hash__ = object.__hash__

    def __bool__(self):
        raise NotImplementedForSymbol(self.__bool__, "bool")

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        if shape:
            kwargs["shape"] = tuple(shape)
        return _call("Reshape", self, **kwargs)

    def astype(self, *args, **kwargs):
        return _call("Cast", self, *args, **kwargs)

    # --- inference, serialization, execution (see infer.py, json_io.py, executor.py) --------
    def infer_shape(self, *args, **kwargs):
        from .infer import infer_shape
        return infer_shape(self, args, kwargs, partial=False)

    def infer_shape_partial(self, *args, **kwargs):
        from .infer import infer_shape
        return infer_shape(self, args, kwargs, partial=True)

    def infer_type(self, *args, **kwargs):
        from .infer import infer_type
        return infer_type(self, args, kwargs, partial=False)

    def infer_type_partial(self, *args, **kwargs):
        from .infer import infer_type
        return infer_type(self, args, kwargs, partial=True)

    def tojson(self, remove_amp_cast=True):
        from .json_io import to_json
        return to_json(self._without_amp_casts() if remove_amp_cast else self)

    def save(self, fname, remove_amp_cast=True):
        from .json_io import save
        save(self._without_amp_casts() if remove_amp_cast else self, fname)

    def _without_amp_casts(self):
        """This graph without its amp_cast/amp_multicast nodes (each reader takes the cast's input), as MXNet
        writes files by default."""
        if not any(node.op is not None and node.op.name in _AMP_CASTS for node in self._topo()):
            return self
        return Symbol(copy_graph(self._outputs, bypass=_AMP_CASTS))

    def debug_str(self):
        from .json_io import debug_str
        return debug_str(self)

    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        from ..executor import Executor
        return Executor.bind(self, ctx, args, args_grad, grad_req, aux_states, group2ctx, shared_exec)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        from ..executor import Executor
        return Executor.simple_bind(self, ctx, grad_req, type_dict, stype_dict, group2ctx,
                                    shared_arg_names, shared_exec, shared_buffer, kwargs)

    def eval(self, ctx=None, **kwargs):
        """Bind to `kwargs` (name -> NDArray), run forward, return the outputs."""
        from ..context import current_context
        ctx = ctx or current_context()
        exe = self.bind(ctx, kwargs, grad_req="null")
        return exe.forward()


def _visible_attrs(attrs):
    """Attributes as list_attr shows them: each hidden __key__ also under its plain key."""
    out = dict(attrs)
    for key in HIDDEN_KEYS:
        hidden = f"__{key}__"
        if hidden in attrs:
            out[key] = attrs[hidden]
    return out


def _single_entry(value, what):
    if not isinstance(value, Symbol):
        raise MXNetError(f"Symbol compose: input '{what}' must be a Symbol, got {type(value).__name__}")
    if len(value._outputs) != 1:
        raise MXNetError(f"Symbol compose: input '{what}' has {len(value._outputs)} outputs; "
                         "a single-output symbol is needed")
    return value._outputs[0]


def _call(op_name, *inputs, **params):
    from .register import make_symbol_function
    return make_symbol_function(registry_op(op_name), op_name)(*inputs, **params)


def Variable(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None, stype=None,
             profiler_scope=None, **kwargs):
    """A free input of a graph: data, a label or a parameter."""
    if not isinstance(name, str):
        raise TypeError("Variable: name must be a string")
    attrs = {hide_key(k): v for k, v in AttrScope.current.get(attr).items()}
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(DTYPE_TO_FLAG[np_dtype(dtype, "Variable")])
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        if stype not in STORAGE_TYPE_ID:
            raise MXNetError(f"Variable: unknown stype {stype!r}")
        attrs["__storage_type__"] = str(STORAGE_TYPE_ID[stype])
    if profiler_scope is not None:
        attrs["__profiler_scope__"] = profiler_scope
    for key, value in kwargs.items():
        if not (key.startswith("__") and key.endswith("__")):
            raise ValueError(f"Attribute name={key} is not supported. Additional attributes must start "
                             "and end with double underscores, e.g, __yourattr__")
        attrs[key] = str(value)
    return Symbol([(Node(None, name, attrs), 0)])


var = Variable


def _ndarray_only(name):
    """A Symbol method that only refuses: the NDArray method `name`, which MXNet's Symbol has to say so."""
    def method(self):
        raise NotImplementedForSymbol(method, None)
    method.__name__, method.__qualname__ = name, f"Symbol.{name}"
    return method


for _name in ("asnumpy", "asscalar", "as_in_context", "backward", "detach", "wait_to_read"):
    setattr(Symbol, _name, _ndarray_only(_name))


def Group(symbols, create_fn=Symbol):
    """One symbol whose outputs are the outputs of `symbols`, in order, made by create_fn(outputs)."""
    symbols = list(symbols)
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Group: expected a non-empty list of Symbols")
    return create_fn([e for s in symbols for e in s._outputs])
