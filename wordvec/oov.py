"""Vectors for out-of-vocabulary words, for any model.

Two mechanisms, chosen by what the store holds:

* **Subword buckets** (fastText and our subword trainers): the vector of an unknown word is the
  mean of the bucket rows of its character n-grams, exactly as fastText computes it.
* **n-gram neighbours** (any other model; the idea of Magnitude, built differently): the store
  holds an inverted index from hashed character n-grams to the words containing them. An
  unknown word's candidates are the words sharing most n-grams with it, ranked by edit
  similarity; its vector blends the vectors of the best matches (so ``"helo"`` lands next to
  ``"hello"``) with a pseudo-random vector derived from its own n-gram hashes (so two unknown
  words that share n-grams also end up close, and no two distinct unknown words collapse onto
  one point).

Both are pure functions of the word and the store's arrays: the same word gets the same vector
on every machine and in every process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.subwords import ngram_hashes

OOV_MIN_N = 3
OOV_MAX_N = 5
OOV_MAX_POSTINGS = 512
OOV_NEIGHBOURS = 5
OOV_CANDIDATES = 32
OOV_MIN_SCORE = 0.5
OOV_NEIGHBOUR_WEIGHT = 0.7
OOV_WEIGHT_TEMPERATURE = 0.025


def index_bucket_count(n_words: int) -> int:
    """Size of the n-gram hash space of the index: about sixteen buckets per word (a word has a
    dozen n-grams), a power of two between 2**16 and 2**22, so collisions stay rare."""
    target = max(16 * n_words, 1 << 16)
    return int(min(1 << int(np.ceil(np.log2(target))), 1 << 22))


def build_ngram_index(
    words_utf8: NDArray[np.uint8],
    word_offsets: NDArray[np.integer[Any]],
    *,
    min_n: int = OOV_MIN_N,
    max_n: int = OOV_MAX_N,
    n_index_buckets: int | None = None,
    max_postings: int = OOV_MAX_POSTINGS,
    compact: bool = False,
) -> dict[str, NDArray[Any]]:
    """The posting lists of :class:`NgramIndex` for a vocabulary given as UTF-8 bytes and
    offsets (see :meth:`wordvec.vocab.Vocab.to_arrays`). Needs Numba (write path only).

    The classic layout lists every bucket (``posting_offsets``, int64, one per bucket, plus
    ``word_ngram_counts``); the ``compact`` one lists only the buckets some word uses (a tenth
    of them: n-grams are shared), as sorted ``bucket_ids`` (uint32) with their
    ``bucket_offsets`` (uint32 while they fit), and stores word ids as uint16 when the
    vocabulary allows. Both give the same candidates for every query."""
    from wordvec.oov_kernels import build_posting_lists
    from wordvec.subword_kernels import vocab_ngram_hashes

    n_words = word_offsets.shape[0] - 1
    buckets = n_index_buckets or index_bucket_count(n_words)
    hash_offsets, hashes = vocab_ngram_hashes(
        np.ascontiguousarray(words_utf8, dtype=np.uint8),
        np.ascontiguousarray(word_offsets, dtype=np.int64),
        min_n,
        max_n,
    )
    posting_offsets, posting_word_ids, word_ngram_counts = build_posting_lists(
        hash_offsets, hashes, buckets, max_postings
    )
    if not compact:
        return {
            "posting_offsets": posting_offsets,
            "posting_word_ids": posting_word_ids,
            "word_ngram_counts": word_ngram_counts,
        }
    used = np.flatnonzero(np.diff(posting_offsets) > 0)
    # The postings of the used buckets are contiguous and in bucket order already.
    bucket_offsets = np.append(posting_offsets[used], posting_offsets[-1])
    return {
        "bucket_ids": used.astype("<u4"),
        "bucket_offsets": bucket_offsets.astype(narrowest_index_dtype(int(posting_offsets[-1]))),
        "posting_word_ids": posting_word_ids.astype(narrowest_id_dtype(n_words)),
    }


def vocab_ngram_pairs(
    words_utf8: NDArray[np.uint8],
    word_offsets: NDArray[np.integer[Any]],
    min_n: int,
    max_n: int,
) -> tuple[NDArray[np.int32], NDArray[np.uint32]]:
    """Every (word id, n-gram hash) of a vocabulary, in NumPy only (the read path's twin of
    :func:`wordvec.subword_kernels.vocab_ngram_hashes`, tested equal to it).

    The same n-grams and fastText hashes as :func:`wordvec.subwords.ngram_hashes` (``<word>``,
    n-grams over characters, sign-extended FNV-1a), but grouped by length rather than by word:
    the words are laid out once with their boundary markers, and the hashes of all n-grams
    starting at every character grow together, one character (one array operation per UTF-8
    byte of it) per step from 1 to ``max_n``; those from ``min_n`` on are kept. Returns
    ``(word_ids, hashes)`` (int32, uint32), one entry per n-gram, in no particular order."""
    n_words = int(word_offsets.shape[0]) - 1
    offsets = np.asarray(word_offsets, dtype=np.int64)
    if n_words <= 0 or max_n == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint32)
    first_byte = int(offsets[0])
    # The marked stream "<w0><w1>...": word i's markers sit at its offset shifted by 2i.
    shift = 2 * np.arange(n_words, dtype=np.int64)
    bow = offsets[:-1] - first_byte + shift
    eow = offsets[1:] - first_byte + shift + 1
    total = int(eow[-1]) + 1
    marked = np.empty(total, dtype=np.uint8)
    marked[bow] = ord("<")
    marked[eow] = ord(">")
    inside = np.ones(total, dtype=bool)
    inside[bow] = False
    inside[eow] = False
    marked[inside] = words_utf8[first_byte : int(offsets[-1])]
    # fastText casts each byte to a signed char: bytes >= 0x80 XOR in as 0xFFFFFF00 | byte.
    signed = marked.view(np.int8).astype(np.int32).view(np.uint32)
    is_start = (marked & 0xC0) != 0x80
    starts = np.flatnonzero(is_start)
    n_chars = starts.shape[0]
    # Character index of each word's markers; for every character, its word and how many
    # characters remain in the word from it (the ">" included).
    index_dtype = np.int32 if total < 1 << 31 else np.int64  # narrower: faster scans
    char_index = np.cumsum(is_start, dtype=index_dtype) - 1
    first_char, last_char = char_index[bow], char_index[eow]
    word_of_char = np.repeat(np.arange(n_words, dtype=np.int32), last_char - first_char + 1)
    remaining = last_char[word_of_char] - np.arange(n_chars, dtype=index_dtype) + 1
    # Each character's first byte; the continuation bytes of the (rare) multi-byte characters
    # are added apart.
    first_of_char = signed[starts]
    char_bytes = np.diff(starts, append=total)
    multi = np.flatnonzero(char_bytes > 1)

    # hashes[k] is the hash of the n characters from character k on. Step n appends character
    # k + n - 1 to every k at once (a contiguous slice, no gather); n-grams that run past their
    # word's ">" are hashed too and dropped when kept ones are taken.
    prime = np.uint32(16777619)
    hashes = np.full(n_chars, 2166136261, dtype=np.uint32)
    out_words: list[NDArray[np.int32]] = []
    out_hashes: list[NDArray[np.uint32]] = []
    for n in range(1, max_n + 1):
        width = n_chars - n + 1
        if width <= 0:
            break
        grown = hashes[:width]
        grown ^= first_of_char[n - 1 :]
        grown *= prime
        appended = multi[multi >= n - 1]
        begin = appended - (n - 1)
        extra = 1
        while appended.shape[0]:
            wider = char_bytes[appended] > extra
            appended, begin = appended[wider], begin[wider]
            grown[begin] = (grown[begin] ^ signed[starts[appended] + extra]) * prime
            extra += 1
        if n < min_n:
            continue
        keep = remaining[:width] >= n
        if n == 1:  # a boundary marker alone is no n-gram
            keep &= remaining > 1
            keep[first_char] = False
        out_words.append(word_of_char[:width][keep])
        out_hashes.append(grown[keep])
    if not out_words:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint32)
    return np.concatenate(out_words), np.concatenate(out_hashes)


def derive_ngram_index(
    words_utf8: NDArray[np.uint8],
    word_offsets: NDArray[np.integer[Any]],
    *,
    min_n: int,
    max_n: int,
    n_index_buckets: int,
    max_postings: int,
) -> dict[str, NDArray[Any]]:
    """The compact posting lists of :func:`build_ngram_index` rebuilt from the words alone, in
    NumPy only: what a store with a *derived* index computes on its first unknown word.

    Returns the arrays ``build_ngram_index(..., compact=True)`` stores (``bucket_ids``,
    ``bucket_offsets``, ``posting_word_ids``), equal value for value (the dtypes may be wider):
    each used bucket lists the distinct words having an n-gram in it, ascending, the first
    ``max_postings`` of them. One sort of ``bucket * n_words + word`` keys does it."""
    n_words = int(word_offsets.shape[0]) - 1
    word_ids, hashes = vocab_ngram_pairs(words_utf8, word_offsets, min_n, max_n)
    # Sort (bucket, word) pairs as one uint64 key, the word in the low bits: np.sort is much
    # faster than np.unique or a stable argsort by bucket, and sorted duplicates are adjacent.
    word_bits = max(n_words - 1, 1).bit_length()
    if max(n_index_buckets - 1, 1).bit_length() + word_bits > 64:
        raise ValueError(f"{n_index_buckets} buckets x {n_words} words do not fit 64-bit keys")
    keys = hashes.astype(np.uint64) % np.uint64(n_index_buckets)
    keys <<= np.uint64(word_bits)
    keys |= word_ids.astype(np.uint64)
    keys.sort()
    if keys.shape[0]:
        distinct = np.empty(keys.shape[0], dtype=bool)
        distinct[0] = True
        np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
        keys = keys[distinct]
    buckets = keys >> np.uint64(word_bits)
    word_ids = (keys & np.uint64((1 << word_bits) - 1)).astype(np.int64)
    new_bucket = np.empty(buckets.shape[0], dtype=bool)
    new_bucket[:1] = True
    np.not_equal(buckets[1:], buckets[:-1], out=new_bucket[1:])
    group_start = np.flatnonzero(new_bucket)
    sizes = np.diff(group_start, append=buckets.shape[0])
    if sizes.shape[0] and int(sizes.max()) > max_postings:
        # Rank of each word within its bucket: the index keeps the first max_postings.
        rank = np.arange(buckets.shape[0]) - np.repeat(group_start, sizes)
        word_ids = word_ids[rank < max_postings]
        sizes = np.minimum(sizes, max_postings)
    bucket_offsets = np.zeros(group_start.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=bucket_offsets[1:])
    return {
        "bucket_ids": buckets[group_start].astype(np.uint32),
        "bucket_offsets": bucket_offsets,
        "posting_word_ids": word_ids.astype(narrowest_id_dtype(n_words)),
    }


def narrowest_id_dtype(n_ids: int) -> np.dtype[Any]:
    """uint16 for ids below 65,536, else int32 (what a vocabulary id needs)."""
    return np.dtype("<u2") if n_ids <= 1 << 16 else np.dtype("<i4")


def narrowest_index_dtype(largest: int) -> np.dtype[Any]:
    """uint32 for offsets up to 2**32 - 1, else int64."""
    return np.dtype("<u4") if largest < 1 << 32 else np.dtype("<i8")


@dataclass(frozen=True)
class NgramIndex:
    """Read side of the n-gram -> words index (arrays may be memory maps).

    The words of listed bucket ``j`` are
    ``posting_word_ids[bucket_offsets[j]:bucket_offsets[j + 1]]``; bucket ``j`` is the index
    bucket ``bucket_ids[j]`` (compact layout), or simply ``j`` when ``bucket_ids`` is ``None``
    (classic layout: every one of the ``n_index_buckets`` buckets listed)."""

    bucket_offsets: NDArray[np.integer[Any]]
    posting_word_ids: NDArray[np.integer[Any]]
    n_words: int
    min_n: int
    max_n: int
    n_index_buckets: int
    bucket_ids: NDArray[np.uint32] | None = None

    def query_buckets(self, word: str) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
        """The n-gram hashes of ``word`` and their distinct index buckets."""
        hashes = ngram_hashes(word, self.min_n, self.max_n)
        return hashes, np.unique(hashes.astype(np.int64) % self.n_index_buckets)

    def _listed(self, buckets: NDArray[np.int64]) -> NDArray[np.int64]:
        """Positions in ``bucket_offsets`` of the given buckets that hold any word."""
        if self.bucket_ids is None:
            return buckets[buckets < self.bucket_offsets.shape[0] - 1]
        n_listed = self.bucket_ids.shape[0]
        slots = np.searchsorted(self.bucket_ids, buckets).astype(np.int64)
        inside = slots < n_listed
        slots = slots[inside]
        return slots[self.bucket_ids[slots] == buckets[inside]]

    def candidates(
        self, buckets: NDArray[np.int64], limit: int = OOV_CANDIDATES
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Up to ``limit`` vocabulary ids sharing the most n-gram buckets with a word (ties to
        the more frequent word), with how many they share."""
        empty = np.empty(0, dtype=np.int64)
        if buckets.size == 0:
            return empty, empty
        offsets = self.bucket_offsets
        slots = self._listed(buckets)
        lists = [self.posting_word_ids[offsets[j] : offsets[j + 1]] for j in slots.tolist()]
        if not lists:
            return empty, empty
        candidates = np.concatenate(lists).astype(np.int64)
        if candidates.size == 0:
            return empty, empty
        ids, shared = np.unique(candidates, return_counts=True)
        valid = (ids >= 0) & (ids < self.n_words)  # a damaged store
        ids, shared = ids[valid], shared[valid].astype(np.int64)
        order = np.lexsort((ids, -shared))[:limit]
        return ids[order], shared[order]


