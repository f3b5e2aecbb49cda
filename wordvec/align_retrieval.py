"""Search across two embedding spaces with bounded memory: CSLS, nearest neighbours, dictionary
induction and bilingual lexicon induction (BLI) scores.

Every function works on one block of rows at a time: ``sims = A[a:b] @ B.T`` (a float32 BLAS
product) is at most ``block_bytes`` large and is reduced by the kernels of
:mod:`wordvec.align_kernels` before the next block is formed, so 200,000 x 200,000 words need
about ``block_bytes`` of scratch memory, never the full matrix.

CSLS (cross-domain similarity local scaling; Conneau et al., 2018, "Word translation without
parallel data") scores a pair ``(x, y)`` by ``2 cos(x, y) - r_T(x) - r_S(y)``, where ``r_T(x)``
is the mean cosine of ``x`` with its ``k`` nearest target words and ``r_S(y)`` that of ``y``
with its ``k`` nearest source words. ``r_T(x)`` does not change the ranking of ``x``'s
candidates, so retrieval ranks by ``cos(x, y) - r_S(y) / 2``: hubs (targets near everything)
are pushed down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.align_dictionary import TranslationPairs, lookup_pairs
from wordvec.align_kernels import columns_topk, keep_threshold, rows_topk
from wordvec.errors import ConfigError, WordvecError

DEFAULT_BLOCK_BYTES = 1 << 27  # 128 MiB of similarities per block: BLAS stays efficient
CSLS_NEIGHBOURS = 10
RETRIEVAL_METHODS = ("nn", "csls")
DIRECTIONS = ("union", "forward", "backward")

Direction = Literal["union", "forward", "backward"]
Matrix = NDArray[np.float32]


def block_rows(n_columns: int, block_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    """Rows per block so that a (rows, n_columns) float32 block fits in ``block_bytes``."""
    return max(1, block_bytes // (4 * max(1, n_columns)))


def as_matrix(vectors: Any) -> Matrix:
    """``vectors`` as a C-contiguous float32 (n, dim) matrix (no copy if it already is one)."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ConfigError(f"expected a 2-d (n, dim) matrix (got shape {matrix.shape})")
    return matrix


def unit_rows(vectors: Any) -> Matrix:
    """A float32 copy of ``vectors`` with rows of length 1 (zero rows stay zero)."""
    matrix = np.array(vectors, dtype=np.float32, copy=True, order="C")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    return matrix


def _blocks(a: Matrix, b: Matrix, block_bytes: int) -> Any:
    """Yield ``(start, sims)`` with ``sims = a[start:start + rows] @ b.T`` (a reused buffer)."""
    rows = min(block_rows(b.shape[0], block_bytes), max(1, a.shape[0]))
    buffer = np.empty((rows, b.shape[0]), dtype=np.float32)
    for start in range(0, a.shape[0], rows):
        stop = min(start + rows, a.shape[0])
        sims = buffer[: stop - start]
        np.matmul(a[start:stop], b.T, out=sims)
        yield start, sims


def _half(values: Matrix) -> Matrix:
    return (values * np.float32(0.5)).astype(np.float32, copy=False)


def _check_pair(a: Matrix, b: Matrix) -> None:
    if a.shape[1] != b.shape[1]:
        raise ConfigError(
            f"the two spaces have dimensions {a.shape[1]} and {b.shape[1]}: map them into one "
            "space first"
        )
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise ConfigError("both spaces need at least one vector")


@dataclass(frozen=True)
class Neighbourhoods:
    """For ``sims = a @ b.T``: ``row_mean[i]`` is the mean of the ``k`` largest ``sims[i, :]``
    and ``row_best[i]`` the largest; ``column_mean`` / ``column_best`` the same over
    ``sims[:, j]``. All float32; ``row_*`` (len(a),), ``column_*`` (len(b),)."""

    row_mean: Matrix
    row_best: Matrix
    column_mean: Matrix
    column_best: Matrix


