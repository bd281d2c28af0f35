"""mx.log: loggers that print MXNet's glog-style lines ("W0505 00:29:47 <pid> <file>:<func>:<line>] msg")."""
import logging
import warnings

__all__ = ["get_logger", "getLogger", "CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"]

CRITICAL, ERROR, WARNING = logging.CRITICAL, logging.ERROR, logging.WARNING
INFO, DEBUG, NOTSET = logging.INFO, logging.DEBUG, logging.NOTSET

_LABELS = {CRITICAL: "C", ERROR: "E", WARNING: "W", INFO: "I", DEBUG: "D"}


def _color(level):
    """ANSI colour: red from WARNING up, green for INFO, blue below."""
    return "\x1b[31m" if level >= WARNING else "\x1b[32m" if level >= INFO else "\x1b[34m"


class _GlogFormatter(logging.Formatter):
    """Level letter and time, pid and source location in colour, then the message."""
    def __init__(self):
        super().__init__(datefmt="%m%d %H:%M:%S")

    def formatMessage(self, record):
        prefix = (f"{_color(record.levelno)}{_LABELS.get(record.levelno, 'U')}{record.asctime} {record.process} "
                  f"{record.pathname}:{record.funcName}:{record.lineno}]\x1b[0m")
        return f"{prefix} {record.message}"

    def usesTime(self):
        return True


def get_logger(name=None, filename=None, filemode=None, level=WARNING):
    """The logger `name`; the first call for a name gives it a handler (a file opened with
    `filemode`, default 'a', if `filename` is given; otherwise stderr in glog format) and `level`.
    The root logger (name None) is returned untouched."""
    logger = logging.getLogger(name)
    if name is not None and not getattr(logger, "_init_done", False):
        logger._init_done = True
        if filename:
            handler = logging.FileHandler(filename, filemode or "a")
        else:
            handler = logging.StreamHandler()
            handler.setFormatter(_GlogFormatter())
        logger.addHandler(handler)
        logger.setLevel(level)
    return logger


def getLogger(name=None, filename=None, filemode=None, level=WARNING):
    """Deprecated spelling of get_logger (warns)."""
    warnings.warn("getLogger is deprecated, Use get_logger instead.", DeprecationWarning, stacklevel=2)
    return get_logger(name, filename, filemode, level)
