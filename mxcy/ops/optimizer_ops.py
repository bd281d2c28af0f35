"""Optimizer update operators (sgd_update, adam_update, ...): MXNet 1.9.1's names, arguments and rules, on the
kernels in mxcy/kernels/optimizer.py. Each writes the new weight to its output and its state inputs in place."""
import math

import numpy as np

from . import registry
from ..kernels.common import REQ_WRITE
from ._nn_common import cast, contiguous, flat, host, kernels, put, scratch, widen
from .registry import REQUIRED, OpDef, Param

_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)


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


def _kernels():
    return kernels("optimizer")


def _work(a):
    """(flat C-contiguous array of `a` a kernel may read and write, on a's device; whether it is a copy to write
    back). float16 runs in float32 (numba's CPU code has no half arithmetic), as MXNet computes half updates in
    float."""
    if a.dtype != _F16 and contiguous(a):  # widen() keeps every other type
        return a.reshape(a.size), False
    want = widen(a.dtype)
    return flat(np.ascontiguousarray(a, want) if host(a) else cast(a, want)), True


def _write_back(originals, work):
    for original, (f, copied) in zip(originals, work):
        if copied:
            put(original, f.reshape(original.shape), REQ_WRITE)


_HOST_EMPTY = {}  # dtype -> a zero-size host array; one serves every call, since nothing can write to it


def _empty(like):
    """A zero-size array of like's type on its device: a kernel's stand-in for an absent state or master."""
    if not host(like):
        return scratch(like, like.dtype, (0,))
    empty = _HOST_EMPTY.get(like.dtype)
    if empty is None:
        empty = _HOST_EMPTY[like.dtype] = np.empty(0, like.dtype)
    return empty


def _scalars(values):
    """The kernels' scalar tuple: `values` as float64s, padded to N_SCALARS."""
    values = tuple(float(v) for v in values)
    return values + (0.0,) * (_kernels().N_SCALARS - len(values))


def _host_value(a):
    """The one value of a one-element array, read on the host (a device array is copied back: a sync)."""
    return float((a if host(a) else a.copy_to_host()).reshape(-1)[0])


def _run(kind, weight, grad, states, master, out, p, req):
    """One update under the kernels' rule named `kind` (SGD, ADAM, ...) on out's device; `states` (up to 3) and
    `master` may be None."""
    k = _kernels()
    if weight.dtype == _F32:  # float32 arrays compute in float32, as MXNet's kernels do
        p = tuple(map(np.float32, p))
    empty = _empty(out)
    s = [empty if x is None else x for x in states] + [empty] * (3 - len(states))
    (k.update_cpu if host(out) else k.update_gpu)(
        getattr(k, kind), weight, grad, *s, empty if master is None else master, out, p, req)


def _update_group(kind, group, out, n_states, multi_precision, p, req):
    """Update one weight: group = (weight, grad, *states[, weight32]) as the op's inputs, out its new weight."""
    written = list(group[2:2 + n_states + multi_precision]) + [out]
    work = [_work(a) for a in written]
    arrays = [f for f, _ in work]
    master = arrays[n_states] if multi_precision else None
    weight = master if multi_precision else _work(group[0])[0]  # the half weight is not read
    if kind == "LAMB1":
        master = None  # phase 1 returns a step, not a weight: the master is only read
    _run(kind, weight, _work(group[1])[0], arrays[:n_states], master, arrays[-1], p, req)
    _write_back(written, work)


def _update_compute(kind, n_states, scalars, multi_precision=False):
    """The compute (either device) of a one-weight update under the kernels' rule named `kind`: inputs weight, grad, the
    n_states states[, the float32 master weight]; `scalars(attrs)` gives the rule's scalars in its order."""
    def compute(attrs, inputs, outputs, reqs):
        _update_group(kind, inputs, outputs[0], n_states, multi_precision, _scalars(scalars(attrs)), reqs[0])
    return compute


def _both(compute):
    """The same compute on both devices: it picks the CPU driver or the CUDA kernel by its arrays."""
    return {"cpu": compute, "gpu": compute}


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


