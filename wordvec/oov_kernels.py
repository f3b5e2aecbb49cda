"""Numba kernel that builds the store's n-gram -> words index for the out-of-vocabulary fallback
of models without subword buckets (see :mod:`wordvec.oov`)."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def _posting_pass(
    hash_offsets: NDArray[np.int64],
    hashes: NDArray[np.uint32],
    n_index_buckets: int,
    max_postings: int,
    bucket_sizes: NDArray[np.int64],
    posting_offsets: NDArray[np.int64],
    posting_word_ids: NDArray[np.int32],
    word_ngram_counts: NDArray[np.int32],
    fill: bool,
) -> None:
    n_words = hash_offsets.shape[0] - 1
    longest = 0
    for i in range(n_words):
        longest = max(longest, hash_offsets[i + 1] - hash_offsets[i])
    scratch = np.empty(longest, dtype=np.int64)
    for i in range(n_words):
        n = 0
        for k in range(hash_offsets[i], hash_offsets[i + 1]):
            scratch[n] = np.int64(hashes[k]) % n_index_buckets
            n += 1
        buckets = scratch[:n]
        buckets.sort()
        distinct = 0
        for k in range(n):
            b = buckets[k]
            if k > 0 and b == buckets[k - 1]:
                continue
            distinct += 1
            if bucket_sizes[b] < max_postings:
                if fill:
                    posting_word_ids[posting_offsets[b] + bucket_sizes[b]] = i
                bucket_sizes[b] += 1
        word_ngram_counts[i] = distinct


def build_posting_lists(
    hash_offsets: NDArray[np.int64],
    hashes: NDArray[np.uint32],
    n_index_buckets: int,
    max_postings: int,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """Invert per-word n-gram hashes (CSR from ``vocab_ngram_hashes``) into posting lists.

    Returns ``(posting_offsets, posting_word_ids, word_ngram_counts)``: the words whose n-grams
    fall in bucket ``b`` are ``posting_word_ids[posting_offsets[b]:posting_offsets[b + 1]]`` in
    increasing id order (most frequent first), at most ``max_postings`` of them; a word counts
    each distinct bucket once, and ``word_ngram_counts`` gives how many distinct buckets each
    word has (for the Jaccard score of a match).
    """
    n_words = hash_offsets.shape[0] - 1
    bucket_sizes = np.zeros(n_index_buckets, dtype=np.int64)
    word_ngram_counts = np.zeros(n_words, dtype=np.int32)
    no_offsets = np.zeros(1, dtype=np.int64)
    no_ids = np.zeros(0, dtype=np.int32)
    _posting_pass(
        hash_offsets,
        hashes,
        n_index_buckets,
        max_postings,
        bucket_sizes,
        no_offsets,
        no_ids,
        word_ngram_counts,
        False,
    )
    posting_offsets = np.zeros(n_index_buckets + 1, dtype=np.int64)
    np.cumsum(bucket_sizes, out=posting_offsets[1:])
    posting_word_ids = np.empty(int(posting_offsets[-1]), dtype=np.int32)
    bucket_sizes[:] = 0
    _posting_pass(
        hash_offsets,
        hashes,
        n_index_buckets,
        max_postings,
        bucket_sizes,
        posting_offsets,
        posting_word_ids,
        word_ngram_counts,
        True,
    )
    return posting_offsets, posting_word_ids, word_ngram_counts
