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
    shard, shards = int(sys.argv[1]), int(sys.argv[2])
    checked = 0
    for info in pkgutil.iter_modules(mxcy.kernels.__path__, "mxcy.kernels."):
        module = importlib.import_module(info.name)
        for k, (fn, sig) in enumerate(getattr(module, "PTX_CHECKS", [])):
            if k % shards != shard:
                continue
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
    # Compiling is single-threaded and there are hundreds of kernels: one process per core.
    shards = os.cpu_count() or 1
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(k), str(shards)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(shards)]
    results = [(p.communicate(timeout=600), p.returncode) for p in procs]
    for (out, err), code in results:
        if code == NO_NVRTC:
            pytest.skip(out.strip())
        assert code == 0, out + err
        assert "compiled" in out
