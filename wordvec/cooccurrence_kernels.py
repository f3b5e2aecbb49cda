"""Numba kernel of windowed co-occurrence counting over an encoded corpus.

The kernel walks a range of sentences and appends one ``(left word, right word, weight)``
triple per pair of tokens within the window, left to right only, into caller-owned COO
buffers; the driver (:mod:`wordvec.cooccurrence`) merges full buffers into a sparse matrix and
adds the transpose, which makes the counts symmetric. Nothing is allocated in the loops.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from wordvec.sampling_kernels import next_below, next_uniform


class CooccurrenceParams(NamedTuple):
    """What the counting kernel reads (a NamedTuple: Numba accepts it as an argument)."""

    window: int
    dynamic_window: bool  # each left token draws its reach uniformly in [1, window]
    distance_weighting: bool  # a pair at distance d counts 1/d (GloVe) instead of 1


@numba.njit(cache=True, nogil=True)
def count_pairs(
    token_ids: NDArray[np.int32],
    sentence_offsets: NDArray[np.int64],
    first: int,
    last: int,
    keep_probs: NDArray[np.float32],
    state: NDArray[np.uint64],
    params: CooccurrenceParams,
    kept: NDArray[np.int32],
    rows: NDArray[np.int32],
    cols: NDArray[np.int32],
    weights: NDArray[np.float64],
) -> tuple[int, int]:
    """Append the pairs of sentences ``first, first + 1, ...`` (before ``last``) to the buffers.

    A sentence is taken whole or not at all: the kernel stops before the first sentence whose
    pairs (at most ``length * window``) might not fit. Subsampled tokens are dropped before
    windowing (word2vec), so distances are counted on the kept tokens. ``kept`` holds one
    sentence (at least the longest sentence's length). Returns ``(next sentence, n_pairs)``.
    """
    window = params.window
    capacity = rows.shape[0]
    n = 0
    s = first
    while s < last:
        start = sentence_offsets[s]
        stop = sentence_offsets[s + 1]
        if n + (stop - start) * window > capacity:
            break
        m = 0
        for k in range(start, stop):
            word = token_ids[k]
            if keep_probs[word] < 1.0 and next_uniform(state, 0) >= keep_probs[word]:
                continue
            kept[m] = word
            m += 1
        for p in range(m):
            reach = window
            if params.dynamic_window:
                reach = 1 + next_below(state, 0, window)
            end = min(m, p + reach + 1)
            for q in range(p + 1, end):
                rows[n] = kept[p]
                cols[n] = kept[q]
                weights[n] = 1.0 / (q - p) if params.distance_weighting else 1.0
                n += 1
        s += 1
    return s, n