def _update_types(n_inputs, n_float32=0, out_float32=False):
    """weight and gradient (and, without multi-precision, the states) share the weight's float type; the last
    n_float32 array inputs (multi-precision states and master) are float32. The output is the weight's type (float32
    with out_float32)."""
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
        return [known] * (n_inputs - n_float32) + [_F32] * n_float32 + scalar_types, _F32 if out_float32 else known
    return infer_type


def _register(name, arguments, params, kind, scalars, doc, multi_precision=False, aliases=(), out_float32=False):
    """A one-weight update op; out_float32: it returns a float32 step (mp_lamb_update_phase1), reading weight32."""
    n_states = len(arguments) - 2 - multi_precision
    registry.register(OpDef(
        name, params=params, arguments=arguments, aliases=aliases,
        infer_shape=_same_shapes(len(arguments)),
        infer_type=_update_types(len(arguments), (n_states + 1) if multi_precision else 0, out_float32),
        compute=_both(_update_compute(kind, n_states, scalars, multi_precision)),
        mutate_inputs=tuple(range(2, 2 + n_states + (multi_precision and not out_float32))), doc=doc))


def _sgd_scalars(a):
    return a["lr"], a["wd"], a["rescale_grad"], a["clip_gradient"]


def _mom_scalars(a):
    return a["lr"], a["momentum"], a["wd"], a["rescale_grad"], a["clip_gradient"]


_WG = ("weight", "grad")
_register("sgd_update", _WG, _SGD, "SGD", _sgd_scalars,
          "SGD: weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad, clip_gradient).",
          aliases=("_sparse_sgd_update",))
_register("sgd_mom_update", _WG + ("mom",), _SGD_MOM, "SGD_MOM", _mom_scalars,
          "SGD with momentum: mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad); weight += mom. "
          "mom is updated in place.", aliases=("_sparse_sgd_mom_update",))
_register("mp_sgd_update", _WG + ("weight32",), _SGD, "SGD", _sgd_scalars,
          "sgd_update on the float32 master weight32 (updated in place); the output is its value in weight's type.",
          multi_precision=True)
_register("mp_sgd_mom_update", _WG + ("mom", "weight32"), _SGD_MOM, "SGD_MOM", _mom_scalars,
          "sgd_mom_update on the float32 master weight32 with float32 mom (both updated in place).",
          multi_precision=True)
_register("nag_mom_update", _WG + ("mom",), _NAG_MOM, "NAG_MOM", _mom_scalars,
          "Nesterov momentum: g = clip(rescale_grad*grad) + wd*weight; mom = momentum*mom; "
          "weight += -mom + (momentum+1)*(mom - lr*g); mom -= lr*g (in place).")
_register("mp_nag_mom_update", _WG + ("mom", "weight32"), _NAG_MOM, "NAG_MOM", _mom_scalars,
          "nag_mom_update on the float32 master weight32 with float32 mom (both updated in place).",
          multi_precision=True)