def edit_similarity(word: str, candidates: Sequence[str]) -> NDArray[np.float64]:
    """``1 - levenshtein(word, c) / max(len(word), len(c))`` for each candidate, in characters.

    The dynamic programme runs one query character at a time, vectorised over candidates and
    their positions; the insertion recurrence ``d[j] = min(d[j], d[j-1] + 1)`` is a running
    minimum of ``d[j] - j``, so no Python loop over candidate positions is needed.
    """
    if not candidates:
        return np.empty(0, dtype=np.float64)
    lengths = np.array([len(c) for c in candidates], dtype=np.int64)
    width = int(lengths.max())
    chars = np.full((len(candidates), width), -1, dtype=np.int64)
    for row, candidate in enumerate(candidates):
        chars[row, : len(candidate)] = [ord(ch) for ch in candidate]
    steps = np.arange(width + 1, dtype=np.int64)
    previous = np.broadcast_to(steps, (len(candidates), width + 1)).copy()
    for i, ch in enumerate(word, start=1):
        current = np.empty_like(previous)
        current[:, 0] = i
        current[:, 1:] = np.minimum(previous[:, :-1] + (chars != ord(ch)), previous[:, 1:] + 1)
        previous = np.minimum.accumulate(current - steps, axis=1) + steps
    distance = previous[np.arange(len(candidates)), lengths]
    return 1.0 - distance / np.maximum(np.maximum(lengths, len(word)), 1)


