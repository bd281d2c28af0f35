"""mx.test_utils: MXNet's helpers for testing code that uses it (tolerant comparison, random arrays
and shapes, numerical gradients, default test context)."""
import numpy as np

from .base import MXNetError
from .context import Context, current_context

__all__ = ["default_context", "set_default_context", "get_rtol", "get_atol", "get_tols",
           "almost_equal", "assert_almost_equal", "assert_allclose", "same", "find_max_violation",
           "assert_exception", "rand_shape_2d", "rand_shape_3d", "rand_shape_nd", "rand_ndarray",
           "random_arrays", "np_reduce", "numeric_grad", "get_mnist", "check_numeric_gradient",
           "check_symbolic_forward", "check_symbolic_backward", "check_consistency", "simple_forward",
           "random_projection"]

_default_ctx = [None]

# Default (rtol, atol) by the wider dtype of the two compared arrays.
_TOLS = {np.dtype(np.float16): (1e-2, 1e-4), np.dtype(np.float32): (1e-4, 1e-6),
         np.dtype(np.float64): (1e-5, 1e-20)}


def default_context():
    """The context tests run on: set_default_context's value, else the current context."""
    return _default_ctx[0] or current_context()


def set_default_context(ctx):
    _default_ctx[0] = Context(ctx)


def get_rtol(rtol=None):
    return 1e-5 if rtol is None else rtol


def get_atol(atol=None):
    return 1e-20 if atol is None else atol


def _numpy(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)


def get_tols(a, b, rtol, atol):
    """rtol and atol, defaulted by the dtypes of `a` and `b` (a dict maps dtype -> tolerance)."""
    dtypes = [np.dtype(getattr(x, "dtype", np.float64)) for x in (a, b)]
    widest = max((d for d in dtypes if d in _TOLS), key=lambda d: d.itemsize, default=None)
    default = _TOLS.get(widest, (1e-5, 1e-20))
    if isinstance(rtol, dict):
        rtol = max(rtol.get(d, default[0]) for d in dtypes)
    if isinstance(atol, dict):
        atol = max(atol.get(d, default[1]) for d in dtypes)
    return (default[0] if rtol is None else rtol), (default[1] if atol is None else atol)


