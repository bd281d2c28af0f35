"""AMP in float16: casts put around mx.nd / mx.sym operator calls (init) or into a Symbol's graph
(convert_symbol, convert_model, convert_hybrid_block) by the operator lists of `lists.symbol_fp16`, and
dynamic loss scaling for gluon.Trainer (init_trainer, scale_loss, unscale). bfloat16 is not supported yet."""
import contextlib
import functools
import logging

import numpy as np

from ... import ndarray, symbol
from ...base import DTYPE_TO_FLAG, MXNetError
from ...context import gpu
from ...gluon.block import HybridBlock, SymbolBlock
from ...gluon.trainer import Trainer
from ...ndarray import NDArray
from ...optimizer import Optimizer
from ...symbol.graph import Node, registry_op, topo_order
from ...symbol.symbol import Symbol
from .lists import symbol_fp16
from .loss_scaler import LossScaler

__all__ = ["init", "init_trainer", "scale_loss", "unscale", "convert_symbol", "convert_model",
           "convert_hybrid_block", "list_lp16_ops", "list_fp32_ops", "list_lp16_fp32_ops",
           "list_conditional_fp32_ops", "list_widest_type_cast", "list_loss_output_functions",
           "list_lp16_use_fp32_params"]

_state = {"initialized": False, "loss_scaler": None, "scaler_given": False}


def _lists(target_dtype):
    if target_dtype == "bfloat16":
        raise MXNetError("amp: target_dtype 'bfloat16' is not supported by mxcy yet; use 'float16'")
    if target_dtype != "float16":
        raise AssertionError(f"amp: only target_dtype float16 and bfloat16 are supported, got {target_dtype!r}")
    return symbol_fp16


def list_lp16_ops(target_dtype):
    """Operators run in target_dtype."""
    return _lists(target_dtype).FP16_FUNCS


def list_fp32_ops(target_dtype):
    """Operators run in float32."""
    return _lists(target_dtype).FP32_FUNCS


def list_lp16_fp32_ops(target_dtype):
    """Operators run in the type of their inputs."""
    return _lists(target_dtype).FP16_FP32_FUNCS


def list_conditional_fp32_ops(target_dtype):
    """(operator, parameter, values) run in float32 when the parameter has one of the values."""
    return _lists(target_dtype).CONDITIONAL_FP32_FUNCS


def list_widest_type_cast(target_dtype):
    """Operators whose float inputs are cast to the widest of their types."""
    return _lists(target_dtype).WIDEST_TYPE_CASTS


def list_loss_output_functions(target_dtype):
    """Loss outputs whose gradient init() scales by the loss scale."""
    return _lists(target_dtype).LOSS_OUTPUT_FUNCTIONS


def list_lp16_use_fp32_params(target_dtype):
    """Operators run in target_dtype whose parameters stay float32."""
    return _lists(target_dtype).FP16_USE_FP32_PARAMS


class _Policy:
    """The cast each operator gets: 'lp16' (to target_dtype), 'fp32', 'widest' or None, from the lists or the
    user's overrides, matching an operator by its name or any alias."""

    def __init__(self, target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops, excluded=()):
        lists = _lists(target_dtype)
        self.target_dtype = target_dtype
        for arg, what in ((target_dtype_ops, "target_dtype_ops"), (fp32_ops, "fp32_ops"),
                          (conditional_fp32_ops, "conditional_fp32_ops")):
            if arg is not None and not isinstance(arg, list):
                raise AssertionError(f"amp: {what} should be a list, got {type(arg).__name__}")
        self.lp16 = set(lists.FP16_FUNCS if target_dtype_ops is None else target_dtype_ops)
        self.fp32 = set(lists.FP32_FUNCS if fp32_ops is None else fp32_ops)
        self.conditional = {name: (param, values) for name, param, values in
                            (lists.CONDITIONAL_FP32_FUNCS if conditional_fp32_ops is None else conditional_fp32_ops)}
        self.widest = set(lists.WIDEST_TYPE_CASTS)
        self.excluded = set(excluded or ())

    def kind(self, op_names, attrs):
        for name in op_names:
            if name in self.lp16:
                return "lp16"
            if name in self.fp32:
                return "fp32"
            if name in self.conditional:
                param, values = self.conditional[name]
                return "fp32" if str(attrs.get(param)) in values else None
            if name in self.widest:
                return "widest"
        return None


def _op_names(op):
    return (op.name,) + tuple(getattr(op, "aliases", ()))


