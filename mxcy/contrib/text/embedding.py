"""mx.contrib.text.embedding: token embeddings (a Vocabulary plus one vector per token) loaded from
pretrained text files: GloVe and fastText files from the local embedding root, user files (CustomEmbedding),
and concatenations of several (CompositeEmbedding). Files are parsed by plain Python on the host.

mxcy never downloads: a missing pretrained file (or its archive, which is then extracted) is an MXNetError
naming the file, the folder to put it in, and the URL MXNet 1.9.1 fetches it from."""
import logging
import os
import tarfile
import warnings
import zipfile

from ... import base, registry
from ... import ndarray as nd
from ...base import MXNetError
from ...error import MXNetValueError
from ...fileio import AtomicFile
from ...gluon._errors import AssertionMXNetError
from ...gluon.utils import check_sha1
from . import _pretrained_sha1 as sha1_tables
from . import vocab
from .vocab import UNKNOWN_IDX

__all__ = ["register", "create", "get_pretrained_file_names", "GloVe", "FastText", "CustomEmbedding",
           "CompositeEmbedding"]

_APACHE_REPO_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"


class _KeyMXNetError(MXNetError, KeyError):
    """An unknown embedding or pretrained file name (MXNet raises KeyError)."""

    def __str__(self):  # KeyError would quote the message
        return MXNetError.__str__(self)


def register(embedding_cls):
    """Class decorator: file a _TokenEmbedding subclass under its lower-cased class name, for `create` and
    `get_pretrained_file_names`."""
    return registry.get_register_func(_TokenEmbedding, "token embedding")(embedding_cls)


def create(embedding_name, **kwargs):
    """An instance of the registered token embedding `embedding_name` (case-insensitive), made with
    `kwargs` (e.g. `pretrained_file_name`)."""
    return registry.get_create_func(_TokenEmbedding, "token embedding")(embedding_name, **kwargs)


def get_pretrained_file_names(embedding_name=None):
    """The pretrained file names `embedding_name` accepts (a list), or for None a dict mapping every
    registered embedding name to that list."""
    table = registry.get_registry(_TokenEmbedding)
    if embedding_name is None:
        return {name: list(cls.pretrained_file_name_sha1) for name, cls in table.items()}
    if embedding_name not in table:
        raise _KeyMXNetError(f"get_pretrained_file_names: cannot find `embedding_name` {embedding_name!r}; "
                             f"registered embeddings: {', '.join(sorted(table))}")
    return list(table[embedding_name].pretrained_file_name_sha1)


