"""One read-only view over the two kinds of word vectors evaluation meets.

Every evaluation function takes a :class:`~wordvec.store.VectorStore` (memory-mapped), an
in-memory :class:`~wordvec.embeddings.Embeddings` or an :class:`EvalVectors` wrapping either.
The view owns what all tasks share: the first ``restrict_vocab`` rows as unit vectors (computed
once, then reused by every task run through the same view), the word lookup under gensim's case
rule, and the out-of-vocabulary fallback.

Case rule (gensim's ``case_insensitive=True``): among the first ``restrict_vocab`` words, a
dataset word matches the *first* vocabulary word with the same ``str.upper()``; with vocabularies
sorted by falling frequency that is the most frequent spelling. Words outside the first
``restrict_vocab`` rows count as unknown, as in gensim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError

if TYPE_CHECKING:
    from wordvec.embeddings import Embeddings
    from wordvec.store import VectorStore

VectorsLike = Union["VectorStore", "Embeddings", "EvalVectors"]


class EvalVectors:
    """A view for evaluation over a store or in-memory embeddings (not copied).

    Caches the words read, the case index and the unit rows for the largest ``restrict_vocab``
    asked for (they serve every smaller one), so run several tasks through one view to pay for
    them once. Memory: ``stop * dim * 4`` bytes for the unit rows (360 MB for 300,000 x 300).
    """

    def __init__(self, source: VectorStore | Embeddings) -> None:
        from wordvec.embeddings import Embeddings
        from wordvec.store import VectorStore

        self._store: VectorStore | None = None
        self._embeddings: Embeddings | None = None
        if isinstance(source, VectorStore):
            self._store = source
            # A compressed store's matrix decodes the rows asked for: same interface.
            self.matrix: NDArray[Any] = source.vectors  # type: ignore[assignment]
        elif isinstance(source, Embeddings):
            self._embeddings = source
            self.matrix = source.vectors
        else:
            raise ConfigError(
                f"expected a VectorStore or Embeddings to evaluate (got {type(source).__name__})"
            )
        self.n_words = int(self.matrix.shape[0])
        self.dim = int(self.matrix.shape[1])
        self._words: list[str] = []
        self._unit: NDArray[np.float32] | None = None
        self._case: tuple[int, dict[str, int], NDArray[np.int64]] | None = None

    def __repr__(self) -> str:
        kind = "store" if self._store is not None else "embeddings"
        return f"EvalVectors({kind}, n_words={self.n_words}, dim={self.dim})"

    @property
    def name(self) -> str:
        if self._store is not None:
            return str(self._store.path)
        return "<embeddings>"

    def stop_for(self, restrict_vocab: int | None) -> int:
        """How many leading rows ``restrict_vocab`` allows (``None``: all). Raises
        :class:`ConfigError` if it is below 1."""
        if restrict_vocab is None:
            return self.n_words
        if restrict_vocab < 1:
            raise ConfigError(f"restrict_vocab must be at least 1 (got {restrict_vocab})")
        return min(int(restrict_vocab), self.n_words)

    # --- words --------------------------------------------------------------------------------

    def words(self, stop: int) -> list[str]:
        """The first ``stop`` words (read once, then cached)."""
        if len(self._words) < stop:
            start = len(self._words)
            if self._store is not None:
                self._words.extend(self._store.words_at(start, stop))
            else:
                assert self._embeddings is not None
                self._words.extend(self._embeddings.vocab.words[start:stop])
        return self._words[:stop]

    def exact_ids(self, words: Sequence[str]) -> NDArray[np.int64]:
        """Ids of ``words`` spelled exactly so, -1 where unknown; int64, shape ``(len(words),)``."""
        if self._store is not None:
            return self._store.indices_of(words)
        assert self._embeddings is not None
        get = self._embeddings.vocab.get
        return np.fromiter((get(w) for w in words), dtype=np.int64, count=len(words))

    def words_at_rows(self, rows: Sequence[int]) -> list[str]:
        """The words of ``rows`` (valid ids), without decoding the vocabulary before them."""
        if self._embeddings is not None:
            vocab = self._embeddings.vocab.words
            return [vocab[r] for r in rows]
        if not rows or max(rows) < len(self._words):
            return [self._words[r] for r in rows]
        assert self._store is not None
        found = {r: self._store.word_at(r) for r in set(rows)}
        return [found[r] for r in rows]

    def _case_index(self, stop: int) -> tuple[dict[str, int], NDArray[np.int64]]:
        # One index serves every smaller stop: it maps a spelling to its *first* row, so a
        # spelling first seen at or after ``stop`` is simply not among the first ``stop`` rows.
        if self._case is None or self._case[0] < stop:
            index: dict[str, int] = {}
            canonical = np.empty(stop, dtype=np.int64)
            for i, word in enumerate(self.words(stop)):
                canonical[i] = index.setdefault(word.upper(), i)
            self._case = (stop, index, canonical)
        return self._case[1], self._case[2][:stop]

    def lookup(
        self, words: Sequence[str], *, stop: int, case_insensitive: bool
    ) -> NDArray[np.int64]:
        """Row of each word among the first ``stop`` rows, -1 where there is none.

        With ``case_insensitive`` the row is the first one whose word has the same upper case
        (gensim's rule), so ``"paris"`` finds ``"Paris"`` when that comes first.
        """
        if case_insensitive:
            index, _ = self._case_index(stop)
            ids = np.fromiter(
                (index.get(w.upper(), -1) for w in words), dtype=np.int64, count=len(words)
            )
        else:
            ids = self.exact_ids(words)
        ids[ids >= stop] = -1
        return ids

    def canonical_ids(self, stop: int, *, case_insensitive: bool) -> NDArray[np.int64]:
        """For each of the first ``stop`` rows, the row a dataset word spelled like it would be
        looked up as: itself, or under the case rule the first row with the same upper case.
        int64, shape ``(stop,)``; do not modify."""
        if not case_insensitive:
            return np.arange(stop, dtype=np.int64)
        return self._case_index(stop)[1]

    # --- vectors ------------------------------------------------------------------------------

    def rows(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """Rows ``ids`` (all valid) as a new float32 ``(len(ids), dim)`` matrix."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((ids.shape[0], self.dim), dtype=np.float32)
        if ids.size:
            # Gather in id order: a memory-mapped file is then read front to back.
            order = np.argsort(ids, kind="stable")
            out[order] = self.matrix[ids[order]]
        return out

    def unit_rows(self, stop: int) -> NDArray[np.float32]:
        """The first ``stop`` rows scaled to unit length (zero rows stay zero), float32
        ``(stop, dim)``; computed once and shared by every smaller ``stop``. Do not modify."""
        if self._unit is None or self._unit.shape[0] < stop:
            self._unit = None  # release the old copy before making the new one
            self._unit = unit_normalize(np.array(self.matrix[:stop], dtype=np.float32))
        return self._unit[:stop]

    def unit_rows_of(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """Rows ``rows`` (valid ids) scaled to unit length, float32 ``(len(rows), dim)``."""
        if self._unit is not None and rows.size and rows.max() < self._unit.shape[0]:
            return self._unit[rows]
        return unit_normalize(self.rows(rows))

    @property
    def has_fallback(self) -> bool:
        """Whether unknown words get a vector of their own (a store always gives one per its
        ``oov`` policy; in-memory embeddings only with a subword table)."""
        return self._store is not None or (
            self._embeddings is not None and self._embeddings.subwords is not None
        )

    def fallback_vectors(self, words: Sequence[str]) -> NDArray[np.float32]:
        """The vector the source itself gives each word, float32 ``(len(words), dim)``: its row
        if the word is in the vocabulary (at any position, exact spelling), otherwise the
        store's OOV policy (``KeyError`` under ``oov="error"``); for in-memory embeddings the
        fastText mean of the word's subword rows, or zeros without a subword table."""
        if self._store is not None:
            return self._store.vectors_of(words)
        assert self._embeddings is not None
        ids = self.exact_ids(words)
        out = np.zeros((len(words), self.dim), dtype=np.float32)
        known = np.flatnonzero(ids >= 0)
        out[known] = self.rows(ids[known])
        subwords = self._embeddings.subwords
        if subwords is not None:
            from wordvec.subwords import ngram_bucket_ids

            for row in np.flatnonzero(ids < 0).tolist():
                buckets = ngram_bucket_ids(
                    words[row], subwords.min_n, subwords.max_n, subwords.n_buckets
                )
                if buckets.size:
                    out[row] = np.asarray(subwords.vectors[np.sort(buckets)], np.float32).mean(0)
        return out


def as_eval_vectors(vectors: VectorsLike) -> EvalVectors:
    """``vectors`` itself if it is already a view, else a new view over it."""
    return vectors if isinstance(vectors, EvalVectors) else EvalVectors(vectors)


def unit_normalize(matrix: NDArray[Any]) -> NDArray[Any]:
    """Rows of ``matrix`` scaled to unit length in place where their norm is positive (zero rows
    stay zero, so their cosine with anything is 0 rather than NaN); returns ``matrix``. Norms
    are accumulated in float64."""
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64)).astype(matrix.dtype)
    np.divide(matrix, norms[:, None], out=matrix, where=norms[:, None] > 0)
    return matrix
