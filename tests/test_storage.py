"""Device buffers: a GPU context that does not exist, or a missing CUDA driver, is a clear MXNetError."""
import os
import subprocess
import sys

import pytest

import mxcy as mx

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
