"""The lookup object over a memory-mapped store: ``wordvec.load(path)``.

Opening reads the header and maps the arrays; no vector, word or index entry is read until a
query touches it, so opening takes the same few milliseconds at any vocabulary size and many
processes can share one store (the operating system shares the pages). Only NumPy and h5py are
needed here.

Compressed stores (int8, product or additive codes, pruned) are read the same way: ``vectors``
is then a :class:`~wordvec.quantized.WordMatrix` that decodes the rows it is asked for, and
``most_similar``/``analogy`` score the codes directly (asymmetric distance computation).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError, StoreError
from wordvec.formats.store import StoreLayout, read_layout, word_hash
from wordvec.hash_embeddings import HashRows
from wordvec.oov import (
    NgramIndex,
    blend_oov_vector,
    derive_ngram_index,
    hashed_random_vector,
    rank_neighbours,
)
from wordvec.quantized import DenseRows, RowCodec, WordMatrix
from wordvec.subwords import ngram_bucket_ids

OOV_POLICIES = ("subword", "error", "zeros")
ANALOGY_METHODS = ("3cosadd", "3cosmul")
_BLOCK_ROWS = 1 << 16
_COSMUL_EPSILON = 1e-3

Query = str | NDArray[np.floating[Any]]


class VectorStore:
    """Read-only word vectors served from a store file.

    ``store["word"]`` gives a float32 vector; an unknown word gets one according to ``oov``:
    ``"subword"`` (default) builds it from character n-grams (fastText buckets if the store has
    them, else the n-gram neighbour index), ``"error"`` raises ``KeyError`` and ``"zeros"`` gives
    a zero vector. :meth:`is_oov` tells which words were not in the vocabulary.
    """

    def __init__(self, path: str | os.PathLike[str], *, oov: str = "subword") -> None:
        if oov not in OOV_POLICIES:
            raise ConfigError(f"oov must be one of {', '.join(OOV_POLICIES)} (got {oov!r})")
        self.oov = oov
        self.layout: StoreLayout = read_layout(path)
        layout = self.layout
        self.path = layout.path
        self.dim = layout.dim
        self.codec: RowCodec = layout.open_codec()
        self.word_rows: NDArray[np.int32] | None = (
            layout.map("word_rows") if "word_rows" in layout.arrays else None
        )
        # A dense, unpruned matrix is served as the memory map itself (no decoding layer).
        self.vectors: NDArray[Any] | WordMatrix = (
            self.codec.matrix
            if isinstance(self.codec, DenseRows) and self.word_rows is None
            else WordMatrix(self.codec, self.word_rows, layout.n_words)
        )
        self.norms: NDArray[np.float32] = layout.map("norms")
        self._words_utf8: NDArray[np.uint8] = layout.map("vocab/words_utf8")
        self._word_offsets: NDArray[np.integer[Any]] = layout.map("vocab/word_offsets")
        # The compact layout has no word hashes: a probe then compares the words' bytes.
        self._word_hashes: NDArray[np.uint32] | None = (
            layout.map("vocab/word_hashes") if "vocab/word_hashes" in layout.arrays else None
        )
        self._hash_table: NDArray[np.int32] = layout.map("vocab/hash_table")
        self._mask = self._hash_table.shape[0] - 1
        self.subword_vectors: NDArray[Any] | None = None
        if layout.subword_range is not None:
            self.subword_vectors = layout.map("subwords/vectors")
        # Counts and the n-gram index may be stored compressed (compact layout): they are read
        # on first use, so opening stays instant.
        self._counts: NDArray[np.int64] | None = None
        self._ngram_index: NgramIndex | None = None
        self._closed = False

    @property
    def counts(self) -> NDArray[np.int64] | None:
        """Corpus counts of the words (``None`` if the store has none)."""
        self._check_open()
        if self._counts is None and "vocab/counts" in self.layout.arrays:
            self._counts = self.layout.map("vocab/counts")
        return self._counts

    @property
    def ngram_index(self) -> NgramIndex | None:
        """The n-gram -> words index of the OOV fallback (``None`` if the store has none)."""
        self._check_open()
        layout = self.layout
        if self._ngram_index is None and layout.oov_range is not None:
            if layout.oov_derived:
                self._ngram_index = self._derived_ngram_index()
                return self._ngram_index
            if layout.oov_buckets is None:  # classic layout: an offset for every bucket
                offsets = layout.map("oov_index/posting_offsets")
                n_buckets, bucket_ids = int(offsets.shape[0] - 1), None
            else:
                offsets = layout.map("oov_index/bucket_offsets")
                n_buckets, bucket_ids = layout.oov_buckets, layout.map("oov_index/bucket_ids")
            self._ngram_index = NgramIndex(
                offsets,
                layout.map("oov_index/posting_word_ids"),
                len(self),
                *layout.oov_range,
                n_buckets,
                bucket_ids,
            )
        return self._ngram_index

    def _derived_ngram_index(self) -> NgramIndex:
        """Rebuild the posting lists of a derived index from the stored words (NumPy only;
        the same lists the stored compact index would hold)."""
        layout = self.layout
        assert layout.oov_range is not None
        assert layout.oov_buckets is not None and layout.oov_max_postings is not None
        min_n, max_n = layout.oov_range
        arrays = derive_ngram_index(
            self._words_utf8,
            self._word_offsets,
            min_n=min_n,
            max_n=max_n,
            n_index_buckets=layout.oov_buckets,
            max_postings=layout.oov_max_postings,
        )
        return NgramIndex(
            arrays["bucket_offsets"],
            arrays["posting_word_ids"],
            len(self),
            min_n,
            max_n,
            layout.oov_buckets,
            arrays["bucket_ids"],
        )

    # --- container protocol -------------------------------------------------------------------

    def __len__(self) -> int:
        return self.layout.n_words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.index_of(word) >= 0

    def __iter__(self) -> Iterator[str]:
        step = 1 << 16
        for start in range(0, len(self), step):
            yield from self.words_at(start, min(start + step, len(self)))

    def __getitem__(self, word: str) -> NDArray[np.float32]:
        return self.vector(word)

    def __repr__(self) -> str:
        return f"VectorStore({self.path!r}, n_words={len(self)}, dim={self.dim}, oov={self.oov!r})"

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the memory maps; the object cannot be queried afterwards."""
        self.vectors = np.empty((0, self.dim), dtype=np.float32)
        self.codec = DenseRows(self.vectors)
        self.word_rows = None
        self.norms = np.empty(0, dtype=np.float32)
        self._words_utf8 = np.empty(0, dtype=np.uint8)
        self._word_offsets = np.empty(0, dtype=np.int64)
        self._word_hashes = None
        self._hash_table = np.empty(0, dtype=np.int32)
        self._counts = self.subword_vectors = None
        self._ngram_index = None
        self.layout._loaded.clear()  # unpacked cold datasets (compact layout)
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(self.path, "the store has been closed")

    @property
    def metadata(self) -> dict[str, Any]:
        """How the vectors were made (trainer configuration or source file)."""
        return self.layout.metadata

    # --- words and ids ------------------------------------------------------------------------

    def word_at(self, word_id: int) -> str:
        """The word with id ``word_id``."""
        self._check_open()
        if not 0 <= word_id < len(self):
            raise IndexError(f"word id {word_id} out of range 0..{len(self) - 1}")
        start, stop = self._word_offsets[word_id : word_id + 2].tolist()
        return self._decode(self._word_bytes(start, stop), word_id)

    def words_at(self, start: int, stop: int) -> list[str]:
        """The words with ids ``start`` to ``stop - 1``."""
        self._check_open()
        bounds = self._word_offsets[start : stop + 1].tolist()
        if not bounds:
            return []
        blob = self._word_bytes(bounds[0], bounds[-1])
        base = bounds[0]
        return [
            self._decode(blob[a - base : b - base], start + i)
            for i, (a, b) in enumerate(itertools.pairwise(bounds))
        ]

    def _decode(self, data: bytes, word_id: int) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(
                self.path, f"corrupted vocabulary: word {word_id} is not UTF-8"
            ) from exc

    def _word_bytes(self, start: int, stop: int) -> bytes:
        if not 0 <= start <= stop <= self._words_utf8.shape[0]:
            raise StoreError(self.path, f"corrupted vocabulary: word offsets {start}..{stop}")
        return self._words_utf8[start:stop].tobytes()

    def _find(self, encoded: bytes, hashed: int, slot: int) -> int:
        table, hashes, offsets = self._hash_table, self._word_hashes, self._word_offsets
        n = len(self)
        for _ in range(table.shape[0]):
            word_id = int(table[slot])
            if word_id < 0:
                return -1
            if word_id >= n:
                raise StoreError(self.path, f"corrupted hash index: word id {word_id}")
            if hashes is None or hashes[word_id] == hashed:
                start, stop = offsets[word_id : word_id + 2].tolist()
                if self._word_bytes(start, stop) == encoded:
                    return word_id
            slot = (slot + 1) & self._mask
        return -1

    def index_of(self, word: str) -> int:
        """The id of ``word``, or -1 if it is not in the vocabulary."""
        self._check_open()
        encoded = word.encode("utf-8", errors="surrogatepass")
        hashed = word_hash(encoded)
        return self._find(encoded, hashed, hashed & self._mask)

    def indices_of(self, words: Sequence[str]) -> NDArray[np.int64]:
        """Ids of many words at once (-1 where unknown), probing the index in vectorised rounds."""
        self._check_open()
        encoded = [w.encode("utf-8", errors="surrogatepass") for w in words]
        hashes = np.fromiter((word_hash(e) for e in encoded), dtype=np.int64, count=len(encoded))
        query_lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        query_starts = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(query_lengths, out=query_starts[1:])
        query_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        result = np.full(len(encoded), -1, dtype=np.int64)
        pending = np.arange(len(encoded))
        slots = hashes & self._mask
        n = len(self)
        # Rounds: every pending word looks at its slot; empty slot -> unknown; same hash and same
        # bytes -> found; anything else -> next slot. Few rounds at load factor <= 1/2.
        while pending.size:
            ids = self._hash_table[slots].astype(np.int64)
            if ids.size and ids.max() >= n:
                raise StoreError(self.path, "corrupted hash index: word id out of range")
            live = ids >= 0
            if self._word_hashes is None:
                match = live.copy()
            else:
                match = np.zeros(pending.size, dtype=bool)
                match[live] = self._word_hashes[ids[live]] == hashes[pending[live]]
            rows = np.flatnonzero(match)
            if rows.size:
                # Same CRC is not yet the same word: compare the bytes; a collision probes on.
                found = rows[self._same_bytes(ids[rows], pending[rows], query_starts, query_bytes)]
                result[pending[found]] = ids[found]
                live[found] = False
            pending, slots = pending[live], (slots[live] + 1) & self._mask
        return result

    def _same_bytes(
        self,
        word_ids: NDArray[np.int64],
        queries: NDArray[np.int64],
        query_starts: NDArray[np.int64],
        query_bytes: NDArray[np.uint8],
    ) -> NDArray[np.bool_]:
        """Whether vocabulary word ``word_ids[i]`` is spelled as query ``queries[i]``, for all
        ``i`` at once (a gather of both byte strings and one segmented comparison)."""
        starts = self._word_offsets[word_ids].astype(np.int64)
        lengths = self._word_offsets[word_ids + 1].astype(np.int64) - starts
        q_starts = query_starts[queries]
        same = lengths == query_starts[queries + 1] - q_starts
        if not same.any():
            return same
        rows = np.flatnonzero(same & (lengths > 0))
        if rows.size:
            seg_lengths = lengths[rows]
            seg_starts = np.zeros(rows.size, dtype=np.int64)
            np.cumsum(seg_lengths[:-1], out=seg_starts[1:])
            within = np.arange(int(seg_lengths.sum()), dtype=np.int64) - np.repeat(
                seg_starts, seg_lengths
            )
            word_pos = np.repeat(starts[rows], seg_lengths) + within
            if word_pos.size and (word_pos.min() < 0 or word_pos.max() >= self._words_utf8.size):
                raise StoreError(self.path, "corrupted vocabulary: word offsets out of range")
            differ = (
                self._words_utf8[word_pos]
                != query_bytes[np.repeat(q_starts[rows], seg_lengths) + within]
            )
            same[rows] = np.logical_or.reduceat(differ, seg_starts) == 0
        return same

    def is_oov(self, word: str) -> bool:
        """True if ``word`` is not in the vocabulary (its vector would come from the fallback)."""
        return self.index_of(word) < 0

    # --- vectors ------------------------------------------------------------------------------

    def vector(self, word: str) -> NDArray[np.float32]:
        """The vector of ``word`` as a new float32 array (OOV words per the ``oov`` policy)."""
        word_id = self.index_of(word)
        if word_id >= 0:
            return np.array(self.vectors[word_id], dtype=np.float32)
        return self.oov_vector(word)

    def vectors_of(self, words: Sequence[str]) -> NDArray[np.float32]:
        """A ``(len(words), dim)`` float32 matrix, rows in the order of ``words``."""
        ids = self.indices_of(words)
        known = ids >= 0
        out = np.empty((len(words), self.dim), dtype=np.float32)
        known_rows = np.flatnonzero(known)
        if known_rows.size:
            # Gather in id order: the pages of the file are then read front to back.
            known_rows = known_rows[np.argsort(ids[known_rows], kind="stable")]
            out[known_rows] = self.vectors[ids[known_rows]]
        for row in np.flatnonzero(~known).tolist():
            out[row] = self.oov_vector(words[row])
        return out

    def oov_vector(self, word: str) -> NDArray[np.float32]:
        """The vector the ``oov`` policy gives ``word`` (also for words in the vocabulary, which
        shows what the fallback would have produced)."""
        self._check_open()
        if self.oov == "error":
            raise KeyError(f"word {word!r} not in vocabulary of {self.path}")
        if self.oov == "zeros":
            return np.zeros(self.dim, dtype=np.float32)
        if isinstance(self.codec, HashRows):  # every word has its bag in the hash table
            return self.codec.vectors_of_words([word])[0]
        if self.subword_vectors is not None and self.layout.subword_range is not None:
            min_n, max_n = self.layout.subword_range
            buckets = ngram_bucket_ids(word, min_n, max_n, self.subword_vectors.shape[0])
            if buckets.size == 0:
                return np.zeros(self.dim, dtype=np.float32)
            rows = np.asarray(self.subword_vectors[np.sort(buckets)], dtype=np.float32)
            return rows.mean(axis=0, dtype=np.float32)
        if self.ngram_index is not None:
            hashes, ids, scores = self._oov_neighbour_ids(word)
            neighbours = np.asarray(self.vectors[ids], dtype=np.float32)
            return blend_oov_vector(
                hashed_random_vector(hashes, self.dim), neighbours, scores, self.layout.median_norm
            )
        # A store written without any index: only the n-gram hash part is available.
        from wordvec.subwords import ngram_hashes

        return hashed_random_vector(ngram_hashes(word, 3, 5), self.dim) * np.float32(
            self.layout.median_norm
        )

    def _oov_neighbour_ids(
        self, word: str, k: int = 5
    ) -> tuple[NDArray[np.uint32], NDArray[np.int64], NDArray[np.float64]]:
        assert self.ngram_index is not None
        hashes, buckets = self.ngram_index.query_buckets(word)
        ids, shared = self.ngram_index.candidates(buckets)
        words = [self.word_at(int(i)) for i in ids]
        ids, scores = rank_neighbours(word, ids, shared, words, k=k)
        return hashes, ids, scores

    def oov_neighbours(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The vocabulary words the n-gram fallback blends for ``word``, with their edit
        similarity (1 - edit distance / length)."""
        self._check_open()
        if self.ngram_index is None:
            return []
        _, ids, scores = self._oov_neighbour_ids(word, k)
        return [(self.word_at(int(i)), float(s)) for i, s in zip(ids, scores, strict=True)]

    # --- similarity ---------------------------------------------------------------------------

    def _query_vector(self, query: Query) -> tuple[NDArray[np.float32], int]:
        if isinstance(query, str):
            word_id = self.index_of(query)
            vec = (
                np.array(self.vectors[word_id], dtype=np.float32)
                if word_id >= 0
                else self.oov_vector(query)
            )
            return vec, word_id
        vec = np.asarray(query, dtype=np.float32).reshape(-1)
        if vec.shape[0] != self.dim:
            raise ConfigError(f"query vector has {vec.shape[0]} dimensions, store has {self.dim}")
        return vec, -1

    @staticmethod
    def _unit(vec: NDArray[np.float32]) -> NDArray[np.float32]:
        norm = float(np.linalg.norm(vec))
        return vec / np.float32(norm) if norm > 0 else vec

    def _scan(
        self,
        queries: NDArray[np.float32],
        score: Any,
        topn: int,
        exclude: set[int],
    ) -> list[tuple[int, float]]:
        """Exact top-``topn`` of ``score(cosines)`` over all rows, one block at a time so the
        matrix never has to fit in memory. Encoded rows are scored from their codes. In a pruned
        store only the words that own a row (the first ``n_rows``) can be answers."""
        self._check_open()
        n = self.codec.n_rows
        keep = min(topn + len(exclude), n)
        best_ids: list[NDArray[np.int64]] = []
        best_scores: list[NDArray[np.float32]] = []
        q = np.ascontiguousarray(queries.T, dtype=np.float32)
        dot = self.codec.scorer(q)
        for start in range(0, n, _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, n)
            cosines = dot(start, stop)
            norms = self.norms[start:stop]
            np.divide(cosines, norms[:, None], out=cosines, where=norms[:, None] > 0)
            cosines[norms == 0] = 0.0
            scores = score(cosines)
            if keep < scores.shape[0]:
                top = np.argpartition(-scores, keep - 1)[:keep]
            else:
                top = np.arange(scores.shape[0])
            best_ids.append(top + start)
            best_scores.append(scores[top])
        ids = np.concatenate(best_ids)
        scores = np.concatenate(best_scores)
        order = np.lexsort((ids, -scores))
        result: list[tuple[int, float]] = []
        for i in order.tolist():
            word_id = int(ids[i])
            if word_id in exclude:
                continue
            result.append((word_id, float(scores[i])))
            if len(result) == topn:
                break
        return result

    def most_similar(
        self,
        query: Query | Sequence[Query],
        topn: int = 10,
        *,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``topn`` words with the highest cosine similarity to ``query`` (a word, a vector,
        or several of them, averaged as unit vectors as gensim does). Query words are left out
        of the answer. Exact: every vector is compared."""
        if topn < 1:
            raise ConfigError(f"topn must be at least 1 (got {topn})")
        items: list[Query] = (
            [query]
            if isinstance(query, str) or (isinstance(query, np.ndarray) and query.ndim == 1)
            else list(query)
        )
        if not items:
            raise ConfigError("most_similar needs at least one query")
        units = []
        excluded = {self.index_of(w) for w in exclude} - {-1}
        for item in items:
            vec, word_id = self._query_vector(item)
            units.append(self._unit(vec))
            if word_id >= 0:
                excluded.add(word_id)
        mean = self._unit(np.mean(units, axis=0).astype(np.float32))
        hits = self._scan(mean[None, :], lambda c: c[:, 0], topn, excluded)
        return [(self.word_at(i), s) for i, s in hits]

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two words (OOV words per the ``oov`` policy)."""
        a = self._unit(self._query_vector(first)[0])
        b = self._unit(self._query_vector(second)[0])
        return float(np.dot(a, b))

    def analogy(
        self,
        a: str,
        b: str,
        c: str,
        topn: int = 1,
        *,
        method: Literal["3cosadd", "3cosmul"] = "3cosadd",
    ) -> list[tuple[str, float]]:
        """Answer "``a`` is to ``b`` as ``c`` is to ?" (king - man + woman: ``a="man",
        b="king", c="woman"``). ``3cosadd`` ranks by cos(x, b - a + c) on unit vectors;
        ``3cosmul`` (Levy & Goldberg, 2014) by cos'(x,b) cos'(x,c) / (cos'(x,a) + 0.001) with
        cos' = (cos + 1) / 2. The three words are excluded from the answer."""
        if method not in ANALOGY_METHODS:
            raise ConfigError(
                f"method must be one of {', '.join(ANALOGY_METHODS)} (got {method!r})"
            )
        if topn < 1:
            raise ConfigError(f"topn must be at least 1 (got {topn})")
        vecs = []
        excluded = set()
        for word in (a, b, c):
            vec, word_id = self._query_vector(word)
            vecs.append(self._unit(vec))
            if word_id >= 0:
                excluded.add(word_id)
        if method == "3cosadd":
            target = self._unit((vecs[1] - vecs[0] + vecs[2]).astype(np.float32))
            hits = self._scan(target[None, :], lambda c_: c_[:, 0], topn, excluded)
        else:

            def cosmul(cos: NDArray[np.float32]) -> NDArray[np.float32]:
                shifted = (cos + 1.0) / 2.0
                return shifted[:, 1] * shifted[:, 2] / (shifted[:, 0] + _COSMUL_EPSILON)

            hits = self._scan(np.stack(vecs), cosmul, topn, excluded)
        return [(self.word_at(i), s) for i, s in hits]

    # --- conversion ---------------------------------------------------------------------------

    def to_embeddings(self) -> Any:
        """Load everything into memory as :class:`wordvec.embeddings.Embeddings`."""
        from wordvec.embeddings import Embeddings, SubwordTable
        from wordvec.vocab import Vocab

        self._check_open()
        vocab = Vocab(
            tuple(self.words_at(0, len(self))),
            None if self.counts is None else np.array(self.counts),
        )
        subwords = None
        if self.subword_vectors is not None and self.layout.subword_range is not None:
            subwords = SubwordTable(np.array(self.subword_vectors), *self.layout.subword_range)
        hashing = None
        if isinstance(self.codec, HashRows):  # written back, it stays a hash store
            from wordvec.hash_embeddings import HashTable

            hashing = HashTable(np.array(self.codec.table), self.codec.params)
        return Embeddings(vocab, np.array(self.vectors), subwords, dict(self.metadata), hashing)
