"""Character n-grams and the fastText hash: the one place subwords are defined.

Training with subwords, the store's out-of-vocabulary fallback and hash compression all call this
module (or its batch twin :mod:`wordvec.subword_kernels`), so an n-gram gets the same bucket
everywhere and a vector trained here answers OOV words exactly as fastText would.

fastText's rules, reproduced byte for byte:

* the word is wrapped in boundary markers: ``"<" + word + ">"``, then UTF-8 encoded;
* n-grams are taken at every *character* start (UTF-8 continuation bytes ``10xxxxxx`` never start
  one) for ``n`` from ``min_n`` to ``max_n`` characters, shortest first, start by start;
* a 1-gram that is just a boundary marker is skipped;
* the hash is 32-bit FNV-1a over the bytes, except that each byte is first cast to a *signed*
  char and sign-extended to 32 bits (``uint32_t(int8_t(c))``). That quirk of the C++ code makes
  every byte >= 0x80 XOR in as ``0xFFFFFF00 | byte``; plain FNV-1a would give different buckets
  for any non-ASCII word, so we keep it for compatibility with published fastText models;
* the bucket of an n-gram is ``hash % n_buckets``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError

FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
BOW = "<"
EOW = ">"


def fasttext_hash(data: bytes) -> int:
    """32-bit FNV-1a with fastText's sign-extended bytes; returns an int in ``[0, 2**32)``."""
    h = FNV_OFFSET_BASIS
    for byte in data:
        h ^= byte | 0xFFFFFF00 if byte & 0x80 else byte
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def check_ngram_range(min_n: int, max_n: int) -> None:
    """Raise :class:`ConfigError` unless ``1 <= min_n <= max_n`` (or both are 0: no n-grams)."""
    if (min_n, max_n) == (0, 0):
        return
    if min_n < 1 or max_n < min_n:
        raise ConfigError(
            f"subword n-gram range must satisfy 1 <= min_n <= max_n (got min_n={min_n}, "
            f"max_n={max_n}); use min_n=max_n=0 to disable subwords"
        )


def char_ngrams(word: str, min_n: int, max_n: int) -> list[bytes]:
    """The UTF-8 n-grams of ``<word>`` in fastText's order (see the module docstring)."""
    check_ngram_range(min_n, max_n)
    if max_n == 0:
        return []
    data = (BOW + word + EOW).encode("utf-8")
    starts = [i for i, byte in enumerate(data) if byte & 0xC0 != 0x80]
    n_chars = len(starts)
    starts.append(len(data))
    ngrams: list[bytes] = []
    for first in range(n_chars):
        for n in range(min_n, max_n + 1):
            last = first + n
            if last > n_chars:
                break
            if n == 1 and (first == 0 or last == n_chars):
                continue
            ngrams.append(data[starts[first] : starts[last]])
    return ngrams


def ngram_hashes(word: str, min_n: int, max_n: int) -> NDArray[np.uint32]:
    """fastText hashes of the n-grams of ``word``, in :func:`char_ngrams` order."""
    return np.array([fasttext_hash(g) for g in char_ngrams(word, min_n, max_n)], dtype=np.uint32)


def ngram_bucket_ids(word: str, min_n: int, max_n: int, n_buckets: int) -> NDArray[np.int64]:
    """Bucket rows (``hash % n_buckets``) of the n-grams of ``word``; duplicates are kept,
    as fastText keeps them when it averages n-gram rows."""
    if n_buckets <= 0:
        raise ConfigError(f"n_buckets must be positive (got {n_buckets})")
    return ngram_hashes(word, min_n, max_n).astype(np.int64) % n_buckets


def count_ngrams(n_chars: int, min_n: int, max_n: int) -> int:
    """How many n-grams :func:`char_ngrams` yields for a word of ``n_chars`` characters."""
    total = 0
    length = n_chars + 2
    for n in range(min_n, max_n + 1):
        count = max(0, length - n + 1)
        if n == 1:
            count = max(0, count - 2)
        total += count
    return total