_register(
    "adam_update", _WG + ("mean", "var"),
    (_LR, _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP, _LAZY),
    "ADAM",
    lambda a: (a["lr"], a["beta1"], a["beta2"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"]),
    "Adam without bias correction (the optimizer folds it into lr): g = clip(rescale_grad*grad + wd*weight); "
    "mean = beta1*mean + (1-beta1)*g; var = beta2*var + (1-beta2)*g^2; weight -= lr*mean/(sqrt(var) + epsilon).",
    aliases=("_sparse_adam_update",))

_register(
    "rmsprop_update", _WG + ("n",),
    (_LR, _float("gamma1", 0.95), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP, _CLIP_WEIGHTS),
    "RMSPROP",
    lambda a: (a["lr"], a["gamma1"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"],
               a["clip_weights"]),
    "RMSProp (Tieleman & Hinton): g = clip(rescale_grad*grad + wd*weight); n = (1-gamma1)*g^2 + gamma1*n; "
    "weight = clip(weight - lr*g/sqrt(n + epsilon), clip_weights).")

_register(
    "rmspropalex_update", _WG + ("n", "g", "delta"),
    (_LR, _float("gamma1", 0.95), _float("gamma2", 0.9), _float("epsilon", 1e-8), _WD, _RESCALE, _CLIP,
     _CLIP_WEIGHTS),
    "RMSPROPALEX",
    lambda a: (a["lr"], a["gamma1"], a["gamma2"], a["epsilon"], a["wd"], a["rescale_grad"], a["clip_gradient"],
               a["clip_weights"]),
    "Centered RMSProp (Graves 2013): n, g are moving averages of grad^2 and grad; "
    "delta = gamma2*delta - lr*grad/sqrt(n - g^2 + epsilon); weight = clip(weight + delta, clip_weights).")

_register(
    "ftrl_update", _WG + ("z", "n"),
    (_LR, _float("lamda1", 0.01), _float("beta", 1.0), _WD, _RESCALE, _CLIP),
    "FTRL",
    lambda a: (a["lr"], a["lamda1"], a["beta"], a["wd"], a["rescale_grad"], a["clip_gradient"]),
    "FTRL-proximal: z += g - (sqrt(n + g^2) - sqrt(n))*weight/lr; n += g^2; "
    "weight = (sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0.",
    aliases=("_sparse_ftrl_update",))

_register(
    "ftml_update", _WG + ("d", "v", "z"),
    (_LR, _float("beta1", 0.6), _float("beta2", 0.999), _float("epsilon", 1e-8), Param("t", "int", REQUIRED,
     "number of update steps so far, this one included"), _WD, _RESCALE,
     _float("clip_grad", -1.0, "gradient clipped to [-clip_grad, clip_grad]; < 0 turns it off")),
    "FTML",
    lambda a: (a["lr"], a["beta1"], a["beta2"], a["epsilon"], a["t"], a["wd"], a["rescale_grad"], a["clip_grad"]),
    "FTML (Zheng & Kwok 2017): d, v and z are updated in place; weight = -z/d.")

_register(
    "signsgd_update", _WG, (_LR, _WD, _RESCALE, _CLIP), "SIGNSGD",
    lambda a: (a["lr"], a["wd"]),
    "signSGD: weight = (1 - lr*wd)*weight - lr*sign(grad); rescale_grad and clip_gradient have no effect.")

_register(
    "signum_update", _WG + ("mom",),
    (_LR, _MOMENTUM, _WD, _RESCALE, _CLIP, _float("wd_lh", 0.0, "decoupled weight decay (Loshchilov & Hutter)")),
    "SIGNUM",
    lambda a: (a["lr"], a["momentum"], a["wd"], a["rescale_grad"], a["clip_gradient"], a["wd_lh"]),
    "Signum: mom = momentum*mom - (1-momentum)*(wd*weight + clip(rescale_grad*grad)); "
    "weight = (1 - lr*wd_lh)*weight + lr*sign(mom).")


# LAMB (You et al. 2019) in two phases: phase 1 updates mean and var and returns the step; the optimizer takes
# the norms r1 of the weight and r2 of the step; phase 2 moves the weight by lr * r1/r2 times the step.
_LAMB1 = (_float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-6),
          Param("t", "int", REQUIRED, "number of update steps so far, this one included"),
          Param("bias_correction", "bool", True, "divide mean and var by 1-beta1^t and 1-beta2^t"),
          _float("wd", REQUIRED, "weight decay: adds wd * weight to the step"), _RESCALE, _CLIP)


def _lamb1_scalars(beta1, beta2, epsilon, t, bias_correction, wd, rescale_grad, clip_gradient):
    """LAMB1's scalars: the bias corrections become the scales 1/(1-beta^t) (1 without correction)."""
    mean_scale = 1.0 / (1.0 - beta1 ** t) if bias_correction else 1.0
    var_scale = 1.0 / (1.0 - beta2 ** t) if bias_correction else 1.0
    return beta1, beta2, epsilon, mean_scale, var_scale, wd, rescale_grad, clip_gradient


def _lamb1_attr_scalars(a):
    return _lamb1_scalars(a["beta1"], a["beta2"], a["epsilon"], a["t"], a["bias_correction"], a["wd"],
                          a["rescale_grad"], a["clip_gradient"])


_LAMB1_DOC = "LAMB phase 1 (You et al. 2019): g = clip(rescale_grad*grad); mean, var = moving g, g^2 (in place); " \
             "returns mean_hat/(sqrt(var_hat) + epsilon) + wd*weight, hats bias-corrected when bias_correction."
_register("lamb_update_phase1", _WG + ("mean", "var"), _LAMB1, "LAMB1", _lamb1_attr_scalars, _LAMB1_DOC)
_register("mp_lamb_update_phase1", _WG + ("mean", "var", "weight32"), _LAMB1, "LAMB1", _lamb1_attr_scalars,
          "lamb_update_phase1 reading the float32 master weight32 as the weight (float32 mean and var); the step "
          "it returns is float32.", multi_precision=True, out_float32=True)


def _lamb_phase2_compute(multi_precision):
    """r1 and r2 (the norms of weight and g, one-element arrays) are read on the host, as AdamW's rescale_grad.
    The master weight32 of the mixed-precision form comes after them; it is read as the weight and rewritten."""
    def compute(attrs, inputs, outputs, reqs):
        r1, r2 = (_host_value(r) for r in inputs[2:4])
        lr = _kernels().lamb_lr(attrs["lr"], r1, r2, attrs["lower_bound"], attrs["upper_bound"])
        _update_group("LAMB2", list(inputs[:2]) + list(inputs[4:]), outputs[0], 0, multi_precision,
                      _scalars((lr,)), reqs[0])
    return compute


def _register_lamb2(name, arguments, multi_precision, doc):
    def order(n):  # weight, g[, weight32] share a shape; r1 and r2 hold one value
        return [0, 1] + list(range(4, n)) + [2, 3]

    def infer_shape(attrs, shapes):
        o = order(len(shapes))
        ins, outs = _same_shapes(len(shapes) - 2)(attrs, [shapes[i] for i in o])
        return [ins[o.index(i)] for i in range(len(shapes))], outs

    def infer_type(attrs, types):
        o = order(len(types))
        # mixed precision: g (phase 1's float32 step) and weight32 are float32
        ins, out = _update_types(len(types) - 2, 2 * multi_precision)(attrs, [types[i] for i in o])
        return [ins[o.index(i)] for i in range(len(types))], out
    registry.register(OpDef(
        name, arguments=arguments,
        params=(_LR, _float("lower_bound", -1.0, "lower limit of r1; < 0 turns it off"),
                _float("upper_bound", -1.0, "upper limit of r1; < 0 turns it off")),
        infer_shape=infer_shape, infer_type=infer_type, compute=_both(_lamb_phase2_compute(multi_precision)),
        mutate_inputs=(4,) if multi_precision else (), doc=doc))


_register_lamb2(
    "lamb_update_phase2", ("weight", "g", "r1", "r2"), False,
    "LAMB phase 2: weight - lr*(r1/r2)*g, r1 (the weight's norm) limited to [lower_bound, upper_bound], r2 the norm "
    "of g; the ratio is 1 when either norm is 0.")
_register_lamb2(
    "mp_lamb_update_phase2", ("weight", "g", "r1", "r2", "weight32"), True,
    "lamb_update_phase2 on the float32 master weight32 with a float32 step g; the output is the new weight in "
    "weight's type, and weight32 is updated in place (1.9.1 declares it mutated but leaves it unchanged).")


# AdamW takes rescale_grad as a one-element array input (a loss scaler can change it without a new graph) and
# skips the update, leaving output and states as they are, when it is NaN, infinite or 0.
_ADAMW = (_LR, _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-8), _WD,
          _float("eta", REQUIRED, "learning-rate schedule multiplier"), _CLIP)


def _rescale_or_skip(a):
    """AdamW's rescale_grad read on the host, or None when the update is to be skipped."""
    rescale = _host_value(a)
    return rescale if math.isfinite(rescale) and rescale != 0.0 else None


def _adamw_compute(multi_precision):
    def compute(attrs, inputs, outputs, reqs):
        rescale = _rescale_or_skip(inputs[-1])
        if rescale is not None:
            p = _scalars((attrs["lr"], attrs["beta1"], attrs["beta2"], attrs["epsilon"], attrs["wd"], attrs["eta"],
                          rescale, attrs["clip_gradient"]))
            _update_group("ADAMW", inputs[:-1], outputs[0], 2, multi_precision, p, reqs[0])
    return compute


def _register_adamw(name, arguments, multi_precision, doc):
    n = len(arguments) - 1
    registry.register(OpDef(
        name, params=_ADAMW, arguments=arguments, aliases=("_contrib" + name,),
        infer_shape=_same_shapes(n), infer_type=_update_types(n, 3 if multi_precision else 0),
        compute=_both(_adamw_compute(multi_precision)),
        mutate_inputs=tuple(range(2, n)), doc=doc))


_register_adamw(
    "_adamw_update", _WG + ("mean", "var", "rescale_grad"), False,
    "AdamW (decoupled weight decay): g = clip(rescale_grad*grad); mean, var as Adam; "
    "weight -= eta*(lr*mean/(sqrt(var) + epsilon) + wd*weight). Skipped when rescale_grad is NaN, inf or 0.")
_register_adamw(
    "_mp_adamw_update", _WG + ("mean", "var", "weight32", "rescale_grad"), True,
    "_adamw_update on the float32 master weight32 with float32 mean and var (all updated in place).")


def _adagrad_compute(attrs, inputs, outputs, reqs):
    if attrs["wd"] != 0.0:
        raise ValueError(f"sparse adagrad_update does not support wd (got wd={attrs['wd']})")
    _update_group("ADAGRAD", inputs, outputs[0], 1, False,
                  _scalars((attrs["lr"], attrs["epsilon"], attrs["rescale_grad"], attrs["clip_gradient"])), reqs[0])


registry.register(OpDef(
    "_sparse_adagrad_update", arguments=_WG + ("history",),
    params=(_LR, _float("epsilon", 1e-7, "added to history under the square root"),
            _float("wd", 0.0, "weight decay; must be 0 (as in MXNet)"), _RESCALE, _CLIP),
    infer_shape=_same_shapes(3), infer_type=_update_types(3), compute=_both(_adagrad_compute),
    mutate_inputs=(2,),
    doc="AdaGrad (mx.nd.sparse.adagrad_update): g = clip(rescale_grad*grad); history += g^2; "
        "weight -= lr*g/sqrt(history + epsilon). A row_sparse gradient updates only its rows."))


def _group_adagrad_shape(attrs, shapes):
    weight = next((s for s in shapes[:2] if s is not None), None)
    if weight is not None and len(weight) != 2:
        raise ValueError(f"weight must be 2-D (rows, columns), got shape {tuple(weight)}")
    ins, outs = _same_shapes(2)(attrs, shapes[:2])
    history = None if weight is None else (weight[0], 1)
    if shapes[2] is not None and history is not None and tuple(shapes[2]) != history:
        raise ValueError(f"history has shape {tuple(shapes[2])}, expected {history} (one value per weight row)")
    return ins + [history or shapes[2]], outs


def _group_adagrad_compute(attrs, inputs, outputs, reqs):
    arrays = list(inputs) + [outputs[0]]
    work = [_work(a) for a in arrays]
    k = _kernels()
    (k.group_adagrad_cpu if host(outputs[0]) else k.group_adagrad_gpu)(
        *(f.reshape(a.shape) for a, (f, _) in zip(arrays, work)), float(attrs["lr"]), float(attrs["epsilon"]),
        float(attrs["rescale_grad"]), float(attrs["clip_gradient"]), reqs[0])
    _write_back(arrays[2:], work[2:])


registry.register(OpDef(
    "_contrib_group_adagrad_update", arguments=_WG + ("history",),
    params=(_LR, _RESCALE, _CLIP, _float("epsilon", 1e-5, "added to history under the square root")),
    infer_shape=_group_adagrad_shape, infer_type=_update_types(3), compute=_both(_group_adagrad_compute),
    mutate_inputs=(2,),
    doc="AdaGrad with one history value per weight row: g = clip(rescale_grad*grad); history (rows, 1) += "
        "mean(g^2, axis=1); weight -= lr*g/sqrt(history + epsilon). A row_sparse gradient updates only its rows."))


# multi_* updates: num_weights weights in one op (one engine op; one kernel call per weight). Inputs come in
# groups per weight (weight, grad, states...[, weight32]), then any shared inputs (preloaded lrs and wds, AdamW's
# rescale_grad); the outputs are the new weights; states and float32 masters are written in place.
def _multi_names(group, count="num_weights", tail=()):
    def names(attrs):
        return [f"{n}_{i}" for i in range(attrs[count]) for n in group] + list(tail)
    return names


def _multi_check(attrs, n_inputs, stride, count, per_weight, n_tail):
    n = attrs[count]
    if n < 1 or n_inputs != n * stride + n_tail:
        raise ValueError(f"{count}={n} needs {n * stride + n_tail} inputs ({stride} per weight"
                         f"{f' and {n_tail} more' if n_tail else ''}), got {n_inputs}")
    for what, label in per_weight:
        if len(attrs[what]) != n:
            raise ValueError(f"Number of {label} is inconsistent with {count}: expected {n}, got {len(attrs[what])}")
    return n


def _multi_shape(stride, count, per_weight, n_tail):
    group_shape = _same_shapes(stride)

    def infer_shape(attrs, shapes):
        n = _multi_check(attrs, len(shapes), stride, count, per_weight, n_tail)
        ins, outs = [], []
        for k in range(n):
            try:
                i, o = group_shape(attrs, shapes[k * stride:(k + 1) * stride])
            except ValueError as err:
                raise ValueError(f"weight {k}: {err}") from None
            ins += i
            outs += o
        tail = [s if s is not None else ((n,) if n_tail == 2 else (1,)) for s in shapes[n * stride:]]
        return ins + tail, outs
    return infer_shape


def _multi_type(stride, n_float32, count, per_weight, n_tail):
    group_type = _update_types(stride, n_float32)

    def infer_type(attrs, types):
        n = _multi_check(attrs, len(types), stride, count, per_weight, n_tail)
        ins, outs = [], []
        for k in range(n):
            try:
                i, o = group_type(attrs, types[k * stride:(k + 1) * stride])
            except ValueError as err:
                raise ValueError(f"weight {k}: {err}") from None
            ins += i
            outs.append(o)
        return ins + [t if t is not None else _F32 for t in types[n * stride:]], outs
    return infer_type


def _register_multi(name, group, params, compute, doc, count="num_weights", per_weight=(), tail=(),
                    multi_precision=False, aliases=()):
    stride = len(group)
    n_states = stride - 2 - multi_precision
    registry.register(OpDef(
        name, params=params, arguments=_multi_names(group, count, tail), key_var_num_args=count, aliases=aliases,
        num_outputs=lambda attrs: attrs[count],
        infer_shape=_multi_shape(stride, count, per_weight, len(tail)),
        infer_type=_multi_type(stride, (n_states + 1) if multi_precision else 0, count, per_weight, len(tail)),
        compute=_both(compute),
        mutate_inputs=lambda attrs: [k * stride + j for k in range(attrs[count]) for j in range(2, stride)],
        doc=doc))


def _groups(inputs, n, stride):
    return [inputs[k * stride:(k + 1) * stride] for k in range(n)]


def _multi_sgd_compute(has_mom, multi_precision, preloaded):
    """multi_*sgd*_update; the preloaded_ forms take lrs and wds as the two last inputs (read on the host)."""
    stride = 2 + has_mom + multi_precision

    def compute(attrs, inputs, outputs, reqs):
        n = attrs["num_weights"]
        if preloaded:
            lrs, wds = ((a if host(a) else a.copy_to_host()).reshape(-1) for a in inputs[n * stride:])
        else:
            lrs, wds = attrs["lrs"], attrs["wds"]
        for k, (group, out) in enumerate(zip(_groups(inputs, n, stride), outputs)):
            if has_mom:
                p = (lrs[k], attrs["momentum"], wds[k], attrs["rescale_grad"], attrs["clip_gradient"])
            else:
                p = (lrs[k], wds[k], attrs["rescale_grad"], attrs["clip_gradient"])
            _update_group("SGD_MOM" if has_mom else "SGD", group, out, has_mom, multi_precision, _scalars(p),
                          reqs[k])
    return compute


_MULTI = (Param("lrs", "floats", REQUIRED, "learning rates, one per weight"),
          Param("wds", "floats", REQUIRED, "weight decays, one per weight"))
_MULTI_TAIL = (_RESCALE, _CLIP, Param("num_weights", "int", 1, "number of weights updated"))
_LRS_WDS = (("lrs", "learning rates"), ("wds", "weight decays"))

for _mom in (False, True):
    for _mp in (False, True):
        _group = ("weight", "grad") + ("mom",) * _mom + ("weight32",) * _mp
        _base = f"multi_{'mp_' * _mp}sgd{'_mom' * _mom}_update"
        _what = f"{'mp_' * _mp}sgd{'_mom' * _mom}_update"
        _register_multi(
            _base, _group, _MULTI + ((_MOMENTUM,) if _mom else ()) + _MULTI_TAIL,
            _multi_sgd_compute(_mom, _mp, False),
            f"{_what} on num_weights weights at once (inputs {', '.join(n + '_i' for n in _group)}; lrs and wds per "
            "weight); the outputs are the new weights, states and masters are updated in place.",
            per_weight=_LRS_WDS, multi_precision=_mp)
        _register_multi(
            "preloaded_" + _base, _group, ((_MOMENTUM,) if _mom else ()) + _MULTI_TAIL,
            _multi_sgd_compute(_mom, _mp, True),
            f"{_base} with the learning rates and weight decays as the two last inputs (arrays of num_weights "
            "values) instead of attributes.", tail=("lrs", "wds"), multi_precision=_mp)


def _multi_adamw_compute(multi_precision):
    stride = 4 + multi_precision

    def compute(attrs, inputs, outputs, reqs):
        rescale = _rescale_or_skip(inputs[-1])
        if rescale is None:
            return
        n = attrs["num_weights"]
        for k, (group, out) in enumerate(zip(_groups(inputs, n, stride), outputs)):
            p = (attrs["lrs"][k], attrs["beta1"], attrs["beta2"], attrs["epsilon"], attrs["wds"][k],
                 attrs["etas"][k], rescale, attrs["clip_gradient"])
            _update_group("ADAMW", group, out, 2, multi_precision, _scalars(p), reqs[k])
    return compute


for _mp in (False, True):
    _register_multi(
        f"_multi_{'mp_' * _mp}adamw_update", ("weight", "grad", "mean", "var") + ("weight32",) * _mp,
        _MULTI + (Param("etas", "floats", REQUIRED, "learning-rate schedule multipliers, one per weight"),
                  _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-8), _CLIP,
                  Param("num_weights", "int", 1, "number of weights updated")),
        _multi_adamw_compute(_mp),
        f"_{'mp_' * _mp}adamw_update on num_weights weights at once (lrs, wds, etas per weight); rescale_grad, the "
        "last input, is shared, and a NaN, infinite or 0 one skips every update.",
        per_weight=_LRS_WDS + (("etas", "etas"),), tail=("rescale_grad",), multi_precision=_mp)


