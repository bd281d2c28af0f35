"""MXNet 1.x NDArray files (``mx.nd.save`` / ``.params``) in pure NumPy, byte-compatible with 1.9.1.

Loading checks every count and size against the bytes actually present before allocating anything.
"""
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

from ..base import MXNetError
from ..fileio import atomic_write

__all__ = ["StoredArray", "BFLOAT16", "dumps", "loads", "dumps_raw", "loads_raw", "save", "load"]

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8  # int64 dims, no storage type
V2_MAGIC = 0xF993FAC9  # adds storage type; what mx.nd.save writes
V3_MAGIC = 0xF993FACA  # NumPy shape semantics (0-d and zero-size shapes), dense only

# NumPy has no bfloat16; like mxnet.ndarray, expose the raw 16 bits as a one-field record.
BFLOAT16 = np.dtype([("bfloat16", "<u2")])
_FLAG_TO_DTYPE = {0: np.dtype("<f4"), 1: np.dtype("<f8"), 2: np.dtype("<f2"), 3: np.dtype("u1"),
                  4: np.dtype("<i4"), 5: np.dtype("i1"), 6: np.dtype("<i8"), 7: np.dtype("?"),
                  12: BFLOAT16}
_DTYPE_TO_FLAG = {dt: flag for flag, dt in _FLAG_TO_DTYPE.items()}
_INDEX_FLAGS = (4, 6)  # sparse index arrays: int32 or int64 (MXNet writes int64)
_STYPE_FLAGS = {"default": 0, "row_sparse": 1, "csr": 2}
_STYPE_NAMES = {flag: name for name, flag in _STYPE_FLAGS.items()}
_NUM_AUX = {"default": 0, "row_sparse": 1, "csr": 2}
_DEV_TYPES = (1, 2, 3, 5)  # cpu, gpu, cpu_pinned, cpu_shared
_MAX_NDIM = 32
_CPU0 = struct.pack("<ii", 1, 0)


@dataclass(frozen=True, eq=False)
class StoredArray:
    """One array of an NDArray file.

    ``data`` is the full array for 'default', the stored rows ``(len(indices), *shape[1:])`` for
    'row_sparse' and the non-zero values ``(nnz,)`` for 'csr'. ``aux`` is ``()`` for 'default',
    ``(indices,)`` for 'row_sparse' and ``(indptr, indices)`` for 'csr', in the order MXNet writes
    (int64 as MXNet writes them; int32 is accepted too).
    """

    stype: str
    shape: tuple
    data: np.ndarray
    aux: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "data", np.asarray(self.data))
        object.__setattr__(self, "aux", tuple(np.asarray(a) for a in self.aux))

    @classmethod
    def dense(cls, values):
        values = np.asarray(values)
        return cls("default", values.shape, values)

    def todense(self):
        """The logical array as a dense NumPy array."""
        if self.stype == "default":
            return self.data
        out = np.zeros(self.shape, self.data.dtype)
        if self.stype == "row_sparse":
            out[self.aux[0]] = self.data
        else:
            indptr, indices = self.aux
            rows = np.repeat(np.arange(self.shape[0]), np.diff(indptr))
            out[rows, indices] = self.data
        return out


def _dtype_flag(dtype):
    return _DTYPE_TO_FLAG.get(dtype.newbyteorder("<"))


