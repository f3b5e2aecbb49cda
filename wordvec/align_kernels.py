"""Numba kernels for cross-lingual alignment: per-row and per-column top-k over one block of a
similarity matrix, with an optional penalty and VecMap-style random dropout.

A driver (:mod:`wordvec.align_retrieval`) computes one block ``sims = A[a:b] @ B.T`` at a time
with BLAS and hands it to these kernels, so the full matrix never exists. One kernel call reads
the block once and does what NumPy would need a partition, a subtraction, a random draw, a mask
and an argmax for (each a pass over the block).

Scores are ``sims[i, j] - penalty`` (a column penalty in the row kernel, a row penalty in the
column kernel); CSLS retrieval is a penalty of ``r / 2``. Ties keep the lower index. Dropout
keeps each element with probability ``keep_prob``, decided by a hash of ``(seed, global row,
column)``: the result does not depend on the block size or the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

# Columns per task in the column kernel: each thread then sweeps a contiguous slice of every row.
COLUMN_CHUNK = 512

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_COLUMN = np.uint64(0xC2B2AE3D27D4EB4F)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def keep_threshold(keep_prob: float) -> np.uint64:
    """The 64-bit threshold below which a hash keeps its element (``keep_prob`` in (0, 1])."""
    return np.uint64(min(int(keep_prob * 2.0**64), 2**64 - 1))


@numba.njit(cache=True, inline="always")
def _kept(seed: np.uint64, row: np.int64, column: np.int64, threshold: np.uint64) -> bool:
    # splitmix64 finalizer of a (seed, row, column) combination: a cheap, well-mixed hash.
    z = seed ^ (np.uint64(row) * _GOLDEN) ^ (np.uint64(column) * _MIX_COLUMN)
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return z < threshold


@numba.njit(cache=True, inline="always")
def _insert(values: NDArray[np.float32], ids: NDArray[np.int64], value: float, index: int) -> None:
    # values is sorted in falling order and value beats its last entry: shift and place.
    t = values.shape[0] - 1
    while t > 0 and values[t - 1] < value:
        values[t] = values[t - 1]
        ids[t] = ids[t - 1]
        t -= 1
    values[t] = value
    ids[t] = index


@numba.njit(cache=True, parallel=True)
def rows_topk(
    sims: NDArray[np.float32],
    column_penalty: NDArray[np.float32],
    dropout: bool,
    threshold: np.uint64,
    seed: np.uint64,
    row_offset: int,
    out_values: NDArray[np.float32],
    out_ids: NDArray[np.int64],
) -> None:
    """Best ``k = out_values.shape[1]`` columns of each row of ``sims`` (rows, cols) by
    ``sims[i, j] - column_penalty[j]``, falling; rows with fewer candidates (dropout) end with
    ``-inf`` / ``-1``. With ``dropout``, element ``(row_offset + i, j)`` competes only if its
    hash is below ``threshold``."""
    n_rows, n_cols = sims.shape
    k = out_values.shape[1]
    for i in prange(n_rows):
        values = out_values[i]
        ids = out_ids[i]
        for t in range(k):
            values[t] = -np.inf
            ids[t] = -1
        row = sims[i]
        global_row = np.int64(row_offset + i)
        for j in range(n_cols):
            score = row[j] - column_penalty[j]
            if score > values[k - 1]:
                if dropout and not _kept(seed, global_row, np.int64(j), threshold):
                    continue
                _insert(values, ids, score, j)


@numba.njit(cache=True, parallel=True)
def columns_topk(
    sims: NDArray[np.float32],
    row_penalty: NDArray[np.float32],
    dropout: bool,
    threshold: np.uint64,
    seed: np.uint64,
    row_offset: int,
    best_values: NDArray[np.float32],
    best_ids: NDArray[np.int64],
) -> None:
    """Merge one block of rows into the running best ``k = best_values.shape[1]`` rows of every
    column, by ``sims[i, j] - row_penalty[i]``: ``best_values`` (cols, k) falling and
    ``best_ids`` (cols, k) global row ids (``row_offset + i``). Start them at ``-inf`` / ``-1``
    and call once per block; blocks in increasing row order make ties keep the lower row.
    Dropout as in :func:`rows_topk`."""
    n_rows, n_cols = sims.shape
    k = best_values.shape[1]
    n_chunks = (n_cols + COLUMN_CHUNK - 1) // COLUMN_CHUNK
    for chunk in prange(n_chunks):
        first = chunk * COLUMN_CHUNK
        last = min(first + COLUMN_CHUNK, n_cols)
        for i in range(n_rows):
            row = sims[i]
            penalty = row_penalty[i]
            global_row = np.int64(row_offset + i)
            for j in range(first, last):
                score = row[j] - penalty
                if score > best_values[j, k - 1]:
                    if dropout and not _kept(seed, global_row, np.int64(j), threshold):
                        continue
                    _insert(best_values[j], best_ids[j], score, global_row)
