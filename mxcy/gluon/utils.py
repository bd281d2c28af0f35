"""mx.gluon.utils: splitting batches over contexts, global-norm clipping, hooks, file helpers."""
import hashlib
import os
import uuid
import warnings

import numpy as np

from .. import ndarray
from ..base import MXNetError
from ._errors import AssertionMXNetError

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


# (connect, read) seconds: a dead network is an error, never a hang
_DOWNLOAD_TIMEOUT = (10, 60)


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """Fetch `url` to `path` (a file, or a directory to put the URL's file name in; default the current
    directory) through `requests`, as MXNet 1.9.1: an existing file (matching `sha1_hash` if given) is kept
    unless `overwrite`; `retries` more attempts after a failure; the file is written under a unique temporary
    name and moved into place, so concurrent downloads leave one whole file. Without `requests` or a network,
    the MXNetError names the URL and the local path to place the file at."""
    if path is None:
        fname = url.split("/")[-1]
        if not fname:
            raise AssertionMXNetError(f"download: cannot construct a file name from {url}; set `path`")
    else:
        path = os.path.expanduser(path)
        fname = os.path.join(path, url.split("/")[-1]) if os.path.isdir(path) else path
    if retries < 0:
        raise AssertionMXNetError(f"Number of retries should be at least 0, currently it's {retries}")
    if not verify_ssl:
        warnings.warn("Unverified HTTPS request is being made (verify_ssl=False). "
                      "Adding certificate verification is strongly advised.")
    if not overwrite and os.path.exists(fname) and not (sha1_hash and not check_sha1(fname, sha1_hash)):
        return fname
    try:
        import requests
    except ImportError as err:
        raise MXNetError(f"download: fetching {url} needs the `requests` package; install it, or fetch the "
                         f"file yourself and place it at {os.path.abspath(fname)}") from err
    os.makedirs(os.path.dirname(os.path.abspath(fname)), exist_ok=True)
    attempts_left = retries + 1
    while True:
        try:
            _fetch(requests, url, fname, sha1_hash, verify_ssl)
            return fname
        except Exception as err:  # any failure is retried, as MXNet does
            attempts_left -= 1
            if attempts_left <= 0:
                raise MXNetError(f"download: cannot fetch {url} ({err!r}); fetch it yourself and place it at "
                                 f"{os.path.abspath(fname)}") from err
            print(f"download failed due to {err!r}, retrying, {attempts_left} attempt"
                  f"{'s' if attempts_left > 1 else ''} left")


def _fetch(requests, url, fname, sha1_hash, verify_ssl):
    print(f"Downloading {fname} from {url}...")
    response = requests.get(url, stream=True, verify=verify_ssl, timeout=_DOWNLOAD_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"Failed downloading url {url}: HTTP status {response.status_code}")
    partial = f"{fname}.{uuid.uuid4()}"
    try:
        with open(partial, "wb") as f:
            for chunk in response.iter_content(chunk_size=1 << 16):
                f.write(chunk)
        if not os.path.exists(fname) or (sha1_hash and not check_sha1(fname, sha1_hash)):
            replace_file(partial, fname)
        else:
            warnings.warn(f"File {fname} exists in file system so the downloaded file is deleted")
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    if sha1_hash and not check_sha1(fname, sha1_hash):
        raise UserWarning(f"File {fname} is downloaded but the content hash does not match. The repo may be "
                          "outdated or download may be incomplete.")


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

