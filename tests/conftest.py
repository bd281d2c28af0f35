"""Test-wide setup: CUDA simulator when no GPU is present, a Numba cache, hypothesis profiles, and the
`sim_slow` marker: tests that take minutes in the simulator run only on a real GPU or with MXCY_SLOW=1."""
import os
import shutil

# Must happen before anything imports numba.cuda: without a GPU, CUDA kernels run in the simulator.
if "NUMBA_ENABLE_CUDASIM" not in os.environ and shutil.which("nvidia-smi") is None:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".numba_cache"))

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=25, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    import pytest
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" or os.environ.get("MXCY_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="minutes in the CUDA simulator; run with MXCY_SLOW=1 or on a GPU")
    for item in items:
        if "sim_slow" in item.keywords:
            item.add_marker(skip)