def _problem(rec):
    """What makes ``rec`` unrepresentable or inconsistent, or None; shared by save and load."""
    shape, data, aux = rec.shape, rec.data, rec.aux
    if rec.stype not in _STYPE_FLAGS:
        return f"unknown storage type {rec.stype!r}"
    if len(shape) > _MAX_NDIM or any(d < 0 for d in shape):
        return f"invalid shape {shape}"
    if _dtype_flag(data.dtype) is None:
        return f"dtype {data.dtype} has no MXNet type flag"
    if len(aux) != _NUM_AUX[rec.stype]:
        return f"{rec.stype} array needs {_NUM_AUX[rec.stype]} aux arrays, got {len(aux)}"
    if any(a.ndim != 1 or _dtype_flag(a.dtype) not in _INDEX_FLAGS for a in aux):
        return "sparse index arrays must be 1-D int32 or int64"
    if rec.stype == "default":
        return None if data.shape == shape else f"data shape {data.shape} != shape {shape}"
    if rec.stype == "row_sparse":
        (indices,) = aux
        if not shape or data.shape != indices.shape + shape[1:]:
            return f"row_sparse data shape {data.shape} does not fit shape {shape}"
        if indices.size and (indices.min() < 0 or indices.max() >= shape[0]):
            return "row_sparse row index out of range"
        return None
    indptr, indices = aux
    if len(shape) != 2 or data.shape != indices.shape or indptr.shape != (shape[0] + 1,):
        return f"csr parts {data.shape}, {indptr.shape}, {indices.shape} do not fit shape {shape}"
    if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        return "csr indptr is not a valid row pointer"
    if indices.size and (indices.min() < 0 or indices.max() >= shape[1]):
        return "csr column index out of range"
    return None


def _shape_bytes(shape):
    return struct.pack(f"<i{len(shape)}q", len(shape), *shape)


def _values_bytes(arr):
    return np.ascontiguousarray(arr, dtype=_FLAG_TO_DTYPE[_dtype_flag(arr.dtype)]).tobytes()


def _array_bytes(rec, magic):
    parts = [struct.pack("<Ii", magic, _STYPE_FLAGS[rec.stype])]
    if rec.aux:
        parts.append(_shape_bytes(rec.data.shape))  # storage shape
    parts += [_shape_bytes(rec.shape), _CPU0, struct.pack("<i", _dtype_flag(rec.data.dtype))]
    for a in rec.aux:
        parts += [struct.pack("<i", _dtype_flag(a.dtype)), _shape_bytes(a.shape)]
    parts.append(_values_bytes(rec.data))
    parts += [_values_bytes(a) for a in rec.aux]
    return b"".join(parts)


def _encode_name(name):
    if not isinstance(name, str):
        raise MXNetError(f"array names must be str, got {type(name).__name__}")
    # MXNet passes names through C strings, so a NUL would silently cut the name short there.
    if "\0" in name:
        raise MXNetError(f"array name {name!r} contains a NUL character")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError as err:
        raise MXNetError(f"array name {name!r} is not encodable as UTF-8") from err


def dumps(arrays, names=None, np_shape=False):
    """Bytes of an NDArray file holding ``arrays`` (StoredArray or array-like; names optional).

    ``np_shape=False`` writes what ``mx.nd.save`` writes (V2); ``np_shape=True`` writes what it
    writes under ``npx.set_np()`` (V3), which allows 0-d arrays but no sparse ones.
    """
    recs = [a if isinstance(a, StoredArray) else StoredArray.dense(a) for a in arrays]
    encoded = [_encode_name(n) for n in names] if names is not None else []
    if names is not None and len(encoded) != len(recs):
        raise MXNetError(f"got {len(encoded)} names for {len(recs)} arrays")
    out = [struct.pack("<QQQ", LIST_MAGIC, 0, len(recs))]
    for i, rec in enumerate(recs):
        problem = _problem(rec)
        if problem is None and not np_shape and not rec.shape:
            problem = "0-d arrays can only be saved with np_shape=True"
        if problem is None and np_shape and rec.stype != "default":
            problem = "sparse arrays cannot be saved with np_shape=True"
        if problem:
            raise MXNetError(f"cannot save array {i}: {problem}")
        out.append(_array_bytes(rec, V3_MAGIC if np_shape else V2_MAGIC))
    out.append(struct.pack("<Q", len(encoded)))
    for e in encoded:
        out += [struct.pack("<Q", len(e)), e]
    return b"".join(out)


