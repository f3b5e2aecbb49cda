"""Numba kernel of windowed co-occurrence counting over an encoded corpus.

The kernel walks a range of sentences and appends one ``(left word, right word, weight)``
triple per pair of tokens within the window, left to right only, into caller-owned COO
buffers; the driver (:mod:`wordvec.cooccurrence`) merges full buffers into a sparse matrix and
adds the transpose, which makes the counts symmetric. Nothing is allocated in the loops.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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


@numba.njit(cache=True, nogil=True)
def select_targets(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    counts: NDArray[np.floating[Any]],
    log_row: NDArray[np.float64],
    log_col: NDArray[np.float64],
    positive_only: bool,
    x_max: float,
    power: float,
    out_indptr: NDArray[np.int64],
    out_indices: NDArray[np.int32],
    out_targets: NDArray[np.floating[Any]],
    out_confidences: NDArray[np.floating[Any]],
) -> int:
    """Targets ``log X_ij - log_row[i] - log_col[j]`` and confidences
    ``min(1, (X_ij / x_max)^power)`` of the stored counts of a CSR matrix, written as a new
    CSR matrix; with ``positive_only`` only the entries with a positive target are kept (PPMI:
    ``log_row``/``log_col`` hold the log marginals), else every stored count (GloVe: zeros).
    The output arrays hold at least the kept entries; returns how many were kept."""
    n = 0
    out_indptr[0] = 0
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            x = float(counts[p])
            if not x > 0.0:
                continue
            j = indices[p]
            target = np.log(x) - log_row[i] - log_col[j]
            if positive_only and not target > 0.0:
                continue
            out_indices[n] = j
            out_targets[n] = target
            out_confidences[n] = min(1.0, (x / x_max) ** power)
            n += 1
        out_indptr[i + 1] = n
    return n


@numba.njit(cache=True, nogil=True)
def transpose_csr(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    first: NDArray[np.floating[Any]],
    second: NDArray[np.floating[Any]],
    t_indptr: NDArray[np.int64],
    t_indices: NDArray[np.int32],
    t_first: NDArray[np.floating[Any]],
    t_second: NDArray[np.floating[Any]],
) -> None:
    """The transpose of a CSR matrix with two value arrays (``t_indptr`` has ``n_cols + 1``
    entries, zeros on entry). Rows are visited in order, so each output row's indices come out
    sorted."""
    n_rows = indptr.shape[0] - 1
    for p in range(indptr[n_rows]):
        t_indptr[indices[p] + 1] += 1
    for j in range(t_indptr.shape[0] - 1):
        t_indptr[j + 1] += t_indptr[j]
    cursor = t_indptr[:-1].copy()
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            q = cursor[j]
            t_indices[q] = i
            t_first[q] = first[p]
            t_second[q] = second[p]
            cursor[j] = q + 1
