"""Every CUDA kernel under mxcy/kernels compiles to PTX for a real GPU (sm_80), simulator or not; the kernels that
promise the CPU's values bit for bit hold no fused multiply-add."""
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


# Kernel modules whose CUDA kernels equal the CPU bit for bit: (module, the PTX_CHECKS kernels by name (None: all),
# a text their signatures hold (None: any)). A GPU fuses a * b + c into one fma rounded once, where the CPU rounds the
# product first, so these must hold none.
FMA_FREE = [("random_dist", ("_uniform_kernel", "_dropout_kernel", "_randint_kernel", "_permutation_kernel"), None),
            ("cv_resize", None, "float"), ("image_colour", None, None), ("image_tensor", None, None)]

FMA_SCRIPT = textwrap.dedent(f"""
    import importlib, sys
    from numba import cuda
    module, names, in_sig = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        checks = importlib.import_module("mxcy.kernels." + module).PTX_CHECKS
        ptx = [cuda.compile_ptx(fn, sig, cc=(8, 0))[0] for fn, sig in checks
               if (names == "-" or fn.__name__ in names.split(",")) and (in_sig == "-" or in_sig in sig)]
    except Exception as exc:
        if "nvrtc" in str(exc).lower() or "nvvm" in str(exc).lower():
            sys.exit({NO_NVRTC})
        raise
    print(len(ptx), sum(line.count("fma.rn") for p in ptx for line in p.splitlines()))
""")


@pytest.mark.parametrize("module, names, in_sig", FMA_FREE, ids=[m for m, _, _ in FMA_FREE])
def test_bit_identical_kernels_have_no_fused_multiply_add(module, names, in_sig):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    res = subprocess.run([sys.executable, "-c", FMA_SCRIPT, module, ",".join(names) if names else "-", in_sig or "-"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if res.returncode == NO_NVRTC:
        pytest.skip("no CUDA compiler")
    assert res.returncode == 0, res.stderr
    compiled, fmas = (int(v) for v in res.stdout.split())
    assert compiled > 0 and fmas == 0
