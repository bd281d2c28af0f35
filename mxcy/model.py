"""mx.model: checkpoints in MXNet's files (`prefix-symbol.json`, `prefix-%04d.params` with 'arg:'/'aux:' keys),
BatchEndParam, and the parameter-update helpers the Module API shares (a KVStore or a local Updater)."""
import logging
from collections import namedtuple

from . import ndarray as nd
from . import symbol as sym
from .base import MXNetError
from .callback import LogValidationMetricsCallback  # noqa: F401 - MXNet exports it from here too
from .context import Context, cpu  # noqa: F401
from .initializer import Uniform  # noqa: F401
from .io import DataDesc  # noqa: F401
from .kvstore.choice import create_kvstore as _create_kvstore  # noqa: F401 - Module's store choice
from .optimizer import get_updater  # noqa: F401

__all__ = ["BatchEndParam", "save_checkpoint", "load_checkpoint", "load_params", "FeedForward"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def _initialize_kvstore(kvstore, param_arrays, arg_params, param_names, update_on_kvstore):
    """Put every parameter into the store (and, when the store updates, its value onto every device)."""
    for name, on_devices in zip(param_names, param_arrays):
        if not update_on_kvstore or arg_params[name].stype != "default":
            kvstore.init(name, arg_params[name])
        else:
            kvstore.broadcast(name, arg_params[name], out=on_devices)


def _update_params_on_kvstore(param_arrays, grad_arrays, kvstore, param_names):
    """The store sums each parameter's gradients over devices, updates, and hands the weights back."""
    for index, (weights, grads) in enumerate(zip(param_arrays, grad_arrays)):
        if grads[0] is None:
            continue
        name = param_names[index]
        if grads[0].stype == "default" and weights[0].stype == "default":
            kvstore.pushpull(name, grads, out=weights, priority=-index)
        else:
            kvstore.push(name, grads, priority=-index)
            kvstore.pull(name, out=weights, priority=-index)


def _update_params(param_arrays, grad_arrays, updater, num_device, kvstore=None, param_names=None):
    """Sum gradients over devices through the store (if any), then update every device's copy with `updater`;
    the copy of parameter i on device k has the optimizer index i * num_device + k, as in MXNet."""
    per_device = [[] for _ in range(num_device)]
    for index, (weights, grads) in enumerate(zip(param_arrays, grad_arrays)):
        if grads[0] is None:
            continue
        if kvstore:
            name = param_names[index]
            if grads[0].stype == "default" and weights[0].stype == "default":
                kvstore.pushpull(name, grads, priority=-index)
            else:
                kvstore.push(name, grads, priority=-index)
                kvstore.pull(name, out=grads, priority=-index)
        for k, (w, g) in enumerate(zip(weights, grads)):
            per_device[k].append((index * num_device + k, g, w))
    for updates in per_device:
        if updates:
            indices, grads, weights = zip(*updates)
            updater(list(indices), list(grads), list(weights))


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Write `prefix-symbol.json` (unless symbol is None) and `prefix-%04d.params` (epoch) in MXNet's formats."""
    if symbol is not None:
        symbol.save(f"{prefix}-symbol.json", remove_amp_cast=remove_amp_cast)
    arrays = {f"arg:{k}": v.as_in_context(cpu()) for k, v in arg_params.items()}
    arrays.update({f"aux:{k}": v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)
    nd.save(param_name, arrays)
    logging.info('Saved checkpoint to "%s"', param_name)


def _split_params(saved, fname):
    """(arg_params, aux_params) from a dict with 'arg:'/'aux:' keys; other keys are an error naming the file."""
    arg_params, aux_params = {}, {}
    for key, value in saved.items():
        kind, sep, name = key.partition(":")
        if not sep or kind not in ("arg", "aux"):
            raise MXNetError(f"{fname}: key {key!r} is neither 'arg:<name>' nor 'aux:<name>'; not a parameter file")
        (arg_params if kind == "arg" else aux_params)[name] = value
    return arg_params, aux_params


def load_params(prefix, epoch):
    """(arg_params, aux_params) from `prefix-%04d.params`."""
    fname = "%s-%04d.params" % (prefix, epoch)
    saved = nd.load(fname)
    if not saved:
        logging.warning("Params file '%s' is empty", fname)
        return {}, {}
    if not isinstance(saved, dict):
        raise MXNetError(f"{fname}: the arrays have no names; not a parameter file")
    return _split_params(saved, fname)


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) from `prefix-symbol.json` and `prefix-%04d.params`."""
    symbol = sym.load(f"{prefix}-symbol.json")
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params


# The classes built on the Module API, which imports this module's helpers first.
from .executor_manager import DataParallelExecutorManager  # noqa: E402,F401
from .feedforward import FeedForward  # noqa: E402,F401
