"""Gluon Parameters: a weight's data and gradient on each of its contexts, deferred initialization,
Constant, and ParameterDict (lookup by prefixed name, sharing, save/load)."""
import re
import warnings
from collections import OrderedDict

import numpy as np

from .. import autograd, context, initializer, ndarray, symbol
from ..base import MXNetError
from ..context import Context, cpu  # noqa: F401 - MXNet's parameter module hands out cpu
from ._errors import AssertionMXNetError, RuntimeMXNetError, ValueMXNetError
from .utils import _brief_print_list, _indent, shape_is_known
from ..util import is_np_shape

__all__ = ["DeferredInitializationError", "Parameter", "Constant", "ParameterDict", "tensor_types"]

tensor_types = (symbol.Symbol, ndarray.NDArray)

_STYPES = ("default", "row_sparse", "csr")
_GRAD_REQS = ("write", "add", "null")


class DeferredInitializationError(MXNetError):
    """A parameter was used before its deferred initialization (first forward) completed."""


def _as_shape(shape):
    if shape is None:
        return None
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _merge_shapes(known, new):
    """`known` with its unknown (0/-1) dims taken from `new`; None when a known dim disagrees."""
    if known is None:
        return new
    if len(known) != len(new):
        return None
    merged = []
    for a, b in zip(known, new):
        if a > 0 and b > 0 and a != b:
            return None
        merged.append(a if a > 0 else b)
    return tuple(merged)


