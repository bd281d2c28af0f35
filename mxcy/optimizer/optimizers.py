"""MXNet 1.9.1's optimizers with their arguments and defaults: the fused ones call the update operators
(mxcy/ops/optimizer_ops.py); AdaGrad, AdaDelta, Adamax, Nadam, DCASGD, SGLD and Test compose NDArray ops, as
MXNet's do; LARS, LBSGD and LAMB take norms of weights and gradients on the host, as MXNet's do.
States take the weight's dtype (MXNet makes some of them float32, which float64 weights then reject)."""
import math
import os

import numpy as np

from .. import ndarray as nd
from .optimizer import Optimizer, register

__all__ = ["SGD", "ccSGD", "NAG", "Signum", "FTML", "LARS", "LBSGD", "LAMB", "Adam", "AdaGrad", "RMSProp",
           "AdaDelta", "Ftrl", "Adamax", "Nadam", "DCASGD", "SGLD", "Test"]


def _zeros_like(weight, dtype=None, stype=None):
    return nd.zeros(weight.shape, weight.context, dtype=weight.dtype if dtype is None else dtype,
                    stype=stype or "default")


def _clipped(grad, bound):
    return nd.clip(grad, -bound, bound) if bound is not None else grad


class _MasterFirstState(Optimizer):
    """SGD and NAG keep a float16 weight's multi-precision state as (state, float32 master) and run the mp_*
    operators on it."""

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (self.create_state(index, master), master)
        return super().create_state_multi_precision(index, weight)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, multi_precision=False)

    def update_multi_precision(self, index, weight, grad, state):
        first = weight[0] if isinstance(weight, (list, tuple)) else weight
        self._update_impl(index, weight, grad, state,
                          multi_precision=self.multi_precision and first.dtype == np.float16)


@register
class SGD(_MasterFirstState):
    """SGD with optional momentum: sgd_update / sgd_mom_update (mp_* on float32 masters of float16 weights).
    Accepts lists of indices, weights, gradients and states (Updater's aggregated calls)."""

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update
        self.aggregate_num = int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "4"))

    def create_state(self, index, weight):
        if self.momentum == 0.0:
            return None
        return _zeros_like(weight, stype=weight.stype if self.lazy_update else "default")

    def _update_impl(self, indices, weights, grads, states, multi_precision=False):
        aggregate = isinstance(indices, (list, tuple))
        if not aggregate:
            indices, weights, grads, states = [indices], [weights], [grads], [states]
        aggregate = aggregate and all(a.stype == "default" for a in list(weights) + list(grads))
        self._update_count(indices)
        kwargs = dict(rescale_grad=self.rescale_grad, **self._clip_kwargs())
        lrs, wds = self._step_lrs(indices, weights, grads), self._get_wds(indices)
        if self.momentum > 0:
            kwargs["momentum"] = self._step_momentum()
        if aggregate:  # one multi_* op for the whole group, as MXNet
            moms = [s[0] if multi_precision else s for s in states] if self.momentum > 0 else []
            masters = [s[1] for s in states] if multi_precision else []
            inputs = [a for group in zip(weights, grads, *([moms] if moms else []), *([masters] if masters else []))
                      for a in group]
            update = getattr(nd, f"multi_{'mp_' * multi_precision}sgd{'_mom' * bool(moms)}_update")
            update(*inputs, out=list(weights), num_weights=len(weights), lrs=lrs, wds=wds, **kwargs)
            return
        for weight, grad, state, lr, wd in zip(weights, grads, states, lrs, wds):
            if multi_precision:
                mom, master = state
                if mom is not None:
                    nd.mp_sgd_mom_update(weight, grad, mom, master, out=weight, lr=lr, wd=wd, **kwargs)
                else:
                    nd.mp_sgd_update(weight, grad, master, out=weight, lr=lr, wd=wd, **kwargs)
            elif state is not None:
                nd.sgd_mom_update(weight, grad, state, out=weight, lazy_update=self.lazy_update, lr=lr, wd=wd,
                                  **kwargs)
            else:
                nd.sgd_update(weight, grad, out=weight, lazy_update=self.lazy_update, lr=lr, wd=wd, **kwargs)

    def _step_lrs(self, indices, weights, grads):
        """The learning rates of this step's weights (LARS scales them by the weights' and gradients' norms)."""
        return self._get_lrs(indices)

    def _step_momentum(self):
        return self.momentum


