"""Atomic file writes: every file mxcy saves goes through here, so a failed save never destroys the old one."""
import contextlib
import os
import secrets

from .base import MXNetError

__all__ = ["atomic_write"]


def atomic_write(fname, payload, what):
    """Write bytes `payload` to `fname` atomically; `what` names the file kind in errors.

    The bytes go to a temporary file in the same directory, are fsynced and then renamed over
    ``fname``; on any failure the previous file is left as it was and the temporary is removed.
    OS errors are re-raised as MXNetError, as MXNet does.
    """
    fname = os.fspath(fname)
    tmp = os.path.join(os.path.dirname(os.path.abspath(fname)),
                       f".{os.path.basename(fname)}.{secrets.token_hex(6)}.tmp")
    try:
        # 0o666 lets the umask decide the final permissions, as a plain open() would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as err:
        raise MXNetError(f"cannot write {what} {fname}: {err}") from err
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, fname)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise MXNetError(f"cannot write {what} {fname}: {err}") from err
        raise
