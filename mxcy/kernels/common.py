"""Conventions shared by every kernel family: write-request codes, output assignment, and the declaration of
parallel CPU kernels.

Kernels import only numpy, numba, math and this module; never the rest of mxcy.
"""
import functools
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


def serial_only():
    """From now on every parallel kernel of this process runs its serial build, whatever its size: for a process
    that is one of several sharing the cores (a DataLoader worker), where a parallel region only adds threads that
    spin while the others wait."""
    global PARALLEL_MIN_ELEMENTS
    PARALLEL_MIN_ELEMENTS = 1 << 62


class ParallelKernel:
    """A `prange` kernel compiled twice from one source: threaded (`parallel=True`) and serial (prange runs
    as range), held by the function parallel_kernel declares, which picks the build for each call. Inside a
    build, calls to other parallel kernels go to their build of the same kind, so a serial driver never enters a
    parallel region."""

    def __init__(self, fn, options):
        self.py_func = fn
        self._options = options
        self._builds = {}
        self.serial = self.threaded = None  # the builds once made, for the calls' hot path

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
                inner = getattr(scope.get(name), "kernel", None)
                if isinstance(inner, ParallelKernel):
                    scope[name] = inner.build(threaded)
            if threaded:
                self.threaded = dispatcher
            else:
                self.serial = dispatcher
        return dispatcher


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
    `parallel`, which ParallelKernel sets per build. The declared function runs the threaded build when its largest
    array argument has at least PARALLEL_MIN_ELEMENTS * `light` (1 or LIGHT) elements, else the serial one; it is a
    plain function (a call costs 0.3 us less than an object's __call__, felt by tiny ops), with `kernel` (the
    ParallelKernel) and `build` attached."""
    def declare(fn):
        kernel = ParallelKernel(fn, options)

        def call(*args):
            limit = PARALLEL_MIN_ELEMENTS * light
            for a in args:
                if type(a) is np.ndarray and a.size >= limit:
                    return (kernel.threaded or kernel.build(True))(*args)
            return (kernel.serial or kernel.build(False))(*args)
        functools.update_wrapper(call, fn)
        call.kernel, call.build = kernel, kernel.build
        return call
    return declare
