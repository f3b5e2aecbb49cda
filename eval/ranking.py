"""EvalRank: intrinsic evaluation by ranking, not by correlation with similarity scores.

Wang, Kuo and Li, 2022, "Just Rank: Rethinking Evaluation with Word and Sentence Similarities"
(ACL). Similarity scores of weakly related pairs are noisy and the correlation rewards getting
them in order; what downstream tasks need is that truly similar words are *nearest*. EvalRank
therefore takes only clearly similar pairs and asks how high the partner ranks among many
background words.

What is implemented (the word-level task, following the paper and its released toolkit,
``BinWang28/EvalRank-Embedding-Evaluation``):

1. **Positive pairs** (:func:`evalrank_pairs`): from each word-similarity dataset, the pairs in
   the top 25% by human score (``top_fraction=0.25``; sorted by score, ties in file order),
   identical-word pairs removed, each pair added in both directions, duplicates removed.
2. **Background words**: the words of the positive pairs, the words of the similarity datasets
   and the 20,000 most frequent words. The toolkit takes the most frequent words from an
   English Wikipedia list; here they are the first ``background_size`` rows of the vocabulary,
   which is the same thing for a vocabulary sorted by falling frequency. Pass ``background``
   to use your own list, or ``background_size=None`` to rank against the whole vocabulary.
3. **Rank**: for a pair ``(w1, w2)``, the rank of ``w2`` is 1 + the number of background words
   other than ``w1`` and ``w2`` whose cosine with ``w1`` is strictly higher than
   ``cos(w1, w2)`` (ties count in ``w2``'s favour, as the toolkit's ``searchsorted`` does).
4. **Scores**: mean reciprocal rank (MRR, the headline number), Hits@1 and Hits@3 (share of
   pairs with rank <= k) and the mean rank.

Differences from the toolkit: words are matched with the case rule of the other evaluations
(gensim's, see :mod:`wordvec.eval.vectors`) where the toolkit lower-cases vocabulary and
datasets; pairs with a word not in the vocabulary are dropped and counted, where the toolkit
gives such words the mean vector; scores are fractions, where its tables print percentages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.eval.datasets import (
    DEFAULT_SIMILARITY,
    PathLike,
    SimilarityDataset,
    as_similarity_dataset,
)
from wordvec.eval.errors import EvaluationError
from wordvec.eval.vectors import VectorsLike, as_eval_vectors

TOP_FRACTION = 0.25
BACKGROUND_SIZE = 20_000
_BLOCK_BYTES = 1 << 26


@dataclass(frozen=True)
class RankingResult:
    """EvalRank scores over ``n_ranked`` of ``n_pairs`` positive pairs (``n_oov`` dropped
    for an unknown word), ranked among ``n_background`` background words."""

    dataset: str
    mrr: float
    hits: Mapping[int, float]
    mean_rank: float
    n_pairs: int
    n_ranked: int
    n_oov: int
    n_background: int

    @property
    def score(self) -> float:
        """The headline number: mean reciprocal rank."""
        return self.mrr

    @property
    def coverage(self) -> float:
        return self.n_ranked / self.n_pairs

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "evalrank",
            "dataset": self.dataset,
            "score": self.score,
            "coverage": self.coverage,
            "mrr": self.mrr,
            "hits": {str(k): v for k, v in self.hits.items()},
            "mean_rank": self.mean_rank,
            "n_pairs": self.n_pairs,
            "n_ranked": self.n_ranked,
            "n_oov": self.n_oov,
            "n_background": self.n_background,
        }


def evalrank_pairs(
    datasets: Sequence[SimilarityDataset | PathLike],
    *,
    top_fraction: float = TOP_FRACTION,
) -> tuple[tuple[str, str], ...]:
    """Positive pairs for EvalRank: the top ``top_fraction`` of each dataset by human score
    (``int(len * top_fraction)`` pairs), without identical-word pairs, in both directions,
    without duplicates, in order of first appearance. Raises :class:`ConfigError` if
    ``top_fraction`` is not in (0, 1]."""
    if not 0 < top_fraction <= 1:
        raise ConfigError(f"top_fraction must be in (0, 1] (got {top_fraction})")
    pairs: dict[tuple[str, str], None] = {}
    for dataset in datasets:
        data = as_similarity_dataset(dataset)
        ranked = sorted(data.pairs, key=lambda pair: pair[2], reverse=True)
        for a, b, _ in ranked[: int(len(ranked) * top_fraction)]:
            if a != b:
                pairs[(a, b)] = None
                pairs[(b, a)] = None
    return tuple(pairs)


def evaluate_evalrank(
    vectors: VectorsLike,
    datasets: Sequence[SimilarityDataset | PathLike] = DEFAULT_SIMILARITY,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    background: Sequence[str] | None = None,
    background_size: int | None = BACKGROUND_SIZE,
    top_fraction: float = TOP_FRACTION,
    hits: Sequence[int] = (1, 3),
    restrict_vocab: int | None = None,
    case_insensitive: bool = True,
) -> RankingResult:
    """EvalRank (see the module docstring) with positive pairs drawn from ``datasets`` (or
    given as ``pairs``); the background holds the pair words, the dataset words and either
    ``background`` or the first ``background_size`` vocabulary rows (``None``: all rows).
    Words are looked up among the first ``restrict_vocab`` rows (``None``: all).

    Raises :class:`ConfigError` for bad sizes, :class:`FormatError` for a malformed dataset
    and :class:`EvaluationError` if no positive pair has both words in the vocabulary.
    """
    if not hits or min(hits) < 1:
        raise ConfigError(f"hits must be positive integers (got {list(hits)})")
    if background_size is not None and background_size < 0:
        raise ConfigError(f"background_size must be non-negative (got {background_size})")
    view = as_eval_vectors(vectors)
    stop = view.stop_for(restrict_vocab)
    loaded = [as_similarity_dataset(d) for d in datasets]
    positive = (
        tuple(pairs) if pairs is not None else evalrank_pairs(loaded, top_fraction=top_fraction)
    )
    name = "+".join(d.name for d in loaded) if pairs is None else "pairs"
    if not positive:
        raise EvaluationError(f"{name}: no positive pairs to rank")

    # Background rows: pair words, dataset words, then the frequent words (or the given list).
    listed = [w for pair in positive for w in pair]
    listed += [w for d in loaded for a, b, _ in d.pairs for w in (a, b)]
    if background is not None:
        listed += list(background)
    listed = list(dict.fromkeys(listed))
    listed_rows = view.lookup(listed, stop=stop, case_insensitive=case_insensitive)
    row_of = dict(zip(listed, listed_rows.tolist(), strict=True))
    background_rows = listed_rows[listed_rows >= 0]
    if background is None:
        frequent = stop if background_size is None else min(background_size, stop)
        # A frequent row stands for the row its spelling is looked up as (the case rule).
        canonical = view.canonical_ids(frequent, case_insensitive=case_insensitive)
        background_rows = np.concatenate([background_rows, canonical])
    background_rows = np.unique(background_rows)

    first = np.array([row_of[a] for a, _ in positive], dtype=np.int64)
    second = np.array([row_of[b] for _, b in positive], dtype=np.int64)
    known = (first >= 0) & (second >= 0) & (first != second)
    if not known.any():
        raise EvaluationError(
            f"{name}: none of the {len(positive):,} positive pairs has both words among the "
            f"first {stop:,} words of the vocabulary"
        )
    # Normalize only the rows involved: the whole vocabulary may be far larger.
    needed = np.unique(np.concatenate([background_rows, first[known], second[known]]))
    ranks = rank_partners(
        view.unit_rows_of(needed),
        np.searchsorted(needed, first[known]),
        np.searchsorted(needed, second[known]),
        np.searchsorted(needed, background_rows),
    )
    reciprocal = 1.0 / ranks
    return RankingResult(
        dataset=name,
        mrr=float(reciprocal.mean()),
        hits={k: float(np.mean(ranks <= k)) for k in sorted(set(hits))},
        mean_rank=float(ranks.mean()),
        n_pairs=len(positive),
        n_ranked=int(known.sum()),
        n_oov=int((~known).sum()),
        n_background=int(background_rows.shape[0]),
    )


def rank_partners(
    unit: NDArray[np.float32],
    first: NDArray[np.int64],
    second: NDArray[np.int64],
    background_rows: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Rank of row ``second[i]`` among ``background_rows`` by cosine with row ``first[i]``:
    1 + the number of background rows other than both whose cosine is strictly higher.
    ``unit`` (n, dim) float32 unit rows; ``background_rows`` sorted, distinct; returns
    (len(first),) int64."""
    background = np.ascontiguousarray(unit[background_rows])
    n = background_rows.shape[0]
    block = max(1, _BLOCK_BYTES // (4 * max(1, n)))
    ranks = np.empty(first.shape[0], dtype=np.int64)
    for start in range(0, first.shape[0], block):
        stop = min(start + block, first.shape[0])
        rows = np.arange(stop - start)
        cosines = unit[first[start:stop]] @ background.T
        # Where the partner is a background word, take its cosine from the same product, so
        # it is compared with itself exactly and never counts as higher.
        threshold = np.einsum("ij,ij->i", unit[first[start:stop]], unit[second[start:stop]])
        partner_at, partner_in = _positions(background_rows, second[start:stop])
        threshold = np.where(partner_in, cosines[rows, partner_at], threshold)
        query_at, query_in = _positions(background_rows, first[start:stop])
        higher = np.count_nonzero(cosines > threshold[:, None], axis=1)
        higher -= query_in & (cosines[rows, query_at] > threshold)
        ranks[start:stop] = 1 + higher
    return ranks


def _positions(
    sorted_rows: NDArray[np.int64], rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Index of each of ``rows`` in ``sorted_rows`` (clipped) and whether it is there."""
    at = np.minimum(np.searchsorted(sorted_rows, rows), sorted_rows.shape[0] - 1)
    return at, sorted_rows[at] == rows
