"""The one vocabulary every part of wordvec shares.

A :class:`Vocab` is frozen: words in a fixed order (by falling count when built from a corpus),
their counts and a word -> id index. Trainers, the store, alignment, combiners and compression
take it as it is; derived tables (noise distribution, subsampling) are pure functions of its
counts, so nothing can drift out of sync with it.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.progress import Progress
from wordvec.textio import (
    DEFAULT_CHUNK_BYTES,
    PathLike,
    check_unicode_errors,
    iter_corpus_blocks,
)


@dataclass(frozen=True)
class Vocab:
    """Words in id order, their counts (``None`` when unknown, as for vectors converted from a
    format that has none) and the word -> id index.

    Raises :class:`ConfigError` on duplicate words or counts that do not match the words.
    """

    words: tuple[str, ...]
    counts: NDArray[np.int64] | None = None
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {word: i for i, word in enumerate(self.words)}
        if len(index) != len(self.words):
            for i, word in enumerate(self.words):
                if index[word] != i:  # the index kept the last of the duplicates
                    raise ConfigError(
                        f"duplicate word in vocabulary: {word!r} at ids {i} and {index[word]}"
                    )
        object.__setattr__(self, "_index", index)
        if self.counts is not None:
            counts = np.ascontiguousarray(self.counts, dtype=np.int64)
            if counts.shape != (len(self.words),):
                raise ConfigError(
                    f"number of counts ({counts.shape}) does not match number of words "
                    f"({len(self.words)})"
                )
            if counts.size and counts.min() < 0:
                raise ConfigError("word counts must be non-negative")
            counts.setflags(write=False)
            object.__setattr__(self, "counts", counts)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        if self.words != other.words:
            return False
        if self.counts is None or other.counts is None:
            return self.counts is None and other.counts is None
        return bool(np.array_equal(self.counts, other.counts))

    __hash__ = None  # type: ignore[assignment]

    def id_of(self, word: str) -> int:
        """The id of ``word``; raises ``KeyError`` if it is not in the vocabulary."""
        return self._index[word]

    def get(self, word: str, default: int = -1) -> int:
        return self._index.get(word, default)

    def ids_of(self, words: Iterable[str], *, missing: int = -1) -> NDArray[np.int32]:
        """Ids of ``words`` as int32, ``missing`` where a word is unknown."""
        get = self._index.get
        return np.array([get(w, missing) for w in words], dtype=np.int32)

    @property
    def total_count(self) -> int:
        return int(self.counts.sum()) if self.counts is not None else 0

    def require_counts(self) -> NDArray[np.int64]:
        if self.counts is None:
            raise ConfigError(
                "this vocabulary has no word counts (it came from a vector file without them); "
                "build the vocabulary from a corpus instead"
            )
        return self.counts

    def to_arrays(self) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        """The words as one UTF-8 byte array and ``len(self) + 1`` offsets into it."""
        encoded = [w.encode("utf-8") for w in self.words]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return blob, offsets

    @classmethod
    def from_arrays(
        cls,
        words_utf8: NDArray[np.uint8],
        word_offsets: NDArray[np.int64],
        counts: NDArray[np.int64] | None = None,
    ) -> Vocab:
        """Inverse of :meth:`to_arrays`."""
        return cls(decode_words(words_utf8, word_offsets), counts)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        *,
        min_count: int = 1,
        max_size: int | None = None,
    ) -> Vocab:
        """Keep words seen at least ``min_count`` times, at most ``max_size`` of them, sorted by
        falling count; ties are broken by the words' code points so the order is the same on
        every machine."""
        check_vocab_limits(min_count, max_size)
        kept = [(w, c) for w, c in counts.items() if c >= min_count]
        kept.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            kept = kept[:max_size]
        return cls(tuple(w for w, _ in kept), np.array([c for _, c in kept], dtype=np.int64))


def decode_words(words_utf8: NDArray[np.uint8], word_offsets: NDArray[np.int64]) -> tuple[str, ...]:
    blob = np.asarray(words_utf8).tobytes()
    bounds = np.asarray(word_offsets).tolist()
    return tuple(blob[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds))


def check_vocab_limits(min_count: int, max_size: int | None) -> None:
    if min_count < 1:
        raise ConfigError(f"min_count must be at least 1 (got {min_count})")
    if max_size is not None and max_size < 1:
        raise ConfigError(f"max_size must be at least 1 (got {max_size})")


def _as_paths(paths: PathLike | Sequence[PathLike]) -> list[PathLike]:
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    return list(paths)


def _total_bytes(paths: Sequence[PathLike]) -> int:
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def count_tokens(
    paths: PathLike | Sequence[PathLike],
    *,
    lowercase: bool = False,
    unicode_errors: str = "strict",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool | None = False,
) -> Counter[str]:
    """Count every distinct token of the files (decoded, lowercased on request)."""
    check_unicode_errors(unicode_errors)
    path_list = _as_paths(paths)
    raw: Counter[bytes] = Counter()
    with Progress("counting", total=None, unit="tokens", enabled=progress) as bar:
        for block in iter_corpus_blocks(
            path_list, chunk_bytes=chunk_bytes, unicode_errors=unicode_errors
        ):
            raw.update(block.tokens)
            bar.update(len(block.tokens))
    counts: Counter[str] = Counter()
    for token, count in raw.items():
        word = token.decode("utf-8", errors=unicode_errors)
        if lowercase:
            word = word.lower()
        counts[word] += count
    return counts


def build_vocab(
    paths: PathLike | Sequence[PathLike],
    *,
    min_count: int = 5,
    max_size: int | None = None,
    lowercase: bool = False,
    unicode_errors: str = "strict",
    progress: bool | None = False,
) -> Vocab:
    """Build the vocabulary of one or several text files (plain, .gz, .bz2 or .xz).

    Tokens are split on ASCII whitespace; a file may be one sentence per line or a single huge
    line (text8): it is read in chunks, never as a list of all its tokens.
    """
    check_vocab_limits(min_count, max_size)
    counts = count_tokens(
        paths, lowercase=lowercase, unicode_errors=unicode_errors, progress=progress
    )
    return Vocab.from_counts(counts, min_count=min_count, max_size=max_size)


# --- derived tables ----------------------------------------------------------------------------


def noise_distribution(counts: NDArray[np.int64], power: float = 0.75) -> NDArray[np.float64]:
    """Negative-sampling distribution ``count**power / sum`` (word2vec uses 0.75)."""
    if counts.size == 0:
        raise ConfigError("cannot build a noise distribution over an empty vocabulary")
    weights = np.power(counts.astype(np.float64), power)
    total = weights.sum()
    if not total > 0:
        raise ConfigError("cannot build a noise distribution: all word counts are zero")
    return weights / total


class AliasTable(NamedTuple):
    """Walker's alias table: draw ``i`` uniformly, keep it with probability ``accept[i]``,
    otherwise take ``alias[i]``; O(1) per draw whatever the vocabulary size."""

    accept: NDArray[np.float64]
    alias: NDArray[np.int32]


def build_alias_table(probabilities: NDArray[np.float64]) -> AliasTable:
    """Vose's construction of the alias table of a discrete distribution (sums to 1)."""
    from wordvec.sampling_kernels import build_alias_kernel

    probs = np.ascontiguousarray(probabilities, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0:
        raise ConfigError("an alias table needs a non-empty 1-d probability vector")
    if not np.all(np.isfinite(probs)) or probs.min() < 0:
        raise ConfigError("probabilities must be finite and non-negative")
    total = probs.sum()
    if not total > 0:
        raise ConfigError("probabilities must not all be zero")
    accept, alias = build_alias_kernel(probs / total)
    return AliasTable(accept, alias)


def sample_alias(table: AliasTable, rng: np.random.Generator, size: int) -> NDArray[np.int64]:
    """Draw ``size`` ids from an alias table with a NumPy generator (reference and tests;
    trainers draw inside their kernels with their own per-thread RNG)."""
    n = table.accept.shape[0]
    slots = rng.integers(0, n, size=size)
    keep = rng.random(size) < table.accept[slots]
    return np.where(keep, slots, table.alias[slots])


def keep_probabilities(counts: NDArray[np.int64], sample: float = 1e-3) -> NDArray[np.float32]:
    """word2vec's subsampling: a token of a word with frequency ``f = count / total`` is kept
    with probability ``(sqrt(f / sample) + 1) * sample / f``, capped at 1; ``sample=0`` keeps
    everything."""
    if sample < 0:
        raise ConfigError(f"sample must be >= 0 (got {sample})")
    if sample == 0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float32)
    total = float(counts.sum())
    if total <= 0:
        raise ConfigError("cannot subsample: all word counts are zero")
    threshold = sample * total
    c = np.maximum(counts.astype(np.float64), 1.0)
    keep = (np.sqrt(c / threshold) + 1.0) * threshold / c
    return np.minimum(keep, 1.0).astype(np.float32)


def vocab_metadata(vocab: Vocab, **build_options: Any) -> dict[str, Any]:
    """A JSON-able description of how a vocabulary was built (for store metadata)."""
    return {"n_words": len(vocab), "total_count": vocab.total_count, **build_options}
