"""Word similarity: how well cosine similarity ranks word pairs as people do.

The score is Spearman's rank correlation between the cosine of each pair and its human score
(average ranks for ties, as ``scipy.stats.spearmanr``); Pearson's correlation is reported too.
Datasets: WordSim-353 (Finkelstein et al., 2002, "Placing search in context: the concept
revisited") and SimLex-999 (Hill, Reichart and Korhonen, 2015, "SimLex-999: Evaluating semantic
models with (genuine) similarity estimation"), both bundled with gensim.

Reference implementation: gensim's ``KeyedVectors.evaluate_word_pairs``. With the same options
the correlations are equal (to float rounding; they are checked to 1e-6 in the tests):

- ``restrict_vocab=300000`` (gensim's default): only the first 300,000 words count as known;
- ``case_insensitive=True`` (gensim's default): dataset words and vocabulary words are compared
  in upper case and the first matching vocabulary word is used (see :mod:`wordvec.eval.vectors`);
- ``oov="drop"`` is gensim's ``dummy4unknown=False`` (pairs with an unknown word are left out);
  ``oov="zero"`` is ``dummy4unknown=True`` (they are scored with similarity 0).

``oov="fallback"`` goes further than gensim: such pairs are scored with the vectors the source
gives the words itself (a store's OOV policy, e.g. fastText subwords), so a model is credited
for what it can do with words it has not seen. Either way the number of such pairs is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.eval.datasets import PathLike, SimilarityDataset, as_similarity_dataset
from wordvec.eval.errors import EvaluationError
from wordvec.eval.vectors import VectorsLike, as_eval_vectors, unit_normalize

SIMILARITY_OOV_POLICIES = ("drop", "zero", "fallback")
SimilarityOOV = Literal["drop", "zero", "fallback"]


class PairScore(NamedTuple):
    """One dataset pair: the human score and the model's cosine (``None`` if dropped)."""

    word1: str
    word2: str
    gold: float
    model: float | None
    oov: bool


@dataclass(frozen=True)
class SimilarityResult:
    """Correlations on one dataset.

    ``n_pairs`` pairs in the dataset, ``n_oov`` of them with a word that is not among the
    first ``restrict_vocab`` words, ``n_scored`` entering the correlations (``n_pairs -
    n_oov`` under ``oov="drop"``, else ``n_pairs``).
    """

    dataset: str
    spearman: float
    pearson: float
    n_pairs: int
    n_scored: int
    n_oov: int
    oov: str
    restrict_vocab: int
    case_insensitive: bool
    pairs: tuple[PairScore, ...] = field(repr=False, compare=False)

    @property
    def score(self) -> float:
        """The headline number: Spearman's rho."""
        return self.spearman

    @property
    def coverage(self) -> float:
        """Fraction of pairs whose words are both known (gensim's OOV ratio is
        ``100 * (1 - coverage)``)."""
        return (self.n_pairs - self.n_oov) / self.n_pairs

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "similarity",
            "dataset": self.dataset,
            "score": self.score,
            "spearman": self.spearman,
            "pearson": self.pearson,
            "coverage": self.coverage,
            "n_pairs": self.n_pairs,
            "n_scored": self.n_scored,
            "n_oov": self.n_oov,
            "oov": self.oov,
            "restrict_vocab": self.restrict_vocab,
            "case_insensitive": self.case_insensitive,
        }