class _NeighbourhoodPass:
    """Accumulates :class:`Neighbourhoods` over the blocks of one pass over ``a @ b.T``."""

    def __init__(self, n_rows: int, n_columns: int, k: int, block_bytes: int) -> None:
        k_rows, k_columns = min(k, n_columns), min(k, n_rows)
        self.no_column_penalty = np.zeros(n_columns, dtype=np.float32)
        self.row_values = np.empty((n_rows, k_rows), dtype=np.float32)
        self.row_ids = np.empty((block_rows(n_columns, block_bytes), k_rows), dtype=np.int64)
        self.column_values = np.full((n_columns, k_columns), -np.inf, dtype=np.float32)
        self.column_ids = np.full((n_columns, k_columns), -1, dtype=np.int64)
        self.threshold, self.seed = keep_threshold(1.0), np.uint64(0)

    def add(self, start: int, sims: Matrix) -> None:
        n = sims.shape[0]
        rows_topk(
            sims, self.no_column_penalty, False, self.threshold, self.seed, start,
            self.row_values[start : start + n], self.row_ids[:n],
        )  # fmt: skip
        columns_topk(
            sims, np.zeros(n, dtype=np.float32), False, self.threshold, self.seed, start,
            self.column_values, self.column_ids,
        )  # fmt: skip

    def result(self) -> Neighbourhoods:
        return Neighbourhoods(
            row_mean=self.row_values.mean(axis=1, dtype=np.float64).astype(np.float32),
            row_best=self.row_values[:, 0].copy(),
            column_mean=self.column_values.mean(axis=1, dtype=np.float64).astype(np.float32),
            column_best=self.column_values[:, 0].copy(),
        )


def neighbourhoods(
    a: Matrix, b: Matrix, k: int, *, block_bytes: int = DEFAULT_BLOCK_BYTES
) -> Neighbourhoods:
    """CSLS's ``r`` for both spaces in one pass over ``a @ b.T``: with unit rows,
    ``row_mean`` is ``r_T`` of every row of ``a`` and ``column_mean`` is ``r_S`` of every row
    of ``b``. ``k`` is capped at the size of the other space. Raises :class:`ConfigError` for
    ``k < 1`` or mismatched dimensions."""
    a, b = as_matrix(a), as_matrix(b)
    _check_pair(a, b)
    if k < 1:
        raise ConfigError(f"k must be at least 1 (got {k})")
    accumulator = _NeighbourhoodPass(a.shape[0], b.shape[0], k, block_bytes)
    for start, sims in _blocks(a, b, block_bytes):
        accumulator.add(start, sims)
    return accumulator.result()