def _norm(array):
    return float(nd.norm(array).asscalar())


@register
class LARS(SGD):
    """LARS (You et al. 2017, arXiv:1708.03888): SGD whose lr is scaled per parameter by
    eta*|w| / (|rescale_grad*g| + wd*|w| + eps) when both norms are positive (parameters named *gamma, *beta or
    *bias keep lr); under a schedule, momentum_correction scales momentum by lr / the previous step's lr.
    Only *_weight parameters are decayed. The norms are taken in the weight's dtype (MXNet's in float32)."""
    decayed_suffixes = ("_weight",)

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0, momentum_correction=True, **kwargs):
        super().__init__(momentum=momentum, lazy_update=lazy_update, **kwargs)
        self.momentum_correction = momentum_correction
        self.eta, self.eps = eta, eps
        self.last_lr = self.cur_lr = None

    def _step_lrs(self, indices, weights, grads):
        lr = self.learning_rate
        self.last_lr = lr if self.cur_lr is None else self.cur_lr
        self.cur_lr = lr
        return [self._scaled(index, weight, grad, lr_i, wd) for index, weight, grad, lr_i, wd
                in zip(indices, weights, grads, self._get_lrs(indices), self._get_wds(indices))]

    def _scaled(self, index, weight, grad, lr, wd):
        if self.idx2name.get(index, str(index)).endswith(("gamma", "beta", "bias")):
            return lr
        w_norm, g_norm = _norm(weight), _norm(grad) * abs(self.rescale_grad)
        if w_norm > 0.0 and g_norm > 0.0:
            return lr * self.eta * w_norm / (g_norm + wd * w_norm + self.eps)
        return lr

    def _step_momentum(self):
        if self.momentum_correction and self.last_lr != 0:
            return self.momentum * self.cur_lr / self.last_lr
        return self.momentum


@register
class LBSGD(Optimizer):
    """Large-batch SGD: an index's gradients are summed over batch_scale updates, then one SGD (momentum) step
    takes their mean with lr times a multiplier: warmup_strategy 'linear', 'power2' or 'sqrt' rises from 1 to
    batch_scale over warmup_epochs*updates_per_epoch updates (counted from begin_epoch*updates_per_epoch), 'lars'
    is sqrt(|w|^2 / (|g|^2 + wd*|w|^2)) limited to [0.01, 100], anything else 1. The updates in between leave
    the weight as it is (MXNet runs an sgd_update with lr 0 there)."""

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy="linear", warmup_epochs=5,
                 batch_scale=1, updates_per_epoch=32, begin_epoch=0, num_epochs=60, **kwargs):
        super().__init__(multi_precision=multi_precision, **kwargs)
        self.momentum = momentum
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.cumgrads = {}  # index -> {"cum_grad": sum since the last step or None, "num_cums": updates counted}

    def create_state(self, index, weight):
        return _zeros_like(weight, stype=weight.stype) if self.momentum != 0.0 else None

    def _warmup_mult(self, nup):
        nwup = self.warmup_epochs * self.updates_per_epoch
        top = float(self.batch_scale)
        if nup >= nwup:
            return top
        if nwup <= 1:
            return 1.0
        rise = {"linear": nup / nwup, "power2": (nup * nup) / (nwup * nwup),
                "sqrt": math.sqrt(float(nup) / nwup)}.get(self.warmup_strategy, 0.0)
        return 1.0 + (top - 1) * rise

    @staticmethod
    def _lars_mult(weight, grad, wd):
        w2, g2 = _norm(weight) ** 2, _norm(grad) ** 2
        return min(max(math.sqrt(w2 / (g2 + wd * w2 + 1e-18)), 0.01), 100.0)

    def update(self, index, weight, grad, state):
        lr, wd = self._get_lr(index), self._get_wd(index)
        self._update_count(index)
        cum = self.cumgrads.setdefault(index, {"cum_grad": None, "num_cums": self.init_updates})
        cum["cum_grad"] = grad.copy() if cum["cum_grad"] is None else cum["cum_grad"] + grad
        cum["num_cums"] += 1
        if cum["num_cums"] % self.batch_scale:
            return
        grad = cum["cum_grad"] / self.batch_scale
        cum["cum_grad"] = None
        if self.warmup_strategy == "lars":
            lr *= self._lars_mult(weight, grad, wd)
        else:
            lr *= self._warmup_mult(cum["num_cums"])
        kwargs = dict(rescale_grad=self.rescale_grad, lr=lr, wd=wd, **self._clip_kwargs())
        if state is not None:
            nd.sgd_mom_update(weight, grad, state, out=weight, momentum=self.momentum, **kwargs)
        else:
            nd.sgd_update(weight, grad, out=weight, **kwargs)


