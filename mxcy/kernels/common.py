"""Conventions shared by every kernel family: write-request codes, output assignment, and the declaration of
parallel CPU kernels.

Kernels import only numpy, numba, math and this module; never the rest of mxcy.
"""
import types

import numba
import numpy as np

# MXNet's OpReqType values, passed to kernels as plain ints.
REQ_NULL = 0
REQ_WRITE = 1
REQ_INPLACE = 2
REQ_ADD = 3


@numba.njit(inline="always", nogil=True)
def assign(old, value, req):
    """The value to store at an output element under write request `req`."""
    if req == REQ_ADD:
        return old + value
    return value


def flat(a):
    """The 1-D view of a C-contiguous array, host or device (the drivers' way to hand kernels flat arrays)."""
    return a.reshape(a.size)


# Below this many elements in its largest array a kernel runs its serial build. Entering a parallel region
# costs microseconds on a quiet machine and milliseconds when other threads hold the cores (every worker must
# reach the region's barrier), more than the whole work of a small array. Tests set it to 0 to run the
# threaded builds on small shapes.
PARALLEL_MIN_ELEMENTS = 1 << 15


class ParallelKernel:
    """A `prange` kernel compiled twice from one source: threaded (`parallel=True`) and serial (prange runs
    as range). A call picks the build from the size of its largest array argument. Inside a build, calls to
    other ParallelKernels go to their build of the same kind, so a serial driver never enters a parallel
    region."""

    def __init__(self, fn, options, light):
        self.py_func = fn
        self._light = light
        self._options = options
        self._builds = {}
        self.__name__, self.__qualname__, self.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        self.__module__ = fn.__module__

    def build(self, threaded):
        """The numba dispatcher of the threaded or the serial build, made on first use (when the module that
        defines the kernel, and every kernel it calls, exists)."""
        dispatcher = self._builds.get(threaded)
        if dispatcher is None:
            fn = self.py_func
            scope = dict(fn.__globals__)
            twin = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
            # Numba's on-disk cache is named after the qualified name and does not record the parallel
            # flag, so the serial build gets a name of its own.
            twin.__qualname__ = fn.__qualname__ + ("" if threaded else "_serial")
            twin.__module__ = fn.__module__
            names = _global_names(fn.__code__)
            # A driver without loops of its own only passes the choice on to the kernels it calls.
            parallel = threaded and "prange" in names
            dispatcher = self._builds[threaded] = numba.njit(parallel=parallel, **self._options)(twin)
            for name in names:
                value = scope.get(name)
                if isinstance(value, ParallelKernel):
                    scope[name] = value.build(threaded)
        return dispatcher

    def __call__(self, *args):
        largest = 0
        for a in args:
            if type(a) is np.ndarray:
                size = a.size
                if size > largest:
                    largest = size
        return self.build(largest >= PARALLEL_MIN_ELEMENTS * self._light)(*args)


def _global_names(code):
    """The global names a function's code (and the code nested in it) may load."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


# Memory-bound kernels doing a few operations an element (ReLU, its gradient, a bias gradient) stay serial up
# to LIGHT times the threshold: one thread streams ~0.6 M float32 elements in 0.08-0.6 ms, while entering a
# parallel region cost 1-5 ms of wall time (0.8 ms of CPU) with the cores shared (measured, load average 10-18).
LIGHT = 32


def parallel_kernel(light=1, **options):
    """Decorator for a CPU kernel with `prange` loops: numba.njit options (nogil, cache, fastmath, ...) without
    `parallel`, which the ParallelKernel sets per build; `light` (1 or LIGHT) scales the size from which the
    threaded build runs."""
    def declare(fn):
        return ParallelKernel(fn, options, light)
    return declare