def csls_penalty(
    targets: Matrix,
    sources: Matrix,
    k: int = CSLS_NEIGHBOURS,
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> Matrix:
    """``r_S``: for each target row, the mean similarity of its ``k`` nearest source rows
    ((n_targets,) float32). Rows should be unit vectors for cosines."""
    targets, sources = as_matrix(targets), as_matrix(sources)
    _check_pair(targets, sources)
    if k < 1:
        raise ConfigError(f"k must be at least 1 (got {k})")
    k = min(k, sources.shape[0])
    penalty = np.zeros(sources.shape[0], dtype=np.float32)
    values = np.empty((targets.shape[0], k), dtype=np.float32)
    ids = np.empty((block_rows(sources.shape[0], block_bytes), k), dtype=np.int64)
    threshold, seed = keep_threshold(1.0), np.uint64(0)
    for start, sims in _blocks(targets, sources, block_bytes):
        n = sims.shape[0]
        rows_topk(sims, penalty, False, threshold, seed, start, values[start : start + n], ids[:n])
    return values.mean(axis=1, dtype=np.float64).astype(np.float32)


def nearest(
    queries: Matrix,
    targets: Matrix,
    k: int = 1,
    *,
    target_penalty: Matrix | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> tuple[NDArray[np.int64], Matrix]:
    """The ``k`` best targets of each query, best first: ``(ids, scores)``, both (q, k), by
    ``queries @ targets.T - target_penalty`` (nn: no penalty; CSLS: ``r_S / 2``). ``k`` is
    capped at the number of targets. Ties go to the lower target id."""
    queries, targets = as_matrix(queries), as_matrix(targets)
    _check_pair(queries, targets)
    k = min(max(1, k), targets.shape[0])
    penalty = (
        np.zeros(targets.shape[0], dtype=np.float32)
        if target_penalty is None
        else np.ascontiguousarray(target_penalty, dtype=np.float32)
    )
    ids = np.empty((queries.shape[0], k), dtype=np.int64)
    scores = np.empty((queries.shape[0], k), dtype=np.float32)
    threshold, seed = keep_threshold(1.0), np.uint64(0)
    for start, sims in _blocks(queries, targets, block_bytes):
        n = sims.shape[0]
        rows_topk(
            sims, penalty, False, threshold, seed, start,
            scores[start : start + n], ids[start : start + n],
        )  # fmt: skip
    return ids, scores


# --- dictionary induction (self-learning) -------------------------------------------------------


@dataclass(frozen=True)
class InducedDictionary:
    """A dictionary induced from two mapped spaces: pair ``i`` is source row ``source_ids[i]``
    and target row ``target_ids[i]`` (int64). ``objective`` is VecMap's: the mean similarity of
    every word with its nearest neighbour in the other space (forward, backward, or their
    average for ``union``); it grows as the spaces align."""

    source_ids: NDArray[np.int64]
    target_ids: NDArray[np.int64]
    objective: float
    source_neighbourhood: Matrix
    target_neighbourhood: Matrix


def induce_dictionary(
    xw: Matrix,
    zw: Matrix,
    *,
    csls_k: int = CSLS_NEIGHBOURS,
    direction: Direction = "union",
    keep_prob: float = 1.0,
    seed: int = 0,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    penalties: tuple[Matrix, Matrix] | None = None,
) -> InducedDictionary:
    """Translate every source row into the target space (forward) and/or every target row
    into the source space (backward), as VecMap's self-learning does (Artetxe et al., 2018).

    ``xw`` (n_x, d) and ``zw`` (n_z, d) are the mapped spaces (unit rows: scores are cosines).
    Candidates are ranked by CSLS with ``csls_k`` neighbours (0: plain nearest neighbour).
    With ``keep_prob < 1`` each candidate similarity is dropped with probability
    ``1 - keep_prob`` (stochastic dictionary induction), reproducibly for a given ``seed``.
    Two passes over ``xw @ zw.T``: the first finds both ``r`` and the objective, the second the
    translations. With ``penalties = (r_x, r_z)`` (e.g. the ``source_neighbourhood`` and
    ``target_neighbourhood`` of the previous self-learning iteration) CSLS uses them instead
    and one pass does everything. The result carries this mapping's fresh ``r`` of both sides
    ((n_x,) and (n_z,) float32). Raises :class:`ConfigError` for bad arguments.
    """
    xw, zw = as_matrix(xw), as_matrix(zw)
    _check_pair(xw, zw)
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)} (got {direction!r})")
    if not 0 < keep_prob <= 1:
        raise ConfigError(f"keep_prob must be in (0, 1] (got {keep_prob})")
    if csls_k < 0:
        raise ConfigError(f"csls_k must be >= 0 (got {csls_k})")
    k = max(csls_k, 1)
    accumulator: _NeighbourhoodPass | None = None
    if penalties is None:
        hoods = neighbourhoods(xw, zw, k, block_bytes=block_bytes)
        r_x, r_z = hoods.row_mean, hoods.column_mean
    else:
        accumulator = _NeighbourhoodPass(xw.shape[0], zw.shape[0], k, block_bytes)
        r_x, r_z = (np.ascontiguousarray(r, dtype=np.float32) for r in penalties)
        if r_x.shape != (xw.shape[0],) or r_z.shape != (zw.shape[0],):
            raise ConfigError(
                f"penalties must have shapes ({xw.shape[0]},) and ({zw.shape[0]},) (got "
                f"{r_x.shape} and {r_z.shape})"
            )
    # VecMap subtracts only the other side's r/2: the same ranking as full CSLS for each query.
    if csls_k > 0:
        target_penalty, source_penalty = _half(r_z), _half(r_x)
    else:
        target_penalty = np.zeros(zw.shape[0], dtype=np.float32)
        source_penalty = np.zeros(xw.shape[0], dtype=np.float32)
    forward = direction in ("union", "forward")
    backward = direction in ("union", "backward")
    dropout = keep_prob < 1.0
    threshold = keep_threshold(keep_prob)
    mixed = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    forward_seed, backward_seed = np.uint64(mixed[0]), np.uint64(mixed[1])

    forward_ids = np.full((xw.shape[0], 1), -1, dtype=np.int64)
    forward_scores = np.empty((xw.shape[0], 1), dtype=np.float32)
    backward_ids = np.full((zw.shape[0], 1), -1, dtype=np.int64)
    backward_scores = np.full((zw.shape[0], 1), -np.inf, dtype=np.float32)
    for start, sims in _blocks(xw, zw, block_bytes):
        n = sims.shape[0]
        if accumulator is not None:
            accumulator.add(start, sims)
        if forward:
            rows_topk(
                sims, target_penalty, dropout, threshold, forward_seed, start,
                forward_scores[start : start + n], forward_ids[start : start + n],
            )  # fmt: skip
        if backward:
            columns_topk(
                sims, source_penalty[start : start + n], dropout, threshold, backward_seed,
                start, backward_scores, backward_ids,
            )  # fmt: skip
    if accumulator is not None:
        hoods = accumulator.result()
    parts_source: list[NDArray[np.int64]] = []
    parts_target: list[NDArray[np.int64]] = []
    objectives: list[float] = []
    if forward:
        fwd = _fill_dropped(forward_ids[:, 0], xw, zw, target_penalty, block_bytes)
        parts_source.append(np.arange(xw.shape[0], dtype=np.int64))
        parts_target.append(fwd)
        objectives.append(float(hoods.row_best.mean(dtype=np.float64)))
    if backward:
        bwd = _fill_dropped(backward_ids[:, 0], zw, xw, source_penalty, block_bytes)
        parts_source.append(bwd)
        parts_target.append(np.arange(zw.shape[0], dtype=np.int64))
        objectives.append(float(hoods.column_best.mean(dtype=np.float64)))
    return InducedDictionary(
        source_ids=np.concatenate(parts_source),
        target_ids=np.concatenate(parts_target),
        objective=float(np.mean(objectives)),
        source_neighbourhood=hoods.row_mean,
        target_neighbourhood=hoods.column_mean,
    )


