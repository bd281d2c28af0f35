"""mx.operator: operators written in Python (CustomOp, CustomOpProp, register) and mx.nd.Custom.

The user's forward and backward run in the calling thread on NDArrays, so they may read values
(asnumpy) freely; the NDArray ops they call go through the engine as usual.
"""
from collections import namedtuple

from . import autograd, profiler
from ._python_op import NDArrayOp, NumpyOp, PythonOp
from .base import MXNetError
from .ndarray import NDArray, empty
from .ndarray.sparse import zeros as sparse_zeros
from .ops import registry
from .ops.frontend import is_variadic, signature_inputs

__all__ = ["CustomOp", "CustomOpProp", "register", "get_all_registered_operators", "Custom", "PythonOp",
           "NumpyOp", "NDArrayOp", "OperatorArguments", "get_operator_arguments"]

_PROPS = {}


class CustomOp:
    """Base class of a Python operator: override forward and backward."""

    def forward(self, is_train, req, in_data, out_data, aux):
        raise NotImplementedError

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        raise NotImplementedError

    def assign(self, dst, req, src):
        """Write src into dst under write request req ('null', 'write', 'inplace' or 'add')."""
        if req == "null":
            return
        if req in ("write", "inplace"):
            dst[:] = src
        elif req == "add":
            dst[:] = dst + src
        else:
            raise MXNetError(f"CustomOp.assign: unknown req {req!r}")


class CustomOpProp:
    """Describes a Python operator: its inputs, outputs, shapes and types, and how to create it."""

    def __init__(self, need_top_grad=True):
        self.need_top_grad_ = need_top_grad

    def infer_shape(self, in_shape):
        return in_shape, (in_shape[0],) * len(self.list_outputs()), ()

    def infer_type(self, in_type):
        t = in_type[0]
        return in_type, [t] * len(self.list_outputs()), [t] * len(self.list_auxiliary_states())

    def infer_storage_type(self, in_stype):
        return in_stype, ["default"] * len(self.list_outputs()), \
            ["default"] * len(self.list_auxiliary_states())

    def infer_storage_type_backward(self, ograd_stype, in_stype, out_stype, igrad_stype, aux_stype):
        """Every storage type default; a sparse output or input gradient needs an override, as in MXNet."""
        for what, stypes in (("ograd_stype", ograd_stype), ("igrad_stype", igrad_stype)):
            for i, stype in enumerate(stypes):
                if stype not in ("default", "undefined"):
                    raise MXNetError(f"CustomOpProp.infer_storage_type_backward: {what}[{i}] is {stype!r}; the "
                                     "default implementation allows only 'default' (override "
                                     "infer_storage_type and infer_storage_type_backward)")
        return tuple(["default"] * len(x) for x in (ograd_stype, in_stype, out_stype, igrad_stype, aux_stype))

    def list_arguments(self):
        return ["data"]

    def list_outputs(self):
        return ["output"]

    def list_auxiliary_states(self):
        return []

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        deps = list(out_grad) if self.need_top_grad_ else []
        return deps + list(in_data) + list(out_data)

    def create_operator(self, ctx, in_shapes, in_dtypes):
        return CustomOp()


def register(reg_name):
    """Class decorator registering a CustomOpProp subclass under `reg_name` (the op_type)."""
    def do_register(prop_cls):
        if not (isinstance(prop_cls, type) and issubclass(prop_cls, CustomOpProp)):
            raise MXNetError(f"register({reg_name!r}): expected a CustomOpProp subclass")
        _PROPS[reg_name] = prop_cls
        return prop_cls
    return do_register


def get_all_registered_operators():
    """The names of every registered operator (as MXNet's: its op registry, not the Python CustomOps)."""
    return list(registry.names())


OperatorArguments = namedtuple("OperatorArguments", ["narg", "names", "types"])

_KIND_NAMES = {"int": "int", "float": "float", "bool": "boolean", "str": "string", "shape": "Shape(tuple)",
               "axis": "int or None", "dtype": "string", "floats": "tuple of <float>", "any": "string"}


