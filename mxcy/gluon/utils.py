"""mx.gluon.utils: splitting batches over contexts, global-norm clipping, hooks, file helpers."""
import hashlib
import os
import warnings

import numpy as np

from .. import ndarray
from ..base import MXNetError

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download", "replace_file",
           "shape_is_known", "HookHandle"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split `data` into `num_slice` slices along `batch_axis`; with even_split=False the first slices get one
    more element each where the size does not divide (NumPy's array_split rule, as MXNet 1.9.1)."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(f"data with shape {data.shape} cannot be evenly split into {num_slice} slices "
                         f"along axis {batch_axis}. Use a batch size that's multiple of {num_slice} or "
                         "set even_split=False to allow uneven partitioning of data.")
    each, extras = divmod(size, num_slice)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras))
    if batch_axis == 0:
        return [data[int(bounds[i]):int(bounds[i + 1])] for i in range(num_slice)]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=int(bounds[i]), end=int(bounds[i + 1]))
            for i in range(num_slice)]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split `data` along `batch_axis` and copy slice i to ctx_list[i]."""
    if not isinstance(data, ndarray.NDArray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale `arrays` in place so their joint L2 norm is at most `max_norm`; returns the norm before."""
    if not arrays:
        raise ValueError("clip_global_norm: arrays is empty")
    ctx = arrays[0].context
    total = None
    for a in arrays:
        if a.stype == "default":
            flat = a.reshape((-1,))
            sq = ndarray.dot(flat, flat)
        else:
            sq = ndarray.square(a.norm())
        sq = sq.as_in_context(ctx)
        total = sq if total is None else total + sq
    norm = ndarray.sqrt(total)
    if check_isfinite:
        value = float(norm.asscalar())
        if not np.isfinite(value):
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."),
                          stacklevel=2)
    scale = max_norm / (norm + 1e-8)
    scale = ndarray.minimum(scale, ndarray.ones((1,), ctx=ctx, dtype=scale.dtype))
    for a in arrays:
        factor = scale.as_in_context(a.context)
        if a.stype == "default":
            a *= factor
        else:  # sparse arrays scale their stored values
            a._values[:] = a._values * factor
    return value if check_isfinite else norm


def check_sha1(filename, sha1_hash):
    """Whether the file's SHA-1 hex digest equals `sha1_hash` (compared on the shorter length)."""
    digest = hashlib.sha1()
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    ref = digest.hexdigest()
    n = min(len(ref), len(sha1_hash))
    return ref[:n] == sha1_hash[:n]


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """MXNet's downloader, offline: an existing file at `path` (checked against `sha1_hash`) is used,
    otherwise an error names the URL and where to place the file."""
    fname = url.split("/")[-1]
    if path is not None:
        path = os.path.expanduser(path)
        fname = os.path.join(path, fname) if os.path.isdir(path) else path
    if os.path.exists(fname) and not overwrite and (not sha1_hash or check_sha1(fname, sha1_hash)):
        return fname
    raise MXNetError(f"download: mxcy does not use the network; fetch {url} yourself and place it at "
                     f"{os.path.abspath(fname)}")


def replace_file(src, dst):
    """Move `src` over `dst` atomically."""
    os.replace(src, dst)


def shape_is_known(shape):
    """Whether every dimension of `shape` is known (MXNet 1.x writes unknown dims as 0 or -1)."""
    if shape is None:
        return False
    return all(d > 0 for d in shape) if len(shape) else True


class HookHandle:
    """Detaches a forward (pre-)hook from its Block; usable as a context manager."""

    def __init__(self):
        self._hooks_dict_ref = None
        self._id = None

    def attach(self, hooks_dict, hook):
        if self._hooks_dict_ref is not None:
            raise MXNetError("HookHandle: the handle is already attached")
        self._id = id(hook)
        hooks_dict[self._id] = hook
        self._hooks_dict_ref = hooks_dict

    def detach(self):
        hooks = self._hooks_dict_ref
        if hooks is not None and self._id in hooks:
            del hooks[self._id]
        self._hooks_dict_ref = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


def _indent(text, num_spaces):
    """`text` with every line after the first indented by `num_spaces`."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * num_spaces + line for line in lines[1:]])


def _brief_print_list(items, limit=7):
    """Quoted, comma-joined names, eliding the middle of long lists."""
    items = list(items)
    if len(items) > limit:
        half = limit // 2
        return _brief_print_list(items[:half], limit) + ", ..., " + _brief_print_list(items[-half:], limit)
    return ", ".join(f"'{i}'" for i in items)

