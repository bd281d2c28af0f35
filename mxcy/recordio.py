"""mx.recordio: MXNet's RecordIO files (dmlc-core's byte format), .idx index files and image records.

A record on disk is: magic 0xced7230a, a uint32 `cflag << 29 | length`, the bytes, zero padding to
4 bytes (all little-endian). A payload that contains the magic at a 4-byte aligned offset is split
there into parts (cflag 1 = first, 2 = middle, 3 = last; 0 = whole record) and the reader puts the
magic back between them. Files are read with Python's file objects and written atomically.
"""
import numbers
import os
import struct
from collections import namedtuple

import numpy as np

from . import _imagecodec
from .base import MXNetError
from .fileio import AtomicFile

__all__ = ["MXRecordIO", "MXIndexedRecordIO", "IRHeader", "pack", "unpack", "pack_img", "unpack_img"]

_MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", _MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3


def _part(cflag, data):
    return struct.pack("<II", _MAGIC, cflag << 29 | len(data)) + data


def _encode_record(buf):
    """The on-disk bytes of one record, split where the payload holds the magic (as dmlc-core)."""
    size = len(buf)
    if size > _LENGTH_MASK:
        raise MXNetError(f"RecordIO: a record holds at most {_LENGTH_MASK} bytes, got {size}")
    parts, start = [], 0
    pos = buf.find(_MAGIC_BYTES)
    while pos != -1:
        if pos % 4 == 0:
            parts.append(_part(_FIRST if start == 0 else _MIDDLE, buf[start:pos]))
            start = pos + 4
            pos = buf.find(_MAGIC_BYTES, start)
        else:
            pos = buf.find(_MAGIC_BYTES, pos + 1)
    parts.append(_part(_LAST if start else _WHOLE, buf[start:]))
    parts.append(b"\0" * (-size % 4))
    return b"".join(parts)


class MXRecordIO:
    """Sequential reading ('r') or writing ('w') of a RecordIO file at `uri`.

    A file being written appears under its name when `close()` is called (or the object is
    collected); until then the previous file, if any, stays as it was.
    """

    def __init__(self, uri, flag):
        self.uri = os.fspath(uri)
        self.flag = flag
        self.pid = None
        self.is_open = False
        self.open()

    def open(self):
        """Opens the record file."""
        if self.flag == "w":
            self._file = AtomicFile(self.uri, "RecordIO file")
            self.writable = True
        elif self.flag == "r":
            try:
                self._file = open(self.uri, "rb")
            except OSError as err:
                raise MXNetError(f"cannot open RecordIO file {self.uri}: {err}") from err
            self.writable = False
        else:
            raise ValueError(f"Invalid flag {self.flag}")
        self._records_read = 0
        self.pid = os.getpid()
        self.is_open = True

    def __del__(self):
        if getattr(self, "is_open", False):
            self.close()

    def __getstate__(self):
        if self.is_open and self.writable:
            raise MXNetError(f"cannot pickle RecordIO writer of {self.uri}; close it first")
        state = {k: v for k, v in self.__dict__.items() if k not in ("_file", "fidx")}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if state["is_open"]:
            self.is_open = False
            self.open()

    def _check_pid(self, allow_reset=False):
        """A file object shared with a forked process would interleave reads: reopen or refuse."""
        if self.pid != os.getpid():
            if allow_reset:
                self.reset()
            else:
                raise RuntimeError("Forbidden operation in multiple processes")

    def close(self):
        """Closes the record file (a written file takes its name now)."""
        if not self.is_open:
            return
        self.is_open = False
        self.pid = None
        if self.writable:
            self._file.commit()
        else:
            self._file.close()

    def reset(self):
        """Moves back to the first record; a writer starts an empty file again."""
        if self.is_open and self.writable:
            self._file.discard()
            self.is_open = False
        self.close()
        self.open()

    def write(self, buf):
        """Appends bytes `buf` as one record."""
        if not self.writable:
            raise MXNetError(f"RecordIO file {self.uri} is open for reading")
        self._check_pid(allow_reset=False)
        if not isinstance(buf, (bytes, bytearray, memoryview)):
            raise TypeError(f"MXRecordIO.write: expected bytes, got {type(buf).__name__}")
        self._file.write(_encode_record(bytes(buf)))

    def read(self):
        """Returns the next record as bytes, or None at the end of the file."""
        if self.writable:
            raise MXNetError(f"RecordIO file {self.uri} is open for writing")
        self._check_pid(allow_reset=False)
        record = self._read_record(f"record {self._records_read}")
        self._records_read += 1
        return record

    def _read_record(self, which):
        start = self._file.tell()

        def corrupt(why):
            return MXNetError(f"corrupt RecordIO file {self.uri}: {which} (at byte {start}): {why}")

        parts = []
        while True:
            head = self._file.read(8)
            if not head and not parts:
                return None
            if len(head) < 8:
                raise corrupt("the file ends inside the record")
            magic, lrec = struct.unpack("<II", head)
            if magic != _MAGIC:
                raise corrupt(f"expected magic 0x{_MAGIC:08x}, found 0x{magic:08x}")
            cflag, length = lrec >> 29, lrec & _LENGTH_MASK
            if cflag > _LAST or (cflag in (_WHOLE, _FIRST)) != (not parts):
                raise corrupt(f"unexpected part flag {cflag}")
            padded = (length + 3) & ~3
            data = self._file.read(padded)
            if len(data) < padded:
                raise corrupt(f"the file ends inside the record ({length} bytes announced)")
            parts.append(data[:length])
            if cflag in (_WHOLE, _LAST):
                return b"".join(parts)
            parts.append(_MAGIC_BYTES)