class _TokenEmbedding(vocab.Vocabulary):
    """Base of token embeddings: a Vocabulary whose every index has a vector (row of `idx_to_vec`, an NDArray
    of shape (len(self), vec_len)); index 0, the unknown token, has the file's vector for `unknown_token` if
    the file has one, else `init_unknown_vec(shape=vec_len)`. Subclasses for published embeddings set
    `pretrained_file_name_sha1` (file name -> SHA-1) and, when the files come in archives,
    `pretrained_archive_name_sha1`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._vec_len = None
        self._idx_to_vec = None

    @property
    def vec_len(self):
        """The length of every token's vector."""
        return self._vec_len

    @property
    def idx_to_vec(self):
        """NDArray (len(self), vec_len): row i is the vector of token i."""
        return self._idx_to_vec

    @classmethod
    def _get_download_file_name(cls, pretrained_file_name):
        """The archive (or plain file) MXNet downloads to obtain `pretrained_file_name`."""
        return pretrained_file_name

    @classmethod
    def _get_pretrained_file_url(cls, pretrained_file_name):
        repo_url = os.environ.get("MXNET_GLUON_REPO", _APACHE_REPO_URL)
        return (f"{repo_url}gluon/embeddings/{cls.__name__.lower()}/"
                f"{cls._get_download_file_name(pretrained_file_name)}")

    @classmethod
    def _get_pretrained_file(cls, embedding_root, pretrained_file_name):
        """The path of `pretrained_file_name` under `embedding_root`/<class name, lower case>/, checked against
        its published SHA-1; extracted there first from its archive when only the archive is present."""
        embedding_dir = os.path.join(os.path.expanduser(embedding_root), cls.__name__.lower())
        file_path = os.path.join(embedding_dir, pretrained_file_name)
        expected_sha1 = cls.pretrained_file_name_sha1[pretrained_file_name]
        if not os.path.isfile(file_path):
            url = cls._get_pretrained_file_url(pretrained_file_name)
            archive_path = os.path.join(embedding_dir, os.path.basename(url))
            if archive_path == file_path or not os.path.isfile(archive_path):
                raise MXNetError(
                    f"{cls.__name__}: pretrained embedding file {pretrained_file_name} is not in {embedding_dir}, "
                    f"and mxcy does not download; fetch {url} and place it (or the file it holds, "
                    f"{pretrained_file_name}) in {embedding_dir}")
            archive_sha1 = getattr(cls, "pretrained_archive_name_sha1", {}).get(os.path.basename(archive_path))
            if archive_sha1 is not None and not check_sha1(archive_path, archive_sha1):
                raise MXNetError(f"{cls.__name__}: archive {archive_path} does not have the SHA-1 {archive_sha1} "
                                 f"of the published file; replace it with the one from {url}")
            _extract_member(archive_path, pretrained_file_name, file_path)
        if not check_sha1(file_path, expected_sha1):
            raise MXNetError(f"{cls.__name__}: {file_path} does not have the SHA-1 {expected_sha1} of the published "
                             f"{pretrained_file_name}; replace it with the one from "
                             f"{cls._get_pretrained_file_url(pretrained_file_name)}")
        return file_path

    @classmethod
    def _check_pretrained_file_names(cls, pretrained_file_name):
        """KeyError unless `pretrained_file_name` is one of the class's published files."""
        if pretrained_file_name not in cls.pretrained_file_name_sha1:
            name = cls.__name__.lower()
            raise _KeyMXNetError(f"Cannot find pretrained file {pretrained_file_name} for token embedding {name}. "
                                 f"Valid pretrained files for embedding {name}: "
                                 f"{', '.join(cls.pretrained_file_name_sha1)}")

    def _load_embedding(self, pretrained_file_path, elem_delim, init_unknown_vec, encoding='utf8'):
        """Index the tokens of a text file of lines `token<elem_delim>v1<elem_delim>v2...` after the unknown and
        reserved tokens, and set their vectors. Only the first vector of a repeated token is kept; a line with
        a single value is taken for a header and skipped."""
        pretrained_file_path = os.path.expanduser(pretrained_file_path)
        if not os.path.isfile(pretrained_file_path):
            raise MXNetValueError(f"{type(self).__name__}: `pretrained_file_path` {pretrained_file_path!r} must be "
                                  f"a valid path to the pretrained token embedding file")
        logging.info("Loading pretrained token embedding vectors from %s", pretrained_file_path)
        name = type(self).__name__
        rows = []  # vectors of the tokens the file adds to the index, in index order
        known_rows = {}  # index -> vector, for the unknown token and reserved tokens the file has
        vec_len = None
        seen = set()
        for line_num, token, values in _read_vectors(name, pretrained_file_path, elem_delim, encoding):
            where = f"line {line_num} of {pretrained_file_path}"
            if token in seen:
                warnings.warn(f"{where}: token {token} already has a vector; this duplicate is skipped")
                continue
            if len(values) == 1 and token != self._unknown_token:
                warnings.warn(f"{where}: token {token} with a 1-dimensional vector {values} is likely a header and "
                              f"is skipped")
                continue
            if vec_len is None:
                vec_len = len(values)
            elif len(values) != vec_len:
                raise AssertionMXNetError(f"{name}: {where}: token {token} has {len(values)} values but the tokens "
                                          f"before it have {vec_len}; all vectors must have one length")
            seen.add(token)
            if token in self._token_to_idx:
                known_rows[self._token_to_idx[token]] = values
            else:
                rows.append(values)
                self._token_to_idx[token] = len(self._idx_to_token)
                self._idx_to_token.append(token)
        if vec_len is None:
            raise AssertionMXNetError(f"{name}: {pretrained_file_path} holds no token vectors")
        self._vec_len = vec_len
        # The unknown and reserved tokens come first in the index; reserved tokens without a vector in the file
        # get zeros (MXNet 1.9.1 leaves idx_to_vec short of rows there).
        first_rows = [known_rows.get(idx, [0.0] * vec_len) for idx in range(len(self._idx_to_token) - len(rows))]
        self._idx_to_vec = nd.array(first_rows + rows)
        if UNKNOWN_IDX not in known_rows:
            self._idx_to_vec[UNKNOWN_IDX] = init_unknown_vec(shape=vec_len)

    def _index_tokens_from_vocabulary(self, vocabulary):
        self._token_to_idx = vocabulary.token_to_idx.copy()
        self._idx_to_token = vocabulary.idx_to_token[:]
        self._unknown_token = vocabulary.unknown_token
        self._reserved_tokens = None if vocabulary.reserved_tokens is None else vocabulary.reserved_tokens[:]

    def _set_idx_to_vec_by_embeddings(self, token_embeddings, vocab_idx_to_token):
        """Row i of the new idx_to_vec: the vectors of token `vocab_idx_to_token[i]` in each of
        `token_embeddings`, concatenated; row 0 concatenates their unknown-token vectors."""
        parts = [embed._vecs_at([UNKNOWN_IDX] + embed._indices_of(vocab_idx_to_token[1:], False))
                 for embed in token_embeddings]
        self._idx_to_vec = nd.concat(*parts, dim=1) if len(parts) > 1 else parts[0]
        self._vec_len = sum(embed.vec_len for embed in token_embeddings)

    def _build_embedding_for_vocabulary(self, vocabulary):
        """Re-index to the tokens of `vocabulary`, each with its vector here (unknown ones: the unknown vector)."""
        if vocabulary is None:
            return
        if not isinstance(vocabulary, vocab.Vocabulary):
            raise AssertionMXNetError(f"{type(self).__name__}: `vocabulary` must be a "
                                      f"mx.contrib.text.vocab.Vocabulary, got {type(vocabulary).__name__}")
        self._set_idx_to_vec_by_embeddings([self], vocabulary.idx_to_token)
        self._index_tokens_from_vocabulary(vocabulary)

    def _indices_of(self, tokens, lower_case_backup):
        if not lower_case_backup:
            return [self._token_to_idx.get(token, UNKNOWN_IDX) for token in tokens]
        return [self._token_to_idx[token] if token in self._token_to_idx
                else self._token_to_idx.get(token.lower(), UNKNOWN_IDX) for token in tokens]

    def get_vecs_by_tokens(self, tokens, lower_case_backup=False):
        """The vector of a token (NDArray (vec_len,)) or of a list of tokens (NDArray (len(tokens), vec_len));
        unknown tokens get the unknown vector. With `lower_case_backup`, a token not found is looked up again
        in lower case."""
        single = not isinstance(tokens, list)
        vecs = self._vecs_at(self._indices_of([tokens] if single else tokens, lower_case_backup))
        return vecs[0] if single else vecs

    def _vecs_at(self, indices):
        """A new NDArray (len(indices), vec_len) of the rows of idx_to_vec at `indices`."""
        return nd.Embedding(nd.array(indices), self._idx_to_vec, input_dim=self._idx_to_vec.shape[0],
                            output_dim=self._idx_to_vec.shape[1])

    def update_token_vectors(self, tokens, new_vectors):
        """Set the vectors of `tokens` (a token or a list) to the rows of NDArray `new_vectors`: shape
        (len(tokens), vec_len), or (vec_len,) for a single token. The unknown vector is updated only when
        `unknown_token` is named; any other token not indexed is a ValueError."""
        if self._idx_to_vec is None:
            raise AssertionMXNetError(f"{type(self).__name__}.update_token_vectors: `idx_to_vec` is not set")
        if not isinstance(tokens, list):
            tokens = [tokens]
        ndim_ok = (1, 2) if len(tokens) == 1 else (2,)
        if not isinstance(new_vectors, nd.NDArray) or new_vectors.ndim not in ndim_ok:
            raise AssertionMXNetError(
                f"{type(self).__name__}.update_token_vectors: `new_vectors` must be an NDArray with "
                f"{' or '.join(map(str, ndim_ok))} dimensions for {len(tokens)} token(s), got "
                f"{getattr(new_vectors, 'shape', type(new_vectors).__name__)}")
        if new_vectors.ndim == 1:
            new_vectors = new_vectors.expand_dims(axis=0)
        if new_vectors.shape != (len(tokens), self._vec_len):
            raise AssertionMXNetError(f"{type(self).__name__}.update_token_vectors: `new_vectors` has shape "
                                      f"{new_vectors.shape}, expected ({len(tokens)}, {self._vec_len}): one row of "
                                      f"vec_len values per token")
        for token in tokens:
            if token not in self._token_to_idx:
                raise MXNetValueError(
                    f"Token {token} is unknown. To update the embedding vector for an unknown token, please "
                    f"specify it explicitly as the `unknown_token` {self._idx_to_token[UNKNOWN_IDX]} in `tokens`. "
                    f"This is to avoid unintended updates.")
        self._idx_to_vec[nd.array([self._token_to_idx[token] for token in tokens])] = new_vectors


