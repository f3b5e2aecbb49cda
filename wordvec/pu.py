"""PU-learning matrix factorization for low-resource corpora, and GloVe-style factorization.

Reference: Jiang, Yu, Hsieh and Chang, "Learning Word Embeddings for Low-resource Languages by
PU Learning" (NAACL 2018). On a small corpus most word pairs are never seen together, and
word2vec and GloVe learn nothing from those zeros; PU learning treats the unseen pairs as
unlabeled entries with target 0 and a small weight ``rho``. With ``W (m x k)``, ``H (n x k)``
and biases ``b``, ``c`` the objective is::

    sum_{(i,j) in O} f(X_ij) (A_ij - w_i.h_j - b_i - c_j)^2
      + rho * sum_{(i,j) not in O} (w_i.h_j + b_i + c_j)^2
      + lam * (sum_i |O_i| ||w_i||^2 + sum_j |O_j| ||h_j||^2)

* ``A`` is the PPMI matrix with context-distribution smoothing (``context_smoothing`` 0.75) and
  ``O`` its positive entries; pairs with non-positive PMI are unobserved (our reading of the
  paper, which factorizes the PPMI matrix; the smoothing is Levy et al.'s).
* ``f(x) = min(1, (x / x_max)^0.75)`` of the raw co-occurrence count ``X_ij``.
* **Biases in the unobserved part**: the full prediction ``w_i.h_j + b_i + c_j`` is pulled
  toward 0 there, biases included (the paper's model has one prediction for every entry).
  Biases are not regularized (as in GloVe).
* The word vector is ``w_i + h_i``, as in the paper and GloVe.

Two solvers minimize the same objective; in both ``rho * sum over the complement`` is the sum
over all entries (``trace((U^T U)(V^T V))`` with ``U = [W, b, 1]``, ``V = [H, 1, c]``) minus
the sum over ``O``, so the dense ``m x n`` matrix is never formed (see
:mod:`wordvec.pu_kernels`):

* ``solver="ccd"`` (default): CCD++ coordinate descent, the paper's solver (Yu, Hsieh, Si and
  Dhillon, ICDM 2012; the paper uses libpmf): closed-form 1-D updates of one factor entry at a
  time, component by component (in blocks of ``block_size`` components ``B`` per pass over
  the data, ``sweeps`` coordinate sweeps per block), residuals kept on ``O``, in float32 for
  co-occurrence problems. Cost per iteration ``O(nnz k B + (m+n) k^2 sweeps)``.
* ``solver="als"``: exact alternating least squares, a ``(k+1) x (k+1)`` solve per row. Cost
  per iteration ``O(nnz k^2 + (m+n) k^3)``; more progress per iteration, much slower.

Every step of either is an exact minimization over the variables it changes, so the objective
never increases.

``model="glove"`` reuses the machinery with ``A_ij = log X_ij`` on every non-zero count and
``rho = 0``: GloVe's weighted least squares (Pennington et al., EMNLP 2014), solved by ALS
instead of AdaGrad (GloVe uses ``x_max = 100``; set it).

Defaults follow the paper (window 15, ``rho = 2^-4``, ``lambda = 2^-11``, ``x_max = 10``)
except the rank: 100, as the other wordvec trainers (the paper uses 300), and the schedule:
4 outer iterations of 3 coordinate sweeps per block instead of 15 of one. Extra sweeps cost
no pass over the data (see :mod:`wordvec.pu_kernels`), and on 0.5-2M tokens of English such
a run scores as 15 single-sweep iterations did on WordSim-353, SimLex-999 and analogies
(``tests/benchmarks/bench_pu.py``; README) at under a third of the solver time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.cooccurrence import count_cooccurrences
from wordvec.corpus import build_and_encode
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError, TrainingDivergedError
from wordvec.progress import Progress
from wordvec.textio import PathLike
from wordvec.vocab import Vocab, keep_probabilities

if TYPE_CHECKING:
    import scipy.sparse

CONFIG_VERSION = 1


@dataclass(frozen=True)
class PUConfig:
    """PU-learning (or GloVe-style) factorization hyper-parameters, saved with the vectors."""

    model: Literal["pu", "glove"] = "pu"
    dim: int = 100
    window: int = 15
    dynamic_window: bool = False
    distance_weighting: bool = False
    sample: float = 0.0
    min_count: int = 5
    max_vocab_size: int | None = None
    context_smoothing: float = 0.75
    rho: float = 2.0**-4
    regularization: float = 2.0**-11
    x_max: float = 10.0
    weight_power: float = 0.75
    iterations: int = 4
    solver: Literal["ccd", "als"] = "ccd"
    block_size: int = 16  # ccd: components per pass over the data
    sweeps: int = 3  # ccd: coordinate sweeps over a block per row and pass
    init_scale: float = 0.1
    threads: int = 0
    seed: int = 1
    lowercase: bool = False
    max_sentence_length: int = 10_000

    def __post_init__(self) -> None:
        checks = [
            (self.model in ("pu", "glove"), f"model must be pu or glove (got {self.model!r})"),
            (self.dim >= 1, f"dim must be at least 1 (got {self.dim})"),
            (self.window >= 1, f"window must be at least 1 (got {self.window})"),
            (self.sample >= 0, f"sample must be >= 0 (got {self.sample})"),
            (self.min_count >= 1, f"min_count must be at least 1 (got {self.min_count})"),
            (
                self.max_vocab_size is None or self.max_vocab_size >= 1,
                f"max_vocab_size must be at least 1 (got {self.max_vocab_size})",
            ),
            (
                0 < self.context_smoothing <= 1,
                f"context_smoothing must be in (0, 1] (got {self.context_smoothing})",
            ),
            (self.rho >= 0 and np.isfinite(self.rho), f"rho must be >= 0 (got {self.rho})"),
            (
                self.regularization >= 0 and np.isfinite(self.regularization),
                f"regularization must be >= 0 (got {self.regularization})",
            ),
            (self.x_max > 0, f"x_max must be positive (got {self.x_max})"),
            (self.weight_power > 0, f"weight_power must be positive (got {self.weight_power})"),
            (self.iterations >= 1, f"iterations must be at least 1 (got {self.iterations})"),
            (self.solver in ("ccd", "als"), f"solver must be ccd or als (got {self.solver!r})"),
            (self.block_size >= 1, f"block_size must be at least 1 (got {self.block_size})"),
            (self.sweeps >= 1, f"sweeps must be at least 1 (got {self.sweeps})"),
            (self.init_scale > 0, f"init_scale must be positive (got {self.init_scale})"),
            (self.threads >= 0, f"threads must be >= 0 (0: all cores) (got {self.threads})"),
            (
                self.max_sentence_length >= 1,
                f"max_sentence_length must be at least 1 (got {self.max_sentence_length})",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def effective_rho(self) -> float:
        """``rho``; 0 for ``model="glove"`` (GloVe ignores unseen pairs)."""
        return 0.0 if self.model == "glove" else self.rho

    @property
    def n_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def to_json(self) -> dict[str, Any]:
        return {"config_version": CONFIG_VERSION, **dataclasses.asdict(self)}


@dataclass
class Factorization:
    """The training state: both factors and their biases (float64), and iterations done."""

    word_vectors: NDArray[np.float64]
    word_biases: NDArray[np.float64]
    context_vectors: NDArray[np.float64]
    context_biases: NDArray[np.float64]
    iterations_done: int = 0


@dataclass(frozen=True)
class FactorizationProblem:
    """Observed entries in CSR by rows and by columns (targets ``A``, confidences ``f``).

    The targets and confidences share one float type, float32 or float64; the CCD solver
    works in that type (float32 halves its memory traffic and doubles its vector width)."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    targets: NDArray[np.floating[Any]]
    confidences: NDArray[np.floating[Any]]
    t_indptr: NDArray[np.int64]
    t_indices: NDArray[np.int32]
    t_targets: NDArray[np.floating[Any]]
    t_confidences: NDArray[np.floating[Any]]
    shape: tuple[int, int]