class _Reader:
    def __init__(self, buf, source):
        self.buf, self.pos, self.source = buf, 0, source

    def fail(self, what, at=None):
        raise MXNetError(f"{self.source}: {what} at byte offset {self.pos if at is None else at}")

    def remaining(self):
        return len(self.buf) - self.pos

    def take(self, nbytes, what):
        if nbytes > self.remaining():
            self.fail(f"truncated {what}: needs {nbytes} bytes, {self.remaining()} left")
        self.pos += nbytes
        return self.pos - nbytes

    def unpack(self, fmt, what):
        return struct.unpack_from(fmt, self.buf, self.take(struct.calcsize(fmt), what))

    def shape(self, what):
        """A TShape (int32 ndim, int64 dims); None when the ndim is unknown (-1)."""
        at = self.pos
        (ndim,) = self.unpack("<i", what)
        if ndim == -1:
            return None
        if not 0 <= ndim <= _MAX_NDIM:
            self.fail(f"invalid ndim {ndim} in {what}", at)
        return self.unpack(f"<{ndim}q", what)

    def known_shape(self, what):
        at = self.pos
        shape = self.shape(what)
        if shape is None or any(d < 0 for d in shape):
            self.fail(f"invalid {what} {shape}", at)
        return shape

    def dtype(self, what):
        at = self.pos
        (flag,) = self.unpack("<i", what)
        if flag not in _FLAG_TO_DTYPE:
            self.fail(f"unknown dtype flag {flag} in {what}", at)
        return _FLAG_TO_DTYPE[flag]

    def context(self):
        at = self.pos
        dev_type, _dev_id = self.unpack("<ii", "context")
        if dev_type not in _DEV_TYPES:
            self.fail(f"unknown device type {dev_type}", at)

    def values(self, dtype, shape, what):
        # NumPy refuses shapes whose non-zero extents overflow int64 even when one dim is 0.
        if math.prod(d for d in shape if d) * dtype.itemsize >= 2 ** 63:
            self.fail(f"{what} has an impossibly large shape {shape}")
        count = math.prod(shape)
        start = self.take(count * dtype.itemsize, what)
        raw = np.frombuffer(self.buf, dtype, count, start)
        # Normalise bool bytes other than 0/1 so that the result behaves like a real bool array.
        out = raw.view(np.uint8) != 0 if dtype.kind == "b" else raw.astype(dtype.newbyteorder("="))
        return out.reshape(shape)

    def string(self, what):
        (n,) = self.unpack("<Q", what)
        start = self.take(n, what)
        try:
            return self.buf[start:self.pos].decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not valid UTF-8", start)


def _read_array(r, i, np_shape=None):
    at = r.pos
    (magic,) = r.unpack("<I", f"magic of array {i}")
    if np_shape is not None and np_shape != (magic == V3_MAGIC):
        r.fail(f"array {i} was saved {'with' if magic == V3_MAGIC else 'without'} NumPy shape semantics and must "
               f"be loaded {'with' if magic == V3_MAGIC else 'without'} them (mx.util.np_shape"
               f"({magic == V3_MAGIC}))", at)
    if magic in (V2_MAGIC, V3_MAGIC):
        np_shape = magic == V3_MAGIC
        (flag,) = r.unpack("<i", f"storage type of array {i}")
        stype = _STYPE_NAMES.get(flag)
        if stype is None or (np_shape and stype != "default"):
            r.fail(f"invalid storage type {flag} for array {i}", r.pos - 4)
        sshape = r.known_shape(f"storage shape of array {i}") if _NUM_AUX[stype] else None
        shape_at = r.pos
        shape = r.shape(f"shape of array {i}")
        # An uninitialised ("none") NDArray: V2 marks it by ndim 0, V3 by an unknown shape.
        if (shape is None or -1 in shape) if np_shape else shape == ():
            return None
        if shape is None or any(d < 0 for d in shape):
            r.fail(f"invalid shape {shape} of array {i}", shape_at)
        r.context()
        dtype = r.dtype(f"dtype of array {i}")
        aux_meta = [(r.dtype(f"aux dtype of array {i}"), r.known_shape(f"aux shape of array {i}"))
                    for _ in range(_NUM_AUX[stype])]
        data = r.values(dtype, sshape if aux_meta else shape, f"data of array {i}")
        aux = [r.values(dt, s, f"aux data of array {i}") for dt, s in aux_meta]
        rec = StoredArray(stype, shape, data, aux)
    else:
        if magic == V1_MAGIC:
            shape_at = r.pos
            shape = r.shape(f"shape of array {i}")
            if shape is None or -1 in shape:
                return None
            if any(d < 0 for d in shape):
                r.fail(f"invalid shape {shape} of array {i}", shape_at)
        elif magic <= _MAX_NDIM:
            # Files from before the magic numbers start with the ndim, then uint32 dims.
            shape = r.unpack(f"<{magic}I", f"legacy shape of array {i}")
        else:
            r.fail(f"unknown magic 0x{magic:08x} for array {i}", at)
        r.context()
        dtype = r.dtype(f"dtype of array {i}")
        rec = StoredArray("default", shape, r.values(dtype, shape, f"data of array {i}"))
    problem = _problem(rec)
    if problem:
        r.fail(f"array {i}: {problem}", at)
    return rec