def _read_vectors(name, path, elem_delim, encoding):
    """(line number, token, [float values]) of each line `token<elem_delim>v1<elem_delim>v2...` of `path`."""
    with open(path, "r", encoding=encoding) as f:
        for line_num, line in enumerate(f, 1):
            elems = line.rstrip().split(elem_delim)
            if len(elems) < 2:
                raise AssertionMXNetError(f"{name}: line {line_num} of {path} is not `token{elem_delim}value...`: "
                                          f"{line.rstrip()!r}")
            try:
                values = [float(text) for text in elems[1:]]
            except ValueError as err:
                raise MXNetValueError(f"{name}: line {line_num} of {path}: an embedding value is not a number: "
                                      f"{err}") from None
            yield line_num, elems[0], values


def _extract_member(archive_path, member_name, dest_path):
    """Copy the archive member called `member_name` (at any depth) to `dest_path`, atomically; nothing else is
    extracted, so no path from the archive is ever written to."""
    if archive_path.endswith(".zip"):
        with zipfile.ZipFile(archive_path) as zf:
            names = [n for n in zf.namelist() if os.path.basename(n) == member_name]
            if names:
                with zf.open(names[0]) as src:
                    return _copy_atomically(src, dest_path)
    elif archive_path.endswith((".tar.gz", ".tgz", ".gz")):
        with tarfile.open(archive_path, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and os.path.basename(m.name) == member_name]
            if members:
                with tar.extractfile(members[0]) as src:
                    return _copy_atomically(src, dest_path)
    raise MXNetError(f"archive {archive_path} holds no file named {member_name}")


