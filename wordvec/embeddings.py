"""The one deliverable type: finished word vectors with their vocabulary, no training state.

Trainers return :class:`Embeddings`; alignment, combiners and compression map embeddings to
embeddings; formats read and write them; the store serves them memory-mapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.hash_embeddings import HashTable
from wordvec.subwords import check_ngram_range
from wordvec.types import VECTOR_DTYPES  # noqa: F401  (re-exported)
from wordvec.vocab import Vocab


@dataclass(frozen=True)
class SubwordTable:
    """fastText-style bucket rows: the vector of an unknown word is the mean of the rows of its
    character n-grams (see :mod:`wordvec.subwords`)."""

    vectors: NDArray[np.floating[Any]]
    min_n: int
    max_n: int

    def __post_init__(self) -> None:
        check_ngram_range(self.min_n, self.max_n)
        if self.vectors.ndim != 2 or self.vectors.shape[0] == 0:
            raise ConfigError(
                f"subword vectors must be a non-empty (n_buckets, dim) matrix "
                f"(got shape {self.vectors.shape})"
            )

    @property
    def n_buckets(self) -> int:
        return int(self.vectors.shape[0])


@dataclass(frozen=True)
class Embeddings:
    """``vectors[i]`` is the vector of ``vocab.words[i]``; ``metadata`` records how they were
    made (trainer configuration, source file) and is saved with them as JSON. ``hashing``: the
    table the vectors are bag means of (hash embeddings); a store then keeps only the table."""

    vocab: Vocab
    vectors: NDArray[np.floating[Any]]
    subwords: SubwordTable | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    hashing: HashTable | None = None

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2:
            raise ConfigError(f"vectors must be a 2-d matrix (got shape {self.vectors.shape})")
        if self.vectors.shape[0] != len(self.vocab):
            raise ConfigError(
                f"number of words ({len(self.vocab)}) does not match number of vectors "
                f"({self.vectors.shape[0]})"
            )
        if self.vectors.shape[1] < 1:
            raise ConfigError("vectors must have at least one dimension")
        if self.hashing is not None and self.hashing.vectors.shape[1] != self.dim:
            raise ConfigError(
                f"hash table has dimension {self.hashing.vectors.shape[1]}, word vectors {self.dim}"
            )
        if self.subwords is not None and self.subwords.vectors.shape[1] != self.dim:
            raise ConfigError(
                f"subword vectors have dimension {self.subwords.vectors.shape[1]}, word vectors "
                f"{self.dim}"
            )

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    @classmethod
    def from_words(
        cls,
        words: list[str] | tuple[str, ...],
        vectors: NDArray[np.floating[Any]],
        *,
        counts: NDArray[np.int64] | None = None,
        subwords: SubwordTable | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Embeddings:
        return cls(Vocab(tuple(words), counts), vectors, subwords, dict(metadata or {}))