def _norm(x):
    """The 2-norm of a flat float32/float64 array on either device, on the host (a device sum is copied back)."""
    k = _kernels()
    if host(x):
        return math.sqrt(k.sum_sq_cpu(x))
    from numba import cuda
    acc = cuda.to_device(np.zeros(1))
    k.sum_sq_gpu(x, acc)
    return math.sqrt(float(acc.copy_to_host()[0]))


def _multi_lamb_compute(multi_precision):
    """Per tensor: LAMB phase 1 into a float32 scratch step, the norms of the weight (before the update) and of
    the step, then phase 2 with lr scaled by their ratio (MXNet's multi_lamb_update)."""
    stride = 4 + multi_precision

    def compute(attrs, inputs, outputs, reqs):
        n = attrs["num_tensors"]
        for k, (group, out) in enumerate(zip(_groups(inputs, n, stride), outputs)):
            written = list(group[2:]) + [out]
            work = [_work(a) for a in written]
            mean, var = work[0][0], work[1][0]
            master = work[2][0] if multi_precision else None
            weight = master if multi_precision else _work(group[0])[0]
            step = scratch(weight, weight.dtype)
            p1 = _scalars(_lamb1_scalars(attrs["beta1"], attrs["beta2"], attrs["epsilon"], attrs["step_count"][k],
                                         attrs["bias_correction"], attrs["wds"][k], attrs["rescale_grad"],
                                         attrs["clip_gradient"]))
            r1 = _norm(weight)
            _run("LAMB1", weight, _work(group[1])[0], (mean, var), None, step, p1, REQ_WRITE)
            lr = _kernels().lamb_lr(attrs["learning_rates"][k], r1, _norm(step), attrs["lower_bound"],
                                    attrs["upper_bound"])
            _run("LAMB2", weight, step, (), master, work[-1][0], _scalars((lr,)), reqs[k])
            _write_back(written, work)
    return compute