def loads(buf, source="<bytes>", np_shape=None):
    """Parse NDArray file bytes into ``(arrays, names)``; ``names`` is empty for a list save.

    An uninitialised ("none") array, which old MXNet versions could write, loads as None.
    Files are loaded whatever their recorded device. ``np_shape`` None loads V3 and older arrays alike;
    True or False requires V3 arrays or older ones, as MXNet's loader does in and out of NumPy shape semantics.
    """
    r = _Reader(buf if isinstance(buf, bytes) else bytes(buf), source)
    header, _reserved = r.unpack("<QQ", "file header")
    if header != LIST_MAGIC:
        r.fail(f"not an MXNet NDArray file (header 0x{header:x})", 0)
    (count,) = r.unpack("<Q", "array count")
    if count > r.remaining() // 4:
        r.fail(f"array count {count} exceeds what the remaining {r.remaining()} bytes can hold")
    arrays = [_read_array(r, i, np_shape) for i in range(count)]
    (nnames,) = r.unpack("<Q", "name count")
    if nnames not in (0, count):
        r.fail(f"{nnames} names for {count} arrays", r.pos - 8)
    names = [r.string(f"name {j}") for j in range(nnames)]
    if r.remaining():
        r.fail(f"{r.remaining()} trailing bytes after the last name")
    return arrays, names


def dumps_raw(values):
    """One dense array in MXNet's raw-bytes layout (MXNDArraySaveRawBytes: what NDArray pickles hold)."""
    return _array_bytes(StoredArray.dense(values), V2_MAGIC)


def loads_raw(buf, source="<pickled NDArray>"):
    """The array of MXNet's raw-bytes layout (whatever device it was saved from)."""
    r = _Reader(bytes(buf), source)
    rec = _read_array(r, 0)
    if rec is None or rec.stype != "default":
        r.fail("expected one initialised dense array")
    if r.remaining():
        r.fail(f"{r.remaining()} trailing bytes after the array")
    return rec.data


def save(fname, arrays, names=None, np_shape=False):
    """Write ``dumps(arrays, names, np_shape)`` to ``fname`` atomically (see fileio.atomic_write)."""
    atomic_write(fname, dumps(arrays, names, np_shape), "NDArray file")


def load(fname, np_shape=None):
    """``loads`` of the file's contents; errors, including unreadable files, are MXNetError."""
    try:
        with open(fname, "rb") as f:
            buf = f.read()
    except OSError as err:
        raise MXNetError(f"cannot read NDArray file {fname}: {err}") from err
    return loads(buf, source=os.fspath(fname), np_shape=np_shape)
