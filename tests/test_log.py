"""mx.log: glog-style loggers configured once per name."""
import logging
import re

import pytest

from mxcy import log


def test_get_logger_prints_glog_lines(capsys):
    logger = log.get_logger("mxcy_test_log", level=logging.INFO)
    assert logger is log.get_logger("mxcy_test_log") and len(logger.handlers) == 1
    logger.info("hello")
    logger.debug("hidden")
    err = capsys.readouterr().err
    assert re.fullmatch(r"\x1b\[32mI\d{4} \d\d:\d\d:\d\d \d+ .*test_log.py:test_get_logger_prints_glog_lines:\d+\]"
                        r"\x1b\[0m hello\n", err), err


def test_file_logger_and_deprecated_name(tmp_path):
    path = tmp_path / "out.log"
    logger = log.get_logger("mxcy_test_file", filename=str(path), filemode="w")
    logger.warning("to file")
    logger.handlers[0].flush()
    assert path.read_text() == "to file\n"
    with pytest.warns(DeprecationWarning):
        assert log.getLogger("mxcy_test_file") is logger
    assert log.get_logger() is logging.getLogger()
