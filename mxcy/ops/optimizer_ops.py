"""Optimizer update operators (sgd_update, adam_update, ...): MXNet 1.9.1's names, arguments and rules, on the
kernels in mxcy/kernels/optimizer.py. Each writes the new weight to its output and its state inputs in place."""
import math

import numpy as np

from . import registry
from ._nn_common import kernels
from .registry import REQUIRED, OpDef, Param

_F32 = np.dtype(np.float32)


def _float(name, default, doc=""):
    return Param(name, "float", default, doc)


_LR = _float("lr", REQUIRED, "learning rate")
_WD = _float("wd", 0.0, "weight decay: adds wd * weight to the gradient")
_RESCALE = _float("rescale_grad", 1.0, "gradient is multiplied by this first")
_CLIP = _float("clip_gradient", -1.0, "gradient clipped to [-clip_gradient, clip_gradient]; < 0 turns it off")
_LAZY = Param("lazy_update", "bool", True, "for row_sparse gradients, update only the rows present (dense here)")
_MOMENTUM = _float("momentum", 0.0, "momentum")
_CLIP_WEIGHTS = _float("clip_weights", -1.0, "weights clipped to [-clip_weights, clip_weights]; < 0 turns it off")

_SGD = (_LR, _WD, _RESCALE, _CLIP, _LAZY)
_SGD_MOM = (_LR, _MOMENTUM, _WD, _RESCALE, _CLIP, _LAZY)
_NAG_MOM = (_LR, _MOMENTUM, _WD, _RESCALE, _CLIP)


def _host_array(a, dtype=None):
    """(flat C-contiguous array a kernel may read and write, whether it is a copy to write back). float16 runs in
    float32 (numba's CPU code has no half arithmetic), as MXNet computes half updates in float."""
    want = _F32 if a.dtype == np.float16 else a.dtype if dtype is None else dtype
    if a.dtype == want and a.flags.c_contiguous:
        return a.reshape(a.size), False
    return np.ascontiguousarray(a, dtype=want).reshape(a.size), True


def _update_compute(kernel_name, n_states, scalars, multi_precision=False):
    """CPU compute calling kernels.optimizer.<kernel_name>(weight, grad, *states, [master,] out, *scalars, req).

    `scalars(attrs) -> tuple of numbers` in the kernel's order. multi_precision: the input after the states is
    the float32 master weight (read as the weight, rewritten) and the kernel takes a `master` array; for the
    others the kernels that take one get an empty array."""
    def compute(attrs, inputs, outputs, reqs):
        kernel = getattr(kernels("optimizer"), kernel_name)
        weight, _ = _host_array(inputs[0])
        grad, _ = _host_array(inputs[1])
        written = list(inputs[2:2 + n_states + multi_precision]) + [outputs[0]]
        work = [_host_array(a) for a in written]
        arrays = [w for w, _ in work]
        if multi_precision:
            weight = arrays[n_states]  # kernels read the master; the half weight is not read
        elif kernel_name in _TAKES_MASTER:
            arrays.insert(n_states, np.empty(0, weight.dtype))
        kernel(weight, grad, *arrays, *(float(s) for s in scalars(attrs)), reqs[0])
        for original, (flat, copied) in zip(written, work):
            if copied:
                np.copyto(original, flat.reshape(original.shape), casting="unsafe")
    compute.__name__ = kernel_name
    return compute


_TAKES_MASTER = {"sgd_update_cpu", "sgd_mom_update_cpu", "nag_mom_update_cpu", "adamw_update_cpu"}


def _same_shapes(n_inputs):
    """Every array input has the weight's shape (unknown ones are filled in); trailing scalar inputs are (1,)."""
    def infer_shape(attrs, shapes):
        known = next((s for s in shapes[:n_inputs] if s is not None), None)
        for i, s in enumerate(shapes[:n_inputs]):
            if s is not None and known is not None and tuple(s) != tuple(known):
                raise ValueError(f"input {i} has shape {tuple(s)}, the weight's is {tuple(known)}: "
                                 "weight, gradient and states must share one shape")
        rest = list(shapes[n_inputs:])
        for i, s in enumerate(rest):
            if s is not None and int(np.prod(s)) != 1:
                raise ValueError(f"input {n_inputs + i} must hold one value, got shape {tuple(s)}")
        return [known] * n_inputs + [(1,)] * len(rest), [known]
    return infer_shape


