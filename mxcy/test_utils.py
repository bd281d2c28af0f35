"""mx.test_utils: MXNet's helpers for testing code that uses it (tolerances and comparisons, random
arrays and shapes, numerical gradients, environment and retry helpers, the default test context).

Like MXNet's, this module has no `__all__`: `from mxnet.test_utils import *` also hands out the
modules and names it imports (np, mx, os, Context, array, Symbol, ...), which MXNet's tests rely on.
The Symbol checks, sparse generators, distribution checks and data-set helpers live in the
_symbol_checks, _test_sparse, _test_stats and _test_data modules and are re-exported here.
"""
# Module-level imports mirror MXNet's test_utils: `import *` hands them out.
import time  # noqa: F401
import gzip  # noqa: F401
import struct  # noqa: F401
import traceback  # noqa: F401
import numbers
import sys  # noqa: F401
import os
import platform
import errno  # noqa: F401
import logging  # noqa: F401
import bz2  # noqa: F401
import zipfile  # noqa: F401
import json
from contextlib import contextmanager
from collections import OrderedDict  # noqa: F401
import numpy as np
import numpy.testing as npt
import numpy.random as rnd

import mxcy as mx
from .base import MXNetError
from .context import Context, current_context, _stack
from .ndarray import array
from .symbol import Symbol
from .util import use_np, getenv, setenv, get_cuda_compute_capability
from .runtime import Features


def default_context():
    """The context tests run on: the current context (set_default_context changes it)."""
    return current_context()


def set_default_context(ctx):
    """Make `ctx` this thread's current context (until a `with` block restores its own)."""
    _stack()[-1] = Context(ctx)


def default_dtype():
    return np.float32


def default_rtols():
    """Relative tolerance by dtype for comparisons (integers and booleans compare exactly)."""
    exact = {np.dtype(t): 0 for t in (np.bool_, np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64)}
    return {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5, **exact}


def default_atols():
    """Absolute tolerance by dtype for comparisons (integers and booleans compare exactly)."""
    exact = {np.dtype(t): 0 for t in (np.bool_, np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64)}
    return {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-20, **exact}


def default_numeric_eps():
    """Finite-difference step by dtype: powers of two, so that x + eps loses no bits of eps."""
    return {np.dtype(np.float16): 1.0 / 2 ** 6, np.dtype(np.float32): 1.0 / 2 ** 9,
            np.dtype(np.float64): 1.0 / 2 ** 14}


def effective_dtype(dat):
    """The dtype whose tolerance applies to `dat`: its own. (MXNet widens float32 on sm_80+ GPUs to
    float16's tolerance because cuBLAS/cuDNN use TF32 there; mxcy's kernels compute in float32.)"""
    return np.dtype(dat.dtype)


def get_tolerance(dat, tol, default_tol):
    """`tol` itself if a number, else its entry (or default_tol's) for dat's effective dtype."""
    if isinstance(tol, numbers.Number):
        return tol
    dtype = effective_dtype(dat)
    tol = {} if tol is None else tol
    if dtype in tol:
        return tol[dtype]
    if dtype in default_tol:
        return default_tol[dtype]
    return 0 if dtype.kind in "biu" else default_tol[np.dtype(np.float64)]


def get_tols(x, y, rtol, atol):
    """(rtol, atol) for comparing x and y: the larger tolerance of their two dtypes where not given."""
    x = np.array(x) if isinstance(x, numbers.Number) else x
    y = np.array(y) if isinstance(y, numbers.Number) else y
    return (max(get_tolerance(x, rtol, default_rtols()), get_tolerance(y, rtol, default_rtols())),
            max(get_tolerance(x, atol, default_atols()), get_tolerance(y, atol, default_atols())))


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    return default_atols()[np.dtype(dtype)] if atol is None else atol


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    return default_rtols()[np.dtype(dtype)] if rtol is None else rtol


