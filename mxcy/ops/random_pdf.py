"""The random_pdf_* operators: densities (or log-densities, is_log) of samples under uniform, normal, gamma,
exponential, Poisson, negative binomial, generalized negative binomial and Dirichlet distributions whose parameters
index the sample's leading axes, with MXNet 1.9.1's gradients (hidden _backward_pdf_* ops), on kernels/pdf.py (CPU and
CUDA; float16 in float32).
"""
from . import registry
from ._nn_common import kernel, kernel_compute
from .registry import OpDef, Param

__all__ = []

# Each distribution's parameter names, in MXNet's argument order.
_DISTRIBUTIONS = {
    "uniform": ("low", "high"), "normal": ("mu", "sigma"), "gamma": ("alpha", "beta"), "exponential": ("lam",),
    "poisson": ("lam",), "negative_binomial": ("k", "p"), "generalized_negative_binomial": ("mu", "alpha"),
    "dirichlet": ("alpha",),
}
_VECTOR = frozenset(("dirichlet",))  # one density per sample vector along the last axis


def _shapes(name, sample, params):
    """The parameters' shape for `sample` (its leading axes; the Dirichlet's last one is the vector length) and
    the output's shape; ValueError naming the shapes when they do not fit."""
    first = params[0]
    if any(tuple(p) != tuple(first) for p in params):
        raise ValueError(f"the parameters must have one shape, got {[tuple(p) for p in params]}")
    if len(first) == 0 or len(first) > len(sample):
        raise ValueError(f"parameters of shape {tuple(first)} need a sample with at least as many axes, got "
                         f"{tuple(sample)}")
    want = tuple(sample[:len(first)])
    if name in _VECTOR:
        want = want[:-1] + (sample[-1],)
    if tuple(first) != want:
        raise ValueError(f"parameters of shape {tuple(first)} do not match sample {tuple(sample)}: expected {want}")
    if name in _VECTOR:
        return want, tuple(sample[:-1]) or (1,)
    return want, tuple(sample)


def _infer(name, n_params):
    def infer(attrs, shapes):
        sample, params = shapes[0], shapes[1:1 + n_params]
        known = next((p for p in params if p is not None), None)
        if sample is None or known is None:
            return shapes, [None]
        filled = [known if p is None else p for p in params]
        param_shape, out = _shapes(name, tuple(sample), filled)
        return [sample] + [param_shape] * n_params + list(shapes[1 + n_params:]), [out]
    return infer


def _register(name):
    names = _DISTRIBUTIONS[name]
    n = len(names)

    def forward(device, attrs, inputs, outputs, reqs):
        kernel("pdf", "forward", device)(name, inputs[0], inputs[1:], outputs[0], attrs["is_log"], reqs[0])

    def backward(device, attrs, inputs, outputs, reqs):
        ograd, sample, params, out = inputs[0], inputs[1], inputs[2:2 + n], inputs[2 + n]
        kernel("pdf", "backward", device)(name, ograd, sample, params, out, outputs, attrs["is_log"], reqs)

    is_log = (Param("is_log", "bool", False, "compute the log-density instead of the density"),)
    registry.register(OpDef(
        f"_backward_pdf_{name}", params=is_log, arguments=("ograd", "sample") + names + ("output",),
        infer_shape=lambda attrs, shapes: (shapes, list(shapes[1:2 + n])), num_outputs=n + 1,
        compute=kernel_compute(backward),
        doc=f"random_pdf_{name}'s gradients wrt the sample and the parameters."))
    registry.register(OpDef(
        f"_random_pdf_{name}", aliases=(f"random_pdf_{name}",), params=is_log, arguments=("sample",) + names,
        infer_shape=_infer(name, n), compute=kernel_compute(forward),
        gradient=lambda F, attrs, inputs, outputs, ograds: list(
            getattr(F, f"_backward_pdf_{name}")(ograds[0], *inputs, outputs[0], **attrs)),
        doc=f"Density (log-density with is_log) of each sample under the {name.replace('_', ' ')} distribution "
            f"of parameters {', '.join(names)}, which index the sample's leading axes."))


for _name in _DISTRIBUTIONS:
    _register(_name)
