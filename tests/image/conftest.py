"""Fixtures of the mx.image tests: the small image set of fixtures/image_iter_files.py (also written by the
scripts that made the MXNet references) in temporary directories."""
import os
import sys

import pytest

import mxcy as mx

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
import image_iter_files  # noqa: E402


@pytest.fixture(scope="module")
def iter_files(tmp_path_factory):
    """(images.lst, images.rec, images.idx, root) of the image set."""
    root = str(tmp_path_factory.mktemp("images"))
    return image_iter_files.write(root, mx.recordio) + (root,)


@pytest.fixture(scope="module")
def det_files(tmp_path_factory):
    """(det.lst, root) of the image set with detection labels."""
    root = str(tmp_path_factory.mktemp("det"))
    return image_iter_files.write_detection(root), root
