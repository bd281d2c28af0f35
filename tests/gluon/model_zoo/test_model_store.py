"""gluon.model_zoo.model_store and pretrained=True, offline: MXNet 1.9.1's file names (short SHA-1 suffix),
a clear error naming a missing file and where to put it, SHA-1 verification, loading a verified file, purge."""
import hashlib
import os
import shutil

import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon.model_zoo import model_store, vision

from .test_vision import FIXTURES, REFERENCE, zoo_cases

MXNET_FILE = os.path.join(FIXTURES, "mobilenet0.25_classes10.params")

# Every constructor with pretrained=True asks for MXNet 1.9.1's file name for it.
PRETRAINED_FILES = [
    *[(f"resnet{n}_v{v}", getattr(vision, f"resnet{n}_v{v}")) for v in (1, 2) for n in (18, 34, 50, 101, 152)],
    *[(f"vgg{n}{bn}", getattr(vision, f"vgg{n}{bn}")) for bn in ("", "_bn") for n in (11, 13, 16, 19)],
    ("alexnet", vision.alexnet), ("inceptionv3", vision.inception_v3),
    *[(f"densenet{n}", getattr(vision, f"densenet{n}")) for n in (121, 161, 169, 201)],
    ("squeezenet1.0", vision.squeezenet1_0), ("squeezenet1.1", vision.squeezenet1_1),
    ("mobilenet1.0", vision.mobilenet1_0), ("mobilenet0.75", vision.mobilenet0_75),
    ("mobilenet0.5", vision.mobilenet0_5), ("mobilenet0.25", vision.mobilenet0_25),
    ("mobilenetv2_1.0", vision.mobilenet_v2_1_0), ("mobilenetv2_0.75", vision.mobilenet_v2_0_75),
    ("mobilenetv2_0.5", vision.mobilenet_v2_0_5), ("mobilenetv2_0.25", vision.mobilenet_v2_0_25),
]


def test_table_covers_every_model():
    assert sorted(n for n, _ in PRETRAINED_FILES) == sorted(model_store._model_sha1) == sorted(vision._models)


@pytest.mark.parametrize("name, make", PRETRAINED_FILES, ids=[n for n, _ in PRETRAINED_FILES])
def test_missing_file_names_it_and_where_to_put_it(name, make, tmp_path):
    file_name = f"{name}-{model_store._model_sha1[name][:8]}.params"
    with pytest.raises(mx.MXNetError) as err:
        make(pretrained=True, root=str(tmp_path))
    message = str(err.value)
    assert file_name in message and str(tmp_path) in message
    assert f"gluon/models/{file_name[:-len('.params')]}.zip" in message
    assert os.listdir(tmp_path) == []


def test_get_model_file_and_short_hash(tmp_path, monkeypatch):
    assert model_store.short_hash("resnet18_v1") == "a0666292"
    with pytest.raises(ValueError, match="Pretrained model for resnet19_v1 is not available"):
        model_store.get_model_file("resnet19_v1", root=str(tmp_path))
    monkeypatch.setenv("MXNET_GLUON_REPO", "https://mirror.example/mx")
    with pytest.raises(mx.MXNetError, match="https://mirror.example/mx/gluon/models/alexnet-44335d1f.zip"):
        model_store.get_model_file("alexnet", root=str(tmp_path))


def _install(root, name, monkeypatch):
    """Copy the MXNet-written mobilenet0.25 (classes=10) file into `root` under `name`'s published file name,
    with `name`'s SHA-1 set to the file's (the published file is ~2 MB of other weights)."""
    with open(MXNET_FILE, "rb") as f:
        sha1 = hashlib.sha1(f.read()).hexdigest()
    monkeypatch.setitem(model_store._model_sha1, name, sha1)
    path = os.path.join(root, f"{name}-{sha1[:8]}.params")
    shutil.copyfile(MXNET_FILE, path)
    return path


def test_pretrained_loads_a_verified_file(tmp_path, monkeypatch):
    path = _install(str(tmp_path), "mobilenet0.25", monkeypatch)
    assert model_store.get_model_file("mobilenet0.25", root=str(tmp_path)) == path
    with mx.name.NameManager():
        net = vision.get_model("mobilenet0.25", pretrained=True, root=str(tmp_path), classes=10, ctx=mx.cpu())
    assert net.output.weight.list_ctx() == [mx.cpu()]
    expected = REFERENCE["mobilenet0.25/output"].asnumpy()
    got = zoo_cases.inference_output(mx, net, zoo_cases.OUTPUT_CASES["mobilenet0.25"][2]).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_pretrained_rejects_a_file_with_the_wrong_sha1(tmp_path, monkeypatch):
    path = _install(str(tmp_path), "mobilenet0.25", monkeypatch)
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(mx.MXNetError, match="does not have the SHA-1 of MXNet's published 'mobilenet0.25'"):
        vision.mobilenet0_25(pretrained=True, root=str(tmp_path), classes=10)


def test_pretrained_file_of_another_architecture_is_an_error(tmp_path, monkeypatch):
    """A verified file whose parameters do not fit the model fails in load_parameters, naming a parameter."""
    _install(str(tmp_path), "squeezenet1.1", monkeypatch)
    with pytest.raises(mx.MXNetError, match="Parameter 'features.0.bias' is missing in file"):
        vision.squeezenet1_1(pretrained=True, root=str(tmp_path), classes=10)


def test_root_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _install(str(tmp_path), "mobilenet0.25", monkeypatch)
    assert model_store.get_model_file("mobilenet0.25", root="~").startswith(str(tmp_path))


def test_purge_removes_only_params_files(tmp_path):
    for name in ("a.params", "b.params", "notes.txt", "c.params.zip"):
        (tmp_path / name).write_bytes(b"x")
    model_store.purge(root=str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["c.params.zip", "notes.txt"]
