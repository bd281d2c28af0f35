"""OpDef and register(): the one place an operator is described.

NDArray functions, Symbol functions, autograd and the executor all read these records.
"""
import sys

import numpy as np

from ._input_names import UNLISTED
from ..base import (MXNetError, np_dtype, parse_bool, parse_float, parse_int, parse_shape,
                    parse_str)

__all__ = ["Param", "OpDef", "register", "get", "all_ops", "REQUIRED", "same_type", "first_type", "zero_gradients"]


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


def _parse_optional(inner):
    def parse(value):
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            return None
        return inner(value)
    return parse


def _parse_axis(value):
    """An axis spec: None, an int, or a tuple of ints (reductions take all three)."""
    if isinstance(value, str):
        value = value.strip()
        if value in ("None", ""):
            return None
        if value.startswith(("(", "[")):
            return parse_shape(value)
        return parse_int(value)
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return tuple(parse_int(v) for v in value)
    return parse_int(value)


def _parse_dtype(value):
    if isinstance(value, str) and value.strip() == "None":
        return None
    return None if value is None else np_dtype(value).name


def _parse_float_tuple(value):
    if isinstance(value, str):
        import ast
        value = ast.literal_eval(value.strip())
    if isinstance(value, (int, float)):
        return (float(value),)
    return tuple(float(v) for v in value)


_PARSERS = {
    "int": parse_int, "float": parse_float, "bool": parse_bool, "str": parse_str,
    "shape": parse_shape, "axis": _parse_axis, "dtype": _parse_dtype,
    "floats": _parse_float_tuple, "any": lambda v: v,
}


class Param:
    """A typed operator attribute: kind in int|float|bool|str|shape|axis|dtype|floats|any."""
    __slots__ = ("name", "kind", "default", "doc", "choices", "optional", "_parse")

    def __init__(self, name, kind, default=REQUIRED, doc="", choices=None, optional=False):
        self.name, self.kind, self.default, self.doc = name, kind, default, doc
        self.choices = tuple(choices) if choices else None
        self.optional = optional or default is None
        base = _PARSERS[kind]
        self._parse = _parse_optional(base) if self.optional else base

    def parse(self, value, op_name):
        try:
            parsed = self._parse(value)
        except (ValueError, TypeError, SyntaxError, MXNetError) as err:
            raise MXNetError(f"{op_name}: invalid value {value!r} for argument '{self.name}' "
                             f"(expected {self.kind}): {err}") from None
        if self.choices is not None and parsed not in self.choices:
            raise MXNetError(f"{op_name}: invalid value {value!r} for argument '{self.name}'; "
                             f"expected one of {', '.join(map(repr, self.choices))}")
        return parsed


def zero_gradients(F, attrs, inputs, outputs, ograds):
    """The gradient of ops through which none flows (MXNet registers backward functions writing zeros): each
    input's gradient is zeros, and the head gradient is never read."""
    return [F.zeros_like(x) for x in inputs]


def same_type(attrs, in_types):
    """Default type rule: every input and output share one type (MXNet does not promote)."""
    known = in_types[0] if in_types else None
    if len(in_types) == 2 and in_types[1] is known and known is not None:
        return in_types, known
    for t in in_types:
        if t is known:
            continue
        if t is not None:
            if known is None:
                known = t
            elif t != known:
                raise ValueError("inputs must share one dtype, got "
                                 + ", ".join(np.dtype(x).name for x in in_types if x is not None))
    if known is None:
        return in_types, None
    return [known] * len(in_types), known


def first_type(attrs, in_types):
    return in_types, in_types[0] if in_types else None


