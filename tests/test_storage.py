"""Device buffers: a GPU context that does not exist, or a missing CUDA driver, is a clear MXNetError; transfers
between host and device are counted, and a training step on gpu(0) makes none."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mxcy as mx
from mxcy import storage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.cuda
def test_a_gpu_index_past_the_devices_is_an_mxnet_error():
    with pytest.raises(mx.MXNetError, match=r"gpu\(99\): no such GPU"):
        mx.nd.zeros((2,), ctx=mx.gpu(99))


def test_a_missing_cuda_driver_is_an_mxnet_error():
    script = ("import mxcy as mx\n"
              "try:\n    mx.nd.ones((2,), ctx=mx.gpu(0))\n"
              "except mx.MXNetError as err:\n    print('MXNetError', err)\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(NUMBA_CUDA_DRIVER="/nonexistent/libcuda.so", PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("MXNetError gpu(0): no usable CUDA device"), res.stdout


# --- a training step on gpu(0) stays there --------------------------------------------------------

def _lenet_step(ctx):
    """One LeNet-style training step on `ctx` (tiny shapes): Convolution, BatchNorm, ReLU, max Pooling, Dropout,
    FullyConnected, SoftmaxOutput and softmax_cross_entropy, backward and an SGD update. Returns the loss array."""
    rng = np.random.default_rng(0)
    params = {name: mx.nd.array(rng.standard_normal(shape) * 0.3, ctx=ctx)
              for name, shape in [("conv_w", (3, 1, 3, 3)), ("conv_b", (3,)), ("gamma", (3,)), ("beta", (3,)),
                                  ("fc_w", (4, 3 * 3 * 3)), ("fc_b", (4,))]}
    stats = [mx.nd.zeros((3,), ctx=ctx), mx.nd.ones((3,), ctx=ctx)]
    data = mx.nd.array(rng.standard_normal((2, 1, 8, 8)), ctx=ctx)
    label = mx.nd.array([1, 3], ctx=ctx)
    for p in params.values():
        p.attach_grad()

    def step():
        with mx.autograd.record():
            x = mx.nd.Convolution(data, params["conv_w"], params["conv_b"], kernel=(3, 3), num_filter=3)
            x = mx.nd.BatchNorm(x, params["gamma"], params["beta"], *stats)
            x = mx.nd.Pooling(mx.nd.Activation(x, act_type="relu"), kernel=(2, 2), stride=(2, 2), pool_type="max")
            x = mx.nd.FullyConnected(mx.nd.Dropout(x, p=0.3), params["fc_w"], params["fc_b"], num_hidden=4)
            loss = mx.nd.softmax_cross_entropy(x, label)
            out = mx.nd.SoftmaxOutput(x, label, normalization="valid")
        mx.autograd.backward([out, loss])
        for p in params.values():
            p -= 0.1 * p.grad
        return loss
    return step


@pytest.mark.cuda
def test_a_gpu_training_step_copies_nothing_between_host_and_device():
    step = _lenet_step(mx.gpu(0))
    first = step()  # warm-up: compiles kernels
    first.asnumpy()
    before = storage.transfers()
    loss = step()
    mx.nd.waitall()
    assert storage.transfers() == before
    assert np.isfinite(loss.asnumpy()).all()  # the one transfer the test asks for
    assert storage.transfers() == (before[0], before[1] + 1)


@pytest.mark.cuda
def test_transfers_are_counted_both_ways():
    before = storage.transfers()
    a = mx.nd.array([1.0, 2.0], ctx=mx.gpu(0))
    a.asnumpy()
    after = storage.transfers()
    assert after[0] >= before[0] + 1 and after[1] == before[1] + 1


_DEVICE_ONLY_OPS = {  # ops that once copied to the host and back, or built a constant there
    "broadcast_to": lambda x: mx.nd.broadcast_to(x[:, :1], shape=(2, 6)),
    "UpSampling": lambda x: mx.nd.UpSampling(x.reshape((1, 2, 2, 3)), scale=2, sample_type="nearest"),
    "Dropout(axes)": lambda x: mx.nd.Dropout(x, p=0.5, axes=(0,), mode="always"),
    "rrelu": lambda x: mx.nd.LeakyReLU(x, act_type="rrelu"),
    "samplers": lambda x: [mx.nd.random.uniform(shape=(3,), ctx=x.context), mx.nd.random.normal(x, x + 1),
                           mx.nd.random.randint(0, 5, shape=(3,), ctx=x.context), mx.nd.random.shuffle(x)],
}


@pytest.mark.cuda
@pytest.mark.parametrize("name", _DEVICE_ONLY_OPS)
def test_gpu_ops_copy_nothing_between_host_and_device(name):
    x = mx.nd.array(np.arange(12, dtype=np.float32).reshape(2, 6) / 10, ctx=mx.gpu(0))
    _DEVICE_ONLY_OPS[name](x)  # warm-up
    mx.nd.waitall()
    before = storage.transfers()
    with mx.autograd.train_mode():
        _DEVICE_ONLY_OPS[name](x)
    mx.nd.waitall()
    assert storage.transfers() == before



_FAULTS = """
import resource
import mxcy
x = mxcy.nd.ones((10, 1024, 1024))  # 40 MB: 10240 pages, above glibc's largest dynamic mmap threshold (32 MB)
(x + 1).wait_to_read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    y = x + 1  # allocated by the caller, freed after an engine thread wrote it
    y.wait_to_read()
    del y
print(mxcy.storage.HOST_POOLED, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_freed_host_memory_is_kept_for_reuse_unless_unpooled():
    # glibc's defaults map each fresh block this large from the kernel again (page faults per output); pooled,
    # the freed block's pages are reused
    faults = {}
    for pool_type in ("Naive", "Unpooled"):
        out = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, MXNET_CPU_MEM_POOL_TYPE=pool_type))
        pooled, count = out.stdout.split()
        assert pooled == str(pool_type == "Naive")
        faults[pool_type] = int(count)
    assert faults["Naive"] < 1024  # under a tenth of one output's pages over ten outputs
    assert faults["Unpooled"] > 10 * max(faults["Naive"], 10)