_MULTI_LAMB = (Param("learning_rates", "floats", REQUIRED, "learning rates, one per tensor"),
               _float("beta1", 0.9), _float("beta2", 0.999), _float("epsilon", 1e-6),
               Param("wds", "floats", REQUIRED, "weight decays, one per tensor"), _RESCALE,
               _float("lower_bound", -1.0, "lower limit of the weight's norm; < 0 turns it off"),
               _float("upper_bound", -1.0, "upper limit of the weight's norm; < 0 turns it off"), _CLIP,
               Param("bias_correction", "bool", True, "divide mean and var by 1-beta1^t and 1-beta2^t"),
               Param("step_count", "shape", REQUIRED, "update steps so far per tensor, this one included"),
               Param("num_tensors", "int", 1, "number of tensors updated"))
for _mp in (False, True):
    _register_multi(
        f"_multi_{'mp_' * _mp}lamb_update", ("weight", "grad", "mean", "var") + ("weight32",) * _mp, _MULTI_LAMB,
        _multi_lamb_compute(_mp),
        f"LAMB (phases 1 and 2, {'on float32 masters, ' * _mp}trust ratio from each tensor's norms) on "
        "num_tensors tensors at once; mean, var" + " and weight32" * _mp + " are updated in place.",
        count="num_tensors", per_weight=(("learning_rates", "learning rates"), ("wds", "weight decays"),
                                         ("step_count", "step counts")), multi_precision=_mp)


