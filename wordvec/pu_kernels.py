"""Numba kernels of the PU-learning matrix factorization (Jiang, Yu, Hsieh and Chang, NAACL
2018): exact alternating least squares where the unobserved entries enter through Gram
matrices, never through a dense ``m x n`` matrix.

Model: ``p_ij = w_i . h_j + b_i + c_j``. Updating the rows of one side (say ``W``, ``b``) with
the other side fixed is, for each row ``i``, a ridge regression on the free vector
``x = [w_i, b_i]`` with features ``g_j = [h_j, 1]`` and offsets ``c_j``::

    sum_{j in O_i} f_ij (A_ij - c_j - x.g_j)^2 + rho sum_{j not in O_i} (x.g_j + c_j)^2
        + lam |O_i| ||w_i||^2

The complement sum is the sum over *all* ``j`` minus the sum over ``O_i``, and the all-``j``
part needs only ``G^T G`` and ``G^T c`` (computed once per half-iteration by the driver), so
the normal equations are::

    [sum_{O_i} (f_ij - rho) g_j g_j^T + rho G^T G + lam |O_i| D] x
        = sum_{O_i} (f_ij (A_ij - c_j) + rho c_j) g_j - rho G^T c

with ``D = diag(1, ..., 1, 0)`` (the bias is not regularized). Cost per row: ``|O_i| k^2`` to
build, ``k^3 / 3`` to solve (Cholesky, in place). Rows are spread over threads round-robin
(rows are sorted by word frequency, so this balances the work), each thread with its own
scratch matrices.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray


class PUParams(NamedTuple):
    """Hyper-parameters the kernels read (a NamedTuple: Numba accepts it as an argument)."""

    rho: float  # weight of each unobserved entry
    regularization: float  # lambda; row i is penalized lambda * |O_i| * ||w_i||^2


@numba.njit(cache=True, nogil=True)
def cholesky_solve(matrix: NDArray[np.float64], rhs: NDArray[np.float64]) -> bool:
    """Solve ``matrix @ x = rhs`` in place for symmetric positive definite ``matrix`` whose
    lower triangle is filled (the upper one is ignored and overwritten). ``rhs`` becomes ``x``;
    returns False (``rhs`` then undefined) if the matrix is not positive definite."""
    d = matrix.shape[0]
    for j in range(d):
        s = matrix[j, j]
        for k in range(j):
            s -= matrix[j, k] * matrix[j, k]
        if not s > 0.0:
            return False
        diag = np.sqrt(s)
        matrix[j, j] = diag
        for i in range(j + 1, d):
            s = matrix[i, j]
            for k in range(j):
                s -= matrix[i, k] * matrix[j, k]
            matrix[i, j] = s / diag
    for i in range(d):  # L y = b
        s = rhs[i]
        for k in range(i):
            s -= matrix[i, k] * rhs[k]
        rhs[i] = s / matrix[i, i]
    for i in range(d - 1, -1, -1):  # L^T x = y
        s = rhs[i]
        for k in range(i + 1, d):
            s -= matrix[k, i] * rhs[k]
        rhs[i] = s / matrix[i, i]
    return True


@numba.njit(cache=True, nogil=True)
def _update_row(
    i: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.float64],
    confidences: NDArray[np.float64],
    vectors: NDArray[np.float64],
    biases: NDArray[np.float64],
    other_vectors: NDArray[np.float64],
    other_biases: NDArray[np.float64],
    gram: NDArray[np.float64],
    gram_offsets: NDArray[np.float64],
    params: PUParams,
    matrix: NDArray[np.float64],
    rhs: NDArray[np.float64],
) -> bool:
    k = vectors.shape[1]
    rho = params.rho
    start = indptr[i]
    stop = indptr[i + 1]
    ridge = params.regularization * (stop - start)
    for u in range(k + 1):
        rhs[u] = -rho * gram_offsets[u]
        for v in range(u + 1):
            matrix[u, v] = rho * gram[u, v]
        if u < k:
            matrix[u, u] += ridge
    for p in range(start, stop):
        j = indices[p]
        f = confidences[p]
        c = other_biases[j]
        coef = f - rho
        r = f * (targets[p] - c) + rho * c
        for u in range(k):
            gu = other_vectors[j, u]
            rhs[u] += r * gu
            cu = coef * gu
            for v in range(u + 1):
                matrix[u, v] += cu * other_vectors[j, v]
            matrix[k, u] += coef * gu
        rhs[k] += r
        matrix[k, k] += coef
    if not cholesky_solve(matrix, rhs):
        return False
    for u in range(k):
        vectors[i, u] = rhs[u]
    biases[i] = rhs[k]
    return True


@numba.njit(cache=True, parallel=True)
def update_rows(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.float64],
    confidences: NDArray[np.float64],
    vectors: NDArray[np.float64],
    biases: NDArray[np.float64],
    other_vectors: NDArray[np.float64],
    other_biases: NDArray[np.float64],
    gram: NDArray[np.float64],
    gram_offsets: NDArray[np.float64],
    params: PUParams,
    matrices: NDArray[np.float64],
    rhs: NDArray[np.float64],
    failed: NDArray[np.int64],
) -> None:
    """Exact minimization over every row of ``vectors``/``biases`` (see the module docstring).

    Observed entries of row ``i`` are ``indices/targets/confidences[indptr[i]:indptr[i+1]]``
    (CSR, float64 targets ``A_ij`` and confidences ``f_ij``). ``gram = G^T G`` and
    ``gram_offsets = G^T c`` for ``G = [other_vectors, 1]`` and ``c = other_biases``.
    ``matrices`` ``(n_threads, k + 1, k + 1)`` and ``rhs`` ``(n_threads, k + 1)`` are scratch,
    one per thread; ``failed[t]`` counts rows thread ``t`` left unchanged because their system
    was not positive definite (an empty row with ``rho = 0``).
    """
    n_rows = vectors.shape[0]
    n_threads = matrices.shape[0]
    for t in prange(n_threads):
        failed[t] = 0
        for i in range(t, n_rows, n_threads):
            ok = _update_row(
                i,
                indptr,
                indices,
                targets,
                confidences,
                vectors,
                biases,
                other_vectors,
                other_biases,
                gram,
                gram_offsets,
                params,
                matrices[t],
                rhs[t],
            )
            if not ok:
                failed[t] += 1


@numba.njit(cache=True, parallel=True)
def observed_loss(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.float64],
    confidences: NDArray[np.float64],
    vectors: NDArray[np.float64],
    biases: NDArray[np.float64],
    other_vectors: NDArray[np.float64],
    other_biases: NDArray[np.float64],
    rho: float,
    partial: NDArray[np.float64],
) -> float:
    """``sum_O f (A - p)^2 - rho sum_O p^2``: the objective's observed part, minus the observed
    entries' share of the all-entries term ``rho sum p^2`` that the driver adds from Gram
    matrices. ``partial`` is scratch of one float per thread."""
    n_rows = vectors.shape[0]
    k = vectors.shape[1]
    n_threads = partial.shape[0]
    for t in prange(n_threads):
        s = 0.0
        for i in range(t, n_rows, n_threads):
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                pred = biases[i] + other_biases[j]
                for u in range(k):
                    pred += vectors[i, u] * other_vectors[j, u]
                err = targets[p] - pred
                s += confidences[p] * err * err - rho * pred * pred
        partial[t] = s
    return float(partial.sum())
