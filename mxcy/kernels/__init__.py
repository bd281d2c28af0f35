"""Numba kernels on raw arrays, and the one place mxcy configures Numba's CPU threading.

Engine workers enter `prange` kernels from several threads at once. Numba's default layer order
falls back to `workqueue` when TBB is absent, and workqueue aborts the process on concurrent entry.
"threadsafe" selects TBB when it is installed (thread- and fork-safe) and OpenMP otherwise, both
documented safe for concurrent callers; GNU OpenMP is not fork-safe, so a forked child (e.g. a
data-loading worker) that runs a `prange` kernel needs TBB (`pip install tbb`) or the spawn start
method. A layer the user names in NUMBA_THREADING_LAYER is left alone.
"""
import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    # Through the environment too: numba.config.reload_config() (the CUDA simulator's set-up calls it)
    # rereads it, and child processes inherit it.
    os.environ["NUMBA_THREADING_LAYER"] = "threadsafe"
    numba.config.THREADING_LAYER = "threadsafe"
