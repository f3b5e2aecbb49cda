"""Numba kernels computing fastText n-gram hashes for a whole vocabulary at once.

Same rules as :mod:`wordvec.subwords` (which is the readable reference and is tested equal to
these kernels); the words come as one UTF-8 byte array plus offsets, without boundary markers.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

_FNV_OFFSET_BASIS = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)
_BOW = np.uint8(ord("<"))
_EOW = np.uint8(ord(">"))


@numba.njit(cache=True, nogil=True, inline="always")
def _marked_byte(words_utf8: NDArray[np.uint8], begin: int, end: int, i: int) -> np.uint8:
    """Byte ``i`` of ``<word>`` where the word is ``words_utf8[begin:end]``."""
    if i == 0:
        return _BOW
    if i == end - begin + 1:
        return _EOW
    return words_utf8[begin + i - 1]


@numba.njit(cache=True, nogil=True)
def _word_ngram_hashes(
    words_utf8: NDArray[np.uint8],
    begin: int,
    end: int,
    min_n: int,
    max_n: int,
    out: NDArray[np.uint32],
) -> int:
    """Write the n-gram hashes of the word ``words_utf8[begin:end]`` into ``out``; return how
    many were written. ``out`` must hold ``(max_n - min_n + 1) * (end - begin + 2)`` values."""
    length = end - begin + 2
    n_out = 0
    for first in range(length):
        if (_marked_byte(words_utf8, begin, end, first) & 0xC0) == 0x80:
            continue
        h = _FNV_OFFSET_BASIS
        j = first
        n = 1
        while j < length and n <= max_n:
            byte = _marked_byte(words_utf8, begin, end, j)
            h = h ^ (np.uint32(byte) | np.uint32(0xFFFFFF00) if byte & 0x80 else np.uint32(byte))
            h = h * _FNV_PRIME
            j += 1
            while j < length and (_marked_byte(words_utf8, begin, end, j) & 0xC0) == 0x80:
                byte = _marked_byte(words_utf8, begin, end, j)
                h = h ^ (np.uint32(byte) | np.uint32(0xFFFFFF00))
                h = h * _FNV_PRIME
                j += 1
            if n >= min_n and not (n == 1 and (first == 0 or j == length)):
                out[n_out] = h
                n_out += 1
            n += 1
    return n_out


@numba.njit(cache=True, nogil=True)
def vocab_ngram_hashes(
    words_utf8: NDArray[np.uint8],
    word_offsets: NDArray[np.int64],
    min_n: int,
    max_n: int,
) -> tuple[NDArray[np.int64], NDArray[np.uint32]]:
    """n-gram hashes of every word, as CSR: ``hashes[offsets[i]:offsets[i+1]]`` for word ``i``.

    The per-word bound on n-grams is ``(max_n - min_n + 1) * (n_bytes + 2)``, so one scratch
    buffer sized for the longest word serves every word without allocating in the loop.
    """
    n_words = word_offsets.shape[0] - 1
    longest = 0
    for i in range(n_words):
        longest = max(longest, word_offsets[i + 1] - word_offsets[i])
    scratch = np.empty((max_n - min_n + 1) * (longest + 2), dtype=np.uint32)
    counts = np.empty(n_words + 1, dtype=np.int64)
    counts[0] = 0
    for i in range(n_words):
        counts[i + 1] = counts[i] + _word_ngram_hashes(
            words_utf8, word_offsets[i], word_offsets[i + 1], min_n, max_n, scratch
        )
    hashes = np.empty(counts[n_words], dtype=np.uint32)
    for i in range(n_words):
        n = _word_ngram_hashes(
            words_utf8, word_offsets[i], word_offsets[i + 1], min_n, max_n, scratch
        )
        hashes[counts[i] : counts[i] + n] = scratch[:n]
    return counts, hashes