def get_etol(etol=None):
    """Tolerated fraction of mismatching elements (assert_almost_equal_with_err); default 0."""
    return 0 if etol is None else etol


def _numpy(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)


def random_arrays(*shapes):
    """Standard-normal float32 NumPy arrays of the given shapes (a single array for one shape)."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if not s else
              np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_uniform_arrays(*shapes, **kwargs):
    """Uniform NumPy arrays (keywords low=0, high=1, dtype=float32), always as a list."""
    low, high = kwargs.pop("low", 0.0), kwargs.pop("high", 1.0)
    dtype = kwargs.pop("dtype", default_dtype())
    if kwargs:
        raise TypeError(f"random_uniform_arrays: unexpected arguments {sorted(kwargs)}")
    return [np.random.uniform(low, high, size=s).astype(dtype) for s in shapes]


def random_sample(population, k):
    """k distinct elements of the list `population`, in random order."""
    assert 0 <= k <= len(population)
    shuffled = population[:]
    np.random.shuffle(shuffled)
    return shuffled[:k]


def assign_each(the_input, function):
    """A float64 array of function(x) for each element x of `the_input` (a copy when function is None)."""
    if function is None:
        return np.array(the_input)
    return np.vectorize(function, otypes=[np.float64])(the_input).reshape(np.shape(the_input))


def assign_each2(input1, input2, function):
    """A float64 array of function(x, y) over the elements of two same-shape arrays (a copy of
    input1 when function is None)."""
    if function is None:
        return np.array(input1)
    assert input1.shape == input2.shape
    return np.vectorize(function, otypes=[np.float64])(input1, input2).reshape(input1.shape)


def create_2d_tensor(rows, columns, dtype=np.int64):
    """NDArray (rows, columns) whose row i holds i everywhere."""
    return mx.nd.broadcast_to(mx.nd.arange(0, rows, dtype=dtype).reshape(rows, 1), shape=(rows, columns))


def create_vector(size, dtype=np.int64):
    """NDArray [0, 1, ..., size-1]."""
    return mx.nd.arange(0, size, dtype=dtype)


def get_identity_mat(size):
    """The (size, size) float32 identity as an NDArray."""
    return mx.nd.array(np.eye(size, dtype=np.float32))


def get_identity_mat_batch(size):
    """Two stacked (size, size) identities as an NDArray of shape (2, size, size)."""
    return mx.nd.array(np.stack([np.eye(size, dtype=np.float32)] * 2))


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None,
                 shuffle_csr_indices=False, distribution=None, ctx=None):
    """A random NDArray: standard normal values for 'default', rand_sparse_ndarray's for 'csr'/'row_sparse'."""
    ctx = ctx or default_context()
    if stype == "default":
        return mx.nd.array(random_arrays(shape), dtype=dtype, ctx=ctx)
    arr, _ = rand_sparse_ndarray(shape, stype, density=density, modifier_func=modifier_func, dtype=dtype,
                                 shuffle_csr_indices=shuffle_csr_indices, distribution=distribution, ctx=ctx)
    return arr


