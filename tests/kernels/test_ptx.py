"""Every CUDA kernel under mxcy/kernels compiles to PTX for a real GPU (sm_80), simulator or not."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NO_NVRTC = 77

# Run apart from the test process, whose numba.cuda may be the simulator (it cannot compile PTX).
SCRIPT = textwrap.dedent(f"""
    import importlib, pkgutil, sys
    from numba import cuda

    def _probe(a):
        a[0] = 1
    try:
        cuda.compile_ptx(_probe, "void(int32[::1])", cc=(8, 0))
    except Exception as exc:
        if "nvrtc" in (type(exc).__name__ + str(exc)).lower():
            print(f"NVRTC unavailable: {{exc}}")
            sys.exit({NO_NVRTC})
        raise

    import mxcy.kernels
    checked = 0
    for info in pkgutil.iter_modules(mxcy.kernels.__path__, "mxcy.kernels."):
        module = importlib.import_module(info.name)
        for fn, sig in getattr(module, "PTX_CHECKS", []):
            try:
                cuda.compile_ptx(fn, sig, cc=(8, 0))
            except Exception as exc:
                print(f"FAILED {{info.name}}.{{fn.__name__}} {{sig}}: {{type(exc).__name__}}: {{exc}}")
                sys.exit(1)
            checked += 1
    print(f"compiled {{checked}} kernels")
""")


def test_all_kernels_compile_to_ptx():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    if res.returncode == NO_NVRTC:
        pytest.skip(res.stdout.strip())
    assert res.returncode == 0, res.stdout + res.stderr
    assert "compiled" in res.stdout