def _update_types(n_inputs, n_float32=0):
    """weight and gradient (and, without multi-precision, the states) share the weight's float type; the last
    n_float32 array inputs (multi-precision states and master) are float32. The output is the weight's type."""
    def infer_type(attrs, types):
        shared = types[:n_inputs - n_float32]
        known = next((t for t in shared if t is not None), None)
        for i, t in enumerate(shared):
            if t is not None and np.dtype(t) != np.dtype(known):
                raise ValueError(f"input {i} is {np.dtype(t).name}, the weight is {np.dtype(known).name}")
        if known is not None and np.dtype(known).kind != "f":
            raise ValueError(f"weights must be floating point, got {np.dtype(known).name}")
        for i in range(n_inputs - n_float32, n_inputs):
            if types[i] is not None and np.dtype(types[i]) != _F32:
                raise ValueError(f"input {i} (a multi-precision state) must be float32, got "
                                 f"{np.dtype(types[i]).name}")
        scalar_types = [t if t is not None else _F32 for t in types[n_inputs:]]
        return [known] * (n_inputs - n_float32) + [_F32] * n_float32 + scalar_types, known
    return infer_type


def _register(name, arguments, params, kernel_name, scalars, doc, multi_precision=False, aliases=()):
    n_states = len(arguments) - 2 - multi_precision
    registry.register(OpDef(
        name, params=params, arguments=arguments, aliases=aliases,
        infer_shape=_same_shapes(len(arguments)),
        infer_type=_update_types(len(arguments), (n_states + 1) if multi_precision else 0),
        compute={"cpu": _update_compute(kernel_name, n_states, scalars, multi_precision)},
        mutate_inputs=tuple(range(2, len(arguments))), doc=doc))


def _sgd_scalars(a):
    return a["lr"], a["wd"], a["rescale_grad"], a["clip_gradient"]


def _mom_scalars(a):
    return a["lr"], a["momentum"], a["wd"], a["rescale_grad"], a["clip_gradient"]


_WG = ("weight", "grad")
_register("sgd_update", _WG, _SGD, "sgd_update_cpu", _sgd_scalars,
          "SGD: weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad, clip_gradient).")
_register("sgd_mom_update", _WG + ("mom",), _SGD_MOM, "sgd_mom_update_cpu", _mom_scalars,
          "SGD with momentum: mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad); weight += mom. "
          "mom is updated in place.")
_register("mp_sgd_update", _WG + ("weight32",), _SGD, "sgd_update_cpu", _sgd_scalars,
          "sgd_update on the float32 master weight32 (updated in place); the output is its value in weight's type.",
          multi_precision=True)
_register("mp_sgd_mom_update", _WG + ("mom", "weight32"), _SGD_MOM, "sgd_mom_update_cpu", _mom_scalars,
          "sgd_mom_update on the float32 master weight32 with float32 mom (both updated in place).",
          multi_precision=True)
_register("nag_mom_update", _WG + ("mom",), _NAG_MOM, "nag_mom_update_cpu", _mom_scalars,
          "Nesterov momentum: g = clip(rescale_grad*grad) + wd*weight; mom = momentum*mom; "
          "weight += -mom + (momentum+1)*(mom - lr*g); mom -= lr*g (in place).")
_register("mp_nag_mom_update", _WG + ("mom", "weight32"), _NAG_MOM, "nag_mom_update_cpu", _mom_scalars,
          "nag_mom_update on the float32 master weight32 with float32 mom (both updated in place).",
          multi_precision=True)