def rank_neighbours(
    word: str,
    ids: NDArray[np.int64],
    shared: NDArray[np.int64],
    candidate_words: Sequence[str],
    *,
    k: int = OOV_NEIGHBOURS,
    min_score: float = OOV_MIN_SCORE,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Re-rank n-gram candidates by edit similarity (n-gram overlap alone favours short words
    contained in the query: ``"hel"`` over ``"hello"`` for ``"helo"``); ties go to more shared
    n-grams, then to the more frequent word. Returns the best ``k`` with score >= ``min_score``."""
    scores = edit_similarity(word, candidate_words)
    order = np.lexsort((ids, -shared, -scores))[:k]
    keep = scores[order] >= min_score
    return ids[order][keep], scores[order][keep]


def hashed_random_vector(hashes: NDArray[np.uint32], dim: int) -> NDArray[np.float32]:
    """Sum over n-grams of a pseudo-random vector in [-1, 1)^dim seeded by each n-gram's hash
    (splitmix64 of ``hash * dim + j``), normalised to unit length: deterministic everywhere."""
    if hashes.size == 0:
        return np.zeros(dim, dtype=np.float32)
    with np.errstate(over="ignore"):
        z = hashes.astype(np.uint64)[:, None] * np.uint64(dim) + np.arange(dim, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    uniform = (z >> np.uint64(11)).astype(np.float64) * (2.0 / 9007199254740992.0) - 1.0
    total = uniform.sum(axis=0)
    norm = np.linalg.norm(total)
    return (total / norm if norm > 0 else total).astype(np.float32)


def blend_oov_vector(
    random_part: NDArray[np.float32],
    neighbour_vectors: NDArray[np.float32],
    neighbour_scores: NDArray[np.float64],
    fallback_norm: float,
) -> NDArray[np.float32]:
    """``0.7 * unit(weighted mean of unit neighbours) + 0.3 * random_part``, scaled to the
    mean norm of the neighbours (or ``fallback_norm``, the store's median norm, if none).

    Weights are ``exp(-(best - score) / 0.025)``: the closest spelling dominates (a typo lands
    by its source word) while exact ties share the vector."""
    if neighbour_vectors.shape[0] == 0:
        return (random_part * np.float32(fallback_norm)).astype(np.float32)
    norms = np.linalg.norm(neighbour_vectors, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    units = neighbour_vectors / safe[:, None]
    weights = np.exp(-(neighbour_scores.max() - neighbour_scores) / OOV_WEIGHT_TEMPERATURE)
    mean = (weights[:, None] * units).sum(axis=0)
    mean_norm = np.linalg.norm(mean)
    if mean_norm > 0:
        mean = mean / mean_norm
    blended = OOV_NEIGHBOUR_WEIGHT * mean + (1.0 - OOV_NEIGHBOUR_WEIGHT) * random_part
    length = np.linalg.norm(blended)
    target = float(norms.mean()) if norms.mean() > 0 else fallback_norm
    if length > 0:
        blended = blended * (target / length)
    return blended.astype(np.float32)