def get_operator_arguments(op_name):
    """An operator's input and parameter names, with MXNet's type descriptions (inputs 'NDArray-or-Symbol')."""
    if op_name not in registry.names():
        raise MXNetError(f"get_operator_arguments: no operator named {op_name!r}")
    op = registry.get(op_name)
    if is_variadic(op):
        names, types = ["args"], ["NDArray-or-Symbol[]"]
    else:
        names = list(signature_inputs(op))
        types = ["NDArray-or-Symbol"] * len(names)
    for param in op.params.values():
        if param.name == op.key_var_num_args:
            continue  # MXNet counts a variadic op's inputs itself and does not list the count
        kind = "{" + ", ".join(map(repr, param.choices)) + "}" if param.choices else _KIND_NAMES[param.kind]
        required = param.default is registry.REQUIRED
        names.append(param.name)
        types.append(f"{kind}, required" if required else f"{kind}, optional, default={param.default!r}")
    return OperatorArguments(len(names), names, types)


def _make_prop(op_type, kwargs):
    prop_cls = _PROPS.get(op_type)
    if prop_cls is None:
        raise MXNetError(f"Custom: op_type {op_type!r} is not registered; registered: "
                         f"{sorted(_PROPS)}")
    # MXNet hands every keyword to the property class as a string.
    return prop_cls(**{k: str(v) for k, v in kwargs.items()})


def Custom(*data, op_type=None, out=None, name=None, **kwargs):
    """Run the Python operator registered as `op_type` on NDArrays `data`."""
    if op_type is None:
        raise MXNetError("Custom: op_type is required")
    prop = _make_prop(op_type, kwargs)
    args, aux_names = prop.list_arguments(), prop.list_auxiliary_states()
    if len(data) != len(args) + len(aux_names):
        raise MXNetError(f"Custom({op_type}): expects inputs {args + aux_names}, got {len(data)} arrays")
    for x in data:
        if not isinstance(x, NDArray):
            raise MXNetError(f"Custom({op_type}): inputs must be NDArrays, got {type(x).__name__}")
    in_data, aux = list(data[:len(args)]), list(data[len(args):])
    in_shapes, out_shapes, _ = _triple(prop.infer_shape([x.shape for x in in_data]))
    _, out_types, _ = _triple(prop.infer_type([x.dtype for x in in_data]))
    ctx = in_data[0].context if in_data else None
    in_stypes, aux_stypes = [x.stype for x in in_data], [x.stype for x in aux]
    out_stypes = _triple(prop.infer_storage_type(in_stypes))[1]
    outputs = [_allocate(s, t, st, ctx) for s, t, st in zip(out_shapes, out_types, out_stypes)]
    op = prop.create_operator(ctx, [list(s) for s in in_shapes], [x.dtype for x in in_data])
    with autograd.pause(autograd.is_training()), profiler.custom_operator(op_type):
        _call_user(op_type, op.forward, autograd.is_training(), ["write"] * len(outputs), in_data, outputs, aux)
    if autograd.is_recording():
        def backward_fn(ograds):
            # the gradients' storage as the property declares (MXNet's FInferStorageType of _backward_Custom)
            grad_stypes = prop.infer_storage_type_backward([g.stype for g in ograds], in_stypes, out_stypes,
                                                           ["undefined"] * len(in_data), aux_stypes)[3]
            in_grad = [_allocate(x.shape, x.dtype, st, ctx) for x, st in zip(in_data, grad_stypes)]
            with profiler.custom_operator("_backward_" + op_type):
                _call_user(op_type, op.backward, ["write"] * len(in_grad), ograds, in_data, outputs, in_grad, aux)
            return in_grad
        outputs = [o.detach() for o in outputs]
        autograd.record_python(f"Custom({op_type})", in_data, outputs, backward_fn)
    if out is not None:
        for dst, src in zip(out if isinstance(out, (list, tuple)) else [out], outputs):
            dst[:] = src
        return out
    return outputs[0] if len(outputs) == 1 else outputs


def _allocate(shape, dtype, stype, ctx):
    """An array for a Custom operator to write: of the storage type its property gives (sparse ones empty)."""
    if stype in ("default", "undefined"):
        return empty(tuple(shape), ctx=ctx, dtype=dtype)
    return sparse_zeros(stype, tuple(shape), ctx=ctx, dtype=dtype)