def build_problem(
    targets: scipy.sparse.spmatrix | scipy.sparse.sparray,
    confidences: scipy.sparse.spmatrix | scipy.sparse.sparray,
    dtype: type[np.floating[Any]] = np.float64,
) -> FactorizationProblem:
    """Pair the target matrix ``A`` (its stored entries are the observed set ``O``) with the
    confidences ``f`` at the same positions, in row and column order, as ``dtype``."""
    import scipy.sparse

    a = scipy.sparse.csr_matrix(targets, dtype=np.float64)
    a.sum_duplicates()
    a.sort_indices()
    f = scipy.sparse.csr_matrix(confidences, dtype=np.float64)
    if a.shape != f.shape:
        raise ConfigError(f"targets {a.shape} and confidences {f.shape} differ in shape")
    # Confidences at the observed positions, by coordinates (explicit zeros in ``A``, such as
    # log 1 in GloVe, stay observed; sparse arithmetic would drop them).
    rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    f_data = np.asarray(f[rows, a.indices], dtype=np.float64).ravel()
    if np.any(f_data <= 0):
        raise ConfigError("confidences must be positive wherever targets are stored")
    f_on_a = scipy.sparse.csr_matrix((f_data, a.indices.copy(), a.indptr.copy()), shape=a.shape)
    at = a.T.tocsr()
    at.sort_indices()
    ft = f_on_a.T.tocsr()
    ft.sort_indices()

    def arrays(m: Any) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        return m.indptr.astype(np.int64), m.indices.astype(np.int32)

    indptr, indices = arrays(a)
    t_indptr, t_indices = arrays(at)
    return FactorizationProblem(
        indptr,
        indices,
        a.data.astype(dtype),
        f_on_a.data.astype(dtype),
        t_indptr,
        t_indices,
        at.data.astype(dtype),
        ft.data.astype(dtype),
        (a.shape[0], a.shape[1]),
    )