def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return rnd.randint(low, dim0 + 1), rnd.randint(low, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return rnd.randint(low, dim0 + 1), rnd.randint(low, dim1 + 1), rnd.randint(low, dim2 + 1)


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(int(d) for d in rnd.randint(low, dim + 1, size=num_dim))


def rand_coord_2d(x_low, x_high, y_low, y_high):
    """A random integer point (x, y) with x_low <= x < x_high, y_low <= y < y_high."""
    return np.random.randint(x_low, x_high, dtype=np.int64), np.random.randint(y_low, y_high, dtype=np.int64)


def np_reduce(dat, axis, keepdims, numpy_reduce_func):
    """Reduce `dat` over `axis` (None, int or tuple) with a one-axis NumPy reduction function."""
    axes = range(dat.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    axes = sorted(a % dat.ndim for a in axes)
    ret = dat
    for i in reversed(axes):
        ret = numpy_reduce_func(ret, axis=i)
    if keepdims:
        shape = list(dat.shape)
        for i in axes:
            shape[i] = 1
        ret = ret.reshape(shape)
    return ret


def find_max_violation(a, b, rtol=None, atol=None):
    """(index, violation): where |a - b| exceeds atol + rtol * |b| the most, and by what factor."""
    a, b = np.broadcast_arrays(_numpy(a).astype(np.float64), _numpy(b).astype(np.float64))
    diff = np.where(a == b, 0.0, np.abs(a - b))  # equal infinities are no violation
    violation = diff / (get_atol(atol) + get_rtol(rtol) * np.abs(b) + 1e-20)
    violation = np.where(np.isnan(violation), np.inf, violation)
    if not violation.size:
        return (), 0.0
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(violation)), violation.shape))
    return idx, float(violation[idx])


def same(a, b):
    """Whether two arrays (NumPy or NDArray) have the same shape and elements."""
    return np.array_equal(_numpy(a), _numpy(b))


def checkShapes(a, b):
    """AssertionError unless a and b have the same shape."""
    if a.shape != b.shape:
        raise AssertionError(npt.build_err_msg([a, b], err_msg=f"a.shape = {a.shape} and b.shape = {b.shape} "
                                                               "are not equal"))


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """np.allclose of a and b (NDArrays allowed), defaults rtol=1e-5, atol=1e-20."""
    if not use_broadcast:
        checkShapes(a, b)
    return bool(np.allclose(_numpy(a), _numpy(b), rtol=get_rtol(rtol), atol=get_atol(atol),
                            equal_nan=equal_nan))


def locationError(a, b, index, names, maxError=False):
    """"Location of [maximum ]error: <index>, a=<value>, b=<value>" for a mismatch report."""
    return (f"Location of {'maximum ' if maxError else ''}error: {index}, {names[0]}={float(a[index]):.8f}, "
            f"{names[1]}={float(b[index]):.8f}")


