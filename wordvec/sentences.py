"""Sentence encodings from stored word embeddings: CBOW sum or mean, CMOW ordered matrix product,
or the hybrid's concatenation of both (Mai, Galke and Scherp, ICLR 2019). NumPy only: this is
on the lookup path (``wordvec.encode``).

How a row splits comes from the store's metadata (``sentence_encoder``, written by the CMOW
trainer): the first ``cbow_dim`` columns are a CBOW vector, the next ``m * m`` a row-major
``m x m`` matrix. A store without that entry (skip-gram, CBOW, converted vectors) is all CBOW.

The encoding of a sentence ``w_1 .. w_n`` is ``[sum_i v_i ; vec(X_1 X_2 ... X_n)]`` (the CBOW
part is the mean instead with ``pooling="mean"``, the default for stores not trained by the
CMOW trainer, as averaging is the usual way to pool word2vec vectors).

Unknown words (OOV rule): a word not in the store's vocabulary is dropped, i.e. it counts as
the neutral element of each composition (a zero vector for the sum, the identity matrix for the
product), as the reference implementation drops words outside its vocabulary; with
``oov="error"`` it raises ``KeyError`` instead. A sentence without known words encodes as zeros
(CBOW part) and the flattened identity (CMOW part).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError

if TYPE_CHECKING:
    from wordvec.embeddings import Embeddings
    from wordvec.store import VectorStore

Pooling = Literal["sum", "mean"]
OOV_RULES = ("drop", "error")
_BATCH = 4096


@dataclass(frozen=True)
class EncoderLayout:
    """Columns ``[0, cbow_dim)`` pool by ``pooling``; the next ``matrix_dim ** 2`` form a
    row-major matrix composed by ordered product."""

    cbow_dim: int
    matrix_dim: int
    pooling: Pooling

    @property
    def dim(self) -> int:
        return self.cbow_dim + self.matrix_dim**2

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, Any], dim: int, *, pooling: Pooling | None = None
    ) -> EncoderLayout:
        """The layout a store's metadata describes (all-CBOW with mean pooling if it
        describes none); raises :class:`ConfigError` if it contradicts the row size ``dim``."""
        if pooling is not None and pooling not in ("sum", "mean"):
            raise ConfigError(f"pooling must be sum or mean (got {pooling!r})")
        spec = metadata.get("sentence_encoder")
        if not isinstance(spec, Mapping):
            return cls(dim, 0, pooling or "mean")
        try:
            cbow_dim = int(spec["cbow_dim"])
            rows, cols = (int(x) for x in spec["matrix_shape"])
            stored_pooling = str(spec.get("cbow_pooling", "sum"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"unreadable sentence_encoder metadata {dict(spec)!r}") from exc
        if rows != cols or cbow_dim < 0 or cbow_dim + rows * cols != dim:
            raise ConfigError(
                f"sentence_encoder metadata (cbow_dim {cbow_dim}, matrix {rows}x{cols}) does "
                f"not match the vectors' dimension {dim}"
            )
        chosen = pooling or stored_pooling
        if chosen not in ("sum", "mean"):
            raise ConfigError(f"pooling must be sum or mean (got {chosen!r})")
        return cls(cbow_dim, rows, chosen)  # type: ignore[arg-type]


def compose(layout: EncoderLayout, word_vectors: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """The encoding of one sentence from its ``(n_tokens, dim)`` word rows, in order (the
    signature of a sentence encoder in :mod:`wordvec.eval.probing`)."""
    rows = np.asarray(word_vectors, dtype=np.float32)
    out = np.empty(layout.dim, dtype=np.float32)
    cb, m = layout.cbow_dim, layout.matrix_dim
    out[:cb] = rows[:, :cb].sum(axis=0)
    if layout.pooling == "mean" and rows.shape[0]:
        out[:cb] /= rows.shape[0]
    product = np.eye(m, dtype=np.float32)
    for row in rows[:, cb:]:
        product = product @ row.reshape(m, m)
    out[cb:] = product.reshape(-1)
    return out


def sentence_encoder(
    metadata: Mapping[str, Any], dim: int, *, pooling: Pooling | None = None
) -> Callable[[NDArray[np.float32]], NDArray[np.float32]]:
    """A function from a sentence's word rows to its encoding, for stores with ``metadata``
    (e.g. ``evaluate_probing(view, data, encoder=sentence_encoder(store.metadata, store.dim))``)."""
    layout = EncoderLayout.from_metadata(metadata, dim, pooling=pooling)

    def encode_rows(word_vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        return compose(layout, word_vectors)

    return encode_rows


def _tokenize(sentence: str | Sequence[str]) -> list[str]:
    # ASCII whitespace, as the corpus reader splits tokens
    if isinstance(sentence, str):
        raw = sentence.encode("utf-8", errors="surrogatepass")
        return [t.decode("utf-8", errors="surrogatepass") for t in raw.split()]
    return list(sentence)


def encode(
    store: VectorStore | Embeddings | str | os.PathLike[str],
    sentences: Sequence[str | Sequence[str]],
    *,
    oov: Literal["drop", "error"] = "drop",
    pooling: Pooling | None = None,
) -> NDArray[np.float32]:
    """Encode ``sentences`` (strings, split on ASCII whitespace, or token sequences) with the
    store's words: a ``(len(sentences), dim)`` float32 matrix, row ``i`` for sentence ``i``.

    CBOW part: sum of the word vectors (``pooling="mean"``: their mean; default: what the
    store was trained with, mean for stores without CMOW metadata); CMOW part: the ordered
    product of the word matrices. Unknown words are dropped (``oov="error"``: ``KeyError``);
    see the module docstring for the exact rule.
    """
    if oov not in OOV_RULES:
        raise ConfigError(f"oov must be one of {', '.join(OOV_RULES)} (got {oov!r})")
    if isinstance(store, (str, os.PathLike)):
        from wordvec.store import VectorStore

        with VectorStore(store) as opened:
            return encode(opened, sentences, oov=oov, pooling=pooling)
    metadata = store.metadata
    matrix = store.vectors
    layout = EncoderLayout.from_metadata(metadata, int(matrix.shape[1]), pooling=pooling)
    token_lists = [_tokenize(s) for s in sentences]
    words = list(dict.fromkeys(w for tokens in token_lists for w in tokens))
    if hasattr(store, "indices_of"):
        ids = store.indices_of(words)
    else:
        ids = store.vocab.ids_of(words).astype(np.int64)
    if oov == "error" and (ids < 0).any():
        raise KeyError(f"word {words[int(np.flatnonzero(ids < 0)[0])]!r} is not in the vocabulary")
    slot = {w: i for i, w in enumerate(words)}
    known_slots = np.flatnonzero(ids >= 0)
    # Table of the distinct known words, read once in id order.
    order = known_slots[np.argsort(ids[known_slots], kind="stable")]
    table = np.empty((len(words), layout.dim), dtype=np.float32)
    if order.size:
        table[order] = np.asarray(matrix[ids[order]], dtype=np.float32)
    known = ids >= 0
    sequences = []
    for tokens in token_lists:
        seq = np.fromiter((slot[t] for t in tokens), dtype=np.int64, count=len(tokens))
        sequences.append(seq[known[seq]])
    out = np.empty((len(sequences), layout.dim), dtype=np.float32)
    for start in range(0, len(sequences), _BATCH):
        batch = sequences[start : start + _BATCH]
        out[start : start + len(batch)] = _encode_batch(layout, table, batch)
    return out


def _encode_batch(
    layout: EncoderLayout, table: NDArray[np.float32], sequences: list[NDArray[np.int64]]
) -> NDArray[np.float32]:
    """Vectorised over sentences: the CBOW sums by one segmented reduction; the products
    step by step over positions, sentences sorted by falling length so that the ones still
    running at step ``t`` are a prefix of the batch."""
    cb, m = layout.cbow_dim, layout.matrix_dim
    n = len(sequences)
    lengths = np.fromiter((s.shape[0] for s in sequences), dtype=np.int64, count=n)
    out = np.zeros((n, layout.dim), dtype=np.float32)
    flat = np.concatenate(sequences) if n else np.empty(0, dtype=np.int64)
    if cb and flat.size:
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        nonempty = lengths > 0
        sums = np.add.reduceat(table[flat, :cb], starts[nonempty], axis=0)
        out[nonempty, :cb] = sums
        if layout.pooling == "mean":
            out[nonempty, :cb] /= lengths[nonempty, None]
    if m:
        order = np.argsort(-lengths, kind="stable")
        sorted_lengths = lengths[order]
        products = np.broadcast_to(np.eye(m, dtype=np.float32), (n, m, m)).copy()
        matrices = table[:, cb:].reshape(-1, m, m)
        longest = int(sorted_lengths[0]) if n else 0
        padded = np.zeros((n, longest), dtype=np.int64)
        for row, index in enumerate(order.tolist()):
            padded[row, : lengths[index]] = sequences[index]
        for t in range(longest):
            # the sentences longer than t: lengths fall, so they are a prefix
            active = int(np.count_nonzero(sorted_lengths > t))
            products[:active] = products[:active] @ matrices[padded[:active, t]]
        out[order, cb:] = products.reshape(n, m * m)
    return out
