"""Every op with a GPU compute, run on gpu(0) against cpu() through its OpSpec: forward outputs, autograd
gradients (so the gradient's own ops must run on the GPU too) and req add. Without a GPU this runs in
Numba's CUDA simulator, on the specs' small shapes. Also: which ops are CPU-only, and why."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.kernels.common import REQ_ADD
from mxcy.ops import registry
from mxcy.ops.invoke import invoke
from tests.ops.opspec import collect_specs

# Ops whose results legitimately differ between devices, with where their GPU path is tested instead.
NOT_COMPARED = {
    "Dropout": "masks come from each context's own random stream; tests/ops/test_nn_activation.py checks "
               "the GPU masks' properties",
}

# Ops that run on the CPU only, and why.
CPU_ONLY = {}
CPU_ONLY["_sample_unique_zipfian"] = "MXNet 1.9.1 has no GPU kernel for it either (unique_sample_op.cc, no .cu); " \
                                    "mxcy's draws from NumPy's Philox on the host (mxcy/ops/contrib_misc.py)"
CPU_ONLY["_contrib_RROIAlign"] = "MXNet 1.9.1 has no GPU kernel for RROIAlign either (no rroi_align.cu); the " \
                                 "Numba CPU kernel is mxcy/kernels/rroi_align.py"
CPU_ONLY.update({name: "MXNet 1.9.1 registers the DGL graph ops for the CPU only (dgl_graph.cc, no .cu); mxcy's run " \
                       "on the host (mxcy/ops/contrib_dgl.py)" for name in (
    "_contrib_dgl_csr_neighbor_uniform_sample", "_contrib_dgl_csr_neighbor_non_uniform_sample", "_contrib_dgl_subgraph",
    "_contrib_edge_id", "_contrib_dgl_adjacency", "_contrib_dgl_graph_compact")})


def _gpu_specs():
    specs, _ = collect_specs()
    return [s for s in specs
            if "gpu" in registry.get(s.name).compute and s.name not in NOT_COMPARED]


def _on(ctx, arrays):
    return [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]


def _run(ctx, spec, arrays, attrs, heads_rng):
    """(visible outputs, gradients of spec's differentiable inputs, req-add results) on `ctx`, as NumPy."""
    op = registry.get(spec.name)
    mx.random.seed(7, ctx=ctx)  # samplers on both devices then draw the same stream
    parsed = op.parse_attrs(attrs)
    n_visible = op.n_visible_outputs(parsed)
    inputs = _on(ctx, arrays)
    which = spec.grad_inputs if spec.grad_inputs is not None else \
        tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    grads = []
    with (mx.autograd.train_mode() if spec.train else mx.autograd.predict_mode()):
        if spec.grad:
            for i in which:
                inputs[i].attach_grad()
            with mx.autograd.record(train_mode=spec.train):
                outs = invoke(op, inputs, parsed, ctx=ctx)[:n_visible]
            heads = [heads_rng.standard_normal(o.shape).astype(o.dtype) if spec.grad_outputs is None
                     or k in spec.grad_outputs else np.zeros(o.shape, o.dtype) for k, o in enumerate(outs)]
            mx.autograd.backward(outs, _on(ctx, heads), train_mode=spec.train)
            grads = [inputs[i].grad.asnumpy() for i in which]
        else:
            outs = invoke(op, inputs, parsed, ctx=ctx)[:n_visible]
        priors = [np.linspace(-1, 1, o.size).reshape(o.shape).astype(o.dtype) for o in outs]
        # mx.nd.array makes a 0-d source (1,); the reshape keeps a 0-d output (contrib.allclose) 0-d.
        hidden = invoke(op, _on(ctx, arrays), parsed, ctx=ctx)[n_visible:]
        targets = [t.reshape(p.shape) for t, p in zip(_on(ctx, priors), priors)] + \
            [mx.nd.zeros(o.shape, ctx=ctx, dtype=o.dtype) for o in hidden]
        invoke(op, _on(ctx, arrays), parsed, out=targets, ctx=ctx, req=REQ_ADD)
    return [o.asnumpy() for o in outs], grads, [t.asnumpy() for t in targets[:n_visible]]


def _close(got, want, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=what)


@pytest.mark.cuda
@pytest.mark.parametrize("spec", _gpu_specs(), ids=repr)
@settings(max_examples=1, deadline=None)  # the simulator runs a convolution for seconds; each run draws anew
@given(seed=st.integers(0, 2**32 - 1))
def test_gpu_matches_cpu(spec, seed):
    arrays, attrs = spec.make(np.random.default_rng(seed))
    arrays = [a.astype(spec.dtype) if a.dtype.kind == "f" else a for a in arrays]
    head_seed = zlib.crc32(spec.name.encode()) ^ seed
    gpu = _run(mx.gpu(0), spec, arrays, attrs, np.random.default_rng(head_seed))
    cpu = _run(mx.cpu(), spec, arrays, attrs, np.random.default_rng(head_seed))
    for part, g_list, c_list in zip(("output", "gradient", "req add"), gpu, cpu):
        assert len(g_list) == len(c_list)
        for i, (g, c) in enumerate(zip(g_list, c_list)):
            _close(g, c, f"{spec.name}: gpu {part} {i}")


def _forward(ctx, spec, arrays, attrs):
    op = registry.get(spec.name)
    parsed = op.parse_attrs(attrs)
    with (mx.autograd.train_mode() if spec.train else mx.autograd.predict_mode()):
        outs = invoke(op, _on(ctx, arrays), parsed, ctx=ctx)[:op.n_visible_outputs(parsed)]
        return [o.asnumpy() for o in outs]


@pytest.mark.cuda
@pytest.mark.parametrize("spec", _gpu_specs(), ids=repr)
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_gpu_float16_forward_matches_cpu(spec, seed):
    """float16 inputs: both devices refuse them, or give the same float16 results (both compute in float32)."""
    arrays, attrs = spec.make(np.random.default_rng(seed))
    arrays = [a.astype(np.float16) if a.dtype.kind == "f" else a for a in arrays]
    try:
        cpu = _forward(mx.cpu(), spec, arrays, attrs)
    except mx.MXNetError:
        with pytest.raises(mx.MXNetError):
            _forward(mx.gpu(0), spec, arrays, attrs)
        return
    gpu = _forward(mx.gpu(0), spec, arrays, attrs)
    for i, (g, c) in enumerate(zip(gpu, cpu)):
        assert g.dtype == c.dtype, f"{spec.name}: gpu output {i} is {g.dtype}, cpu {c.dtype}"
        c = c.astype(np.float64)
        scale = max(1.0, float(np.max(np.abs(c), initial=0.0)))
        np.testing.assert_allclose(g.astype(np.float64), c, rtol=2e-3, atol=2e-3 * scale,
                                   err_msg=f"{spec.name}: float16 gpu output {i}")


def test_cpu_only_ops_are_listed_with_a_reason():
    # Python-defined ops (Custom) run through `imperative` on NDArrays of any context.
    cpu_only = sorted(op.name for op in registry.all_ops()
                      if "gpu" not in op.compute and not hasattr(op, "imperative"))
    assert cpu_only == sorted(CPU_ONLY), \
        f"unlisted CPU-only ops: {sorted(set(cpu_only) - set(CPU_ONLY))}; " \
        f"listed but now on GPU: {sorted(set(CPU_ONLY) - set(cpu_only))}"