def _call_user(op_type, method, *args):
    """Run a CustomOp's forward or backward: an exception of the user's Python code reaches the caller as an
    MXNetError naming the operator, as MXNet 1.9.1 reports errors of its custom-operator thread."""
    try:
        method(*args)
    except MXNetError:
        raise
    except Exception as err:  # noqa: BLE001 - any error of user code, re-raised with its type and message
        raise MXNetError(f"Custom({op_type}).{method.__name__}: {type(err).__name__}: {err}") from err


def _triple(result):
    result = list(result)
    return (result + [[]] * (3 - len(result)))[:3]


class _CustomOpDef(registry.OpDef):
    """The registry record of `Custom`, so mx.sym.Custom builds graph nodes and symbol JSON names it.
    Its inputs, outputs and parameters come from the CustomOpProp named by op_type; executors run it
    through `imperative` (the same path as mx.nd.Custom) instead of an engine compute."""
    __slots__ = ()

    def __init__(self):
        super().__init__("Custom", params=(registry.Param("op_type", "str"),), arguments=self._args,
                         num_outputs=self._n_out, output_names=self._out_names,
                         infer_shape=self._infer_shape, infer_type=self._infer_type, compute={},
                         doc="Runs a Python operator registered with mx.operator.register.")

    def parse_attrs(self, kwargs):
        attrs = {k: str(v) for k, v in kwargs.items() if not (k.startswith("__") and k.endswith("__"))}
        if "op_type" not in attrs:
            raise MXNetError("Custom: required argument 'op_type' is missing")
        _make_prop(attrs["op_type"], _prop_kwargs(attrs))
        return attrs

    def list_inputs(self, attrs):
        prop = _make_prop(attrs["op_type"], _prop_kwargs(attrs))
        return list(prop.list_arguments()) + list(prop.list_auxiliary_states())

    def aux_inputs(self, attrs):
        prop = _make_prop(attrs["op_type"], _prop_kwargs(attrs))
        n_args = len(prop.list_arguments())
        return tuple(range(n_args, n_args + len(prop.list_auxiliary_states())))

    def is_loss(self, attrs):
        # a property that needs no head gradient (need_top_grad=False) makes a loss, as in MXNet
        return not _make_prop(attrs["op_type"], _prop_kwargs(attrs)).need_top_grad_

    @staticmethod
    def _args(attrs):
        return list(_make_prop(attrs["op_type"], _prop_kwargs(attrs)).list_arguments())

    @staticmethod
    def _n_out(attrs):
        return len(_make_prop(attrs["op_type"], _prop_kwargs(attrs)).list_outputs())

    @staticmethod
    def _out_names(attrs):
        return list(_make_prop(attrs["op_type"], _prop_kwargs(attrs)).list_outputs())

    @staticmethod
    def _infer_shape(attrs, in_shapes):
        prop = _make_prop(attrs["op_type"], _prop_kwargs(attrs))
        n_args = len(prop.list_arguments())
        # Unknown shapes reach the property as [], as MXNet passes them; it may fill them in.
        ins, outs, aux = _triple(prop.infer_shape([list(s) if s is not None else []
                                                   for s in in_shapes[:n_args]]))
        known = [tuple(s) if s else None for s in list(ins) + list(aux)]
        return known, [tuple(s) if s else None for s in outs]

    @staticmethod
    def _infer_type(attrs, in_types):
        prop = _make_prop(attrs["op_type"], _prop_kwargs(attrs))
        n_args = len(prop.list_arguments())
        if any(t is None for t in in_types[:n_args]):
            raise ValueError("Custom needs every argument type")
        ins, outs, aux = _triple(prop.infer_type(list(in_types[:n_args])))
        return list(ins) + list(aux), list(outs)

    def imperative(self, inputs, attrs):
        outs = Custom(*inputs, **attrs)
        return list(outs) if isinstance(outs, (list, tuple)) else [outs]


def _prop_kwargs(attrs):
    return {k: v for k, v in attrs.items() if k != "op_type"}


registry.register(_CustomOpDef())
