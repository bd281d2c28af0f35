"""mx.contrib.text.embedding: loading, re-indexing, composing and updating token vectors against values MXNet
1.9.1 printed for the same small files; published embeddings read from a local root only."""
import collections
import hashlib
import io
import os
import re
import tarfile
import zipfile

import numpy as np
import pytest

import mxcy as mx
from mxcy import registry
from mxcy.contrib.text import embedding
from mxcy.contrib.text.vocab import Vocabulary

# a duplicate ('hello' again) and a header-like line ('hdr 5') that are skipped with a warning
_EMB = "hello 1 2 3\nworld 4 5 6\n<unk> 9 9 9\nhello 7 7 7\nhdr 5\nWorld 0.5 0.25 -1\n"


@pytest.fixture
def emb_file(tmp_path):
    path = tmp_path / "emb.txt"
    path.write_text(_EMB)
    return str(path)


@pytest.fixture
def vocab():
    return Vocabulary(collections.Counter(['world', 'world', 'a', 'zz', 'hello']), reserved_tokens=['<pad>'])


def _load(path, **kwargs):
    with pytest.warns(UserWarning) as record:
        embed = embedding.CustomEmbedding(path, **kwargs)
    messages = " ".join(str(w.message) for w in record)
    assert "duplicate" in messages and "header" in messages
    return embed


def test_custom_embedding(emb_file):
    embed = _load(emb_file)
    assert embed.idx_to_token == ['<unk>', 'hello', 'world', 'World']
    assert embed.vec_len == 3
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(),
                                  [[9, 9, 9], [1, 2, 3], [4, 5, 6], [0.5, 0.25, -1]])
    np.testing.assert_array_equal(embed.get_vecs_by_tokens('world').asnumpy(), [4, 5, 6])
    np.testing.assert_array_equal(embed.get_vecs_by_tokens(['WORLD', 'World', 'nope'], lower_case_backup=True)
                                  .asnumpy(), [[4, 5, 6], [0.5, 0.25, -1], [9, 9, 9]])
    np.testing.assert_array_equal(embed.get_vecs_by_tokens(['WORLD']).asnumpy(), [[9, 9, 9]])


def test_unknown_token_not_in_file_gets_init_unknown_vec(emb_file):
    embed = _load(emb_file, unknown_token='<u>', init_unknown_vec=mx.nd.ones)
    assert embed.idx_to_token == ['<u>', 'hello', 'world', '<unk>', 'World']
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(),
                                  [[1, 1, 1], [1, 2, 3], [4, 5, 6], [9, 9, 9], [0.5, 0.25, -1]])


def test_reserved_tokens_come_first(emb_file):
    # MXNet 1.9.1 indexes 'world' twice here and leaves idx_to_vec 2 rows short; mxcy gives a reserved token its
    # vector from the file, or zeros
    embed = _load(emb_file, reserved_tokens=['<pad>', 'world'])
    assert embed.idx_to_token == ['<unk>', '<pad>', 'world', 'hello', 'World']
    assert embed.token_to_idx == {'<unk>': 0, '<pad>': 1, 'world': 2, 'hello': 3, 'World': 4}
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(),
                                  [[9, 9, 9], [0, 0, 0], [4, 5, 6], [1, 2, 3], [0.5, 0.25, -1]])


def test_elem_delim_and_encoding(tmp_path):
    path = tmp_path / "emb.txt"
    path.write_bytes("a|0.5|2\nbär|1|-2\n".encode("latin-1"))
    embed = embedding.CustomEmbedding(str(path), elem_delim='|', encoding='latin-1')
    assert embed.idx_to_token == ['<unk>', 'a', 'bär']
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(), [[0, 0], [0.5, 2], [1, -2]])


def test_vocabulary_reindexes(emb_file, vocab):
    assert vocab.idx_to_token == ['<unk>', '<pad>', 'world', 'a', 'hello', 'zz']
    with pytest.warns(UserWarning):
        embed = embedding.CustomEmbedding(emb_file, vocabulary=vocab)
    assert embed.idx_to_token == vocab.idx_to_token and embed.reserved_tokens == ['<pad>']
    # MXNet 1.9.1: tokens without a vector (and the reserved one) get the unknown vector
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(),
                                  [[9, 9, 9], [9, 9, 9], [4, 5, 6], [9, 9, 9], [1, 2, 3], [9, 9, 9]])


