"""MXNet 1.9.1's update rules (src/operator/optimizer_op-inl.h, contrib/adamw-inl.h) written out in NumPy float64:
the references of tests/ops/test_optimizer_ops.py and tests/test_optimizer.py. Each takes weight, grad and the
states and returns (new weight, *new states)."""
import numpy as np


def clip(x, bound):
    return np.clip(x, -bound, bound) if bound >= 0 else x


def sgd(w, g, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, **_):
    return ((1 - lr * wd) * w - lr * clip(rescale_grad * g, clip_gradient),)


def sgd_mom(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, **_):
    mom = momentum * mom - lr * wd * w - lr * clip(rescale_grad * g, clip_gradient)
    return w + mom, mom


def nag_mom(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, **_):
    g = clip(rescale_grad * g, clip_gradient) + wd * w
    mom = momentum * mom
    new_w = w - mom + (momentum + 1) * (mom - lr * g)
    return new_w, mom - lr * g


def adam(w, g, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
         clip_gradient=-1.0, **_):
    g = clip(rescale_grad * g + wd * w, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * g
    var = beta2 * var + (1 - beta2) * g * g
    return w - lr * mean / (np.sqrt(var) + epsilon), mean, var


def adamw(w, g, mean, var, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
          clip_gradient=-1.0, **_):
    g = clip(rescale_grad * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * g
    var = beta2 * var + (1 - beta2) * g * g
    return w - eta * (lr * mean / (np.sqrt(var) + epsilon) + wd * w), mean, var


def rmsprop(w, g, n, lr, gamma1=0.95, epsilon=1e-8, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
            clip_weights=-1.0, **_):
    g = clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * g * g + gamma1 * n
    return clip(w - lr * g / np.sqrt(n + epsilon), clip_weights), n


def rmspropalex(w, g, n, g_avg, delta, lr, gamma1=0.95, gamma2=0.9, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
                clip_gradient=-1.0, clip_weights=-1.0, **_):
    g = clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * g * g + gamma1 * n
    g_avg = (1 - gamma1) * g + gamma1 * g_avg
    delta = gamma2 * delta - lr * g / np.sqrt(n - g_avg * g_avg + epsilon)
    return clip(w + delta, clip_weights), n, g_avg, delta


def ftrl(w, g, z, n, lr, lamda1=0.01, beta=1.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, **_):
    g = clip(rescale_grad * g, clip_gradient)
    z = z + g - (np.sqrt(n + g * g) - np.sqrt(n)) * w / lr
    n = n + g * g
    new_w = (np.sign(z) * lamda1 - z) / ((beta + np.sqrt(n)) / lr + wd) * (np.abs(z) > lamda1)
    return new_w, z, n


def ftml(w, g, d, v, z, lr, t, beta1=0.6, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0, clip_grad=-1.0,
         **_):
    g = clip(rescale_grad * g + wd * w, clip_grad)
    v = beta2 * v + (1 - beta2) * g * g
    d_t = (1 - beta1 ** t) / lr * (np.sqrt(v / (1 - beta2 ** t)) + epsilon)
    z = beta1 * z + (1 - beta1) * g - (d_t - beta1 * d) * w
    return -z / d_t, d_t, v, z


def signsgd(w, g, lr, wd=0.0, **_):
    return ((1 - lr * wd) * w - lr * np.sign(g),)


def signum(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, wd_lh=0.0, **_):
    mom = momentum * mom - (1 - momentum) * wd * w - (1 - momentum) * clip(rescale_grad * g, clip_gradient)
    return (1 - lr * wd_lh) * w + lr * np.sign(mom), mom


def lamb_phase1(w, g, mean, var, t, wd, beta1=0.9, beta2=0.999, epsilon=1e-6, bias_correction=True,
                rescale_grad=1.0, clip_gradient=-1.0, **_):
    """(the LAMB step g, mean, var): phase 1's output is the step, not a new weight."""
    g = clip(rescale_grad * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * g
    var = beta2 * var + (1 - beta2) * g * g
    m, v = (mean / (1 - beta1 ** t), var / (1 - beta2 ** t)) if bias_correction else (mean, var)
    return m / (np.sqrt(v) + epsilon) + wd * w, mean, var


def lamb_phase2(w, g, r1, r2, lr, lower_bound=-1.0, upper_bound=-1.0, **_):
    r = float(r1.reshape(-1)[0])
    if lower_bound >= 0:
        r = max(r, lower_bound)
    if upper_bound >= 0:
        r = min(r, upper_bound)
    norm_g = float(r2.reshape(-1)[0])
    ratio = r / norm_g if r != 0 and norm_g != 0 else 1.0
    return w - lr * ratio * g, r1, r2


def adagrad(w, g, history, lr, epsilon=1e-7, rescale_grad=1.0, clip_gradient=-1.0, **_):
    """MXNet's sparse adagrad_update (no weight decay) on every row."""
    g = clip(rescale_grad * g, clip_gradient)
    history = history + g * g
    return w - lr * g / np.sqrt(history + epsilon), history


def group_adagrad(w, g, history, lr, epsilon=1e-5, rescale_grad=1.0, clip_gradient=-1.0, **_):
    """contrib.group_adagrad_update: one history value per row, grown by the row's mean of g^2."""
    g = clip(rescale_grad * g, clip_gradient)
    history = history + np.mean(g * g, axis=1, keepdims=True)
    return w - lr * g / np.sqrt(history + epsilon), history


def lars(lrs, weights_sum_sq, grads_sum_sq, wds, eta, eps, rescale_grad=1.0, **_):
    """multi_lars: the new learning rate per weight (lr where either norm is 0)."""
    w_norm, g_norm = np.sqrt(weights_sum_sq), np.sqrt(grads_sum_sq)
    valid = (w_norm > 0) & (grads_sum_sq > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = lrs * eta * w_norm / (g_norm * rescale_grad + wds * w_norm + eps)
    return np.where(valid, scaled, lrs)


def lamb(w, g, mean, var, t, wd, lr, lower_bound=-1.0, upper_bound=-1.0, **attrs):
    """Both LAMB phases on one tensor, as multi_lamb_update does: (new weight, mean, var)."""
    step, mean, var = lamb_phase1(w, g, mean, var, t, wd, **attrs)
    r1, r2 = np.array([np.linalg.norm(w)]), np.array([np.linalg.norm(step)])
    return lamb_phase2(w, step, r1, r2, lr, lower_bound, upper_bound)[0], mean, var
