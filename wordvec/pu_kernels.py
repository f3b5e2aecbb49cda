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

from typing import Any, NamedTuple

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
    block_width: int  # B, the number of components the pass updates
    chunk: int  # entries per matrix product (ccd_chunk)


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
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
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
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
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
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
    vectors: NDArray[np.float64],
    biases: NDArray[np.float64],
    other_vectors: NDArray[np.float64],
    other_biases: NDArray[np.float64],
    rho: float,
    partial: NDArray[np.float64],
    residuals: NDArray[np.floating[Any]],
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
# here updates a block of ``B`` consecutive components, and it does so without touching the
# entries once per component: for row ``i`` the sums above, for every component of the block
# and every state of the other block coordinates, follow from two per-row summaries taken in
# one read of the row's entries,
#
#     M = sum_{O_i} (f - rho) v_j v_j^T   (B x B)     g = sum_{O_i} ((f - rho) r + rho A) v_j
#
# (``v_j`` the block's values of row ``j`` of the other factor, ``r`` the residuals before the
# pass). Once the coordinates of the block have moved by ``Delta``, the residuals are
# ``r - Delta . v_j``, so the linear term of component ``s`` is ``g_s - (M Delta)_s`` and its
# curvature ``M_ss``: the coordinate steps are Gauss-Seidel sweeps on a ``B x B`` system,
# exactly the CCD++ steps, and extra sweeps cost ``O(B^2)`` per row, not a pass over the data.
# A second read of the entries applies ``Delta`` to the residuals. Per entry and pass that is
# two reads of a ``B``-float row of the other factor (contiguous) and ``B^2`` vectorized
# multiply-adds, instead of ``B`` strided passes.
#
# Rows and columns take alternate passes, each over its own copy of the residuals (row and
# column order: ``A`` is not symmetric, PPMI's context smoothing treats rows and columns
# differently, so the two orders cannot share values). A copy is brought up to date lazily:
# the change the previous pass made on the other side (``lag_other``, times this side's values
# of those components) is subtracted as the entries are read.


def ccd_buffer_size(block_size: int, chunk: int) -> int:
    """Floats of scratch ``ccd_pass`` needs per thread for blocks of at most ``block_size``
    components and ``chunk`` entries per matrix product."""
    return 2 * chunk * block_size + chunk + 2 * block_size * block_size + 4 * block_size