def test_composite_embedding(emb_file, vocab, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("a|0.1|0.2\nc|1|2\n")
    composite = embedding.CompositeEmbedding(vocab, [_load(emb_file),
                                                     embedding.CustomEmbedding(str(other), elem_delim='|')])
    assert composite.idx_to_token == vocab.idx_to_token and composite.vec_len == 5
    np.testing.assert_allclose(composite.idx_to_vec.asnumpy(),
                               [[9, 9, 9, 0, 0], [9, 9, 9, 0, 0], [4, 5, 6, 0, 0], [9, 9, 9, 0.1, 0.2],
                                [1, 2, 3, 0, 0], [9, 9, 9, 0, 0]], rtol=1e-6)
    single = embedding.CompositeEmbedding(vocab, embedding.CustomEmbedding(str(other), elem_delim='|'))
    np.testing.assert_allclose(single.idx_to_vec.asnumpy()[[0, 3]], [[0, 0], [0.1, 0.2]], rtol=1e-6)
    with pytest.raises(AssertionError, match="token embeddings"):
        embedding.CompositeEmbedding(vocab, [vocab])
    with pytest.raises(AssertionError, match="Vocabulary"):
        embedding.CompositeEmbedding({'a': 1}, [single])


def test_update_token_vectors(emb_file):
    embed = _load(emb_file)
    embed.update_token_vectors(['hello', 'world'], mx.nd.array([[1, 1, 1], [2, 2, 2]]))
    embed.update_token_vectors('<unk>', mx.nd.array([3, 3, 3]))
    embed.update_token_vectors(['World'], mx.nd.array([[4, 4, 4]]))
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(), [[3, 3, 3], [1, 1, 1], [2, 2, 2], [4, 4, 4]])


@pytest.mark.parametrize("tokens, vectors, error", [
    ('nope', mx.nd.array([1, 1, 1]), ValueError),
    ('hello', mx.nd.array([1, 1]), AssertionError),
    (['hello', 'world'], mx.nd.array([1, 1, 1]), AssertionError),
    ('hello', [1, 2, 3], AssertionError),
])
def test_update_token_vectors_bad_input(emb_file, tokens, vectors, error):
    embed = _load(emb_file)
    with pytest.raises(error) as info:
        embed.update_token_vectors(tokens, vectors)
    assert isinstance(info.value, mx.MXNetError)


