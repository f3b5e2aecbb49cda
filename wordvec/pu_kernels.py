"""Numba kernels of the PU-learning matrix factorization (Jiang, Yu, Hsieh and Chang, NAACL
2018): CCD++ coordinate descent (``ccd_pass``, the default solver) and exact alternating least
squares (``update_rows``), both with the unobserved entries entering through Gram matrices,
never through a dense ``m x n`` matrix.

Alternating least squares:

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

# Reassociation lets LLVM vectorize the reductions; no finite-math flags, so a diverging run
# still shows up as inf/nan for the driver to report.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


class PUParams(NamedTuple):
    """Hyper-parameters the kernels read (a NamedTuple: Numba accepts it as an argument)."""

    rho: float  # weight of each unobserved entry
    regularization: float  # lambda; row i is penalized lambda * |O_i| * ||w_i||^2


class CCDStep(NamedTuple):
    """What one CCD++ pass (``ccd_pass``) updates."""

    rho: float  # weight of each unobserved entry
    regularization: float  # lambda, for the first n_factors components (biases: 0)
    n_factors: int  # k: components 0..k-1 are factors, k and k+1 the bias components
    fixed_component: int  # the component whose values on this side are all ones
    block_start: int  # the pass updates components block_start .. block_start + B - 1
    lag_start: int  # own-side components (lag_start ...) of the pending change, see ccd_pass
    sweeps: int  # coordinate sweeps over the block per row


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


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
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
    residuals: NDArray[np.float64],
) -> float:
    """``sum_O f (A - p)^2 - rho sum_O p^2``: the objective's observed part, minus the observed
    entries' share of the all-entries term ``rho sum p^2`` that the driver adds from Gram
    matrices. ``partial`` is scratch of one float per thread. Unless ``residuals`` is empty,
    ``A - p`` is written there (CSR order), as the CCD solver starts from."""
    n_rows = vectors.shape[0]
    k = vectors.shape[1]
    n_threads = partial.shape[0]
    write = residuals.shape[0] > 0
    for t in prange(n_threads):
        s = 0.0
        for i in range(t, n_rows, n_threads):
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                pred = biases[i] + other_biases[j]
                for u in range(k):
                    pred += vectors[i, u] * other_vectors[j, u]
                err = targets[p] - pred
                if write:
                    residuals[p] = err
                s += confidences[p] * err * err - rho * pred * pred
        partial[t] = s
    return float(partial.sum())


# --- CCD++ (Yu, Hsieh, Si and Dhillon, ICDM 2012), the solver of the PU-learning paper --------
#
# The model is written with ``K = k + 2`` components, ``p_ij = sum_s U[i, s] V[j, s]`` with
# ``U = [W, b, 1]`` and ``V = [H, 1, c]``: the biases are components whose partner is fixed at
# ones. Coordinate descent changes one ``U[i, c]`` (or ``V[j, c]``) at a time, everything else
# fixed. With ``r_ij = A_ij - p_ij`` the residual on ``O``, the objective as a function of
# ``x = U[i, c]`` is a 1-D quadratic, minimized at ``x + delta`` with
#
#     delta = [sum_{O_i} ((f - rho) r + rho A) v_j - rho sum_s U[i, s] GV[s, c]
#              - lam_c |O_i| x] / [sum_{O_i} (f - rho) v_j^2 + rho GV[c, c] + lam_c |O_i|]
#
# where ``v = V[:, c]``, ``GV = V^T V`` (the all-pairs term ``rho sum_j p_ij^2`` needs only
# that Gram matrix, so the complement of ``O`` is never enumerated) and ``lam_c`` is lambda
# (0 for the biases). Each step is an exact 1-D minimization: the objective never increases.
#
# CCD++ updates one component ``c`` at a time, first all of ``U[:, c]`` then all of
# ``V[:, c]``. A pass over memory per component is what makes a naive version slow, so a pass
# here updates a block of ``B`` consecutive components: each row's entries and the block's
# columns of the other factor are gathered once into per-thread buffers, and the ``B``
# coordinates are updated in turn on that cached data. Rows and columns take alternate passes,
# each over its own copy of the residuals (row and column order). A copy is brought up to date
# lazily: the change the previous pass made on the other side (``lag_other``, times this
# side's values of those components) is subtracted as the entries are read. Per entry and
# pass that is ``2 B`` values gathered from ``(n, B)`` arrays and ``O(B)`` arithmetic on
# cached rows; block size trades the number of passes against buffer size (16: a row's
# buffers stay in L1/L2 for typical row lengths).


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
def ccd_pass(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.float64],
    confidences: NDArray[np.float64],
    residuals: NDArray[np.float64],
    own: NDArray[np.float64],
    other_block: NDArray[np.float64],
    lag_other: NDArray[np.float64],
    other_gram: NDArray[np.float64],
    step: CCDStep,
    buffers: NDArray[np.float64],
    gram_parts: NDArray[np.float64],
    loss_parts: NDArray[np.float64],
) -> None:
    """Coordinate-descent updates of ``own[:, block]`` (``B = other_block.shape[1]`` columns
    from ``step.block_start``; the fixed component is skipped), for rows in CSR order (call it
    with the column-ordered arrays and the factors swapped for the other side).

    ``residuals`` (one per entry, the same order) are ``A - p`` except for a pending change:
    the true value is ``residuals[p] - sum_s own[i, lag_start + s] * lag_other[j, s]``; on
    return they are exact. ``other_block`` ``(n, B)``: the other factor's block columns.
    ``other_gram`` ``(K, K)``: the other factor's Gram matrix. Scratch, per thread:
    ``buffers`` ``(n_threads, B + 3, longest row)``; outputs, per thread: ``gram_parts``
    ``(n_threads, B, K)`` receive ``sum_i own[i, block] own[i, :]`` (the new block columns of
    this side's Gram matrix) and ``loss_parts`` ``(n_threads,)`` the observed part of the
    objective (``sum f r^2 - rho sum (A - r)^2``) at the new values.
    """
    n_rows = own.shape[0]
    n_components = own.shape[1]
    width = other_block.shape[1]
    n_lag = lag_other.shape[1]
    n_threads = buffers.shape[0]
    rho = step.rho
    first = step.block_start
    for th in prange(n_threads):
        buf = buffers[th]
        gram = gram_parts[th]
        gram[:] = 0.0
        loss = 0.0
        for i in range(th, n_rows, n_threads):
            start = indptr[i]
            length = indptr[i + 1] - start
            for q in range(length):
                p = start + q
                j = indices[p]
                r = residuals[p]
                for s in range(n_lag):
                    r -= own[i, step.lag_start + s] * lag_other[j, s]
                buf[0, q] = r
                buf[1, q] = confidences[p] - rho
                buf[2, q] = rho * targets[p]
                for s in range(width):
                    buf[3 + s, q] = other_block[j, s]
            for _ in range(step.sweeps):
                for s in range(width):
                    c = first + s
                    if c == step.fixed_component:
                        continue
                    lam = step.regularization * length if c < step.n_factors else 0.0
                    x = own[i, c]
                    dense = 0.0
                    for s2 in range(n_components):
                        dense += own[i, s2] * other_gram[c, s2]
                    quad = 0.0
                    lin = 0.0
                    for q in range(length):
                        v = buf[3 + s, q]
                        fv = buf[1, q] * v
                        quad += fv * v
                        lin += (buf[1, q] * buf[0, q] + buf[2, q]) * v
                    quad += rho * other_gram[c, c] + lam
                    lin -= rho * dense + lam * x
                    if quad > 0.0:
                        delta = lin / quad
                        own[i, c] = x + delta
                        for q in range(length):
                            buf[0, q] -= delta * buf[3 + s, q]
            for q in range(length):
                p = start + q
                r = buf[0, q]
                residuals[p] = r
                prediction = targets[p] - r
                loss += confidences[p] * r * r - rho * prediction * prediction
            for s in range(width):
                x = own[i, first + s]
                for s2 in range(n_components):
                    gram[s, s2] += own[i, s2] * x
        loss_parts[th] = loss