@register
class LAMB(Optimizer):
    """LAMB (You et al. 2019, arXiv:1904.00962): lamb_update_phase1 gives the Adam-like step g (wd*weight
    included), lamb_update_phase2 moves the weight by lr * |w|/|g| * g, |w| limited to [lower_bound, upper_bound].
    Lists of weights (Updater's groups of aggregate_num) go through multi_lamb_update, as MXNet's; float16 weights
    with multi_precision keep the state (float32 master, (mean, var)) and use the mp_ forms."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6, lower_bound=None,
                 upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.bias_correction = bias_correction
        self.aggregate_num = max(1, min(45, int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "45"))))

    def create_state(self, index, weight):
        return (_zeros_like(weight, stype=weight.stype), _zeros_like(weight, stype=weight.stype))  # mean, var

    def _bounds(self):
        return {key: value for key, value in (("lower_bound", self.lower_bound), ("upper_bound", self.upper_bound))
                if value}

    def _update_impl(self, indices, weights, grads, states, multi_precision):
        kwargs = dict(beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon, bias_correction=self.bias_correction,
                      rescale_grad=self.rescale_grad, **self._clip_kwargs())
        if not isinstance(indices, (list, tuple)) or self.aggregate_num <= 1:
            if isinstance(indices, (list, tuple)):
                indices, weights, grads, states = indices[0], weights[0], grads[0], states[0]
            self._update_count(indices)
            t, lr, wd = self._index_update_count[indices], self._get_lr(indices), self._get_wd(indices)
            if multi_precision:
                master, (mean, var) = states
                step = nd.mp_lamb_update_phase1(weights, grads, mean, var, master, t=t, wd=wd, **kwargs)
                nd.mp_lamb_update_phase2(weights, step, master.norm(), step.norm(), master, lr=lr, out=weights,
                                         **self._bounds())
            else:
                mean, var = states
                step = nd.lamb_update_phase1(weights, grads, mean, var, t=t, wd=wd, **kwargs)
                nd.lamb_update_phase2(weights, step, weights.norm(), step.norm(), lr=lr, out=weights,
                                      **self._bounds())
            return
        self._update_count(indices)
        steps = [self._index_update_count[i] for i in indices]
        lrs, wds = self._get_lrs(indices), self._get_wds(indices)
        kwargs.update(self._bounds())
        for start in range(0, len(weights), self.aggregate_num):
            part = slice(start, start + self.aggregate_num)
            if multi_precision:
                masters = [s[0] for s in states[part]]
                means, variances = zip(*(s[1] for s in states[part]))
                nd.contrib.multi_mp_lamb_update(weights[part], grads[part], means, variances, masters,
                                                out=weights[part], step_count=steps[part], lrs=lrs[part],
                                                wds=wds[part], **kwargs)
            else:
                means, variances = zip(*states[part])
                nd.contrib.multi_lamb_update(weights[part], grads[part], means, variances, out=weights[part],
                                             step_count=steps[part], lrs=lrs[part], wds=wds[part], **kwargs)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, multi_precision=False)

    def update_multi_precision(self, index, weight, grad, state):
        first = weight[0] if isinstance(weight, (list, tuple)) else weight
        self._update_impl(index, weight, grad, state,
                          multi_precision=self.multi_precision and first.dtype == np.float16)


@register
class ccSGD(SGD):  # noqa: N801 - MXNet's name
    """Deprecated alias of SGD, kept as MXNet keeps it."""

    def __init__(self, *args, **kwargs):  # MXNet's signature
        super().__init__(*args, **kwargs)


@register
class NAG(_MasterFirstState):
    """Nesterov accelerated SGD: nag_mom_update (sgd_update without momentum)."""

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return _zeros_like(weight) if self.momentum != 0.0 else None

    def _update_impl(self, index, weight, grad, state, multi_precision=False):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        kwargs = dict(rescale_grad=self.rescale_grad, **self._clip_kwargs())
        if self.momentum > 0:
            kwargs["momentum"] = self.momentum
        if multi_precision:
            mom, master = state
            if mom is not None:
                nd.mp_nag_mom_update(weight, grad, mom, master, out=weight, lr=lr, wd=wd, **kwargs)
            else:
                nd.mp_sgd_update(weight, grad, master, out=weight, lr=lr, wd=wd, **kwargs)
        elif state is not None:
            nd.nag_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd, **kwargs)
        else:
            nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kwargs)


@register
class Signum(Optimizer):
    """Signum (signum_update), or signSGD (signsgd_update) when momentum is 0."""

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        return _zeros_like(weight, stype=weight.stype) if self.momentum != 0.0 else None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        kwargs = dict(rescale_grad=self.rescale_grad, lr=self._get_lr(index), wd=self._get_wd(index),
                      **self._clip_kwargs())
        if state is not None:
            if self.momentum > 0:
                kwargs["momentum"] = self.momentum
            if self.wd_lh:
                kwargs["wd_lh"] = self.wd_lh
            nd.signum_update(weight, grad, state, out=weight, **kwargs)
        else:
            nd.signsgd_update(weight, grad, out=weight, **kwargs)


@register
class FTML(Optimizer):
    """FTML (ftml_update) with the parameter's own step count as t."""

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def create_state(self, index, weight):
        return tuple(_zeros_like(weight) for _ in range(3))  # d, v, z

    def update(self, index, weight, grad, state):
        self._update_count(index)
        d, v, z = state
        nd.ftml_update(weight, grad, d, v, z, out=weight, lr=self._get_lr(index), wd=self._get_wd(index),
                       beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon, rescale_grad=self.rescale_grad,
                       t=self._index_update_count[index], **self._clip_kwargs("clip_grad"))