def _lars_shape(attrs, shapes):
    known = next((s for s in shapes if s is not None), None)
    if known is not None and len(known) != 1:
        raise ValueError(f"inputs must be vectors (one value per weight), got shape {tuple(known)}")
    return _same_shapes(4)(attrs, shapes)


def _lars_type(attrs, types):
    for i, t in enumerate(types):
        if t is not None and np.dtype(t) != _F32:
            raise ValueError(f"input {i} must be float32 (as in MXNet), got {np.dtype(t).name}")
    return [_F32] * 4, _F32


def _lars_compute(attrs, inputs, outputs, reqs):
    k = _kernels()
    (k.multi_lars_cpu if host(outputs[0]) else k.multi_lars_gpu)(
        *(flat(a) for a in inputs), flat(outputs[0]), float(attrs["eta"]), float(attrs["eps"]),
        float(attrs["rescale_grad"]), reqs[0])


registry.register(OpDef(
    "multi_lars", arguments=("lrs", "weights_sum_sq", "grads_sum_sq", "wds"),
    params=(_float("eta", REQUIRED, "LARS coefficient"), _float("eps", REQUIRED, "added to the denominator"),
            _RESCALE),
    infer_shape=_lars_shape, infer_type=_lars_type, compute=_both(_lars_compute),
    doc="LARS learning rates: lr * eta * |w| / (|g| * rescale_grad + wd * |w| + eps) per weight from the sums of "
        "squares of weights and gradients, lr unchanged where either is 0."))
