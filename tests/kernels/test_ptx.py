"""Every CUDA kernel under mxcy/kernels compiles to PTX for a real GPU (sm_80), simulator or not; the kernels that
promise the CPU's values bit for bit hold no fused multiply-add."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NO_NVRTC = 77

# Kernel modules whose CUDA kernels equal the CPU bit for bit: module -> (its PTX_CHECKS kernels by name (None: all),
# a text their signatures hold (None: any)). A GPU fuses a * b + c into one fma rounded once, where the CPU rounds the
# product first, so these must hold none.
FMA_FREE = {"random_dist": (("_uniform_kernel", "_dropout_kernel", "_randint_kernel", "_permutation_kernel"), None),
            "cv_resize": (None, "float"), "image_colour": (None, None), "image_tensor": (None, None)}

# Run apart from the test process, whose numba.cuda may be the simulator (it cannot compile PTX). Prints the count of
# kernels compiled, then a JSON line {module: [kernels checked for fmas, fmas found]} for FMA_FREE's selections.
SCRIPT = textwrap.dedent(f"""
    import importlib, json, pkgutil, sys
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
    shard, shards, fma_free = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    checked, fmas = 0, {{}}
    for info in pkgutil.iter_modules(mxcy.kernels.__path__, "mxcy.kernels."):
        module = importlib.import_module(info.name)
        name = info.name.rsplit(".", 1)[1]
        for k, (fn, sig) in enumerate(getattr(module, "PTX_CHECKS", [])):
            if k % shards != shard:
                continue
            try:
                ptx = cuda.compile_ptx(fn, sig, cc=(8, 0))[0]
            except Exception as exc:
                print(f"FAILED {{info.name}}.{{fn.__name__}} {{sig}}: {{type(exc).__name__}}: {{exc}}")
                sys.exit(1)
            checked += 1
            if name in fma_free:
                names, in_sig = fma_free[name]
                if (names is None or fn.__name__ in names) and (in_sig is None or in_sig in sig):
                    seen = fmas.setdefault(name, [0, 0])
                    seen[0] += 1
                    seen[1] += ptx.count("fma.rn")
    print(f"compiled {{checked}} kernels")
    print(json.dumps(fmas))
""")


def test_all_kernels_compile_to_ptx_and_the_bit_identical_ones_hold_no_fma():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    # Compiling is single-threaded and there are hundreds of kernels: one process per core.
    shards = os.cpu_count() or 1
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(k), str(shards), json.dumps(FMA_FREE)], env=env,
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(shards)]
    results = [(p.communicate(timeout=600), p.returncode) for p in procs]
    fmas = {}
    for (out, err), code in results:
        if code == NO_NVRTC:
            pytest.skip(out.strip())
        assert code == 0, out + err
        assert "compiled" in out
        for module, (kernels, found) in json.loads(out.strip().splitlines()[-1]).items():
            seen = fmas.setdefault(module, [0, 0])
            seen[0] += kernels
            seen[1] += found
    assert sorted(fmas) == sorted(FMA_FREE)  # every listed module had kernels checked
    assert {module: found for module, (_, found) in fmas.items()} == {module: 0 for module in FMA_FREE}