@pytest.mark.parametrize("content, error, message", [
    ("a 1 2\nb\n", AssertionError, "line 2"),
    ("a 1 2\nb 1 2 3\n", AssertionError, "line 2"),
    ("a 1 x\n", ValueError, "line 1"),
    ("<unk> 1 2\na 1 2 3\n", AssertionError, "line 2"),
    ("hdr 5\n", AssertionError, "no token vectors"),
])
@pytest.mark.filterwarnings("ignore:.*likely a header")
def test_bad_file(tmp_path, content, error, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(error, match=message):
        embedding.CustomEmbedding(str(path))


def test_missing_custom_file_is_value_error(tmp_path):
    with pytest.raises(ValueError, match="pretrained_file_path"):
        embedding.CustomEmbedding(str(tmp_path / "missing.txt"))


def test_pretrained_file_names():
    assert sorted(embedding.get_pretrained_file_names('glove')) == [
        'glove.42B.300d.txt', 'glove.6B.100d.txt', 'glove.6B.200d.txt', 'glove.6B.300d.txt', 'glove.6B.50d.txt',
        'glove.840B.300d.txt', 'glove.twitter.27B.100d.txt', 'glove.twitter.27B.200d.txt',
        'glove.twitter.27B.25d.txt', 'glove.twitter.27B.50d.txt']
    fasttext = embedding.get_pretrained_file_names('fasttext')
    assert len(fasttext) == 327 and fasttext[:3] == ['crawl-300d-2M.vec', 'wiki.aa.vec', 'wiki.ab.vec']
    names = embedding.get_pretrained_file_names()
    assert names['glove'] == embedding.get_pretrained_file_names('glove') and len(names['fasttext']) == 327
    with pytest.raises(KeyError, match="unknown"):
        embedding.get_pretrained_file_names('unknown$$')


@pytest.mark.parametrize("cls, name, archive", [
    (embedding.GloVe, 'glove.6B.50d.txt', 'glove.6B.zip'),
    (embedding.GloVe, 'glove.twitter.27B.25d.txt', 'glove.twitter.27B.zip'),
    (embedding.GloVe, 'glove.840B.300d.txt', 'glove.840B.300d.zip'),
    (embedding.FastText, 'wiki.en.vec', 'wiki.en.zip'),
])
def test_missing_published_file_names_file_folder_and_url(tmp_path, cls, name, archive):
    with pytest.raises(mx.MXNetError) as info:
        cls(pretrained_file_name=name, embedding_root=str(tmp_path))
    message = str(info.value)
    folder = os.path.join(str(tmp_path), cls.__name__.lower())
    assert name in message and folder in message
    assert f"gluon/embeddings/{cls.__name__.lower()}/{archive}" in message


def test_unpublished_file_name_is_key_error(tmp_path):
    with pytest.raises(KeyError, match="glove.6B.50d.txt"):
        embedding.GloVe(pretrained_file_name='nope.txt', embedding_root=str(tmp_path))


def test_published_file_with_other_content_is_refused(tmp_path):
    (tmp_path / "glove").mkdir()
    (tmp_path / "glove" / "glove.6B.50d.txt").write_text("a 1 2\n")
    with pytest.raises(mx.MXNetError, match="21bf566a9d27f84d253e0cd4d4be9dcc07976a6d"):
        embedding.GloVe(pretrained_file_name='glove.6B.50d.txt', embedding_root=str(tmp_path))


_VECS = b"hello 1 2 3 4 5\nworld 6 7 8 9 10\n"


def _sha1(data):
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def toy_class():
    """A registered published embedding whose file (_VECS) may come inside toy.zip or toy.tar.gz."""
    def make(archive_name, archive_bytes):
        class Toy(embedding._TokenEmbedding):
            pretrained_file_name_sha1 = {'toy.vec': _sha1(_VECS)}
            pretrained_archive_name_sha1 = {archive_name: _sha1(archive_bytes)}

            @classmethod
            def _get_download_file_name(cls, pretrained_file_name):
                return archive_name

            def __init__(self, embedding_root, init_unknown_vec=mx.nd.zeros, **kwargs):
                Toy._check_pretrained_file_names('toy.vec')
                super().__init__(**kwargs)
                self._load_embedding(Toy._get_pretrained_file(embedding_root, 'toy.vec'), ' ', init_unknown_vec)
        embedding.register(Toy)
        return Toy
    yield make
    registry._table(embedding._TokenEmbedding).pop('toy', None)


def _zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("toy/readme.txt", "not this one")
        zf.writestr("toy/toy.vec", _VECS)
    return buf.getvalue()


def _tar_bytes():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("toy.vec")
        info.size = len(_VECS)
        tar.addfile(info, io.BytesIO(_VECS))
    return buf.getvalue()


@pytest.mark.parametrize("archive_name, make_bytes", [("toy.zip", _zip_bytes), ("toy.tar.gz", _tar_bytes)])
def test_registered_embedding_is_created_from_its_local_archive(tmp_path, toy_class, archive_name, make_bytes):
    archive_bytes = make_bytes()
    toy_class(archive_name, archive_bytes)
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / archive_name).write_bytes(archive_bytes)
    embed = embedding.create('Toy', embedding_root=str(tmp_path))
    assert (tmp_path / "toy" / "toy.vec").read_bytes() == _VECS
    assert sorted(os.listdir(tmp_path / "toy")) == sorted([archive_name, "toy.vec"])
    assert embed.token_to_idx == {'<unk>': 0, 'hello': 1, 'world': 2}
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(), [[0] * 5, [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
    assert embedding.get_pretrained_file_names('toy') == ['toy.vec']


def test_archive_with_other_content_is_refused(tmp_path, toy_class):
    toy_class("toy.zip", _zip_bytes())
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.zip").write_bytes(b"not the archive")
    with pytest.raises(mx.MXNetError, match="SHA-1"):
        embedding.create('toy', embedding_root=str(tmp_path))
    assert not (tmp_path / "toy" / "toy.vec").exists()


@pytest.mark.parametrize("cls, name", [(embedding.GloVe, 'glove.6B.50d.txt'), (embedding.FastText, 'wiki.simple.vec')])
def test_published_embedding_read_from_local_root(tmp_path, monkeypatch, vocab, cls, name):
    content = b"hello 1 2\nworld 3 4\n"
    monkeypatch.setitem(cls.pretrained_file_name_sha1, name, _sha1(content))
    folder = tmp_path / cls.__name__.lower()
    folder.mkdir()
    (folder / name).write_bytes(content)
    embed = embedding.create(cls.__name__.lower(), pretrained_file_name=name, embedding_root=str(tmp_path),
                             init_unknown_vec=mx.nd.ones, vocabulary=vocab)
    assert type(embed) is cls and embed.idx_to_token == vocab.idx_to_token
    np.testing.assert_array_equal(embed.idx_to_vec.asnumpy(), [[1, 1], [1, 1], [3, 4], [1, 1], [1, 2], [1, 1]])


@pytest.mark.parametrize("cls, name", [(embedding.GloVe, 'glove.840B.300d.txt'),
                                       (embedding.FastText, 'wiki.simple.vec')])
def test_default_root_is_mxnet_data_dir(cls, name):
    folder = os.path.join(mx.base.data_dir(), "embeddings", cls.__name__.lower())
    if os.path.exists(os.path.join(folder, name)):
        pytest.skip(f"{name} is installed in {folder}")
    with pytest.raises(mx.MXNetError, match=re.escape(f"{name} is not in {folder}")):
        cls()