def _copy_atomically(src, dest_path):
    out = AtomicFile(dest_path, "pretrained embedding file")
    try:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            out.write(chunk)
    except BaseException:
        out.discard()
        raise
    out.commit()


_EMBEDDING_ROOT = os.path.join(base.data_dir(), "embeddings")


class _PublishedEmbedding(_TokenEmbedding):
    """A published embedding read from `embedding_root`: GloVe and FastText differ only in their tables."""

    def __init__(self, pretrained_file_name, embedding_root, init_unknown_vec, vocabulary, **kwargs):
        type(self)._check_pretrained_file_names(pretrained_file_name)
        super().__init__(**kwargs)
        path = type(self)._get_pretrained_file(embedding_root, pretrained_file_name)
        self._load_embedding(path, ' ', init_unknown_vec)
        self._build_embedding_for_vocabulary(vocabulary)


@register
class GloVe(_PublishedEmbedding):
    """GloVe word vectors (Pennington, Socher and Manning, 2014; https://nlp.stanford.edu/projects/glove/),
    read from `embedding_root`/glove/`pretrained_file_name`, or extracted there from the glove.<corpus>.zip
    archive placed in that folder. `vocabulary` (a Vocabulary) re-indexes to its tokens."""
    pretrained_file_name_sha1 = sha1_tables.GLOVE_FILE_SHA1
    pretrained_archive_name_sha1 = sha1_tables.GLOVE_ARCHIVE_SHA1

    @classmethod
    def _get_download_file_name(cls, pretrained_file_name):
        # glove.<corpus>.<dim>d.txt comes in glove.<corpus>[.300d].zip
        corpus = pretrained_file_name.split('.')[1]
        return next(archive for archive in cls.pretrained_archive_name_sha1 if archive.split('.')[1] == corpus)

    def __init__(self, pretrained_file_name='glove.840B.300d.txt', embedding_root=_EMBEDDING_ROOT,
                 init_unknown_vec=nd.zeros, vocabulary=None, **kwargs):
        super().__init__(pretrained_file_name, embedding_root, init_unknown_vec, vocabulary, **kwargs)