def ccd_chunk(block_size: int) -> int:
    """Entries per matrix product: ``chunk * B^2`` small enough (2^17 multiply-adds) that
    OpenBLAS runs the product on the calling thread (it starts threads above 2^18)."""
    return max(16, min(1024, 2**17 // (block_size * block_size)))


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
def ccd_pass(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
    residuals: NDArray[np.floating[Any]],
    own: NDArray[np.floating[Any]],
    other_rows: NDArray[np.floating[Any]],
    other_gram: NDArray[np.float64],
    step: CCDStep,
    buffers: NDArray[np.floating[Any]],
    gram_parts: NDArray[np.float64],
    loss_parts: NDArray[np.float64],
) -> None:
    """Coordinate-descent updates of ``own[:, block]`` (``B = step.block_width`` components
    from ``step.block_start``; the fixed component is skipped), for rows in CSR order (call it
    with the column-ordered arrays and the factors swapped for the other side).

    ``other_rows`` ``(n, B + L)``: for each row ``j`` of the other factor, its block values
    then the ``L`` values of ``lag_other``, the change the other side's last pass made to its
    components ``lag_start ...`` (one array, so an entry costs one random read).
    ``residuals`` (one per entry, the same order) are ``A - p`` except for that pending
    change: the true value is ``residuals[p] - sum_s own[i, lag_start + s] * lag_other[j, s]``;
    on return they are exact. ``other_gram`` ``(K, K)``: the other factor's Gram matrix.
    Scratch, per thread: ``buffers`` ``(n_threads, ccd_buffer_size(B, step.chunk))`` (the
    lag is at most ``B`` wide);
    outputs, per thread: ``gram_parts`` ``(n_threads, B, K)`` receive
    ``sum_i own[i, block] own[i, :]`` (the new block columns of this side's Gram matrix) and
    ``loss_parts`` ``(n_threads,)`` the observed part of the objective
    (``sum f r^2 - rho sum (A - r)^2``) at the new values.

    The entry arrays, ``own``, ``other_rows`` and ``buffers`` share one float type, float32
    or float64; the per-row summaries are summed in that type (float32 sums vectorize twice as
    wide), the 1-D solutions, the Gram matrices and the loss in float64.
    """
    n_threads = buffers.shape[0]
    for th in prange(n_threads):
        loss_parts[th] = _ccd_rows(
            th,
            n_threads,
            indptr,
            indices,
            targets,
            confidences,
            residuals,
            own,
            other_rows,
            other_gram,
            step,
            buffers[th],
            gram_parts[th],
        )


@numba.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _ccd_rows(
    first_row: int,
    row_step: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
    residuals: NDArray[np.floating[Any]],
    own: NDArray[np.floating[Any]],
    other_rows: NDArray[np.floating[Any]],
    other_gram: NDArray[np.float64],
    step: CCDStep,
    buffer: NDArray[np.floating[Any]],
    gram: NDArray[np.float64],
) -> float:
    """``ccd_pass`` on rows ``first_row, first_row + row_step, ...``; returns their loss.

    ``buffer`` holds the gathered block values ``v_j`` of a chunk of a row's entries, the same
    weighted by ``f - rho``, the entries' ``(f - rho) r + rho A`` and the row's summaries.
    ``M`` is summed by one small matrix product (BLAS) per chunk of ``step.chunk`` entries,
    small enough that BLAS does not start threads of its own and the chunk stays in cache."""
    n_rows = own.shape[0]
    n_components = own.shape[1]
    width = step.block_width
    n_lag = other_rows.shape[1] - width
    chunk = step.chunk
    rho = step.rho
    first = step.block_start
    area = width * width
    ends = np.cumsum(
        np.array([chunk * width, chunk * width, chunk, area, area, width, width, width, n_lag])
    )
    rows = buffer[: ends[0]].reshape((chunk, width))  # v_j of the chunk's entries
    weighted = buffer[ends[0] : ends[1]].reshape((chunk, width))  # (f - rho) v_j
    adjusted = buffer[ends[1] : ends[2]]  # (f - rho) r + rho A of the chunk's entries
    part = buffer[ends[2] : ends[3]].reshape((width, width))  # a chunk's share of M
    summary = buffer[ends[3] : ends[4]].reshape((width, width))  # M
    linear = buffer[ends[4] : ends[5]]  # g
    change = buffer[ends[5] : ends[6]]  # Delta
    linear_part = buffer[ends[6] : ends[7]]  # a chunk's share of g
    own_lagged = buffer[ends[7] : ends[8]]  # own[i, lag_start:]
    zero = np.zeros(1, dtype=buffer.dtype)[0]  # the buffer's float type, for dot products
    gram[:] = 0.0
    loss = 0.0
    for i in range(first_row, n_rows, row_step):
        start = indptr[i]
        length = indptr[i + 1] - start
        # A local copy: dot products of two 1-D arrays vectorize, 2-D row reads did not.
        for s in range(n_lag):
            own_lagged[s] = own[i, step.lag_start + s]
        summary[:] = 0.0
        linear[:] = 0.0
        for c0 in range(0, length, chunk):
            n = min(chunk, length - c0)
            for q in range(n):
                p = start + c0 + q
                j = indices[p]
                pending = zero
                for s in range(n_lag):
                    pending += own_lagged[s] * other_rows[j, width + s]
                r = residuals[p] - pending
                residuals[p] = r
                w = confidences[p] - rho
                adjusted[q] = w * r + rho * targets[p]
                for t in range(width):
                    v = other_rows[j, t]
                    rows[q, t] = v
                    weighted[q, t] = w * v
            np.dot(weighted[:n].T, rows[:n], part)
            np.dot(adjusted[:n], rows[:n], linear_part)
            summary += part
            linear += linear_part
        change[:] = 0.0
        for _ in range(step.sweeps):
            for s in range(width):
                c = first + s
                if c == step.fixed_component:
                    continue
                lin = float(linear[s])
                for t in range(width):
                    lin -= summary[s, t] * change[t]
                lam = step.regularization * length if c < step.n_factors else 0.0
                x0 = own[i, c]
                x = float(x0)
                dense = 0.0
                for s2 in range(n_components):
                    dense += own[i, s2] * other_gram[c, s2]
                curvature = float(summary[s, s]) + rho * other_gram[c, c] + lam
                if curvature > 0.0:
                    own[i, c] = x + (lin - rho * dense - lam * x) / curvature
                    # The stored value may be rounded (float32): the residuals follow
                    # the change actually made.
                    change[s] += own[i, c] - x0
        # A row of one chunk still has its v_j in the buffer; longer rows read them again.
        cached = length <= chunk
        for q in range(length):
            p = start + q
            moved = zero
            if cached:
                for t in range(width):
                    moved += change[t] * rows[q, t]
            else:
                j = indices[p]
                for t in range(width):
                    moved += change[t] * other_rows[j, t]
            r = residuals[p] - moved
            residuals[p] = r
            prediction = float(targets[p]) - float(r)
            loss += float(confidences[p]) * float(r) * float(r) - rho * prediction * prediction
        for s in range(width):
            x = float(own[i, first + s])
            for s2 in range(n_components):
                gram[s, s2] += own[i, s2] * x
    return loss