class OpDef:
    """One operator.

    arguments: input names, or a callable attrs -> names for variadic ops (concat's num_args).
    infer_shape(attrs, in_shapes) -> (in_shapes, out_shapes); unknown shapes are None and a rule
        may fill them in (weights from data), which deferred init and simple_bind rely on.
    partial_shapes: the rule is infer_shape(attrs, in_shapes, out_shapes=None) on partial shapes
        (ops/partial_shape.py: -1 per unknown dimension, None for an unknown rank), given what is known of
        the outputs too, and completes what it can of both, as MXNet's shape functions do (FullyConnected
        fills the data's batch size from its output). Other rules see only complete input shapes or None.
    infer_type(attrs, in_types) -> (in_types, out_types), or a single out type for one output.
    lists_input_names: MXNet 1.9.1 declares the op's input names (nnvm FListInputNames), so its monitors
        name the inputs '<node>_<argument>'; for the others (Activation, the unary and scalar ops, ...)
        '<node>_input<i>'. Filled from MXNet's sources (ops/_input_names.py), not an argument.
    mutate_inputs: indices of inputs written in place (update ops' states), or attrs -> indices for
        variadic ops (multi_sgd_mom_update); read through mutated_inputs(attrs).
    compute: {"cpu": fn, "gpu": fn}, fn(attrs, inputs, outputs, reqs) on raw arrays; `reqs` are
        MXNet write requests (kernels.common.REQ_*), one per output.
    gradient(F, attrs, inputs, outputs, out_grads) -> one NDArray or None per input, written with
        registered ops through F (so gradients are differentiable); None when not differentiable.
    elementwise: the single output has the inputs' shape and dtype whenever the inputs all share
        one; invoke then skips the shape/type rules (the hot path of small arithmetic).
    visible_outputs: how many leading outputs users see (int or attrs -> int; None = all). The rest
        (BatchNorm's saved mean/invstd, Dropout's mask) are kept for the gradient: mx.nd functions and
        Symbol.list_outputs show only the visible ones, as MXNet's NumVisibleOutputs does.
    input_var_attrs: {input name: {attr: value}} given to the variable Symbol creates for a missing input
        (BatchNorm's moving_mean gets __init__ ["zero", {}], as MXNet's FSetInputVarAttrOnCompose).
    grad_reads: which arrays the gradient reads the values of, as (input indices, output indices) or
        attrs -> that pair; None (the default) means all. Shapes and dtypes are always available. The
        Executor lets go of the memory of intermediates no gradient reads once the forward is done with them.
    inplace: output 0 may be written over input 0's buffer (element-by-element kernels); the Executor
        does so when input 0 is an intermediate read by nothing else. Defaults to `elementwise`.
    loss: the gradient ignores the head gradient (SoftmaxOutput, MakeLoss, ...), so Executor.backward
        needs no out_grads for this output.
    train_aware: the op behaves differently in training (BatchNorm, Dropout); invoke passes
        attrs["__is_train__"] (autograd's training flag, which Executor.forward(is_train) sets).
    ignores_unknown_args: MXNet 1.9.1 registers no attribute parser for the op, so it accepts and ignores
        keyword arguments it does not know (MXNet's test_cosine_loss passes axis= to broadcast_maximum).
    infer_storage(attrs, in_stypes) -> out_stypes: MXNet's FInferStorageType, the result storage types
        ('default', 'csr', 'row_sparse') for these input storage types; None means all dense (the storage
        fallback). mx.nd's sparse dispatch and the Executor both read it (ndarray/sparse_stypes.py sets it
        for the ops MXNet gives sparse results).
    infer_grad_storage(attrs, in_stypes) -> one stype per input: the storage of each input's gradient where
        MXNet's backward makes it sparse (Embedding(sparse_grad=True): a row_sparse weight gradient); None: dense.
    compute_ex(attrs, inputs) -> outputs: MXNet's FComputeEx, an NDArray-level compute for ops whose results
        are sparse by construction (the DGL graph ops).
    gradient_op: the name of the hidden op the gradient calls once, whose outputs are the gradients of this op's
        inputs in order (_backward_Convolution, _backward_RNN): autograd has it skip (REQ_NULL, MXNet's kNullOp)
        the gradients of the inputs that need none, such as a first layer's data gradient.
    signature_arguments: every input name MXNet's function signature lists, in order, for ops whose
        arguments depend on attributes (BilinearResize2D(data, like, ...) takes `like` only in mode='like');
        None: those of the default attributes.
    """
    __slots__ = ("name", "aliases", "doc", "params", "defaults", "arguments", "aux",
                 "num_outputs", "output_names", "infer_shape", "infer_type", "compute",
                 "gradient", "key_var_num_args", "mutate_inputs", "random",
                 "elementwise", "train_aware", "visible_outputs",
                 "input_var_attrs", "loss", "grad_reads", "inplace", "module", "_required",
                 "ignores_unknown_args", "partial_shapes", "lists_input_names",
                 "infer_storage", "infer_grad_storage", "compute_ex", "signature_arguments", "gradient_op")

    def __init__(self, name, *, infer_shape, compute, params=(), arguments=("data",), aux=(),
                 num_outputs=1, output_names=None, infer_type=same_type, gradient=None,
                 aliases=(), doc="", key_var_num_args=None, mutate_inputs=(), random=False,
                 elementwise=False, train_aware=False,
                 visible_outputs=None, input_var_attrs=None, loss=False, grad_reads=None,
                 inplace=None, ignores_unknown_args=False, partial_shapes=False,
                 infer_storage=None, infer_grad_storage=None, compute_ex=None, signature_arguments=None,
                 gradient_op=None):
        self.name = name
        self.aliases = tuple(aliases)
        self.doc = doc
        self.params = {p.name: p for p in params}
        self.defaults = {p.name: p.default for p in params if p.default is not REQUIRED}
        self._required = tuple(p.name for p in params if p.default is REQUIRED)
        self.arguments = arguments
        self.aux = tuple(aux)
        self.num_outputs = num_outputs
        self.output_names = output_names
        self.infer_shape = infer_shape
        self.infer_type = infer_type
        self.compute = compute
        self.gradient = gradient
        self.key_var_num_args = key_var_num_args
        self.mutate_inputs = mutate_inputs if callable(mutate_inputs) else tuple(mutate_inputs)
        self.random = random
        self.elementwise = elementwise
        self.train_aware = train_aware
        self.visible_outputs = visible_outputs
        self.input_var_attrs = input_var_attrs or {}
        self.loss = loss
        self.grad_reads = grad_reads
        self.inplace = elementwise if inplace is None else inplace
        self.ignores_unknown_args = ignores_unknown_args
        self.partial_shapes = partial_shapes
        self.lists_input_names = name not in UNLISTED
        self.infer_storage = infer_storage
        self.infer_grad_storage = infer_grad_storage
        self.gradient_op = gradient_op
        self.compute_ex = compute_ex
        self.signature_arguments = signature_arguments
        self.module = None  # the module that registered it (its family), set by register()

    def parse_attrs(self, kwargs):
        """Typed attributes from user values or JSON strings, defaults filled in."""
        attrs = dict(self.defaults)
        params = self.params
        for key, value in kwargs.items():
            param = params.get(key)
            if param is None:
                if key.startswith("__") and key.endswith("__") or self.ignores_unknown_args:
                    continue  # symbol attributes such as __lr_mult__ are not op parameters
                raise MXNetError(f"{self.name}: unknown argument '{key}'; accepted: "
                                 + (", ".join(params) or "none"))
            attrs[key] = param.parse(value, self.name)
        for key in self._required:
            if key not in attrs:
                raise MXNetError(f"{self.name}: required argument '{key}' is missing")
        return attrs

    def list_arguments(self, attrs):
        args = self.arguments
        return list(args(attrs) if callable(args) else args)

    def list_inputs(self, attrs):
        return self.list_arguments(attrs) + list(self.aux)

    def aux_inputs(self, attrs):
        """Positions of the inputs that are auxiliary states (MXNet's FMutateInputs as nnvm reads it: a variable
        feeding one is listed by list_auxiliary_states, gets no gradient and is updated in place). Every place
        that splits a node's inputs into arguments and auxiliary states asks this; here the `aux` names, after
        the arguments. Records whose inputs interleave the two (_CachedOp) or come from elsewhere (Custom)
        answer for themselves."""
        if not self.aux:
            return ()
        n_args = len(self.list_arguments(attrs))
        return tuple(range(n_args, n_args + len(self.aux)))

    def is_loss(self, attrs):
        """Whether the gradient ignores the head gradient (see `loss`; ops no gradient flows through), for
        these attributes: Executor.backward needs no head gradient for such an output, as MXNet."""
        return self.loss or self.gradient is zero_gradients

    def mutated_inputs(self, attrs):
        """Indices of the inputs the op writes in place (mutate_inputs, or what it gives for `attrs`)."""
        m = self.mutate_inputs
        return tuple(m(attrs)) if callable(m) else m

    def n_outputs(self, attrs):
        n = self.num_outputs
        return n(attrs) if callable(n) else n

    def n_visible_outputs(self, attrs):
        n = self.visible_outputs
        if n is None:
            return self.n_outputs(attrs)
        return n(attrs) if callable(n) else n

    def gradient_reads(self, attrs):
        """(input indices, output indices) whose values the gradient reads; None stands for all."""
        reads = self.grad_reads
        if callable(reads):
            reads = reads(attrs)
        return reads if reads is not None else (None, None)

    def list_outputs(self, attrs):
        names = self.output_names
        if names is None:
            n = self.n_outputs(attrs)
            return ["output"] if n == 1 else [f"output{i}" for i in range(n)]
        return list(names(attrs) if callable(names) else names)

    def attr_strings(self, attrs):
        """Attributes as MXNet writes them in JSON: only those set away from their default."""
        out = {}
        for key, value in attrs.items():
            if key in self.defaults and _same(self.defaults[key], value):
                continue
            out[key] = _to_string(value)
        return out

    def __repr__(self):
        return f"<OpDef {self.name}>"


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - arrays or odd values compare as different
        return False


def _to_string(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(_to_string(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    if isinstance(value, np.dtype):
        return value.name
    return str(value)


_REGISTRY = {}


def register(op):
    """Add `op` (and its aliases) to the registry and return it; op.module becomes the caller's module."""
    keys = (op.name,) + op.aliases
    for key in keys:  # refused before anything changes, so a failed registration leaves the registry as it was
        if key in _REGISTRY:
            raise MXNetError(f"operator {key!r} is registered twice")
    op.module = sys._getframe(1).f_globals.get("__name__")
    for key in keys:
        _REGISTRY[key] = op
    return op


def get(name):
    op = _REGISTRY.get(name)
    if op is None:
        raise MXNetError(f"operator {name!r} is not registered in mxcy")
    return op


def all_ops():
    """Every registered OpDef once, in registration order."""
    seen, ops = set(), []
    for op in _REGISTRY.values():
        if id(op) not in seen:
            seen.add(id(op))
            ops.append(op)
    return ops


def names():
    return list(_REGISTRY)