class Parameter:
    """A Block's weight: one data array (and gradient array unless grad_req='null') per context."""

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0, wd_mult=1.0,
                 init=None, allow_deferred_init=False, differentiable=True, stype="default",
                 grad_stype="default"):
        for what, value in (("stype", stype), ("grad_stype", grad_stype)):
            if value not in _STYPES:
                raise AssertionMXNetError(f"Parameter '{name}': {what} must be one of {_STYPES}, "
                                          f"got {value!r}")
        self.name = name
        self._var = None
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._trainer = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        self._shape = _as_shape(shape)
        self._dtype = dtype
        self._stype, self._grad_stype = stype, grad_stype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.init = init
        self.grad_req = grad_req

    def __repr__(self):
        return f"Parameter {self.name} (shape={self.shape}, dtype={self.dtype})"

    # --- attributes ------------------------------------------------------------------------------
    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in _GRAD_REQS:
            raise AssertionMXNetError(f"Parameter '{self.name}': grad_req must be one of {_GRAD_REQS}, "
                                      f"got {req!r}")
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [d.detach() for d in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def dtype(self):
        return self._dtype

    @dtype.setter
    def dtype(self, dtype):
        self.cast(dtype)

    @property
    def shape(self):
        if self._shape is not None and is_np_shape():  # NumPy shape semantics write an unknown dim as -1
            return tuple(-1 if d == 0 else d for d in self._shape)
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = _as_shape(new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        merged = _merge_shapes(self._shape, new_shape)
        if merged is None or any(a > 0 and b <= 0 for a, b in zip(self._shape, new_shape)):
            raise AssertionMXNetError(f"Parameter '{self.name}': expected shape {self._shape} is "
                                      f"incompatible with given shape {new_shape}")
        self._shape = new_shape

    @property
    def stype(self):
        return self._stype

    def _set_trainer(self, trainer):
        if self._stype != "default" and self._trainer and trainer and self._trainer is not trainer:
            raise RuntimeMXNetError(f"Parameter '{self.name}': a {self._stype} parameter can belong to "
                                    "one Trainer only")
        self._trainer = trainer

    # --- access ----------------------------------------------------------------------------------
    def _check_and_get(self, arrays, ctx):
        if arrays is not None:
            if ctx is list:
                return arrays
            if ctx is None:
                if len(arrays) == 1:
                    return arrays[0]
                ctx = context.current_context()
            for c, array in zip(self._ctx_list, arrays):
                if c is ctx or c == ctx:
                    return array
            raise RuntimeMXNetError(f"Parameter '{self.name}' was not initialized on context {ctx}. "
                                    f"It was only initialized on {self._ctx_list}.")
        if self._deferred_init:
            raise DeferredInitializationError(
                f"Parameter '{self.name}' has not been initialized yet because initialization was "
                "deferred. Actual initialization happens during the first forward pass. Please pass "
                "one batch of data through the network before accessing Parameters. You can also avoid "
                "deferred initialization by specifying in_units, num_features, etc., for network layers.")
        raise RuntimeMXNetError(
            f"Parameter '{self.name}' has not been initialized. Note that you should initialize "
            "parameters and create Trainer with Block.collect_params() instead of Block.params because "
            "the later does not include Parameters of nested child Blocks")

    def _check_dense(self, what, hint):
        if self._stype != "default":
            raise RuntimeMXNetError(f"Cannot return {what} of Parameter '{self.name}' via {hint} "
                                    f"because its storage type is {self._stype}. Please use "
                                    "row_sparse_data() instead.")

    def data(self, ctx=None):
        """This parameter's value on `ctx` (the only context, or the current one, by default)."""
        self._check_dense("a copy", "data()")
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        self._check_dense("copies", "list_data()")
        return self._check_and_get(self._data, list)

    def _check_row_sparse(self, row_id, what):
        if self._stype != "row_sparse":
            raise RuntimeMXNetError(f"Cannot return {what} of Parameter '{self.name}' via "
                                    f"row_sparse_data() because its storage type is {self._stype}. "
                                    "Please use data() instead.")
        if not isinstance(row_id, ndarray.NDArray):
            raise TypeError(f"row_id must have NDArray type, but {type(row_id)} is given")
        if not self._trainer:
            raise RuntimeMXNetError(f"Cannot get row_sparse data for Parameter '{self.name}' when no "
                                    "Trainer is created with it.")

    def row_sparse_data(self, row_id):
        """The rows `row_id` of a row_sparse parameter, pulled through its Trainer."""
        self._check_row_sparse(row_id, "a copy")
        out = self._check_and_get(self._data, row_id.context)
        self._trainer._row_sparse_pull(self, out, row_id)
        return out

    def list_row_sparse_data(self, row_id):
        self._check_row_sparse(row_id, "copies")
        out = self._check_and_get(self._data, list)
        self._trainer._row_sparse_pull(self, out, row_id)
        return out

    def grad(self, ctx=None):
        if self._data is not None and self._grad is None:
            raise RuntimeMXNetError(f"Cannot get gradient array for Parameter '{self.name}' because "
                                    "grad_req='null'")
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeMXNetError(f"Cannot get gradient array for Parameter '{self.name}' because "
                                    "grad_req='null'")
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeMXNetError(f"Parameter '{self.name}' has not been initialized")
        return self._ctx_list

    # --- initialization --------------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=initializer.Uniform(), force_reinit=False):
        """Create data (and gradient) arrays on each context in `ctx`; deferred while the shape has
        unknown dims and allow_deferred_init is set."""
        if self._data is not None and not force_reinit:
            warnings.warn(f"Parameter '{self.name}' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize.", stacklevel=2)
            return
        self._data = self._grad = None
        ctx = _ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        self._deferred_init = (init, ctx, default_init, None)
        if not shape_is_known(self._shape):
            if self._allow_deferred_init:
                return
            self._deferred_init = ()
            raise ValueMXNetError(f"Cannot initialize Parameter '{self.name}' because it has invalid "
                                  f"shape: {self._shape}.")
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        if not shape_is_known(self._shape):
            raise ValueMXNetError(f"Cannot initialize Parameter '{self.name}' because it has invalid "
                                  f"shape: {self._shape}. Please specify in_units, in_channels, etc for "
                                  "`Block`s.")
        self._deferred_init = ()
        with autograd.pause():
            if data is None:
                # Initializers write dense arrays; sparse parameters are converted afterwards.
                data = ndarray.zeros(self._shape, ctx=context.cpu(), dtype=self._dtype)
                initializer.create(default_init)(initializer.InitDesc(self.name, {"__init__": init}), data)
                if self._stype == "row_sparse":  # every row stored, zeros too, as MXNet initializes them
                    data = ndarray.sparse.row_sparse_array(
                        (data.asnumpy(), np.arange(self._shape[0])), shape=self._shape, ctx=context.cpu(),
                        dtype=data.dtype)
                elif self._stype != "default":
                    data = data.tostype(self._stype)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        self._ctx_list = list(ctx_list)
        self._data = [data.copyto(c) for c in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        if self._grad_req == "null":
            self._grad = None
            return
        self._grad = [ndarray.zeros(d.shape, ctx=d.context, dtype=d.dtype, stype=self._grad_stype)
                      for d in self._data]
        autograd.mark_variables(self._data, self._grad, self._grad_req)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """(Re)initialize from a loaded array, checking it fits this parameter's shape and dtype."""
        if dtype_source not in ("current", "saved"):
            raise AssertionMXNetError(f"dtype_source must be 'current' or 'saved', got {dtype_source!r}")
        if self._shape:
            merged = _merge_shapes(self._shape, tuple(data.shape))
            if merged is None:
                raise AssertionMXNetError(f"Failed loading Parameter '{self.name}' from saved params: "
                                          f"shape incompatible expected {self._shape} vs saved "
                                          f"{tuple(data.shape)}")
            self._shape = merged
        if self._dtype is not None and np.dtype(self._dtype) != np.dtype(data.dtype):
            if not cast_dtype:
                raise AssertionMXNetError(
                    f"Failed loading Parameter '{self.name}' from saved params: dtype incompatible "
                    f"expected {np.dtype(self._dtype)} vs saved {np.dtype(data.dtype)}. Set "
                    "cast_dtype=True to cast the dtype of saved params.")
            if dtype_source == "current":
                data = data.astype(self._dtype)
            else:
                self.cast(data.dtype)
        if getattr(data, "stype", "default") != self._stype:
            data = data.tostype(self._stype)
        ctx = [ctx] if isinstance(ctx, Context) else ctx
        if self._data is None:
            if self._deferred_init:
                if ctx is not None and set(ctx) != set(self._deferred_init[1]):
                    raise AssertionMXNetError(f"Failed to load Parameter '{self.name}' on {ctx} because "
                                              f"it was previous initialized on {self.list_ctx()}.")
                ctx = self._deferred_init[1]
            elif ctx is None:
                ctx = [context.cpu()]
            self._init_impl(data, ctx)
        else:
            if ctx is not None and set(ctx) != set(self.list_ctx()):
                raise AssertionMXNetError(f"Failed to load Parameter '{self.name}' on {ctx} because it "
                                          f"was previous initialized on {self.list_ctx()}.")
            self.set_data(data)
        self._deferred_init = ()

    def _reduce(self):
        """The value as one CPU array: the mean over contexts (copies may drift apart)."""
        if self._stype != "default":
            ids = ndarray.arange(0, self._shape[0], dtype="int64", ctx=context.cpu())
            data = ndarray.zeros(self._shape, stype="row_sparse", ctx=context.cpu())
            self._trainer._row_sparse_pull(self, data, ids, full_idx=True)
            return data
        arrays = self.list_data()
        if len(arrays) == 1:
            return arrays[0].copyto(context.cpu())
        total = arrays[0].copyto(context.cpu())
        for a in arrays[1:]:
            total = total + a.copyto(context.cpu())
        return total / len(arrays)

    def set_data(self, data):
        """Write `data` into every copy (or into the pending deferred initialization)."""
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise AssertionMXNetError(f"Parameter '{self.name}' has not been initialized")
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        trainer = self._trainer
        if trainer is not None and getattr(trainer, "_kv_initialized", False) and \
                getattr(trainer, "_update_on_kvstore", False) and self not in trainer._params_to_init:
            trainer._reset_kvstore()
        for array in self._data:
            array[:] = data

    def reset_ctx(self, ctx):
        """Move the parameter to other contexts, keeping its value."""
        ctx = _ctx_list(ctx)
        if self._data:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueMXNetError(f"Cannot reset context for Parameter '{self.name}' because it has not "
                                  "been initialized.")

    def zero_grad(self):
        if self._grad is None:
            return
        for g in self._grad:
            # A sparse gradient takes an array, not a number (as MXNet's RowSparseNDArray.__setitem__).
            g[:] = 0 if g.stype == "default" else ndarray.zeros(g.shape, ctx=g.context, dtype=g.dtype)

    def var(self):
        """This parameter as a Symbol variable (cached), carrying shape, dtype, lr/wd mults, init."""
        if self._var is None:
            self._var = symbol.var(self.name, shape=self.shape, dtype=self._dtype, lr_mult=self.lr_mult,
                                   wd_mult=self.wd_mult, init=self.init, stype=self._stype)
        return self._var

    def cast(self, dtype):
        self._dtype = dtype
        if self._data is None:
            return
        with autograd.pause():
            self._data = [d.astype(dtype) for d in self._data]
            if self._grad is None:
                return
            self._grad = [g.astype(dtype) for g in self._grad]
            autograd.mark_variables(self._data, self._grad, self._grad_req)


def _ctx_list(ctx):
    if ctx is None:
        return [context.current_context()]
    return [ctx] if isinstance(ctx, Context) else list(ctx)


class _ConstantInit(initializer.Initializer):
    """Fills a Constant with its value; never serialised, so it needs no registered name."""

    def __init__(self, value):
        super().__init__()
        self._value = value

    def _init_weight(self, _, arr):
        self._value.copyto(arr)

    def _init_default(self, _, arr):
        self._value.copyto(arr)


class Constant(Parameter):
    """A parameter that never gets a gradient and always starts as `value`."""

    def __init__(self, name, value):
        if not isinstance(value, ndarray.NDArray):
            value = ndarray.array(value)
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=_ConstantInit(value))

    def __repr__(self):
        return f"Constant {self.name} (shape={self.shape}, dtype={self.dtype})"

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn(f'Constant parameter "{self.name}" does not support grad_req other than '
                          f'"null", and new value "{req}" is ignored.')
        self._grad_req = "null"


class ParameterDict:
    """Parameters by full name; `get` creates under this dict's prefix or finds one (also in `shared`)."""

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    def __repr__(self):
        content = "\n".join(_indent(f"  {v}", 2) for v in self.values())
        name = self._prefix + " " if self._prefix else ""
        return f"{name}(\n{content}\n)"

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def items(self):
        return self._params.items()

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    @property
    def prefix(self):
        return self._prefix

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter `prefix + name`, created with `kwargs` if new; an existing one must agree with
        them (unknown shape dims are filled in)."""
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            param = Parameter(name, **kwargs)
            self._params[name] = param
            return param
        for key, value in kwargs.items():
            existing = getattr(param, key, None)
            if existing is None:
                setattr(param, key, value)
                continue
            if key == "shape":
                merged = _merge_shapes(_as_shape(value), existing)
                if merged is not None:
                    param._shape = merged
                    continue
            elif key == "dtype" and np.dtype(value) == np.dtype(existing):
                continue
            if value is not None and value != existing:
                raise AssertionMXNetError(
                    f"Cannot retrieve Parameter '{name}' because desired attribute does not match with "
                    f"stored for attribute '{key}': desired '{value}' vs stored '{existing}'.")
        return param

    def get_constant(self, name, value=None):
        """The Constant `prefix + name`, created from `value` if new."""
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise KeyError(f"No constant named '{name}'. Please specify value if you want to create "
                               "a new constant.")
            param = Constant(name, value)
            self._params[name] = param
        elif value is not None:
            if not isinstance(param, Constant):
                raise AssertionMXNetError(f"Parameter '{name}' already exists but it is not a constant.")
            value = value.asnumpy() if isinstance(value, ndarray.NDArray) else np.asarray(value)
            if param.shape != value.shape or not (param.value.asnumpy() == value).all():
                raise AssertionMXNetError(f"Constant '{name}' already exists but its value doesn't "
                                          "match the new value")
        return param

    def update(self, other):
        for key, value in other.items():
            if key in self._params and self._params[key] is not value:
                raise AssertionMXNetError("Cannot update self with other because they have different "
                                          f"Parameters with the same name '{key}'")
        for key, value in other.items():
            self._params[key] = value

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter; `init` is the default for those without their own."""
        if verbose:
            init.set_verbosity(verbose=verbose)
        for param in self.values():
            param.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        for param in self.values():
            param.zero_grad()

    def reset_ctx(self, ctx):
        for param in self.values():
            param.reset_ctx(ctx)

    def list_ctx(self):
        found = []
        for param in self.values():
            found.extend(c for c in param.list_ctx() if c not in found)
        return found

    def setattr(self, name, value):
        """Set attribute `name` (grad_req, lr_mult, ...) of every parameter."""
        for param in self.values():
            setattr(param, name, value)

    def select(self, pattern):
        """A dict of the parameters whose full names match regular expression `pattern`."""
        regex = re.compile(pattern)
        out = ParameterDict(self._prefix)
        out.update({k: v for k, v in self.items() if regex.match(k)})
        return out

    def save(self, filename, strip_prefix=""):
        """Save every parameter under its full name (less `strip_prefix`) in MXNet's .params format."""
        arrays = {}
        for param in self.values():
            if not param.name.startswith(strip_prefix):
                raise ValueMXNetError(
                    f"Prefix '{strip_prefix}' is to be striped before saving, but Parameter's name "
                    f"'{param.name}' does not start with '{strip_prefix}'. This may be due to your Block "
                    "sharing parameters from other Blocks or creating child blocks outside name_scope().")
            arrays[param.name[len(strip_prefix):]] = param._reduce()
        ndarray.save(filename, arrays)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
             cast_dtype=False, dtype_source="current"):
        """Load a .params file saved by `save` (or a Module/export file with arg:/aux: names)."""
        if restore_prefix:
            for name in self.keys():
                if not name.startswith(restore_prefix):
                    raise AssertionMXNetError(f"restore_prefix is '{restore_prefix}' but Parameter's "
                                              f"name '{name}' does not start with it.")
        self.load_dict(ndarray.load(filename), ctx, allow_missing, ignore_extra, restore_prefix,
                       filename, cast_dtype, dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
                  filename=None, cast_dtype=False, dtype_source="current"):
        """Load from a name -> NDArray dict (names as `save` writes them)."""
        items = param_dict.items() if isinstance(param_dict, dict) else param_dict
        arrays = {restore_prefix + (k[4:] if k.startswith(("arg:", "aux:")) else k): v for k, v in items}
        source = f"file: {filename}" if filename else "param_dict"
        if not allow_missing:
            for name in self.keys():
                if name not in arrays:
                    raise AssertionMXNetError(
                        f"Parameter '{name[len(restore_prefix):]}' is missing in {source}, which "
                        f"contains parameters: {_brief_print_list(arrays.keys())}. Please make sure "
                        "source and target networks have the same prefix.")
        for name, value in arrays.items():
            if name not in self._params:
                if not ignore_extra:
                    raise AssertionMXNetError(
                        f"Parameter '{name[len(restore_prefix):]}' loaded from {source} is not present "
                        f"in ParameterDict, choices are: {_brief_print_list(self._params.keys())}. Set "
                        "ignore_extra to True to ignore.")
                continue
            self._params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)
