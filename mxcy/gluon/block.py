"""Gluon Blocks: Block (imperative), HybridBlock (traced once into a Symbol and run as a CachedOp when
hybridized) and SymbolBlock (a Symbol with parameters, e.g. an imported export)."""
import copy
import json
import re
import threading
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

from .. import initializer, ndarray, symbol
from ..base import MXNetError, NotImplementedForSymbol
from ..cached_op import CachedOp
from ..fileio import atomic_write
from ..name import NameManager, Prefix
from ..ndarray import NDArray
from ..symbol import Symbol, load_json  # noqa: F401 - MXNet's block module hands out load_json
from ._errors import AssertionMXNetError, RuntimeMXNetError, ValueMXNetError
from .parameter import DeferredInitializationError, Parameter, ParameterDict
from .utils import HookHandle, _brief_print_list, _indent

__all__ = ["Block", "HybridBlock", "SymbolBlock"]


class _BlockScope:
    """The `with block.name_scope():` scope: children created inside get the block's prefix and number
    themselves per class (dense0_, dense1_), and symbols traced inside get the prefix too."""
    _current = threading.local()

    def __init__(self, block):
        self._block = block
        self._counter = {}
        self._old_scope = None
        self._name_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) for a new block of class alias `hint` in the current scope."""
        current = getattr(_BlockScope._current, "value", None)
        if current is None:
            if prefix is None:
                prefix = NameManager.current.get(None, hint) + "_"
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = f"{hint}{count}_"
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        self._name_scope = Prefix(self._block.prefix)
        self._name_scope.__enter__()
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return
        self._name_scope.__exit__(*exc)
        self._name_scope = None
        _BlockScope._current.value = self._old_scope


def _flatten(args, what):
    """Nested lists of NDArrays/Symbols/None -> (flat list, format to rebuild the nesting)."""
    if isinstance(args, NDArray):
        return [args], 0
    if isinstance(args, Symbol):
        n = len(args.list_outputs())
        return [args], (n if n > 1 else 0)
    if args is None:
        return [None], -1
    if not isinstance(args, (list, tuple)):
        raise ValueMXNetError(f"When hybridized, the {what} of HybridBlock must be (nested) list of "
                              f"Symbol or NDArray, but got {args} of type {type(args)}")
    flat, fmts = [], []
    for item in args:
        f, fmt = _flatten(item, what)
        flat.extend(f)
        fmts.append(fmt)
    return flat, fmts


def _regroup(flat, fmt):
    """Inverse of _flatten."""
    def take(items, fmt):
        if isinstance(fmt, int):
            if fmt == 0:
                return items[0], items[1:]
            if fmt == -1:
                if items[0] is not None:
                    raise ValueMXNetError("A HybridBlock hybridized with a None input must be called "
                                          f"with None there, got {items[0]}")
                return None, items[1:]
            return items[:fmt], items[fmt:]
        out = []
        for f in fmt:
            value, items = take(items, f)
            out.append(value)
        return out, items
    return take(flat, fmt)[0]


def _leaves(args):
    """Every non-list value in nested lists/tuples."""
    if isinstance(args, (list, tuple)):
        return [leaf for a in args for leaf in _leaves(a)]
    return [args]


def _kinds(args):
    """(has a Symbol, has an NDArray, contexts of the NDArrays in order) of nested args; other values
    (numbers, None) are allowed until the block is hybridized."""
    flat = _leaves(args)
    has_sym = any(isinstance(a, Symbol) for a in flat)
    ctxs = []
    for a in flat:
        if isinstance(a, NDArray) and a.context not in ctxs:
            ctxs.append(a.context)
    return has_sym, bool(ctxs), ctxs


class Block:
    """Base of every layer and model: holds child blocks and Parameters; `forward` computes."""

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = {}
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        lines = [f"  ({key}): {_indent(repr(block), 2)}" for key, block in self.__dict__.items()
                 if isinstance(block, Block)]
        return "{}(\n{}\n)".format(type(self).__name__, "\n".join(lines))

    def __setattr__(self, name, value):
        """Blocks and Parameters assigned as attributes are registered as children/parameters."""
        if hasattr(self, name):
            existing = getattr(self, name)
            if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
                raise TypeError(f"Changing attribute type for {name} from {type(existing)} to "
                                f"{type(value)} is not allowed.")
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            if name in self._reg_params:
                raise AssertionMXNetError(f"Overriding Parameter attribute {name} is not allowed. If you "
                                          "want to share parameters between blocks, please set 'params' "
                                          "at Block construction instead.")
            self._reg_params[name] = value
        super().__setattr__(name, value)

    def _check_container_with_block(self):
        children = set(map(id, self._children.values()))

        def unregistered(value):
            if isinstance(value, (list, tuple)):
                return any(unregistered(v) for v in value)
            if isinstance(value, dict):
                return any(unregistered(v) for v in value.values())
            return isinstance(value, Block) and id(value) not in children

        for key, value in self.__dict__.items():
            if isinstance(value, (list, tuple, dict)) and not (key.startswith("__") or key == "_children") \
                    and unregistered(value):
                warnings.warn(f'"{type(self).__name__}.{key}" is an unregistered container with Blocks. '
                              "Note that Blocks inside the list, tuple or dict will not be registered "
                              "automatically. Make sure to register them using register_child() or "
                              "switching to nn.Sequential/nn.HybridSequential instead.", stacklevel=3)

    def _alias(self):
        return type(self).__name__.lower()

    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        return self._name

    def name_scope(self):
        """Scope for creating child blocks (and symbols) under this block's prefix."""
        return self._scope

    @property
    def params(self):
        """This block's own parameters (not its children's)."""
        return self._params

    def collect_params(self, select=None):
        """This block's and every descendant's parameters, optionally those whose names match `select`."""
        self._check_container_with_block()
        out = ParameterDict(self._params.prefix)
        if select:
            pattern = re.compile(select)
            out.update({k: v for k, v in self.params.items() if pattern.match(k)})
        else:
            out.update(self.params)
        for child in self._children.values():
            out.update(child.collect_params(select=select))
        return out

    def _collect_params_with_prefix(self, prefix=""):
        """Structural names ('0.weight', 'features.3.bias') -> Parameter, as save_parameters writes."""
        if prefix:
            prefix += "."
        out = {prefix + key: value for key, value in self._reg_params.items()}
        for name, child in self._children.items():
            out.update(child._collect_params_with_prefix(prefix + name))
        return out

    # --- files ------------------------------------------------------------------------------------
    def save_parameters(self, filename, deduplicate=False):
        """Save parameters under their structural names in MXNet's .params format."""
        params = self._collect_params_with_prefix()
        if deduplicate:
            first = {}
            for key, param in params.items():
                first.setdefault(id(param), (key, param))
            params = dict(first.values())
        ndarray.save(filename, {key: param._reduce() for key, param in params.items()})

    def save_params(self, filename):
        warnings.warn("save_params is deprecated. Please use save_parameters. Note that if you want load "
                      "from SymbolBlock later, please use export instead.")
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False, cast_dtype=False,
                        dtype_source="current"):
        """Load a file written by save_parameters (structural names) or by the older save_params/
        ParameterDict.save (full prefixed names), as MXNet 1.9.1 does."""
        loaded = ndarray.load(filename)
        if not isinstance(loaded, dict):
            raise ValueMXNetError(f"load_parameters: {filename} holds a list of arrays, not named "
                                  "parameters")
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in key for key in loaded):
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra, self.prefix,
                                       cast_dtype=cast_dtype, dtype_source=dtype_source)
            return
        if not allow_missing:
            names_of = defaultdict(list)
            for key, param in params.items():
                names_of[id(param)].append(key)
            for key, param in params.items():
                if not any(n in loaded for n in names_of[id(param)]):
                    raise AssertionMXNetError(
                        f"Parameter '{key}' is missing in file '{filename}', which contains parameters: "
                        f"{_brief_print_list(loaded.keys())}. Set allow_missing=True to ignore missing "
                        "parameters.")
        for key, value in loaded.items():
            if key not in params:
                if not ignore_extra:
                    raise ValueMXNetError(
                        f"Parameter '{key}' loaded from file '{filename}' is not present in ParameterDict, "
                        f"which contains parameters {_brief_print_list(params.keys())}. Set "
                        "ignore_extra=True to ignore. ")
                continue
            params[key]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        warnings.warn("load_params is deprecated. Please use load_parameters.")
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def save(self, prefix):
        """Save the block tree's structure and cached graphs (`prefix-model.json`) and parameters
        (`prefix-model.params`), for `load` on a block built the same way."""
        index = [0]

        def describe(block, parent):
            entry = {"orig_name": block.name}
            parent[f"{type(block).__name__.lower()}{index[0]}"] = entry
            if isinstance(block, HybridBlock):
                entry["hybridized"] = bool(block._cached_graph)
                if block._cached_graph:
                    inputs, out = block._cached_graph
                    entry["in_format"] = block._in_format
                    entry["out_format"] = block._out_format
                    entry["inputs"] = [s.tojson() for s in inputs]
                    entry["symbol"] = out.tojson()
            entry["children"] = {}
            for key, child in block._children.items():
                index[0] += 1
                entry["children"][child.name] = key
                describe(child, entry)

        model = {}
        describe(self, model)
        atomic_write(prefix + "-model.json", json.dumps(model).encode(), "model file")
        self.save_parameters(prefix + "-model.params")

    def load(self, prefix):
        """Restore what `save(prefix)` wrote into this (identically built) block."""
        fname = prefix + "-model.json"
        try:
            with open(fname, "rb") as f:
                model = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError) as err:
            raise MXNetError(f"load: cannot read {fname}: {err}") from None
        index = [0]

        def restore(block, parent):
            key = f"{type(block).__name__.lower()}{index[0]}"
            if key not in parent:
                raise MXNetError(f"load: {fname} has no entry {key}; was it saved from a block built the same way?")
            entry = parent[key]
            block._name = entry["orig_name"]
            if isinstance(block, HybridBlock) and entry.get("hybridized"):
                block._in_format = entry["in_format"]
                block._out_format = entry["out_format"]
                block._cached_graph = ([symbol.load_json(s) for s in entry["inputs"]],
                                       symbol.load_json(entry["symbol"]))
                block._active = True
            renamed = OrderedDict()
            for name, param in block.params._params.items():
                renamed[block.name + "_" + name[len(block.params._prefix):]] = param
            block.params._params = renamed
            for child in block._children.values():
                index[0] += 1
                restore(child, entry)
            names = entry["children"]
            block._children = OrderedDict((names.get(child.name, k), child)
                                          for k, child in block._children.items())

        try:
            restore(self, model)
        except (KeyError, TypeError, AttributeError, MXNetError) as err:
            raise MXNetError(f"load: {fname} is not a model file of this block: {err}") from None
        self.load_parameters(prefix + "-model.params")

    # --- structure and running --------------------------------------------------------------------
    def register_child(self, block, name=None):
        """Register `block` as a child under `name` (its position by default)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """Call hook(block, inputs) before each forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_pre_hooks, hook)
        return handle

    def register_forward_hook(self, hook):
        """Call hook(block, inputs, outputs) after each forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_hooks, hook)
        return handle

    def apply(self, fn):
        """Call fn(block) on every descendant (children first) and on this block."""
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter of this block and its children (`init` is the default)."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlocks among this block's descendants."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def cast(self, dtype):
        """Cast every parameter (and child) to `dtype`."""
        for child in self._children.values():
            child.cast(dtype)
        for param in self.params.values():
            param.cast(dtype)

    def __call__(self, *args):
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        out = self.forward(*args)
        for hook in self._forward_hooks.values():
            hook(self, args, out)
        return out

    def forward(self, *args):
        """Override to define the computation."""
        raise NotImplementedError

    def register_op_hook(self, callback, monitor_all=False):
        """Call callback(node name, op name, array) on the outputs (and, with monitor_all, the inputs) of
        every operator that hybridized children run."""
        for child in self._children.values():
            child.register_op_hook(callback, monitor_all)

    def summary(self, *inputs):
        """Print each layer's output shape and parameter counts for a forward on `inputs`, as MXNet."""
        from .nn.basic_layers import HybridSequential, Sequential
        rows, seen, hooks = OrderedDict(), set(), []

        def shape_str(value):
            flat, fmt = _flatten(value, "output") if isinstance(value, (list, tuple, NDArray, Symbol)) \
                else ([value], 0)
            shapes = _regroup([x.shape if isinstance(x, NDArray) else x for x in flat], fmt)
            return str(shapes)[1:-1] if isinstance(shapes, list) else str(shapes)

        def hook(block, _, outputs):
            total = trainable = shared = 0
            for p in block.params.values():
                size = p.data().size
                total += size
                trainable += 0 if p.grad_req == "null" else size
                if id(p) in seen:
                    shared += size
                seen.add(id(p))
            rows[f"{type(block).__name__}-{len(rows)}"] = (shape_str(outputs), total, trainable, shared)

        def attach(block):
            if isinstance(block, HybridBlock) and block._active:
                raise AssertionMXNetError(f'"{block.name}" must not be hybridized to print summary.')
            if not isinstance(block, (Sequential, HybridSequential)):
                hooks.append(block.register_forward_hook(hook))

        rows["Input"] = (shape_str(list(inputs)) if len(inputs) > 1 else shape_str(inputs[0]), 0, 0, 0)
        try:
            self.apply(attach)
            self(*inputs)
            line = "{:>20}  {:>42} {:>15}"
            print("-" * 80)
            print(line.format("Layer (type)", "Output Shape", "Param #"))
            print("=" * 80)
            for name, (shape, total, _, _) in rows.items():
                print(line.format(name, shape, total))
            total = sum(r[1] for r in rows.values())
            trainable = sum(r[2] for r in rows.values())
            shared = sum(r[3] for r in rows.values())
            print("=" * 80)
            print("Parameters in forward computation graph, duplicate included")
            print(f"   Total params: {total}")
            print(f"   Trainable params: {trainable}")
            print(f"   Non-trainable params: {total - trainable}")
            print(f"Shared params in forward computation graph: {shared}")
            print(f"Unique parameters in model: {total - shared}")
            print("-" * 80)
        finally:
            for h in hooks:
                h.detach()