# --- init: casts around operator calls ---------------------------------------------------------------
def _wrap(module, name, policy):
    """Replace module.<name> by a function that casts its array (or symbol) arguments as the policy says."""
    func = getattr(module, name, None)
    if func is None or getattr(func, "_amp_wrapped", False):
        return
    try:
        op_names = _op_names(registry_op(name))
    except MXNetError:
        return
    array_type = NDArray if module is ndarray else Symbol

    @functools.wraps(func)
    def cast_call(*args, **kwargs):
        kind = policy.kind(op_names, kwargs)
        if kind is None:
            return func(*args, **kwargs)
        positions = [i for i, a in enumerate(args) if isinstance(a, array_type)]
        keys = [k for k, v in kwargs.items() if isinstance(v, array_type)]
        values = [args[i] for i in positions] + [kwargs[k] for k in keys]
        if kind == "widest":
            if len(values) < 2:
                return func(*args, **kwargs)
            cast = module.amp_multicast(*values, num_outputs=len(values))
            cast = list(cast) if module is ndarray else [cast[i] for i in range(len(values))]
        else:
            dtype = policy.target_dtype if kind == "lp16" else "float32"
            cast = [module.amp_cast(v, dtype=dtype) for v in values]
        args = list(args)
        for i, v in zip(positions + keys, cast):
            if isinstance(i, int):
                args[i] = v
            else:
                kwargs[i] = v
        return func(*args, **kwargs)

    cast_call._amp_wrapped = True
    setattr(module, name, cast_call)


def _wrap_loss_outputs(module, names, scaler):
    """In mx.nd, loss outputs get grad_scale multiplied by the current loss scale; in mx.sym a warning that
    symbolic and hybridized execution cannot follow a dynamic scale."""
    for name in names:
        func = getattr(module, name, None)
        if func is None:
            continue

        if module is ndarray:
            @functools.wraps(func)
            def scaled(*args, _func=func, **kwargs):
                kwargs["grad_scale"] = kwargs.get("grad_scale", 1.0) * scaler.loss_scale
                return _func(*args, **kwargs)
        else:
            @functools.wraps(func)
            def scaled(*args, _func=func, **kwargs):
                logging.warning("%s does not support dynamic loss scaling in symbolic and hybridized execution.",
                                _func.__name__)
                return _func(*args, **kwargs)
        setattr(module, name, scaled)


def init(target_dtype="float16", target_precision_ops=None, conditional_fp32_ops=None, fp32_ops=None):
    """Turn AMP on for this process: from now on mx.nd and mx.sym operator functions (so Gluon layers too)
    cast their inputs as the lists say. Call it before building the model; a second call does nothing."""
    if _state["initialized"]:
        logging.warning("AMP is already initialized; amp.init() does nothing the second time")
        return
    policy = _Policy(target_dtype, target_precision_ops, fp32_ops, conditional_fp32_ops)
    wanted = policy.lp16 | policy.fp32 | set(policy.conditional) | policy.widest
    scaler = LossScaler()
    for module in (ndarray, symbol):
        for name in sorted(wanted):
            _wrap(module, name, policy)
        _wrap_loss_outputs(module, list_loss_output_functions(target_dtype), scaler)
    _state.update(initialized=True, loss_scaler=scaler)


# --- dynamic loss scaling --------------------------------------------------------------------------------
def _trainer_only(optimizer_or_trainer):
    if isinstance(optimizer_or_trainer, Optimizer):
        raise TypeError("AMP is currently only compatible with Gluon Trainer")
    if not isinstance(optimizer_or_trainer, Trainer):
        raise TypeError("optimizer_or_trainer should be a Gluon Trainer or an optimizer, instead is "
                        f"{type(optimizer_or_trainer)}")


def init_trainer(optimizer_or_trainer):
    """Give a gluon.Trainer a LossScaler: its steps then skip updates whose gradients overflowed."""
    if not _state["initialized"]:
        raise AssertionError("AMP not initialized, did you forget to call amp.init()?")
    _trainer_only(optimizer_or_trainer)
    # the first trainer shares the scale the loss outputs use; later ones get scalers of their own
    scaler = _state["loss_scaler"] if not _state["scaler_given"] else LossScaler()
    _state["scaler_given"] = True
    optimizer_or_trainer._amp_loss_scaler = scaler
    optimizer_or_trainer._amp_original_scale = optimizer_or_trainer._scale


@contextlib.contextmanager
def scale_loss(loss, optimizer_or_trainer):
    """`with scale_loss(loss, trainer) as scaled: scaled.backward()`: the loss (or each loss of a list) times
    the loss scale; the trainer divides the gradients back by it."""
    scaler = getattr(optimizer_or_trainer, "_amp_loss_scaler", None)
    if scaler is None:
        raise AssertionError("Loss scaler is not initialized, did you forget to call amp.init_trainer()?")
    optimizer_or_trainer._scale = optimizer_or_trainer._amp_original_scale / scaler.loss_scale
    if isinstance(loss, (list, tuple)):
        yield [item * scaler.loss_scale for item in loss]
    else:
        yield scaler.loss_scale * loss


