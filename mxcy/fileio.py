"""Atomic file writes: every file mxcy saves goes through here, so a failed save never destroys the old one; and
read_bytes, a whole file read with errors naming it."""
import contextlib
import os
import secrets

from .base import MXNetError

__all__ = ["atomic_write", "AtomicFile", "read_bytes"]


class AtomicFile:
    """A file written under a temporary name next to `fname` and renamed over it by `commit()`.

    For files written piece by piece (RecordIO streams); `discard()` removes the temporary and leaves
    the previous file as it was. OS errors are MXNetErrors naming the file and `what` it is.
    """

    def __init__(self, fname, what):
        self.fname = os.fspath(fname)
        self.what = what
        self._tmp = os.path.join(os.path.dirname(os.path.abspath(self.fname)),
                                 f".{os.path.basename(self.fname)}.{secrets.token_hex(6)}.tmp")
        try:
            # 0o666 lets the umask decide the final permissions, as a plain open() would.
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
        except OSError as err:
            raise MXNetError(f"cannot write {what} {self.fname}: {err}") from err
        self._fd = fd

    @property
    def closed(self):
        return self._fd is None

    def write(self, data):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as err:
            self.discard()
            raise MXNetError(f"cannot write {self.what} {self.fname}: {err}") from err

    def tell(self):
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def commit(self):
        """fsync and rename the temporary over `fname`."""
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            os.replace(self._tmp, self.fname)
        except BaseException as err:
            self.discard()
            if isinstance(err, OSError):
                raise MXNetError(f"cannot write {self.what} {self.fname}: {err}") from err
            raise

    def discard(self):
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


def atomic_write(fname, payload, what):
    """Write bytes `payload` to `fname` atomically; `what` names the file kind in errors.

    The bytes go to a temporary file in the same directory, are fsynced and then renamed over
    ``fname``; on any failure the previous file is left as it was and the temporary is removed.
    OS errors are re-raised as MXNetError, as MXNet does.
    """
    out = AtomicFile(fname, what)
    try:
        out.write(payload)
    except BaseException:
        out.discard()
        raise
    out.commit()


def read_bytes(fname, what):
    """The bytes of the file `fname`; an OS error is an MXNetError naming the file and `what` it is."""
    try:
        with open(fname, "rb") as f:
            return f.read()
    except OSError as err:
        raise MXNetError(f"cannot read {what} {os.fspath(fname)}: {err}") from None