class HybridBlock(Block):
    """A Block whose `hybrid_forward(F, x, ...)` works with F = mx.nd and F = mx.sym; after `hybridize()`
    it is traced once into a Symbol and run as one cached graph."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._cached_graph = ()
        self._cached_op = None
        self._cached_op_args = []
        self._out_format = None
        self._in_format = None
        self._active = False
        self._flags = []
        self._callback = None
        self._monitor_all = False
        self._backend = None
        self._backend_opts = {}

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock):
            self._clear_cached_op()

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueMXNetError(f"Children of HybridBlock must also be HybridBlock, but {block} has type "
                                  f"{type(block)}. If you are using Sequential, please try "
                                  "HybridSequential instead.")
        super().register_child(block, name)
        self._clear_cached_op()

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._cached_op = None
        self._cached_op_args = []

    def hybridize(self, active=True, backend=None, clear=True, static_alloc=False, static_shape=False,
                  inline_limit=2, forward_bulk_size=None, backward_bulk_size=None, **kwargs):
        """Run this block (and its children) as one cached graph from the next call on; `backend` partitions
        that graph (Symbol.optimize_for, the keyword arguments its options)."""
        if kwargs:
            self._backend_opts = kwargs
        self._backend = backend
        self._active = active
        self._flags = [("static_alloc", static_alloc), ("static_shape", static_shape),
                       ("inline_limit", inline_limit)]
        if forward_bulk_size is not None:
            self._flags.append(("forward_bulk_size", forward_bulk_size))
        if backward_bulk_size is not None:
            self._flags.append(("backward_bulk_size", backward_bulk_size))
        if clear:
            self._clear_cached_op()
        if active and (self._forward_hooks or self._forward_pre_hooks):
            warnings.warn(f'"{self}" is being hybridized while still having forward hook/pre-hook. If '
                          f'"{self}" is a child of HybridBlock, the hooks will not take effect.')
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape,
                          inline_limit=inline_limit, forward_bulk_size=forward_bulk_size,
                          backward_bulk_size=backward_bulk_size)

    def optimize_for(self, x, *args, backend=None, clear=False, static_alloc=False, static_shape=False,
                     inline_limit=2, forward_bulk_size=None, backward_bulk_size=None, **kwargs):
        """Hybridize with `backend` and build the partitioned cached graph for inputs like `x, *args` (without
        running it)."""
        if kwargs:
            self._backend_opts = kwargs
        if not backend:
            raise ValueMXNetError(f'{self.name}: must specify "backend" to optimize_for')
        self.hybridize(True, backend, clear, static_alloc, static_shape, inline_limit, forward_bulk_size,
                       backward_bulk_size)
        has_sym, has_nd, ctxs = _kinds([x] + list(args))
        if has_sym or not has_nd:
            raise ValueMXNetError(f"{self.name}: optimize_for takes NDArray inputs")
        if len(ctxs) > 1:
            raise ValueMXNetError(f"{self.name}: a hybridized block takes inputs on one context; got {ctxs}")
        self._build_cache(x, *args)

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    # --- tracing ----------------------------------------------------------------------------------
    def _get_graph(self, *args):
        """(input variables, output Symbol) of hybrid_forward traced with F = mx.sym; traced once."""
        if not self._cached_graph:
            flat, self._in_format = _flatten(args, "input")
            n_real = sum(a is not None for a in flat)
            if n_real == 0:
                raise ValueMXNetError(f"{self.name}: all inputs are None; received args={args}")
            inputs, variables = [], []
            for a in flat:
                if a is None:
                    inputs.append(None)
                    continue
                v = symbol.var(f"data{len(variables)}" if n_real > 1 else "data")
                inputs.append(v)
                variables.append(v)
            params = {name: p.var() for name, p in self._reg_params.items()}
            with self.name_scope():
                try:
                    out = self.hybrid_forward(symbol, *_regroup(inputs, self._in_format), **params)
                except (AttributeError, TypeError, NotImplementedForSymbol) as err:
                    raise MXNetError(
                        f"{self.name}: hybrid_forward failed while tracing it with F=mx.sym ({err}); a "
                        "HybridBlock may only use what both mx.nd and mx.sym offer (no asnumpy(), shape "
                        "arithmetic or Python control flow on values)") from err
            flat_out, self._out_format = _flatten(out, "output")
            self._cached_graph = variables, symbol.Group(flat_out)
        return self._cached_graph

    def _infer_attrs(self, infer_fn, attr, *args):
        inputs, out = self._get_graph(*args)
        real = [a for a in _flatten(args, "input")[0] if a is not None]
        known = {v.name: getattr(a, attr) for v, a in zip(inputs, real)}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arg_attrs, _, aux_attrs = getattr(out, infer_fn)(**known)
        if arg_attrs is None:
            detail = str(caught[0].message) if caught else ""
            raise ValueMXNetError(f"{self.name}: cannot infer the {attr}s of its parameters from inputs "
                                  f"{known}. {detail}")
        found = dict(zip(out.list_arguments(), arg_attrs))
        found.update(zip(out.list_auxiliary_states(), aux_attrs))
        for param in self.collect_params().values():
            if param.name in found:
                setattr(param, attr, found[param.name])

    def infer_shape(self, *args):
        """Fill the unknown dims of the parameters' shapes from the inputs' shapes."""
        self._infer_attrs("infer_shape", "shape", *args)

    def infer_type(self, *args):
        """Set the parameters' dtypes from the inputs' dtypes."""
        self._infer_attrs("infer_type", "dtype", *args)

    def _deferred_infer_shape(self, *args):
        try:
            self.infer_shape(*args)
        except MXNetError as err:
            shapes = [getattr(a, "shape", None) for a in _flatten(args, "input")[0]]
            raise ValueMXNetError(f"{self.name}: deferred initialization failed because shapes cannot be "
                                  f"inferred from inputs of shapes {shapes}: {err}") from None

    def _finish_deferred(self, params, *args):
        """Complete deferred initialization of `params` (shapes from the inputs) if any is pending."""
        if any(p._deferred_init for p in params):
            self._deferred_infer_shape(*args)
            for p in params:
                p._finish_deferred_init()

    # --- the cached graph -------------------------------------------------------------------------
    def _build_cache(self, *args):
        inputs, out = self._get_graph(*args)
        data_index = {v.name: i for i, v in enumerate(inputs)}
        params = dict(self.collect_params().items())
        graph_inputs = out.list_inputs()
        for name in graph_inputs:
            if name not in params and name not in data_index:
                raise AssertionMXNetError(f"{self.name}: unknown input to HybridBlock: {name}")
        unused_data = [f"{i}-th" for name, i in data_index.items() if name not in graph_inputs]
        if unused_data:
            warnings.warn(f"The {', '.join(unused_data)} input to HybridBlock is not used by any "
                          "computation. Is this intended?", stacklevel=4)
        unused = sorted(set(params) - set(graph_inputs))
        if unused:
            warnings.warn(f"Parameter {', '.join(unused)} is not used by any computation. Is this "
                          "intended?", stacklevel=4)
        real = [a for a in _flatten(args, "input")[0] if a is not None]
        self._finish_deferred([params[n] for n in graph_inputs if n in params], *real)
        if self._backend:  # partitioned once its parameters exist, as MXNet's (the inputs stay the same)
            out = out.optimize_for(self._backend, **self._backend_opts)
            self._cached_graph = inputs, out
        self._cached_op_args = [(True, data_index[n]) if n in data_index else (False, params[n])
                                for n in graph_inputs]
        self._cached_op = CachedOp(out, self._flags)
        if self._callback is not None:
            self._cached_op.register_op_hook(self._callback, self._monitor_all)

    def _call_cached_op(self, *args):
        if self._cached_op is None:
            self._build_cache(*args)
        flat, fmt = _flatten(args, "input")
        if fmt != self._in_format and not _format_compatible(fmt, self._in_format):
            raise ValueMXNetError(f"{self.name}: the argument structure does not match the cached version. "
                                  f"Stored format = {self._in_format}, input format = {fmt}")
        real = [a for a in flat if a is not None]
        ctx = real[0].context
        cargs = [real[source] if is_data else source.data(ctx) for is_data, source in self._cached_op_args]
        out = self._cached_op(*cargs)
        return _regroup([out] if isinstance(out, NDArray) else out, self._out_format)

    def register_op_hook(self, callback, monitor_all=False):
        self._callback = callback
        self._monitor_all = monitor_all
        if self._cached_op is not None:
            self._cached_op.register_op_hook(callback, monitor_all)
        for child in self._children.values():
            child.register_op_hook(callback, monitor_all)

    def forward(self, x, *args):
        """Run hybrid_forward with F = mx.nd (the cached graph when hybridized) or with F = mx.sym."""
        has_sym, has_nd, ctxs = _kinds([x] + list(args))
        if has_sym and has_nd:
            raise ValueMXNetError(f"{self.name}: mixing NDArray and Symbol inputs is not supported")
        if not has_sym and not has_nd:
            raise ValueMXNetError(f"{self.name}: there must be one NDArray or one Symbol in the input")
        if has_nd:
            ctx = ctxs[0]
            if self._active:
                if len(ctxs) > 1:
                    raise ValueMXNetError(f"{self.name}: a hybridized block takes inputs on one context; "
                                          f"got {ctxs}")
                with ctx:
                    try:
                        return self._call_cached_op(x, *args)
                    except MXNetError as err:
                        _name_block(err, self.name)
                        raise
            with ctx:
                self._finish_deferred(list(self._reg_params.values()), x, *args)
                params = {k: p.data(ctx) for k, p in self._reg_params.items()}
                try:
                    return self.hybrid_forward(ndarray, x, *args, **params)
                except MXNetError as err:
                    _name_block(err, self.name)
                    raise
        params = {k: p.var() for k, p in self._reg_params.items()}
        with self.name_scope():
            return self.hybrid_forward(symbol, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Override to define the computation with F (mx.nd or mx.sym) and the parameters by name."""
        raise NotImplementedError

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path-symbol.json` and `path-%04d.params` (arg:/aux: names), the files
        SymbolBlock.imports and MXNet's Module load."""
        if not self._cached_graph:
            raise RuntimeMXNetError(f"{self.name}: please first call block.hybridize() and then run forward "
                                    "with this block at least once before calling export.")
        sym = self._cached_graph[1]
        arg_names = set(sym.list_arguments())
        aux_names = set(sym.list_auxiliary_states())
        arrays = {}
        for is_data, param in self._cached_op_args or [(False, p) for p in self.collect_params().values()]:
            if is_data:
                continue
            if param.name in arg_names:
                arrays[f"arg:{param.name}"] = param._reduce()
            elif param.name in aux_names:
                arrays[f"aux:{param.name}"] = param._reduce()
            else:
                warnings.warn(f'Parameter "{param.name}" is not found in the graph. ', stacklevel=3)
        sym.save(f"{path}-symbol.json", remove_amp_cast=remove_amp_cast)
        ndarray.save("%s-%04d.params" % (path, epoch), arrays)


def _name_block(err, name):
    """Put the innermost failing block's name in front of an error's message, once."""
    if not getattr(err, "_block_named", False) and err.args:
        err.args = (f"{name}: {err.args[0]}",) + err.args[1:]
        err._block_named = True


def _format_compatible(fmt, stored):
    """Trailing None inputs may be left out (or added) relative to the traced call."""
    if not isinstance(fmt, list) or not isinstance(stored, list):
        return False
    short, long_ = (fmt, stored) if len(fmt) < len(stored) else (stored, fmt)
    return long_[:len(short)] == short and all(f == -1 for f in long_[len(short):])


def _common_prefix(names):
    if not names:
        return ""
    prefix = names[0]
    for name in names[1:]:
        i = 0
        while i < min(len(prefix), len(name)) and prefix[i] == name[i]:
            i += 1
        prefix = prefix[:i]
    return prefix


class SymbolBlock(HybridBlock):
    """A HybridBlock made from a Symbol: its non-input arguments and auxiliary states become Parameters."""

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False):
        """Load a `-symbol.json` (+ `.params`) pair, e.g. written by HybridBlock.export or Module."""
        sym = symbol.load(symbol_file)
        if isinstance(input_names, str):
            input_names = [input_names]
        inputs = [symbol.var(name, dtype=np.float32) if param_file is None else symbol.var(name)
                  for name in input_names]
        block = SymbolBlock(sym, inputs)
        if param_file is not None:
            block.collect_params().load(param_file, ctx, allow_missing, ignore_extra, cast_dtype=True,
                                        dtype_source="saved")
        return block

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix=None, params=None)
        self._prefix = ""
        self._params = ParameterDict("", params)
        if isinstance(inputs, Symbol) and len(inputs.list_outputs()) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        syms, self._in_format = _flatten(inputs, "input")
        out, self._out_format = _flatten(outputs, "output")
        input_names = set()
        for s in syms:
            if len(s.get_internals().list_outputs()) != 1:
                raise AssertionMXNetError(f"Input symbols must be variable, but {s} is an output of "
                                          "operators")
            input_names.add(s.name)
        for s in out:
            for internal in s.get_internals():
                if internal.attr("__storage_type__") == "1":
                    raise AssertionMXNetError("SymbolBlock doesn't support Parameter "
                                              f"'{internal.name}' because its storage type is 'row_sparse'.")
        out = symbol.Group(out) if len(out) > 1 else out[0]
        arg_names, aux_names = out.list_arguments(), out.list_auxiliary_states()
        arg_types, aux_types = _param_types(syms, out, len(arg_names), len(aux_names))
        for name, dtype in zip(arg_names, arg_types):
            if name not in input_names:
                self.params.get(name, allow_deferred_init=True, dtype=dtype)
        for name, dtype in zip(aux_names, aux_types):
            if name not in input_names:
                self.params.get(name, grad_req="null", allow_deferred_init=True, dtype=dtype)
        self._cached_graph = syms, out
        cut = len(_common_prefix(list(self._params.keys())))
        self._reg_params = {key[cut:]: value for key, value in self._params.items()}

    def __repr__(self):
        inputs, out = self._cached_graph
        return f"{type(self).__name__}(\n{out} : {len(inputs)} -> {len(out.list_outputs())}\n)"

    def forward(self, x, *args):
        if isinstance(x, NDArray):
            with x.context:
                return self._call_cached_op(x, *args)
        if not isinstance(x, Symbol):
            raise AssertionMXNetError("HybridBlock requires the first argument to forward be either Symbol "
                                      f"or NDArray, but got {type(x)}")
        flat, fmt = _flatten([x] + list(args), "input")
        if fmt != self._in_format:
            raise AssertionMXNetError(f"{self.name}: invalid input format {fmt}, expected {self._in_format}")
        out = copy.copy(self._cached_graph[1])
        out._compose(**{v.name: s for v, s in zip(self._cached_graph[0], flat)})
        return _regroup(list(out), self._out_format)

    def _clear_cached_op(self):
        graph = self._cached_graph
        super()._clear_cached_op()
        self._cached_graph = graph

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)
        if np.dtype(dtype).name != "float16":
            return
        # BatchNorm's statistics, scale and shift stay float32 under a float16 network, as in MXNet.
        names = self._cached_graph[1].get_internals().list_inputs()
        for var_suffix, mean_suffix in (("running_var", "running_mean"), ("moving_var", "moving_mean")):
            for name in names:
                if not name.endswith(var_suffix):
                    continue
                stem = name[:-len(var_suffix)]
                group = [name] + [stem + s for s in (mean_suffix, "gamma", "beta")]
                if all(g in names for g in group):
                    for g in group:
                        self.params.get(g).cast("float32")

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError

    def reset_ctx(self, ctx):
        for param in self.collect_params().values():
            param.reset_ctx(ctx)


def _param_types(inputs, out, n_args, n_aux):
    """Argument and auxiliary dtypes inferred from the input variables' dtypes; float32 where unknown."""
    known = {}
    for s in inputs:
        types = s.infer_type()[0]
        if not types:
            break
        known[s.name] = types[0]
    else:
        try:
            arg_types, _, aux_types = out.infer_type(**known)
            if arg_types is not None and len(arg_types) == n_args and len(aux_types) == n_aux:
                return arg_types, aux_types
        except MXNetError:
            pass
    return [np.float32] * n_args, [np.float32] * n_aux
