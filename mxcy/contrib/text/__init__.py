"""mx.contrib.text: MXNet 1.9.1's text helpers: token counting (`utils`), token indexing (`vocab`) and token
embeddings loaded from local pretrained files (`embedding`)."""
from . import embedding, utils, vocab  # noqa: F401