@register
class Adam(Optimizer):
    """Adam: adam_update with the bias corrections folded into the step's lr (lr * sqrt(1-beta2^t)/(1-beta1^t))."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        stype = weight.stype if self.lazy_update else "default"
        return (_zeros_like(weight, stype=stype), _zeros_like(weight, stype=stype))  # mean, var

    def update(self, index, weight, grad, state):
        self._update_count(index)
        t = self._index_update_count[index]
        lr = self._get_lr(index) * math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t)
        mean, var = state
        nd.adam_update(weight, grad, mean, var, out=weight, lazy_update=self.lazy_update, lr=lr,
                       wd=self._get_wd(index), beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                       rescale_grad=self.rescale_grad, **self._clip_kwargs())


@register
class AdaGrad(Optimizer):
    """AdaGrad: history += g^2; weight -= lr * (g / sqrt(history + eps) + wd * weight), g rescaled and clipped.
    A row_sparse gradient goes through sparse.adagrad_update (lazy: only its rows; wd must be 0), as MXNet's."""

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return _zeros_like(weight, stype=weight.stype)  # history

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if grad.stype == "row_sparse":
            nd.sparse.adagrad_update(weight, grad, state, out=weight, lr=lr, wd=wd, epsilon=self.float_stable_eps,
                                     rescale_grad=self.rescale_grad, **self._clip_kwargs())
            return
        grad = _clipped(grad * self.rescale_grad, self.clip_gradient)
        state[:] += nd.square(grad)
        weight[:] += (grad / nd.sqrt(state + self.float_stable_eps) + weight * wd) * -lr


@register
class RMSProp(Optimizer):
    """RMSProp: rmsprop_update, or rmspropalex_update (Graves' centered form) when centered."""

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False,
                 clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1, self.gamma2, self.epsilon = gamma1, gamma2, epsilon
        self.centered = centered
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        return tuple(_zeros_like(weight, stype=weight.stype) for _ in range(3 if self.centered else 1))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        kwargs = dict(lr=self._get_lr(index), wd=self._get_wd(index), gamma1=self.gamma1, epsilon=self.epsilon,
                      rescale_grad=self.rescale_grad, **self._clip_kwargs())
        if self.clip_weights:
            kwargs["clip_weights"] = self.clip_weights
        if self.centered:
            nd.rmspropalex_update(weight, grad, *state, out=weight, gamma2=self.gamma2, **kwargs)
        else:
            nd.rmsprop_update(weight, grad, state[0], out=weight, **kwargs)