_register(
    "adam_update", _WG + ("mean", "var"),
    (_LR, _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP, _LAZY),
    "adam_update_cpu",
    lambda a: (a["lr"], a["beta1"], a["beta2"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"]),
    "Adam without bias correction (the optimizer folds it into lr): g = clip(rescale_grad*grad + wd*weight); "
    "mean = beta1*mean + (1-beta1)*g; var = beta2*var + (1-beta2)*g^2; weight -= lr*mean/(sqrt(var) + epsilon).")

_register(
    "rmsprop_update", _WG + ("n",),
    (_LR, _float("gamma1", 0.95), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP, _CLIP_WEIGHTS),
    "rmsprop_update_cpu",
    lambda a: (a["lr"], a["gamma1"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"],
               a["clip_weights"]),
    "RMSProp (Tieleman & Hinton): g = clip(rescale_grad*grad + wd*weight); n = (1-gamma1)*g^2 + gamma1*n; "
    "weight = clip(weight - lr*g/sqrt(n + epsilon), clip_weights).")

_register(
    "rmspropalex_update", _WG + ("n", "g", "delta"),
    (_LR, _float("gamma1", 0.95), _float("gamma2", 0.9), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP,
     _CLIP_WEIGHTS),
    "rmspropalex_update_cpu",
    lambda a: (a["lr"], a["gamma1"], a["gamma2"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"],
               a["clip_weights"]),
    "Centered RMSProp (Graves 2013): n, g are moving averages of grad^2 and grad; "
    "delta = gamma2*delta - lr*grad/sqrt(n - g^2 + epsilon); weight = clip(weight + delta, clip_weights).")

_register(
    "ftrl_update", _WG + ("z", "n"),
    (_LR, _float("lamda1", 0.01), _float("beta", 1.0), _WD, _RESCALE, _CLIP),
    "ftrl_update_cpu",
    lambda a: (a["lr"], a["lamda1"], a["beta"], a["wd"], a["rescale_grad"], a["clip_gradient"]),
    "FTRL-proximal: z += g - (sqrt(n + g^2) - sqrt(n))*weight/lr; n += g^2; "
    "weight = (sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0.")

_register(
    "ftml_update", _WG + ("d", "v", "z"),
    (_LR, _float("beta1", 0.6), _float("beta2", 0.999), _float("epsilon", 1e-8), Param("t", "int", REQUIRED,
     "number of update steps so far, this one included"), _WD, _RESCALE,
     _float("clip_grad", -1.0, "gradient clipped to [-clip_grad, clip_grad]; < 0 turns it off")),
    "ftml_update_cpu",
    lambda a: (a["lr"], a["beta1"], a["beta2"], a["epsilon"], a["t"], a["wd"], a["rescale_grad"], a["clip_grad"]),
    "FTML (Zheng & Kwok 2017): d, v and z are updated in place; weight = -z/d.")

_register(
    "signsgd_update", _WG, (_LR, _WD, _RESCALE, _CLIP), "signsgd_update_cpu",
    lambda a: (a["lr"], a["wd"]),
    "signSGD: weight = (1 - lr*wd)*weight - lr*sign(grad); rescale_grad and clip_gradient have no effect.")

_register(
    "signum_update", _WG + ("mom",),
    (_LR, _MOMENTUM, _WD, _RESCALE, _CLIP, _float("wd_lh", 0.0, "decoupled weight decay (Loshchilov & Hutter)")),
    "signum_update_cpu",
    lambda a: (a["lr"], a["momentum"], a["wd"], a["rescale_grad"], a["clip_gradient"], a["wd_lh"]),
    "Signum: mom = momentum*mom - (1-momentum)*(wd*weight + clip(rescale_grad*grad)); "
    "weight = (1 - lr*wd_lh)*weight + lr*sign(mom).")


_register(
    "lamb_update_phase1", _WG + ("mean", "var"),
    (_float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-6),
     Param("t", "int", REQUIRED, "number of update steps so far, this one included"),
     Param("bias_correction", "bool", True, "divide mean and var by 1-beta1^t and 1-beta2^t"),
     _float("wd", REQUIRED, "weight decay: adds wd * weight to the step"), _RESCALE, _CLIP),
    "lamb_update_phase1_cpu",
    lambda a: (a["beta1"], a["beta2"], a["epsilon"], a["t"], a["bias_correction"], a["wd"], a["rescale_grad"],
               a["clip_gradient"]),
    "LAMB phase 1 (You et al. 2019): g = clip(rescale_grad*grad); mean, var = moving g, g^2 (in place); "
    "returns mean_hat/(sqrt(var_hat) + epsilon) + wd*weight, hats bias-corrected when bias_correction.")


def _lamb_phase2_compute():
    """r1 and r2 (the norms of weight and g, one-element arrays) are read on the host, as AdamW's rescale_grad."""
    update = _update_compute(
        "lamb_update_phase2_cpu", 0,
        lambda a: (a["lr"], a["__r1__"], a["__r2__"], a["lower_bound"], a["upper_bound"]))

    def compute(attrs, inputs, outputs, reqs):
        r1, r2 = (float(np.asarray(r).reshape(-1)[0]) for r in inputs[2:4])
        update(dict(attrs, __r1__=r1, __r2__=r2), inputs[:2], outputs, reqs)
    return compute


registry.register(OpDef(
    "lamb_update_phase2", arguments=("weight", "g", "r1", "r2"),
    params=(_LR, _float("lower_bound", -1.0, "lower limit of r1; < 0 turns it off"),
            _float("upper_bound", -1.0, "upper limit of r1; < 0 turns it off")),
    infer_shape=_same_shapes(2), infer_type=_update_types(2), compute={"cpu": _lamb_phase2_compute()},
    doc="LAMB phase 2: weight - lr*(r1/r2)*g, r1 (the weight's norm) limited to [lower_bound, upper_bound], r2 the "
        "norm of g; the ratio is 1 when either norm is 0."))


# AdamW takes rescale_grad as a one-element array input (a loss scaler can change it without a new graph) and
# skips the update, leaving output and states as they are, when it is NaN, infinite or 0.
_ADAMW = (_LR, _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-8), _WD,
          _float("eta", REQUIRED, "learning-rate schedule multiplier"), _CLIP)


def _adamw_compute(multi_precision):
    update = _update_compute(
        "adamw_update_cpu", 2, lambda a: (a["lr"], a["beta1"], a["beta2"], a["epsilon"], a["wd"], a["eta"],
                                          a["__rescale__"], a["clip_gradient"]), multi_precision)

    def compute(attrs, inputs, outputs, reqs):
        rescale = float(np.asarray(inputs[-1]).reshape(-1)[0])
        if math.isfinite(rescale) and rescale != 0.0:
            update(dict(attrs, __rescale__=rescale), inputs[:-1], outputs, reqs)
    return compute


def _register_adamw(name, arguments, multi_precision, doc):
    n = len(arguments) - 1
    registry.register(OpDef(
        name, params=_ADAMW, arguments=arguments, aliases=("_contrib" + name,),
        infer_shape=_same_shapes(n), infer_type=_update_types(n, 3 if multi_precision else 0),
        compute={"cpu": _adamw_compute(multi_precision)},
        mutate_inputs=tuple(range(2, n)), doc=doc))


_register_adamw(
    "_adamw_update", _WG + ("mean", "var", "rescale_grad"), False,
    "AdamW (decoupled weight decay): g = clip(rescale_grad*grad); mean, var as Adam; "
    "weight -= eta*(lr*mean/(sqrt(var) + epsilon) + wd*weight). Skipped when rescale_grad is NaN, inf or 0.")
_register_adamw(
    "_mp_adamw_update", _WG + ("mean", "var", "weight32", "rescale_grad"), True,
    "_adamw_update on the float32 master weight32 with float32 mean and var (all updated in place).")


# multi_*sgd*_update: num_weights weights in one op and one kernel call. Inputs come in groups per weight
# (weight, grad[, mom][, weight32]); the outputs are the new weights; moms and float32 masters are written in place.
def _multi_names(group):
    def names(attrs):
        return [f"{n}_{i}" for i in range(attrs["num_weights"]) for n in group]
    return names


def _multi_check(attrs, n_inputs, stride):
    n = attrs["num_weights"]
    if n < 1 or n_inputs != n * stride:
        raise ValueError(f"num_weights={n} needs {n * stride} inputs ({stride} per weight), got {n_inputs}")
    for what in ("lrs", "wds"):
        if len(attrs[what]) != n:
            raise ValueError(f"Number of {'learning rates' if what == 'lrs' else 'weight decays'} is inconsistent "
                             f"with num_weights: expected {n}, got {len(attrs[what])}")
    return n


def _multi_shape(stride):
    group_shape = _same_shapes(stride)

    def infer_shape(attrs, shapes):
        n = _multi_check(attrs, len(shapes), stride)
        ins, outs = [], []
        for k in range(n):
            try:
                i, o = group_shape(attrs, shapes[k * stride:(k + 1) * stride])
            except ValueError as err:
                raise ValueError(f"weight {k}: {err}") from None
            ins += i
            outs += o
        return ins, outs
    return infer_shape


def _multi_type(stride, n_float32):
    group_type = _update_types(stride, n_float32)

    def infer_type(attrs, types):
        n = _multi_check(attrs, len(types), stride)
        ins, outs = [], []
        for k in range(n):
            try:
                i, o = group_type(attrs, types[k * stride:(k + 1) * stride])
            except ValueError as err:
                raise ValueError(f"weight {k}: {err}") from None
            ins += i
            outs.append(o)
        return ins, outs
    return infer_type


def _multi_compute(has_mom, multi_precision):
    stride = 2 + has_mom + multi_precision

    def compute(attrs, inputs, outputs, reqs):
        from numba.typed import List
        n = attrs["num_weights"]
        groups = [inputs[k * stride:(k + 1) * stride] for k in range(n)]
        work = [(a, _host_array(a)) for g in groups for a in g[2:]] + [(o, _host_array(o)) for o in outputs]
        flat = {id(a): f for a, (f, _) in work}
        weights = [_host_array(g[0])[0] for g in groups]
        empty = np.empty(0, weights[0].dtype if not multi_precision else _F32)
        moms = [flat[id(g[2])] if has_mom else empty for g in groups]
        masters = [flat[id(g[-1])] if multi_precision else np.empty(0, weights[0].dtype) for g in groups]
        if multi_precision:
            weights = masters  # the float32 masters are read as the weights
        kernels("optimizer").multi_sgd_cpu(
            List(weights), List(_host_array(g[1])[0] for g in groups), List(moms), List(masters),
            List(flat[id(o)] for o in outputs), np.asarray(attrs["lrs"], np.float64),
            np.asarray(attrs["wds"], np.float64), float(attrs.get("momentum", 0.0)),
            float(attrs["rescale_grad"]), float(attrs["clip_gradient"]), reqs[0])
        for original, (f, copied) in work:
            if copied:
                np.copyto(original, f.reshape(original.shape), casting="unsafe")
    compute.__name__ = f"multi_{'mp_' * multi_precision}sgd{'_mom' * has_mom}_update"
    return compute


_MULTI = (Param("lrs", "floats", REQUIRED, "learning rates, one per weight"),
          Param("wds", "floats", REQUIRED, "weight decays, one per weight"))
_MULTI_TAIL = (_RESCALE, _CLIP, Param("num_weights", "int", 1, "number of weights updated"))


def _register_multi(has_mom, multi_precision, doc):
    group = ("weight", "grad") + ("mom",) * has_mom + ("weight32",) * multi_precision
    stride = len(group)
    params = _MULTI + ((_MOMENTUM,) if has_mom else ()) + _MULTI_TAIL
    registry.register(OpDef(
        f"multi_{'mp_' * multi_precision}sgd{'_mom' * has_mom}_update", params=params,
        arguments=_multi_names(group), key_var_num_args="num_weights",
        num_outputs=lambda attrs: attrs["num_weights"],
        infer_shape=_multi_shape(stride), infer_type=_multi_type(stride, (has_mom + 1) if multi_precision else 0),
        compute={"cpu": _multi_compute(has_mom, multi_precision)},
        mutate_inputs=lambda attrs: [k * stride + j for k in range(attrs["num_weights"]) for j in range(2, stride)],
        doc=doc))


_register_multi(False, False, "sgd_update on num_weights weights at once (inputs weight_i, grad_i; lrs and wds "
                              "per weight); the outputs are the new weights.")
_register_multi(True, False, "sgd_mom_update on num_weights weights at once (inputs weight_i, grad_i, mom_i); "
                             "the moms are updated in place.")
_register_multi(False, True, "mp_sgd_update on num_weights weights at once (inputs weight_i, grad_i, weight32_i); "
                             "the float32 masters are updated in place.")
_register_multi(True, True, "mp_sgd_mom_update on num_weights weights at once (inputs weight_i, grad_i, mom_i, "
                            "weight32_i); moms and masters are updated in place.")