def same(a, b):
    return np.array_equal(_numpy(a), _numpy(b))


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _numpy(a), _numpy(b)
    if not use_broadcast and a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def find_max_violation(a, b, rtol=None, atol=None):
    """(index, violation): where |a - b| exceeds atol + rtol * |b| the most, and by what factor."""
    a, b = np.broadcast_arrays(_numpy(a).astype(np.float64), _numpy(b).astype(np.float64))
    violation = np.abs(a - b) / (get_atol(atol) + get_rtol(rtol) * np.abs(b) + 1e-20)
    violation = np.where(np.isnan(violation), np.inf, violation)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(violation)), violation.shape)) \
        if violation.size else ()
    return idx, float(violation[idx]) if violation.size else 0.0


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """Raise AssertionError, naming the worst element and how many differ, unless a ~= b."""
    rtol, atol = get_tols(a, b, rtol, atol)
    a_np, b_np = _numpy(a), _numpy(b)
    if not use_broadcast and a_np.shape != b_np.shape:
        raise AssertionError(f"Shapes differ: {names[0]}{a_np.shape} vs {names[1]}{b_np.shape}")
    try:
        close = np.isclose(a_np, b_np, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError as err:
        raise AssertionError(f"Cannot compare {names[0]}{a_np.shape} with {names[1]}{b_np.shape}: "
                             f"{err}") from None
    if close.all():
        return
    idx, rel = find_max_violation(a_np, b_np, rtol, atol)
    aa, bb = np.broadcast_arrays(a_np, b_np)
    bad = np.argwhere(~np.broadcast_to(close, aa.shape))
    lines = [f"Error {rel:f} exceeds tolerance rtol={rtol:e}, atol={atol:e} "
             f"({len(bad)} of {aa.size} elements differ). Location of maximum error: {idx}, "
             f"{names[0]}={aa[idx].item()}, {names[1]}={bb[idx].item()}"]
    for pos in bad[:mismatches[0]]:
        pos = tuple(int(p) for p in pos)
        lines.append(f"  at {pos}: {names[0]}={aa[pos].item()} {names[1]}={bb[pos].item()}")
    raise AssertionError("\n".join(lines))


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_exception(f, exception_type, *args, **kwargs):
    """Assert that f(*args, **kwargs) raises exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError(f"{getattr(f, '__name__', f)} did not raise {exception_type.__name__}")


def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(int(d) for d in np.random.randint(low, (dim0 + 1, dim1 + 1)))


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(int(d) for d in np.random.randint(low, (dim0 + 1, dim1 + 1, dim2 + 1)))


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(int(d) for d in np.random.randint(low, dim + 1, size=num_dim))


def random_arrays(*shapes):
    """Standard-normal float32 NumPy arrays of the given shapes (a single array for one shape)."""
    arrays = [np.array(np.random.randn(), dtype=np.float32) if not s else
              np.random.randn(*s).astype(np.float32) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def rand_ndarray(shape, stype="default", density=None, dtype=None, distribution=None, ctx=None):
    """A random NDArray; for 'csr'/'row_sparse' a fraction `density` of entries (or rows) is kept."""
    from . import ndarray as nd
    ctx = ctx or default_context()
    values = np.random.uniform(-1, 1, size=shape).astype(dtype or np.float32)
    if stype == "default":
        return nd.array(values, ctx=ctx, dtype=values.dtype)
    density = np.random.rand() if density is None else density
    if stype == "csr":
        values *= np.random.rand(*values.shape) < density
        return nd.sparse.csr_matrix(values, shape=shape, ctx=ctx, dtype=values.dtype)
    if stype == "row_sparse":
        values *= (np.random.rand(values.shape[0]) < density).reshape((-1,) + (1,) * (values.ndim - 1))
        return nd.sparse.row_sparse_array(values, shape=shape, ctx=ctx, dtype=values.dtype)
    raise MXNetError(f"rand_ndarray: unknown stype {stype!r}")


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


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True,
                 dtype=np.float32):
    """Central-difference gradient of the sum of the first output for each array in `location`.

    `executor` is an Executor bound to the arrays named in `location` (MXNet's form), or a function
    mapping a dict name -> NumPy array to an array or list of arrays (whose sum is differentiated).
    """
    if callable(executor) and not hasattr(executor, "forward"):
        f = executor
    else:
        f = executor_function(executor, aux_states, use_forward_train, dtype)
    grads = {}
    for name, value in location.items():
        x = np.array(_numpy(value), dtype=dtype)
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
    """loc (name -> array) -> the executor's first output after writing loc into its arguments."""
    def f(loc):
        for key, value in loc.items():
            executor.arg_dict[key][:] = np.asarray(_numpy(value), dtype=dtype)
        for key, value in (aux_states or {}).items():
            executor.aux_dict[key][:] = np.asarray(_numpy(value), dtype=dtype)
        return executor.forward(is_train=is_train)[0]
    return f


def _sum_outputs(outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return sum(float(np.sum(_numpy(o), dtype=np.float64)) for o in outputs)


def get_mnist(path="data"):
    """MNIST from the four idx files in `path` (no downloads): dict of train/test data and labels."""
    import gzip
    import os

    def read(name, header, dims):
        for fname in (name, name + ".gz"):
            full = os.path.join(path, fname)
            if os.path.exists(full):
                opener = gzip.open if fname.endswith(".gz") else open
                with opener(full, "rb") as f:
                    raw = f.read()
                return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)
        raise MXNetError(f"get_mnist: {os.path.join(path, name)} (or .gz) is missing; mxcy does not "
                         "download data sets: place the MNIST idx files there")
    train = read("train-images-idx3-ubyte", 16, (-1, 1, 28, 28)).astype(np.float32) / 255
    test = read("t10k-images-idx3-ubyte", 16, (-1, 1, 28, 28)).astype(np.float32) / 255
    return {"train_data": train, "train_label": read("train-labels-idx1-ubyte", 8, (-1,)),
            "test_data": test, "test_label": read("t10k-labels-idx1-ubyte", 8, (-1,))}


from ._symbol_checks import (check_consistency, check_numeric_gradient, check_symbolic_backward,  # noqa: E402
                             check_symbolic_forward, random_projection, simple_forward)