class MXIndexedRecordIO(MXRecordIO):
    """A RecordIO file with an index file (`key<TAB>byte offset` per line) for random access."""

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path = os.fspath(idx_path)
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super().__init__(uri, flag)

    def open(self):
        super().open()
        self.idx = {}
        self.keys = []
        if self.writable:
            self.fidx = AtomicFile(self.idx_path, "RecordIO index")
            return
        try:
            with open(self.idx_path, "rb") as fidx:
                lines = fidx.read().decode().splitlines()
        except (OSError, UnicodeDecodeError) as err:
            super().close()
            raise MXNetError(f"cannot open RecordIO index {self.idx_path}: {err}") from err
        for number, line in enumerate(lines, 1):
            fields = line.strip().split("\t")
            if fields == [""]:
                continue
            try:
                key, pos = self.key_type(fields[0]), int(fields[1])
                if pos < 0:
                    raise ValueError("negative offset")
            except (ValueError, IndexError) as err:
                super().close()
                raise MXNetError(f"corrupt RecordIO index {self.idx_path}, line {number}: "
                                 f"{line!r} is not 'key<TAB>offset'") from err
            self.idx[key] = pos
            self.keys.append(key)

    def close(self):
        """Closes the record file and the index file."""
        if not self.is_open:
            return
        super().close()
        if self.writable:
            self.fidx.commit()

    def reset(self):
        if self.is_open and self.writable:
            self.fidx.discard()
        super().reset()

    def seek(self, idx):
        """Moves the read position to the record with key `idx`."""
        if self.writable:
            raise MXNetError(f"RecordIO file {self.uri} is open for writing")
        self._check_pid(allow_reset=True)
        if idx not in self.idx:
            raise KeyError(f"key {idx!r} is not in RecordIO index {self.idx_path}")
        self._file.seek(self.idx[idx])

    def tell(self):
        """The byte offset the next written record starts at."""
        if not self.writable:
            raise MXNetError(f"RecordIO file {self.uri} is open for reading")
        return self._file.tell()

    def read_idx(self, idx):
        """Returns the record with key `idx`."""
        self.seek(idx)
        return self._read_record(f"record with key {idx!r} at the offset in {self.idx_path}")

    def write_idx(self, idx, buf):
        """Appends `buf` as a record under key `idx`."""
        key = self.key_type(idx)
        pos = self.tell()
        self.write(buf)
        self.fidx.write(f"{key}\t{pos}\n".encode())
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
IRHeader.__doc__ = """The header of an image record: `flag` (the label count when `label` is an array),
`label` (a number or an array of float32), `id` and `id2` (the low and high bits of a record id)."""

_IR_FORMAT = "<IfQQ"
_IR_SIZE = struct.calcsize(_IR_FORMAT)


def pack(header, s):
    """Prefix bytes `s` with an IRHeader; an array label is stored as float32 after the header."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        header = header._replace(flag=0)
    else:
        label = np.asarray(header.label, dtype=np.float32)
        header = header._replace(flag=label.size, label=0)
        s = label.tobytes() + s
    return struct.pack(_IR_FORMAT, *header) + s


def unpack(s):
    """Split a packed record into (IRHeader, payload bytes)."""
    if len(s) < _IR_SIZE:
        raise MXNetError(f"recordio.unpack: a packed record has at least {_IR_SIZE} bytes, got {len(s)}")
    header = IRHeader(*struct.unpack(_IR_FORMAT, s[:_IR_SIZE]))
    s = s[_IR_SIZE:]
    if header.flag > 0:
        if len(s) < 4 * header.flag:
            raise MXNetError(f"recordio.unpack: header announces {header.flag} labels, "
                             f"but only {len(s)} bytes follow")
        header = header._replace(label=np.frombuffer(s, np.float32, header.flag))
        s = s[header.flag * 4:]
    return header, s


def unpack_img(s, iscolor=-1):
    """Unpack a record made by pack_img: (IRHeader, uint8 image in BGR order as cv2.imdecode)."""
    header, s = unpack(s)
    return header, _imagecodec.decode(s, iscolor, to_rgb=False, what="image record")


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Encode a BGR uint8 image (JPEG or PNG through Pillow) and pack it with `header`.

    For PNG `quality` is the compression level, clamped to 0-9 as OpenCV's encoder does.
    """
    if img_fmt.lower() == ".png":
        quality = min(max(int(quality), 0), 9)
    return pack(header, _imagecodec.encode(img, img_fmt, quality))