def _mismatch_message(a, b, rtol, atol, names, equal_nan, mismatches):
    """The worst element, how many differ, and up to mismatches[0] of them (worst first)."""
    aa, bb = np.broadcast_arrays(a, b)
    close = np.isclose(aa, bb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    bad = np.argwhere(~close)
    idx, rel = find_max_violation(aa, bb, rtol, atol)
    lines = [f"Error {rel:f} exceeds tolerance rtol={rtol:e}, atol={atol:e} ({len(bad)} of {aa.size} elements "
             f"differ, mismatch {100.0 * len(bad) / max(aa.size, 1):f}%).",
             locationError(aa, bb, idx, names, maxError=True)]
    for pos in bad[:mismatches[0]]:
        pos = tuple(int(p) for p in pos)
        lines.append(f"  at {pos}: {names[0]}={aa[pos].item()} {names[1]}={bb[pos].item()}")
    return "\n".join(lines)


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """AssertionError, naming the worst element and how many differ, unless |a - b| <= atol + rtol*|b|
    everywhere; tolerances default by dtype (default_rtols/default_atols). Booleans compare exactly."""
    if not use_broadcast and np.shape(_numpy(a)) != np.shape(_numpy(b)):
        raise AssertionError(f"Shapes differ: {names[0]}{np.shape(_numpy(a))} vs {names[1]}{np.shape(_numpy(b))}")
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _numpy(a), _numpy(b)
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        np.testing.assert_equal(a, b)
        return
    try:
        if np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan):
            return
    except ValueError as err:
        raise AssertionError(f"Cannot compare {names[0]}{a.shape} with {names[1]}{b.shape}: {err}") from None
    raise AssertionError(_mismatch_message(a, b, rtol, atol, names, equal_nan, mismatches))


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_almost_equal_with_err(a, b, rtol=None, atol=None, etol=None, names=("a", "b"), equal_nan=False,
                                 mismatches=(10, 10)):
    """As assert_almost_equal, but passes while at most a fraction `etol` of the elements differ."""
    etol = get_etol(etol)
    if etol <= 0:
        assert_almost_equal(a, b, rtol=rtol, atol=atol, names=names, equal_nan=equal_nan)
        return
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _numpy(a), _numpy(b)
    close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if 1 - np.count_nonzero(close) / close.size > etol:
        raise AssertionError(_mismatch_message(a, b, rtol, atol, names, equal_nan, mismatches))


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    """assert_almost_equal with the positions where either array is NaN left out."""
    a, b = np.array(_numpy(a)), np.array(_numpy(b))
    nan = np.isnan(a) | np.isnan(b)
    a[nan] = 0
    b[nan] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def assert_exception(f, exception_type, *args, **kwargs):
    """Assert that f(*args, **kwargs) raises exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError(f"{getattr(f, '__name__', f)} did not raise {exception_type.__name__}")


def retry(n):
    """Decorator: rerun a stochastic test up to n times while it fails with an AssertionError."""
    assert n > 0

    def decorate(f):
        def wrapper(*args, **kwargs):
            for i in range(n):
                try:
                    f(*args, **kwargs)
                    return
                except AssertionError:
                    if i == n - 1:
                        raise
                    mx.nd.waitall()
        return wrapper
    return decorate


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True,
                 dtype=np.float32):
    """Central-difference gradient of the sum of the outputs for each array in `location`.

    `executor` is an Executor bound to the arrays named in `location` (MXNet's form), or a function
    mapping a dict name -> NumPy array to an array or list of arrays (whose sum is differentiated).
    """
    if callable(executor) and not hasattr(executor, "forward"):
        f = executor
    else:
        f = executor_function(executor, aux_states, use_forward_train, dtype)
    grads = {}
    for name, value in location.items():
        x = np.array(_numpy(value), dtype=dtype, order="C")  # C order: `flat` must be a view of x, not a copy
        grad = np.zeros_like(x)
        flat, gflat = x.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps / 2
            plus = _sum_outputs(f({**location, name: x}))
            flat[i] = old - eps / 2
            minus = _sum_outputs(f({**location, name: x}))
            flat[i] = old
            gflat[i] = (plus - minus) / eps
        grads[name] = grad
    return grads


def executor_function(executor, aux_states, is_train, dtype):
    """loc (name -> array) -> the executor's first output after writing loc into its arguments. Arguments whose
    values equal what the last call wrote are not written again (numeric_grad changes one element a call)."""
    written = {}

    def f(loc):
        args = executor.arg_dict
        for key, value in loc.items():
            value = np.asarray(_numpy(value), dtype=dtype)
            last = written.get(key)
            if last is None or last.shape != value.shape or not np.array_equal(last, value):
                args[key][:] = value
                written[key] = value.copy()
        for key, value in (aux_states or {}).items():
            executor.aux_dict[key][:] = np.asarray(_numpy(value), dtype=dtype)
        return executor.forward(is_train=is_train)[0]
    return f


def _sum_outputs(outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return sum(float(np.sum(_numpy(o), dtype=np.float64)) for o in outputs)


def list_gpus():
    """range(number of GPUs)."""
    return range(mx.util.get_gpu_count())


def same_array(array1, array2):
    """Whether two NDArrays share memory: adding 1 through array1 must show in array2 (then undone)."""
    array1[:] += 1
    shared = same(array1.asnumpy(), array2.asnumpy())
    array1[:] -= 1
    return shared and same(array1.asnumpy(), array2.asnumpy())


@contextmanager
def discard_stderr():
    """`with discard_stderr():` sends file descriptor 2 (Python's and native code's stderr) to /dev/null."""
    fd = 2  # the process's stderr, which native code writes to even when sys.stderr is replaced
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)


def compare_ndarray_tuple(t1, t2, rtol=None, atol=None):
    """assert_almost_equal on two arrays or (nested) tuples of arrays; None on either side skips."""
    if t1 is None or t2 is None:
        return
    if isinstance(t1, tuple):
        for s1, s2 in zip(t1, t2):
            compare_ndarray_tuple(s1, s2, rtol, atol)
    else:
        assert_almost_equal(t1, t2, rtol=rtol, atol=atol)


def compare_optimizer(opt1, opt2, shape, dtype, w_stype="default", g_stype="default", rtol=1e-4, atol=1e-5,
                      compare_states=True, ntensors=1):
    """Apply one update of opt1 and of opt2 to the same random weights and gradients; compare states
    and weights. `shape` a list: ntensors tensors, opt2 updating them all in one multi-tensor call."""
    ctx = default_context()
    if isinstance(shape, list):
        w1 = tuple(mx.random.uniform(shape=s, ctx=ctx, dtype=dtype) for s in shape)
        g1 = tuple(mx.random.uniform(shape=s, ctx=ctx, dtype=dtype) for s in shape)
        w2, g2 = tuple(w.copy() for w in w1), tuple(g.copy() for g in g1)
        state2 = [opt2.create_state_multi_precision(0, w2[i]) for i in range(ntensors)]
        opt2.update_multi_precision(list(range(ntensors)), w2, g2, state2)
        for i in range(ntensors):
            state1 = opt1.create_state_multi_precision(i, w1[i])
            opt1.update_multi_precision(i, w1[i], g1[i], state1)
            if compare_states:
                compare_ndarray_tuple(state1, state2[i], rtol, atol)
            compare_ndarray_tuple(w1[i], w2[i], rtol, atol)
        return
    assert ntensors == 1

    def pair(stype, density):
        if stype == "default":
            second = mx.random.uniform(shape=shape, ctx=ctx, dtype=dtype)
            return second.copyto(ctx), second
        if stype in ("row_sparse", "csr"):
            second = rand_ndarray(shape, stype, density=density, dtype=dtype)
            return second.copyto(ctx).tostype("default"), second
        raise MXNetError(f"compare_optimizer: storage type {stype!r} is not supported")
    w1, w2 = pair(w_stype, 1)
    g1, g2 = pair(g_stype, None)
    state1 = opt1.create_state_multi_precision(0, w1)
    state2 = opt2.create_state_multi_precision(0, w2)
    if compare_states:
        compare_ndarray_tuple(state1, state2)
    opt1.update_multi_precision(0, w1, g1, state1)
    opt2.update_multi_precision(0, w2, g2, state2)
    if compare_states:
        compare_ndarray_tuple(state1, state2, rtol=rtol, atol=atol)
    assert_almost_equal(w1, w2, rtol=rtol, atol=atol)


def same_symbol_structure(sym1, sym2):
    """Whether the two Symbols' JSON graphs have the same operator at every node position."""
    nodes1 = json.loads(sym1.tojson())["nodes"]
    nodes2 = json.loads(sym2.tojson())["nodes"]
    return all(n1["op"] == n2["op"] for n1, n2 in zip(nodes1, nodes2))


@contextmanager
def environment(*args):
    """`with environment(name, value):` or `with environment({name: value, ...}):` sets environment
    variables (None removes one) for the body and restores the previous values afterwards, after
    waiting for pending work that may read them."""
    if len(args) == 1 and isinstance(args[0], dict):
        env_vars = args[0]
    elif len(args) == 2:
        env_vars = {args[0]: args[1]}
    else:
        raise MXNetError("environment: expecting one dict argument or two arguments: a variable's name and value")
    snapshot = {name: os.environ.get(name) for name in env_vars}
    for name, value in env_vars.items():
        setenv(name, value)
    try:
        yield
    finally:
        mx.nd.waitall()
        for name, value in snapshot.items():
            setenv(name, value)


def collapse_sum_like(a, shape):
    """Sum NumPy array `a` over the axes it was broadcast along from `shape`."""
    assert len(a.shape) >= len(shape)
    if np.prod(shape) == 0 or a.size == 0:
        return np.zeros(shape, dtype=a.dtype)
    lead = len(a.shape) - len(shape)
    axes = list(range(lead))
    for i, s in enumerate(shape):
        if s != a.shape[lead + i]:
            assert s == 1, f"collapse_sum_like: shape {shape} does not broadcast to {a.shape}"
            axes.append(lead + i)
    return np.sum(a, axis=tuple(axes)).reshape(shape)


def is_cd_run():
    """Whether this runs as part of MXNet's continuous-delivery jobs ($CD_JOB == '1')."""
    return os.environ.get("CD_JOB", "0") == "1"


def is_aarch64_run():
    return platform.machine() == "aarch64"


def has_tvm_ops():
    """Whether TVM-generated operators are built in (never in mxcy)."""
    return Features().is_enabled("TVM_OP")


def is_op_runnable():
    """Whether operators may run on the current context: always, as mxcy has no TVM operators
    needing a minimum CUDA compute capability."""
    return not has_tvm_ops()


def new_matrix_with_real_eigvals_2d(n):
    """An (n, n) matrix Q^-1 D Q with real eigenvalues D in [-10, 10] and a well-conditioned Q
    (a Householder reflection times a diagonal, redrawn until its 2-norm condition is below 3)."""
    while True:
        v = np.random.uniform(-1.0, 1.0, (n, 1))
        v /= np.linalg.norm(v)
        q = (np.eye(n) - 2 * v @ v.T) @ np.diag(np.random.uniform(-1.0, 1.0, n))
        if np.linalg.cond(q, 2) < 3:
            break
    return np.linalg.inv(q) @ np.diag(np.random.uniform(-10.0, 10.0, n)) @ q


def new_matrix_with_real_eigvals_nd(shape):
    """A batch of new_matrix_with_real_eigvals_2d matrices of `shape` (..., n, n)."""
    count = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return np.array([new_matrix_with_real_eigvals_2d(shape[-1]) for _ in range(count)]).reshape(shape)


def new_orthonormal_matrix_2d(n):
    """A random (n, n) orthonormal matrix (the Q of a QR factorisation)."""
    x = np.random.randn(n, n)
    return np.linalg.qr(x.T @ x)[0]


def new_sym_matrix_with_real_eigvals_2d(n):
    """A random symmetric (n, n) matrix Q^T D Q with eigenvalues D in [-10, 10]."""
    q = new_orthonormal_matrix_2d(n)
    return q.T @ np.diag(np.random.uniform(-10.0, 10.0, n)) @ q


def new_sym_matrix_with_real_eigvals_nd(shape):
    """A batch of new_sym_matrix_with_real_eigvals_2d matrices of `shape` (..., n, n)."""
    count = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return np.array([new_sym_matrix_with_real_eigvals_2d(shape[-1]) for _ in range(count)]).reshape(shape)


from ._symbol_checks import (check_consistency, check_gluon_hybridize_consistency,  # noqa: E402,F401
                             check_numeric_gradient, check_speed, check_symbolic_backward,
                             check_symbolic_forward, random_projection, simple_forward)
from ._test_sparse import (create_sparse_array, create_sparse_array_zd, rand_sparse_ndarray,  # noqa: E402,F401
                           shuffle_csr_column_indices)
from ._test_stats import (chi_square_check, gen_buckets_probs_with_ppf, mean_check, var_check,  # noqa: E402,F401
                          verify_generator)
from ._test_data import (DummyIter, download, download_model, get_bz2_data, get_cifar10,  # noqa: E402,F401
                         get_im2rec_path, get_mnist, get_mnist_iterator, get_mnist_pkl, get_mnist_ubyte,
                         get_zip_data)
