"""Contrib batch normalizations built on BatchNorm's record: `_contrib_BatchNormWithReLU` (BatchNorm then ReLU, as
Gluon's BatchNormReLU calls it) and `_contrib_SyncBatchNorm` (Gluon's SyncBatchNorm; channel axis 1)."""
from . import registry
from ._nn_common import scratch
from .nn_norm import _BN_PARAMS, _STAT_NAMES, _bn_gradient, _bn_infer, _mean_var_visible, _norm_type
from .registry import REQUIRED, OpDef, Param
from ..kernels.common import REQ_ADD, REQ_WRITE

_BN_NAMES = tuple(p.name for p in _BN_PARAMS)


def _variant_compute(as_batch_norm, relu):
    """{"cpu", "gpu"} computes running BatchNorm's compute on attrs `as_batch_norm(attrs)`, then ReLU over
    output 0 when `relu` (Activation's compute in place; through a temporary when output 0 accumulates)."""
    bn_op, act_op = registry.get("BatchNorm"), registry.get("Activation")
    relu_attrs = act_op.parse_attrs({"act_type": "relu"})

    def make(device):
        bn, act = bn_op.compute[device], act_op.compute[device]

        def compute(attrs, inputs, outputs, reqs):
            bn_attrs = as_batch_norm(attrs)
            if not relu:
                return bn(bn_attrs, inputs, outputs, reqs)
            out = outputs[0]
            normed = scratch(out, out.dtype) if reqs[0] == REQ_ADD else out
            bn(bn_attrs, inputs, [normed] + list(outputs[1:]), [REQ_WRITE] + list(reqs[1:]))
            act(relu_attrs, [normed], [out], [reqs[0]])
        return compute

    return {"cpu": make("cpu"), "gpu": make("gpu")}


def _variant_gradient(as_batch_norm, relu):
    """BatchNorm's gradient on `as_batch_norm(attrs)`, through ReLU's mask (output 0 > 0) first when `relu`."""
    def gradient(F, attrs, inputs, outputs, ograds):
        heads = list(ograds)
        if relu:
            heads[0] = F._backward_Activation(ograds[0], outputs[0], outputs[0], act_type="relu")
        bn_attrs = {k: v for k, v in as_batch_norm(attrs).items() if k in _BN_NAMES}
        return _bn_gradient(F, bn_attrs, inputs, outputs, heads)
    return gradient


def _register_variant(name, params, as_batch_norm, relu, grad_outputs, doc):
    registry.register(OpDef(
        name, params=params, arguments=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
        infer_shape=lambda attrs, shapes: _bn_infer(as_batch_norm(attrs), shapes),
        infer_type=_norm_type(3, _STAT_NAMES, wide_params=True),
        compute=_variant_compute(as_batch_norm, relu), gradient=_variant_gradient(as_batch_norm, relu),
        grad_reads=((0, 1), grad_outputs), num_outputs=3, output_names=("output", "mean", "var"),
        visible_outputs=_mean_var_visible, mutate_inputs=(1,), train_aware=True,
        input_var_attrs={"moving_mean": {"__init__": '["zero", {}]'}, "moving_var": {"__init__": '["one", {}]'}},
        doc=doc))


_register_variant(
    "_contrib_BatchNormWithReLU", _BN_PARAMS, lambda attrs: attrs, True, (0, 1, 2),
    "BatchNorm followed by ReLU: max(BatchNorm(data, gamma, beta, moving_mean, moving_var), 0), with BatchNorm's "
    "parameters, outputs and moving-statistics updates. MXNet 1.9.1 runs it only on oneDNN builds; here it runs "
    "on every device. The gradient passes the head gradient where the output is positive.")


def _sync_as_batch_norm(attrs):
    if attrs["ndev"] != 1:
        raise ValueError(f"ndev={attrs['ndev']} (key {attrs['key']!r}) is not supported: "
                         "statistics are taken over one device's batch only; use ndev=1 (num_devices=1)")
    return dict(attrs, axis=1)


_SYNC_PARAMS = tuple(p for p in _BN_PARAMS if p.name in
                     ("eps", "momentum", "fix_gamma", "use_global_stats", "output_mean_var")) + (
    Param("ndev", "int", 1, "number of devices whose batches share the statistics (only 1 is supported)"),
    Param("key", "str", REQUIRED, "the layer's synchronisation key"),
)

_register_variant(
    "_contrib_SyncBatchNorm", _SYNC_PARAMS, _sync_as_batch_norm, False, (1, 2),
    "Synchronized BatchNorm over channel axis 1. With ndev=1 (the only count supported) it is BatchNorm(axis=1); "
    "its saved third output is BatchNorm's 1/sqrt(var + eps), where MXNet's holds the variance, and the moving "
    "statistics are updated by the training forward, where MXNet updates them in backward.")