def confidence_weights(
    counts: scipy.sparse.spmatrix | scipy.sparse.sparray, x_max: float, power: float = 0.75
) -> scipy.sparse.csr_matrix:
    """``f(X) = min(1, (X / x_max)^power)`` on the stored entries of ``counts``."""
    import scipy.sparse

    f = scipy.sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    f.data = np.minimum(1.0, (f.data / x_max) ** power)
    return f


def initial_factorization(
    shape: tuple[int, int], dim: int, scale: float, seed: int
) -> Factorization:
    """Factors uniform in ``±scale / sqrt(dim)``, biases zero."""
    rng = np.random.default_rng(seed)
    bound = scale / np.sqrt(dim)
    return Factorization(
        rng.uniform(-bound, bound, (shape[0], dim)),
        np.zeros(shape[0]),
        rng.uniform(-bound, bound, (shape[1], dim)),
        np.zeros(shape[1]),
    )


def _gram(
    vectors: NDArray[np.float64], biases: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    g = np.hstack([vectors, np.ones((vectors.shape[0], 1))])
    return np.ascontiguousarray(g.T @ g), np.ascontiguousarray(g.T @ biases)


def objective(
    problem: FactorizationProblem,
    state: Factorization,
    rho: float,
    regularization: float,
    n_threads: int = 1,
    *,
    residuals: NDArray[np.floating[Any]] | None = None,
) -> float:
    """The PU objective (module docstring) of ``state``, without forming the dense matrix.
    ``residuals`` (one per observed entry, CSR order), if given, receive ``A - p``."""
    from wordvec.pu_kernels import observed_loss

    partial = np.zeros(max(n_threads, 1))
    observed = observed_loss(
        problem.indptr,
        problem.indices,
        problem.targets,
        problem.confidences,
        state.word_vectors,
        state.word_biases,
        state.context_vectors,
        state.context_biases,
        rho,
        partial,
        np.empty(0) if residuals is None else residuals,
    )
    u = np.hstack(
        [state.word_vectors, state.word_biases[:, None], np.ones((state.word_biases.shape[0], 1))]
    )
    v = np.hstack(
        [
            state.context_vectors,
            np.ones((state.context_biases.shape[0], 1)),
            state.context_biases[:, None],
        ]
    )
    everything = float(np.sum((u.T @ u) * (v.T @ v)))
    row_sizes = np.diff(problem.indptr).astype(np.float64)
    col_sizes = np.diff(problem.t_indptr).astype(np.float64)
    penalty = regularization * (
        float(row_sizes @ np.sum(state.word_vectors**2, axis=1))
        + float(col_sizes @ np.sum(state.context_vectors**2, axis=1))
    )
    return float(observed + rho * everything + penalty)


def update_word_side(
    problem: FactorizationProblem,
    state: Factorization,
    rho: float,
    regularization: float,
    n_threads: int = 1,
) -> int:
    """Exactly minimize over ``W, b`` with ``H, c`` fixed; returns rows left unchanged."""
    return _update(
        problem.indptr,
        problem.indices,
        problem.targets,
        problem.confidences,
        state.word_vectors,
        state.word_biases,
        state.context_vectors,
        state.context_biases,
        rho,
        regularization,
        n_threads,
    )


def update_context_side(
    problem: FactorizationProblem,
    state: Factorization,
    rho: float,
    regularization: float,
    n_threads: int = 1,
) -> int:
    """Exactly minimize over ``H, c`` with ``W, b`` fixed; returns rows left unchanged."""
    return _update(
        problem.t_indptr,
        problem.t_indices,
        problem.t_targets,
        problem.t_confidences,
        state.context_vectors,
        state.context_biases,
        state.word_vectors,
        state.word_biases,
        rho,
        regularization,
        n_threads,
    )


def _update(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    targets: NDArray[np.floating[Any]],
    confidences: NDArray[np.floating[Any]],
    vectors: NDArray[np.float64],
    biases: NDArray[np.float64],
    other_vectors: NDArray[np.float64],
    other_biases: NDArray[np.float64],
    rho: float,
    regularization: float,
    n_threads: int,
) -> int:
    from wordvec.pu_kernels import PUParams, update_rows

    k = vectors.shape[1]
    n_threads = max(1, min(n_threads, vectors.shape[0]))
    gram, gram_offsets = _gram(other_vectors, other_biases)
    matrices = np.empty((n_threads, k + 1, k + 1))
    rhs = np.empty((n_threads, k + 1))
    failed = np.zeros(n_threads, dtype=np.int64)
    update_rows(
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
        PUParams(float(rho), float(regularization)),
        matrices,
        rhs,
        failed,
    )
    return int(failed.sum())


class CCDSolver:
    """CCD++ working state (Yu, Hsieh, Si and Dhillon, ICDM 2012; the PU-learning paper's
    solver): the factors with the biases as two extra components (``U = [W, b, 1]``,
    ``V = [H, 1, c]``), their Gram matrices, and the residuals ``A - p`` on the observed
    entries in row and in column order. See :mod:`wordvec.pu_kernels` for the update.

    One :meth:`iterate` updates the components in blocks of ``block_size``: for each block a
    pass over the rows (``U``), then one over the columns (``V``). Cost per pass
    ``O(|O| B^2 + (m + n) K B sweeps)``, so ``O(|O| K B + (m + n) K^2 sweeps)`` per
    iteration. The factors, residuals and scratch take the problem's float type.
    """

    def __init__(
        self,
        problem: FactorizationProblem,
        state: Factorization,
        rho: float,
        regularization: float,
        n_threads: int = 1,
        *,
        block_size: int = 16,
        sweeps: int = 1,
    ) -> None:
        from wordvec.pu_kernels import ccd_buffer_size, ccd_chunk

        m, n = problem.shape
        k = state.word_vectors.shape[1]
        self.problem = problem
        self.rho = float(rho)
        self.regularization = float(regularization)
        self.n_factors = k
        self.block_size = max(1, min(block_size, k + 2))
        self.sweeps = sweeps
        self.n_threads = max(1, n_threads)
        dtype = problem.targets.dtype
        self.row_factors = np.hstack(
            [state.word_vectors, state.word_biases[:, None], np.ones((m, 1))]
        ).astype(dtype)
        self.column_factors = np.hstack(
            [state.context_vectors, np.ones((n, 1)), state.context_biases[:, None]]
        ).astype(dtype)
        self.row_gram = _float64_gram(self.row_factors)
        self.column_gram = _float64_gram(self.column_factors)
        self.row_sizes = np.diff(problem.indptr).astype(np.float64)
        self.column_sizes = np.diff(problem.t_indptr).astype(np.float64)
        self.chunk = ccd_chunk(self.block_size)
        self.buffers = np.empty(
            (self.n_threads, ccd_buffer_size(self.block_size, self.chunk)), dtype
        )
        self.loss_parts = np.zeros(self.n_threads)
        self.row_residuals = np.empty(problem.indices.shape[0], dtype)
        self.column_residuals = np.empty(problem.t_indices.shape[0], dtype)
        # Residuals of the factors as the solver holds them (rounded to its float type).
        self._residuals(problem, self.row_factors, self.column_factors, self.row_residuals)
        self._residuals(
            transposed(problem), self.column_factors, self.row_factors, self.column_residuals
        )
        # The change the last pass made (to components lag_start...) that the other side's
        # residuals have not seen yet: none so far.
        self.lag_start = 0
        self.lag = np.zeros((max(m, n), 0), dtype)
        self.last_side: bool | None = None

    def _residuals(
        self,
        problem: FactorizationProblem,
        own: NDArray[np.floating[Any]],
        other: NDArray[np.floating[Any]],
        out: NDArray[np.floating[Any]],
    ) -> None:
        from wordvec.pu_kernels import observed_loss

        # The bias components are the own side's column k and the other side's k + 1, or the
        # other way round: whichever column is not all ones.
        k = self.n_factors
        own_bias, other_bias = (k, k + 1) if problem is self.problem else (k + 1, k)
        observed_loss(
            problem.indptr,
            problem.indices,
            problem.targets,
            problem.confidences,
            np.ascontiguousarray(own[:, :k]),
            np.ascontiguousarray(own[:, own_bias]),
            np.ascontiguousarray(other[:, :k]),
            np.ascontiguousarray(other[:, other_bias]),
            self.rho,
            np.zeros(self.n_threads),
            out,
        )

    def iterate(self) -> float:
        """One outer iteration over all components; returns the objective after it."""
        width = self.row_factors.shape[1]
        for first in range(0, width, self.block_size):
            last = min(first + self.block_size, width)
            self.update_block(first, last, rows=True)
            self.update_block(first, last, rows=False)
        return self._objective(float(self.loss_parts.sum()))

    def store(self, state: Factorization) -> None:
        """Copy the factors into ``state``."""
        k = self.n_factors
        state.word_vectors[:] = self.row_factors[:, :k]
        state.word_biases[:] = self.row_factors[:, k]
        state.context_vectors[:] = self.column_factors[:, :k]
        state.context_biases[:] = self.column_factors[:, k + 1]

    def _objective(self, observed: float) -> float:
        k = self.n_factors
        everything = float(np.sum(self.row_gram * self.column_gram))
        penalty = self.regularization * (
            float(self.row_sizes @ _squared_norms(self.row_factors[:, :k]))
            + float(self.column_sizes @ _squared_norms(self.column_factors[:, :k]))
        )
        return observed + self.rho * everything + penalty

    def update_block(self, first: int, last: int, *, rows: bool) -> None:
        """One pass: coordinate descent on components ``first:last`` of the row side
        (``W``, ``b``) or the column side (``H``, ``c``). Passes alternate sides (the residual
        copy of one side catches up with the other side's last change as it is read)."""
        from wordvec.pu_kernels import CCDStep, ccd_pass

        if rows == self.last_side:
            raise ValueError("CCD passes must alternate between rows and columns")
        if not 0 <= first < last <= first + self.block_size or last > self.row_factors.shape[1]:
            raise ValueError(f"bad block {first}:{last} (block size {self.block_size})")
        p = self.problem
        k = self.n_factors
        if rows:
            own, other, other_gram, own_gram = (
                self.row_factors,
                self.column_factors,
                self.column_gram,
                self.row_gram,
            )
            arrays = (p.indptr, p.indices, p.targets, p.confidences, self.row_residuals)
            fixed = k + 1
        else:
            own, other, other_gram, own_gram = (
                self.column_factors,
                self.row_factors,
                self.row_gram,
                self.column_gram,
            )
            arrays = (p.t_indptr, p.t_indices, p.t_targets, p.t_confidences, self.column_residuals)
            fixed = k
        before = own[:, first:last].copy()
        gram_parts = np.empty((self.n_threads, last - first, own.shape[1]))
        # The other side's block values and its pending change, side by side: one random
        # read per entry.
        other_rows = np.hstack([other[:, first:last], self.lag[: other.shape[0]]])
        ccd_pass(
            *arrays,
            own,
            other_rows,
            other_gram,
            CCDStep(
                self.rho,
                self.regularization,
                k,
                fixed,
                first,
                self.lag_start,
                self.sweeps,
                last - first,
                self.chunk,
            ),
            self.buffers,
            gram_parts,
            self.loss_parts,
        )
        block = gram_parts.sum(axis=0)
        own_gram[first:last, :] = block
        own_gram[:, first:last] = block.T
        self.lag = own[:, first:last] - before
        self.lag_start = first
        self.last_side = rows


def _float64_gram(factors: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    wide = factors.astype(np.float64)
    return wide.T @ wide


def _squared_norms(factors: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    return np.einsum("ij,ij->i", factors, factors, dtype=np.float64)


def transposed(problem: FactorizationProblem) -> FactorizationProblem:
    """The same problem with rows and columns swapped (no copies)."""
    return FactorizationProblem(
        problem.t_indptr,
        problem.t_indices,
        problem.t_targets,
        problem.t_confidences,
        problem.indptr,
        problem.indices,
        problem.targets,
        problem.confidences,
        (problem.shape[1], problem.shape[0]),
    )


def factorize(
    problem: FactorizationProblem,
    config: PUConfig,
    *,
    state: Factorization | None = None,
    checkpoint: str | None = None,
    progress: bool | None = False,
    on_iteration: Any = None,
) -> Factorization:
    """Run ``config.iterations`` alternating updates (from ``state`` if given, else a seeded
    start). After every iteration the objective is computed (shown on the progress bar, passed
    to ``on_iteration(iteration, objective)``); ``checkpoint`` saves the state there.
    Raises :class:`TrainingDivergedError` if the objective or the factors become non-finite."""
    if state is None:
        state = initial_factorization(problem.shape, config.dim, config.init_scale, config.seed)
    rho = config.effective_rho
    lam = config.regularization
    n_threads = config.n_threads
    ccd = None
    if config.solver == "ccd" and state.iterations_done < config.iterations:
        ccd = CCDSolver(
            problem, state, rho, lam, n_threads, block_size=config.block_size, sweeps=config.sweeps
        )
    with Progress(
        "factorizing", total=config.iterations, unit="iterations", enabled=progress
    ) as bar:
        bar.update(state.iterations_done)
        for iteration in range(state.iterations_done, config.iterations):
            if ccd is not None:
                value = ccd.iterate()
                ccd.store(state)
            else:
                update_word_side(problem, state, rho, lam, n_threads)
                update_context_side(problem, state, rho, lam, n_threads)
                value = objective(problem, state, rho, lam, n_threads)
            if not np.isfinite(value) or not (
                np.isfinite(state.word_vectors).all() and np.isfinite(state.context_vectors).all()
            ):
                raise TrainingDivergedError(
                    f"factorization diverged in iteration {iteration + 1} (objective {value}); "
                    "raise the regularization"
                )
            state.iterations_done = iteration + 1
            if on_iteration is not None:
                on_iteration(state.iterations_done, value)
            bar.description = f"factorizing (objective {value:.6g})"
            bar.update(1)
            if checkpoint is not None and state.iterations_done < config.iterations:
                save_checkpoint(checkpoint, state, config)
    return state


def save_checkpoint(path: str, state: Factorization, config: PUConfig) -> None:
    """Write the factors and the iteration count (atomically) to an ``.npz`` file."""
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        np.savez(
            f,
            word_vectors=state.word_vectors,
            word_biases=state.word_biases,
            context_vectors=state.context_vectors,
            context_biases=state.context_biases,
            iterations_done=np.int64(state.iterations_done),
            config=np.frombuffer(json.dumps(config.to_json()).encode(), dtype=np.uint8),
        )
    os.replace(tmp, path)


def load_checkpoint(path: str, config: PUConfig, shape: tuple[int, int]) -> Factorization:
    """Read a checkpoint made with the same settings (``iterations``/``threads`` may differ)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = json.loads(data["config"].tobytes())
            state = Factorization(
                np.array(data["word_vectors"]),
                np.array(data["word_biases"]),
                np.array(data["context_vectors"]),
                np.array(data["context_biases"]),
                int(data["iterations_done"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(path, f"not a usable PU checkpoint: {exc}") from exc
    mine = config.to_json()
    # The solver settings may change on resume: every solver minimizes the same objective.
    free = ("iterations", "threads", "solver", "block_size", "sweeps")
    differing = [k for k in mine if k not in free and saved.get(k) != mine[k]]
    if differing or state.word_vectors.shape != (shape[0], config.dim):
        raise ConfigError(
            f"checkpoint {path} was made with other settings or another corpus "
            f"({', '.join(differing) or 'shape'}); resume with the same options"
        )
    return state


def cooccurrence_problem(
    counts: scipy.sparse.spmatrix | scipy.sparse.sparray,
    config: PUConfig,
    dtype: type[np.floating[Any]] = np.float32,
) -> FactorizationProblem:
    """Targets and confidences of ``config.model`` from a co-occurrence count matrix: PPMI on
    its positive entries (``pu``, as :func:`wordvec.cooccurrence.ppmi`) or ``log X`` on every
    non-zero count (``glove``), stored as ``dtype`` (float32: the solver's speed and memory;
    its results match float64's to about 1e-6 relative, far inside the run-to-run noise of
    the embeddings' scores). Built by two linear Numba passes straight into the solver's
    arrays, with no intermediate sparse matrices."""
    import scipy.sparse

    from wordvec.cooccurrence_kernels import select_targets, transpose_csr

    x = counts if isinstance(counts, scipy.sparse.csr_matrix) else scipy.sparse.csr_matrix(counts)
    if not x.has_canonical_format:
        x = x.copy()
        x.sum_duplicates()
    m, n = x.shape
    indptr = x.indptr.astype(np.int64)
    indices = x.indices.astype(np.int32)
    if x.nnz and not x.data.min() >= 0:
        raise ConfigError("co-occurrence counts must not be negative")
    if config.model == "pu":
        # Marginals by products with a ones vector: no temporary as long as the entries.
        row_sums = np.asarray(x @ np.ones(n)).ravel()
        col_sums = np.asarray(np.ones(m) @ x).ravel() ** config.context_smoothing
        if not row_sums.sum() > 0:
            raise ConfigError("cannot compute PMI: the co-occurrence matrix is empty")
        with np.errstate(divide="ignore"):
            log_row = np.log(row_sums)
            log_col = np.log(col_sums / col_sums.sum())
    else:
        log_row, log_col = np.zeros(m), np.zeros(n)
    size = int(x.nnz)
    out_indptr = np.empty(m + 1, dtype=np.int64)
    out_indices = np.empty(size, dtype=np.int32)
    targets = np.empty(size, dtype=dtype)
    confidences = np.empty(size, dtype=dtype)
    kept = select_targets(
        indptr,
        indices,
        x.data,
        log_row,
        log_col,
        config.model == "pu",
        float(config.x_max),
        float(config.weight_power),
        out_indptr,
        out_indices,
        targets,
        confidences,
    )
    del indices, x
    # Trim in place (resize keeps the first ``kept`` values without another copy).
    for array in (out_indices, targets, confidences):
        array.resize(kept, refcheck=False)
    t_indptr = np.zeros(n + 1, dtype=np.int64)
    t_indices = np.empty(kept, dtype=np.int32)
    t_targets = np.empty(kept, dtype=dtype)
    t_confidences = np.empty(kept, dtype=dtype)
    transpose_csr(
        out_indptr,
        out_indices,
        targets,
        confidences,
        t_indptr,
        t_indices,
        t_targets,
        t_confidences,
    )
    return FactorizationProblem(
        out_indptr,
        out_indices,
        targets,
        confidences,
        t_indptr,
        t_indices,
        t_targets,
        t_confidences,
        (m, n),
    )


def train_pu(
    corpus_paths: PathLike | Sequence[PathLike],
    config: PUConfig | None = None,
    *,
    checkpoint: str | None = None,
    resume: bool = False,
    progress: bool | None = False,
    workdir: str | None = None,
) -> Embeddings:
    """Train PU-learning (or GloVe-style) embeddings on text files; word vector ``w_i + h_i``.

    Builds the vocabulary, counts co-occurrences (:func:`count_cooccurrences`), forms the
    targets and factorizes. ``checkpoint``: saved after every iteration; with ``resume``
    training continues from it (the co-occurrences are recounted: same corpus, same seed,
    same matrix). Raises :class:`ConfigError` (bad settings, empty vocabulary or matrix),
    :class:`TrainingDivergedError`.
    """
    config = config or PUConfig()
    paths = [corpus_paths] if isinstance(corpus_paths, (str, os.PathLike)) else list(corpus_paths)
    if resume and (checkpoint is None or not os.path.exists(checkpoint)):
        raise ConfigError(f"cannot resume: no checkpoint at {checkpoint}")
    started = time.perf_counter()
    # One pass over the text builds the vocabulary and encodes the corpus.
    vocab, encoded = build_and_encode(
        paths,
        min_count=config.min_count,
        max_size=config.max_vocab_size,
        lowercase=config.lowercase,
        max_sentence_length=config.max_sentence_length,
        workdir=workdir,
        progress=progress,
    )
    with encoded as corpus:
        if len(vocab) == 0:
            raise ConfigError(
                f"no word occurs at least min_count={config.min_count} times in the corpus"
            )
        counts = vocab.require_counts()
        cooccurrences = count_cooccurrences(
            corpus,
            len(vocab),
            window=config.window,
            dynamic_window=config.dynamic_window,
            distance_weighting=config.distance_weighting,
            keep_probs=keep_probabilities(counts, config.sample),
            seed=config.seed,
            dtype=np.float32,  # exact for counts below 2^24; halves the matrix
            progress=progress,
        )
        n_tokens = corpus.n_tokens
    if cooccurrences.nnz == 0:
        raise ConfigError("no two words co-occur: the corpus is too small for this window")
    problem = cooccurrence_problem(cooccurrences, config)
    del cooccurrences  # the problem holds what the solver needs; free the counts
    state = load_checkpoint(checkpoint, config, problem.shape) if resume and checkpoint else None
    history: list[float] = []
    state = factorize(
        problem,
        config,
        state=state,
        checkpoint=checkpoint,
        progress=progress,
        on_iteration=lambda _, value: history.append(value),
    )
    return _finish(
        vocab,
        state,
        config,
        {
            "n_tokens": n_tokens,
            "n_observed": int(problem.indices.shape[0]),
            "objective": history,
            "seconds": time.perf_counter() - started,
        },
    )


def _finish(
    vocab: Vocab, state: Factorization, config: PUConfig, stats: dict[str, Any]
) -> Embeddings:
    vectors = (state.word_vectors + state.context_vectors).astype(np.float32)
    metadata = {
        "trainer": "pu" if config.model == "pu" else "glove-als",
        "config": config.to_json(),
        "iterations_done": state.iterations_done,
        **stats,
    }
    return Embeddings(vocab, vectors, None, metadata)