def _fill_dropped(
    ids: NDArray[np.int64], queries: Matrix, targets: Matrix, penalty: Matrix, block_bytes: int
) -> NDArray[np.int64]:
    # With heavy dropout on a small space a query can lose every candidate: give it its best
    # translation without dropout (VecMap would pick an arbitrary zeroed entry instead).
    lost = np.flatnonzero(ids < 0)
    if lost.size:
        best, _ = nearest(
            queries[lost], targets, 1, target_penalty=penalty, block_bytes=block_bytes
        )
        ids = ids.copy()
        ids[lost] = best[:, 0]
    return ids


def mean_csls_cosine(
    xw: Matrix,
    zw: Matrix,
    *,
    n_queries: int = 10_000,
    csls_k: int = CSLS_NEIGHBOURS,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> float:
    """MUSE's unsupervised model-selection criterion (Conneau et al., 2018): translate the
    first ``n_queries`` (most frequent) source words by CSLS and average the cosines of the
    pairs found. Higher means better aligned; needs no dictionary."""
    x, z = unit_rows(xw), unit_rows(zw)
    queries = x[: max(1, n_queries)]
    penalty = _half(csls_penalty(z, x, csls_k, block_bytes=block_bytes))
    ids, _ = nearest(queries, z, 1, target_penalty=penalty, block_bytes=block_bytes)
    cosines = np.einsum("ij,ij->i", queries, z[ids[:, 0]], dtype=np.float64)
    return float(cosines.mean())


# --- BLI evaluation ---------------------------------------------------------------------------


class NoCoverageError(WordvecError):
    """No pair of the test dictionary has both words in the vocabularies."""


@dataclass(frozen=True)
class BLIScores:
    """``precision[method][k]``: the share of covered source words with a gold translation
    among their ``k`` best retrieved target words, for retrieval ``method`` ("nn"/"csls").
    A source word is covered when at least one of its pairs has both words in the
    vocabularies; several gold translations of one word are alternatives."""

    dictionary: str
    precision: Mapping[str, Mapping[int, float]]
    n_pairs: int
    n_pairs_found: int
    n_source_words: int
    n_source_words_found: int
    csls_k: int

    @property
    def coverage(self) -> float:
        """Covered share of the dictionary's distinct source words."""
        return self.n_source_words_found / self.n_source_words if self.n_source_words else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dictionary": self.dictionary,
            "precision": {m: {str(k): p for k, p in v.items()} for m, v in self.precision.items()},
            "coverage": self.coverage,
            "pairs": self.n_pairs,
            "pairs_found": self.n_pairs_found,
            "source_words": self.n_source_words,
            "source_words_found": self.n_source_words_found,
            "csls_k": self.csls_k,
        }


