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


@numba.njit(cache=True, nogil=True)
def compress_pairs(
    rows: NDArray[np.int32],
    cols: NDArray[np.int32],
    weights: NDArray[np.float64],
    n_pairs: int,
    indptr: NDArray[np.int64],
    out_cols: NDArray[np.int32],
    out_values: NDArray[np.float64],
    accumulator: NDArray[np.float64],
    touched: NDArray[np.int32],
) -> int:
    """Sum the first ``n_pairs`` pairs into the upper triangle of a CSR matrix (pair
    ``(a, b)`` counts at ``(min, max)``): a counting sort by row, then each row summed in a
    dense accumulator (``n_words`` floats, zero on entry and on return) over the columns it
    touches (``touched``, ``n_words`` ints), which are sorted. ``indptr`` has ``n_words + 1``
    entries; ``out_cols``/``out_values`` at least ``n_pairs``. Returns the number of entries."""
    n_rows = indptr.shape[0] - 1
    indptr[:] = 0
    for p in range(n_pairs):
        indptr[min(rows[p], cols[p]) + 1] += 1
    for i in range(n_rows):
        indptr[i + 1] += indptr[i]
    cursor = indptr[:-1].copy()
    for p in range(n_pairs):
        low = min(rows[p], cols[p])
        q = cursor[low]
        out_cols[q] = max(rows[p], cols[p])
        out_values[q] = weights[p]
        cursor[low] = q + 1
    n = 0
    for i in range(n_rows):
        n_touched = 0
        for p in range(indptr[i], indptr[i + 1]):
            j = out_cols[p]
            if accumulator[j] == 0.0:
                touched[n_touched] = j
                n_touched += 1
            accumulator[j] += out_values[p]
        touched[:n_touched].sort()
        indptr[i] = n  # rows before i are final; this row's start moves left
        for t in range(n_touched):
            j = touched[t]
            out_cols[n] = j
            out_values[n] = accumulator[j]
            accumulator[j] = 0.0
            n += 1
    # Shift: indptr[i] now holds the start of row i; the end of the last row is n.
    indptr[n_rows] = n
    return n


@numba.njit(cache=True, nogil=True)
def merge_csr(
    a_indptr: NDArray[np.int64],
    a_cols: NDArray[np.int32],
    a_values: NDArray[np.float64],
    b_indptr: NDArray[np.int64],
    b_cols: NDArray[np.int32],
    b_values: NDArray[np.float64],
    out_indptr: NDArray[np.int64],
    out_cols: NDArray[np.int32],
    out_values: NDArray[np.float64],
    count_only: bool,
) -> int:
    """``A + B`` for CSR matrices with sorted, distinct column indices per row. With
    ``count_only`` only ``out_indptr`` is filled (so the caller can allocate the exact size);
    returns the number of entries."""
    n = 0
    out_indptr[0] = 0
    for i in range(a_indptr.shape[0] - 1):
        p, p_end = a_indptr[i], a_indptr[i + 1]
        q, q_end = b_indptr[i], b_indptr[i + 1]
        while p < p_end or q < q_end:
            if q >= q_end or (p < p_end and a_cols[p] < b_cols[q]):
                if not count_only:
                    out_cols[n] = a_cols[p]
                    out_values[n] = a_values[p]
                p += 1
            elif p >= p_end or b_cols[q] < a_cols[p]:
                if not count_only:
                    out_cols[n] = b_cols[q]
                    out_values[n] = b_values[q]
                q += 1
            else:
                if not count_only:
                    out_cols[n] = a_cols[p]
                    out_values[n] = a_values[p] + b_values[q]
                p += 1
                q += 1
            n += 1
        out_indptr[i + 1] = n
    return n


@numba.njit(cache=True, nogil=True)
def symmetrize_upper(
    indptr: NDArray[np.int64],
    cols: NDArray[np.int32],
    values: NDArray[np.float64],
    out_indptr: NDArray[np.int64],
    out_cols: NDArray[np.int32],
    out_values: NDArray[np.floating[Any]],
) -> None:
    """``U + U^T`` for an upper-triangular CSR ``U`` (sorted indices): the full symmetric
    matrix, diagonal doubled, with sorted indices (``out_indptr`` zero on entry). Row ``r``
    receives its entries from rows ``i < r`` (visited first, in order) before its own."""
    n_rows = indptr.shape[0] - 1
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = cols[p]
            out_indptr[i + 1] += 1
            if j != i:
                out_indptr[j + 1] += 1
    for i in range(n_rows):
        out_indptr[i + 1] += out_indptr[i]
    cursor = out_indptr[:-1].copy()
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = cols[p]
            value = values[p]
            if j == i:
                out_cols[cursor[i]] = i
                out_values[cursor[i]] = 2.0 * value
                cursor[i] += 1
            else:
                out_cols[cursor[i]] = j
                out_values[cursor[i]] = value
                cursor[i] += 1
                out_cols[cursor[j]] = i
                out_values[cursor[j]] = value
                cursor[j] += 1


@numba.njit(cache=True, nogil=True)
def count_diagonal(indptr: NDArray[np.int64], indices: NDArray[np.int32]) -> int:
    """The number of stored diagonal entries of a CSR matrix."""
    n = 0
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] == i:
                n += 1
    return n