def unscale(optimizer_or_trainer):
    """Divide the trainer's gradients by the loss scale now (e.g. before clipping them)."""
    _trainer_only(optimizer_or_trainer)
    for param in optimizer_or_trainer._params:
        if param._grad is not None:
            for grad in param._grad:
                grad[:] *= optimizer_or_trainer._scale
    optimizer_or_trainer._scale = 1.0


# --- graph conversion --------------------------------------------------------------------------------------
def convert_symbol(sym, target_dtype="float16", target_dtype_ops=None, fp32_ops=None, conditional_fp32_ops=None,
                   excluded_sym_names=None, data_names=None, cast_optional_params=False):
    """A copy of `sym` with amp_cast nodes before the arguments of the operators run in target_dtype or
    float32 and amp_multicast before those run in their widest input type; operators named in
    excluded_sym_names keep their inputs. Each value is cast once per type. Variables not in data_names
    (when given) are marked float32 ('__dtype__'), as MXNet marks them, so types infer from the data alone.
    cast_optional_params=True is not supported yet."""
    if not isinstance(sym, Symbol):
        raise AssertionError("First argument to convert_symbol should be Symbol")
    if cast_optional_params:
        raise MXNetError("convert_symbol: cast_optional_params=True is not supported by mxcy yet")
    policy = _Policy(target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops, excluded_sym_names)
    amp_cast, amp_multicast = registry_op("amp_cast"), registry_op("amp_multicast")
    new, casts = {}, {}

    def cast(entry, dtype):
        key = (entry[0], entry[1], dtype)
        if key not in casts:
            source = entry[0].name if entry[1] == 0 else f"{entry[0].name}{entry[1]}"
            casts[key] = (Node(amp_cast, f"{source}_amp_cast_{dtype}", {"dtype": dtype}, [entry]), 0)
        return casts[key]

    for node in topo_order(sym._outputs):
        inputs = [(new[n], i) for n, i in node.inputs]
        if node.op is not None and node.name not in policy.excluded:
            args = node.argument_inputs()
            kind = policy.kind(_op_names(node.op), node.attrs)
            if kind in ("lp16", "fp32"):
                dtype = target_dtype if kind == "lp16" else "float32"
                for k in args:
                    inputs[k] = cast(inputs[k], dtype)
            elif kind == "widest" and len(args) > 1:
                multicast = Node(amp_multicast, f"{node.name}_amp_multicast", {"num_outputs": str(len(args))},
                                 [inputs[k] for k in args])
                for n, k in enumerate(args):
                    inputs[k] = (multicast, n)
        attrs = dict(node.attrs)
        if node.op is None and data_names is not None and node.name not in data_names:
            attrs.setdefault("__dtype__", str(DTYPE_TO_FLAG[np.dtype(np.float32)]))
        new[node] = Node(node.op, node.name, attrs, inputs, params=node.params)
    return Symbol([(new[n], i) for n, i in sym._outputs])


def convert_model(sym, arg_params, aux_params, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                  conditional_fp32_ops=None, excluded_sym_names=None, cast_optional_params=False):
    """(convert_symbol(sym, ...), the arg_params and aux_params the converted symbol uses); the parameters stay
    float32, the graph casts them."""
    converted = convert_symbol(sym, target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops,
                               excluded_sym_names, cast_optional_params=cast_optional_params)
    args, auxs = set(converted.list_arguments()), set(converted.list_auxiliary_states())
    return (converted, {k: v for k, v in arg_params.items() if k in args},
            {k: v for k, v in aux_params.items() if k in auxs})


def convert_hybrid_block(block, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                         conditional_fp32_ops=None, excluded_sym_names=None, ctx=gpu(0), cast_optional_params=False):
    """A SymbolBlock running `block`'s converted graph with a copy of its parameters on `ctx`. The block must be
    hybridized and have run forward once (its graph is traced then)."""
    if not isinstance(block, HybridBlock):
        raise ValueError("convert_hybrid_block: block must be a HybridBlock")
    if not block._cached_graph:
        raise RuntimeError("Please first call block.hybridize() and then run forward with this block at least "
                           "once before calling convert_hybrid_block.")
    inputs, sym = block._cached_graph
    converted = convert_symbol(sym, target_dtype, target_dtype_ops, fp32_ops, conditional_fp32_ops,
                               excluded_sym_names, data_names=[i.name for i in inputs],
                               cast_optional_params=cast_optional_params)
    values = {}
    for param in block.collect_params().values():
        values[param.name] = param.data(param.list_ctx()[0]).copy()
    converted_block = SymbolBlock(converted, inputs)
    converted_block.collect_params().load_dict(values, ctx=ctx, ignore_extra=True)
    return converted_block