def evaluate_bli(
    source: Any,
    target: Any,
    pairs: TranslationPairs,
    *,
    methods: Sequence[str] = RETRIEVAL_METHODS,
    ks: Sequence[int] = (1, 5, 10),
    csls_k: int = CSLS_NEIGHBOURS,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> BLIScores:
    """Precision@k of translating the dictionary's source words into the target space by
    cosine nearest neighbour ("nn") and/or CSLS, searching every target word.

    ``source`` and ``target`` are :class:`Embeddings` or :class:`VectorStore` objects in one
    (aligned) space. CSLS's ``r_S`` of each target is taken over all source words. Raises
    :class:`ConfigError` for bad arguments or mismatched dimensions and
    :class:`NoCoverageError` if no pair has both words in the vocabularies.
    """
    unknown = [m for m in methods if m not in RETRIEVAL_METHODS]
    if unknown or not methods:
        raise ConfigError(f"methods must be among {', '.join(RETRIEVAL_METHODS)} (got {methods})")
    if not ks or min(ks) < 1:
        raise ConfigError(f"ks must be positive (got {list(ks)})")
    found = lookup_pairs(pairs, source, target)
    if found.n_found == 0:
        raise NoCoverageError(
            f"{pairs.name}: none of the {found.n_pairs} pairs has both words in the vocabularies"
        )
    x = unit_rows(source.vectors)
    z = unit_rows(target.vectors)
    _check_pair(x, z)
    gold: dict[int, set[int]] = {}
    for s, t in zip(found.source_ids.tolist(), found.target_ids.tolist(), strict=True):
        gold.setdefault(s, set()).add(t)
    queries = np.fromiter(gold, dtype=np.int64, count=len(gold))
    depth = min(max(ks), z.shape[0])
    precision: dict[str, dict[int, float]] = {}
    for method in methods:
        penalty = None
        if method == "csls":
            penalty = _half(csls_penalty(z, x, csls_k, block_bytes=block_bytes))
        ids, _ = nearest(x[queries], z, depth, target_penalty=penalty, block_bytes=block_bytes)
        first_hit = first_hit_ranks(ids, [gold[q] for q in queries.tolist()])
        precision[method] = {k: float(np.mean(first_hit < k)) for k in sorted(set(ks))}
    return BLIScores(
        dictionary=pairs.name,
        precision=precision,
        n_pairs=found.n_pairs,
        n_pairs_found=found.n_found,
        n_source_words=found.n_source_words,
        n_source_words_found=found.n_source_words_found,
        csls_k=csls_k,
    )


def first_hit_ranks(top: NDArray[np.int64], gold: Sequence[set[int]]) -> NDArray[np.int64]:
    """0-based position of the first gold answer in each row of ``top`` (the retrieved ids,
    best first); the largest int64 if none is there, so ``ranks < k`` counts hits at any k
    (also beyond ``top``'s depth, when there are fewer targets than k). Shared by both BLI
    evaluations."""
    ranks = np.full(top.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    for i, (row, answers) in enumerate(zip(top.tolist(), gold, strict=True)):
        for position, candidate in enumerate(row):
            if candidate in answers:
                ranks[i] = position
                break
    return ranks
