"""wordvec: static word embeddings, from training to an instant memory-mapped lookup store.

``import wordvec`` is cheap: it pulls in neither NumPy-heavy training code nor Numba, SciPy or
gensim. ``wordvec.load`` needs only NumPy and h5py.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

    from wordvec.embeddings import Embeddings
    from wordvec.store import VectorStore


def load(path: str | os.PathLike[str], *, oov: str = "subword") -> VectorStore:
    """Open a wordvec store for lookup; nothing is read into memory until it is queried.

    ``oov`` chooses what an out-of-vocabulary word gets: ``"subword"`` (a vector built from its
    character n-grams, the default), ``"error"`` (``KeyError``) or ``"zeros"``.
    """
    from wordvec.store import VectorStore

    return VectorStore(path, oov=oov)


def encode(
    store: VectorStore | Embeddings | str | os.PathLike[str],
    sentences: Sequence[str | Sequence[str]],
    *,
    oov: str = "drop",
    pooling: str | None = None,
) -> NDArray[np.float32]:
    """Sentence encodings ``(len(sentences), dim)`` from a store (or its path, or embeddings):
    CBOW sum (or mean), CMOW ordered matrix product, or the hybrid's concatenation, as the
    store's metadata says; unknown words are dropped (``oov="error"``: ``KeyError``). See
    :mod:`wordvec.sentences`."""
    from wordvec.sentences import encode as encode_sentences

    return encode_sentences(store, sentences, oov=oov, pooling=pooling)  # type: ignore[arg-type]


def __getattr__(name: str) -> Any:
    # Heavier names load on first use so that ``import wordvec`` stays fast.
    if name == "VectorStore":
        from wordvec.store import VectorStore

        return VectorStore
    if name == "Vocab":
        from wordvec.vocab import Vocab

        return Vocab
    if name == "Embeddings":
        from wordvec.embeddings import Embeddings

        return Embeddings
    raise AttributeError(f"module 'wordvec' has no attribute {name!r}")


__all__ = ["Embeddings", "VectorStore", "Vocab", "__version__", "encode", "load"]