def evaluate_similarity(
    vectors: VectorsLike,
    dataset: SimilarityDataset | PathLike,
    *,
    restrict_vocab: int | None = 300_000,
    case_insensitive: bool = True,
    oov: SimilarityOOV = "drop",
) -> SimilarityResult:
    """Spearman and Pearson correlation of cosine similarities with the human scores of
    ``dataset`` (a :class:`SimilarityDataset`, a bundled name such as ``"wordsim353"`` or a
    path).

    Raises :class:`ConfigError` for an unknown ``oov`` policy, :class:`FormatError` for a
    malformed dataset, and :class:`EvaluationError` if fewer than two pairs can be scored or
    the model's similarities are all equal (a correlation would be undefined, not NaN).
    """
    if oov not in SIMILARITY_OOV_POLICIES:
        raise ConfigError(f"oov must be one of {', '.join(SIMILARITY_OOV_POLICIES)} (got {oov!r})")
    view = as_eval_vectors(vectors)
    data = as_similarity_dataset(dataset)
    stop = view.stop_for(restrict_vocab)

    words = list(dict.fromkeys(w for a, b, _ in data.pairs for w in (a, b)))
    ids = view.lookup(words, stop=stop, case_insensitive=case_insensitive)
    slot = {w: i for i, w in enumerate(words)}
    first = np.array([slot[a] for a, _, _ in data.pairs], dtype=np.int64)
    second = np.array([slot[b] for _, b, _ in data.pairs], dtype=np.int64)
    gold = np.array([s for _, _, s in data.pairs], dtype=np.float64)
    is_oov = (ids[first] < 0) | (ids[second] < 0)

    # One unit vector per distinct word (float64, so that equal pairs give equal cosines and
    # rounding cannot reorder near-equal ones more than gensim's float32 does).
    unit = np.zeros((len(words), view.dim), dtype=np.float64)
    known = np.flatnonzero(ids >= 0)
    unit[known] = view.rows(ids[known])
    if oov == "fallback":
        unknown = np.flatnonzero(ids < 0)
        if unknown.size:
            unit[unknown] = view.fallback_vectors([words[i] for i in unknown.tolist()])
    unit_normalize(unit)
    cosines = np.einsum("ij,ij->i", unit[first], unit[second])

    if oov == "drop":
        scored = ~is_oov
    else:
        scored = np.ones(len(data.pairs), dtype=bool)
        if oov == "zero":
            cosines[is_oov] = 0.0
    n_scored = int(scored.sum())
    if n_scored < 2:
        raise EvaluationError(
            f"{data.name}: {n_scored} of {len(data.pairs)} pairs have both words among the "
            f"first {stop:,} words of the vocabulary{_case_note(case_insensitive)}; a "
            "correlation needs at least 2"
        )
    model = cosines[scored]
    if np.ptp(model) == 0:
        raise EvaluationError(
            f"{data.name}: all {n_scored} model similarities are equal ({model[0]:.6g}); "
            "the correlation is undefined"
        )
    spearman = spearman_correlation(gold[scored], model)
    pearson = pearson_correlation(gold[scored], model)
    details = tuple(
        PairScore(a, b, s, float(c) if keep else None, bool(o))
        for (a, b, s), c, keep, o in zip(
            data.pairs, cosines.tolist(), scored.tolist(), is_oov.tolist(), strict=True
        )
    )
    return SimilarityResult(
        dataset=data.name,
        spearman=spearman,
        pearson=pearson,
        n_pairs=len(data.pairs),
        n_scored=n_scored,
        n_oov=int(is_oov.sum()),
        oov=oov,
        restrict_vocab=stop,
        case_insensitive=case_insensitive,
        pairs=details,
    )


def _case_note(case_insensitive: bool) -> str:
    return " (ignoring case)" if case_insensitive else ""


def average_ranks(values: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """1-based ranks of ``values``, ties given the mean of the ranks they span (``method=
    "average"`` of ``scipy.stats.rankdata``); float64, same shape (1-d)."""
    values = np.asarray(values)
    n = values.shape[0]
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    bounds = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [n]))
    starts, stops = bounds[:-1], bounds[1:]
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + stops + 1) / 2.0, stops - starts)
    return ranks


def pearson_correlation(x: NDArray[np.floating[Any]], y: NDArray[np.floating[Any]]) -> float:
    """Pearson's r of two equally long 1-d arrays, in float64. Raises
    :class:`EvaluationError` if either is constant."""
    xc = np.asarray(x, dtype=np.float64) - np.mean(x, dtype=np.float64)
    yc = np.asarray(y, dtype=np.float64) - np.mean(y, dtype=np.float64)
    # Scale first (as scipy does) so the products cannot overflow or underflow.
    x_norm, y_norm = float(np.linalg.norm(xc)), float(np.linalg.norm(yc))
    if x_norm == 0 or y_norm == 0:
        raise EvaluationError("a correlation with a constant sequence is undefined")
    return max(-1.0, min(1.0, float(np.dot(xc / x_norm, yc / y_norm))))


def spearman_correlation(x: NDArray[np.floating[Any]], y: NDArray[np.floating[Any]]) -> float:
    """Spearman's rho: Pearson's r of the average ranks (equals ``scipy.stats.spearmanr``)."""
    return pearson_correlation(average_ranks(x), average_ranks(y))
