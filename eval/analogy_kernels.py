"""Numba kernel for batched analogy answering (driver: :mod:`wordvec.eval.analogy`).

The driver computes, for one block of vocabulary rows at a time, the cosines of every distinct
question word with those rows (one matrix product, ``P``); this kernel then combines three rows
of ``P`` per question and keeps the best-scoring row. Reading ``P`` row by row is all the work
left per question, so no ``(questions x vocabulary)`` matrix is ever formed.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

METHOD_3COSADD = 0
METHOD_3COSMUL = 1


@numba.njit(cache=True)
def update_best_answers(
    cosines: NDArray[np.float32],
    slot_a: NDArray[np.int64],
    slot_b: NDArray[np.int64],
    slot_c: NDArray[np.int64],
    row_a: NDArray[np.int64],
    row_b: NDArray[np.int64],
    row_c: NDArray[np.int64],
    block_canonical: NDArray[np.int64],
    first_row: int,
    method: int,
    epsilon: float,
    best_scores: NDArray[np.float64],
    best_rows: NDArray[np.int64],
) -> None:
    """Fold one block of rows into the running best answer of every question.

    ``cosines`` (n_slots, block) float32: cosine of distinct question word ``s`` with row
    ``first_row + j``. Question ``q`` is "``a`` is to ``b`` as ``c`` is to ?" with words in
    slots ``slot_a[q]``... and vocabulary rows ``row_a[q]``...; a row ``j`` is a candidate
    unless ``block_canonical[j]`` (the row its spelling stands for) is one of the question's
    rows. Scores: 3CosAdd ``cos_b - cos_a + cos_c`` (the cosine with ``b - a + c`` up to a
    positive factor per question, so the same argmax); 3CosMul ``cos'_b cos'_c / (cos'_a +
    epsilon)`` with ``cos' = (cos + 1) / 2``. ``best_scores`` (float64) and ``best_rows``
    (-1: none yet) are updated in place; ties keep the lower row.
    """
    n_questions = slot_a.shape[0]
    n_cols = cosines.shape[1]
    for q in range(n_questions):
        cos_a = cosines[slot_a[q]]
        cos_b = cosines[slot_b[q]]
        cos_c = cosines[slot_c[q]]
        ra, rb, rc = row_a[q], row_b[q], row_c[q]
        best = best_scores[q]
        best_row = best_rows[q]
        if method == METHOD_3COSADD:
            for j in range(n_cols):
                score = np.float64(cos_b[j] - cos_a[j] + cos_c[j])
                if score > best:
                    canonical = block_canonical[j]
                    if canonical != ra and canonical != rb and canonical != rc:
                        best = score
                        best_row = first_row + j
        else:
            for j in range(n_cols):
                score = (
                    0.25
                    * (1.0 + np.float64(cos_b[j]))
                    * (1.0 + np.float64(cos_c[j]))
                    / (0.5 * (1.0 + np.float64(cos_a[j])) + epsilon)
                )
                if score > best:
                    canonical = block_canonical[j]
                    if canonical != ra and canonical != rb and canonical != rc:
                        best = score
                        best_row = first_row + j
        best_scores[q] = best
        best_rows[q] = best_row