@register
class FastText(_PublishedEmbedding):
    """fastText word vectors (Bojanowski et al., 2016; https://fasttext.cc/), read from
    `embedding_root`/fasttext/`pretrained_file_name`, or extracted there from the <name>.zip archive placed in
    that folder. `vocabulary` (a Vocabulary) re-indexes to its tokens."""
    pretrained_file_name_sha1 = sha1_tables.FASTTEXT_FILE_SHA1
    pretrained_archive_name_sha1 = sha1_tables.FASTTEXT_ARCHIVE_SHA1

    @classmethod
    def _get_download_file_name(cls, pretrained_file_name):
        return pretrained_file_name.rsplit('.', 1)[0] + '.zip'

    def __init__(self, pretrained_file_name='wiki.simple.vec', embedding_root=_EMBEDDING_ROOT,
                 init_unknown_vec=nd.zeros, vocabulary=None, **kwargs):
        super().__init__(pretrained_file_name, embedding_root, init_unknown_vec, vocabulary, **kwargs)


class CustomEmbedding(_TokenEmbedding):
    """An embedding from the user's text file `pretrained_file_path` of lines `token<elem_delim>v1...vk`
    (read with `encoding`); `vocabulary` (a Vocabulary) re-indexes to its tokens, and `kwargs` (e.g.
    `unknown_token`, `reserved_tokens`) go to Vocabulary."""

    def __init__(self, pretrained_file_path, elem_delim=' ', encoding='utf8', init_unknown_vec=nd.zeros,
                 vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self._load_embedding(pretrained_file_path, elem_delim, init_unknown_vec, encoding)
        self._build_embedding_for_vocabulary(vocabulary)


class CompositeEmbedding(_TokenEmbedding):
    """The tokens of `vocabulary`, each with the concatenation of its vectors in `token_embeddings` (one
    _TokenEmbedding or a list)."""

    def __init__(self, vocabulary, token_embeddings):
        if not isinstance(vocabulary, vocab.Vocabulary):
            raise AssertionMXNetError(f"CompositeEmbedding: `vocabulary` must be a mx.contrib.text.vocab.Vocabulary, "
                                      f"got {type(vocabulary).__name__}")
        if not isinstance(token_embeddings, list):
            token_embeddings = [token_embeddings]
        for embed in token_embeddings:
            if not isinstance(embed, _TokenEmbedding):
                raise AssertionMXNetError(f"CompositeEmbedding: `token_embeddings` must be token embeddings, got "
                                          f"{type(embed).__name__}")
        super().__init__()
        self._index_tokens_from_vocabulary(vocabulary)
        self._set_idx_to_vec_by_embeddings(token_embeddings, self._idx_to_token)