@register
class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012) with decay rho; no learning rate enters the step."""

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho, self.epsilon = rho, epsilon

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def update(self, index, weight, grad, state):
        wd = self._get_wd(index)
        self._update_count(index)
        grad = _clipped(grad * self.rescale_grad, self.clip_gradient)
        acc_g, acc_delta = state
        acc_g[:] = self.rho * acc_g + (1. - self.rho) * grad * grad
        delta = nd.sqrt(acc_delta + self.epsilon) / nd.sqrt(acc_g + self.epsilon) * grad
        acc_delta[:] = self.rho * acc_delta + (1. - self.rho) * delta * delta
        weight[:] -= delta + wd * weight


@register
class Ftrl(Optimizer):
    """FTRL-proximal (ftrl_update); its learning rate defaults to 0.1."""

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1, self.beta = lamda1, beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        return (_zeros_like(weight, stype=weight.stype), _zeros_like(weight, stype=weight.stype))  # z, n

    def update(self, index, weight, grad, state):
        self._update_count(index)
        z, n = state
        nd.ftrl_update(weight, grad, z, n, out=weight, lr=self._get_lr(index), wd=self._get_wd(index),
                       lamda1=self.lamda1, beta=self.beta, rescale_grad=self.rescale_grad, **self._clip_kwargs())


@register
class Adamax(Optimizer):
    """AdaMax: m = beta1*m + (1-beta1)*g; u = max(beta2*u, |g|); weight -= lr/(1-beta1^t) * m/u."""

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2 = beta1, beta2

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        lr /= 1. - self.beta1 ** self._index_update_count[index]
        grad = _clipped(grad * self.rescale_grad + wd * weight, self.clip_gradient)
        m, u = state
        m[:] = self.beta1 * m + (1. - self.beta1) * grad
        u[:] = nd.maximum(self.beta2 * u, nd.abs(grad))
        weight[:] -= lr * m / u


@register
class Nadam(Optimizer):
    """Nadam (Dozat 2016): Adam with Nesterov momentum under the momentum schedule 0.96^(t*schedule_decay)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, schedule_decay=0.004,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        grad = _clipped(grad * self.rescale_grad + wd * weight, self.clip_gradient)
        mom_t = self.beta1 * (1. - 0.5 * 0.96 ** (t * self.schedule_decay))
        mom_next = self.beta1 * (1. - 0.5 * 0.96 ** ((t + 1) * self.schedule_decay))
        self.m_schedule *= mom_t
        schedule_next = self.m_schedule * mom_next
        m, v = state
        m[:] = self.beta1 * m + (1. - self.beta1) * grad
        v[:] = self.beta2 * v + (1. - self.beta2) * grad * grad
        m_bar = (1. - mom_t) * grad / (1. - self.m_schedule) + mom_next * m / (1. - schedule_next)
        weight[:] -= lr * m_bar / (nd.sqrt(v / (1. - self.beta2 ** t)) + self.epsilon)


@register
class DCASGD(Optimizer):
    """Delay-compensated asynchronous SGD (Zheng et al. 2016): the step adds lamda*g*g*(weight - previous
    weight) to the gradient; state is (momentum or None, previous weight)."""

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.weight_previous = {}
        self.lamda = lamda

    def create_state(self, index, weight):
        return (_zeros_like(weight) if self.momentum != 0.0 else None, weight.copy())

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        grad = _clipped(grad * self.rescale_grad, self.clip_gradient)
        mom, previous = state
        step = -lr * (grad + wd * weight + self.lamda * grad * grad * (weight - previous))
        if mom is not None:
            mom[:] = self.momentum * mom + step
            step = mom
        previous[:] = weight
        weight[:] += step


@register
class SGLD(Optimizer):
    """Stochastic gradient Langevin dynamics: weight += -lr/2 * (g + wd*weight) + N(0, sqrt(lr)) noise."""

    def __init__(self, **kwargs):  # MXNet's signature
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        return None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        grad = _clipped(grad * self.rescale_grad, self.clip_gradient)
        weight[:] += -lr / 2 * (grad + wd * weight)
        weight[:] += nd.random.normal(0, math.sqrt(lr), shape=weight.shape, dtype=weight.dtype,
                                      ctx=weight.context)


@register
class Test(Optimizer):
    """MXNet's test optimizer: weight += rescale_grad * grad; the state holds the new weight."""

    def __init__(self, **kwargs):  # MXNet's signature
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        return _zeros_like(weight)

    def update(self, index, weight, grad, state):
        weight[:] += grad * self.rescale_grad
        state[:] = weight
