"""Bilingual lexicon induction: translate source words by nearest neighbours in a target space.

For source and target embeddings in one (aligned) space and a gold dictionary, each source word
of the dictionary retrieves its ``k`` best target words; precision@k is the fraction of source
words with at least one gold translation among them (several gold translations per source word
count as alternatives). This is the protocol of MUSE (Conneau, Lample, Ranzato, Denoyer and
Jégou, 2018, "Word translation without parallel data"):

- vectors are compared by cosine (both sides normalized to unit length);
- dictionary pairs whose source or target word is not among the searched words are dropped;
  precision is averaged over the distinct source words that keep at least one pair, and the
  share of distinct source words kept is reported as coverage;
- **nn** retrieval ranks target words ``y`` by ``cos(x, y)``;
- **csls** (cross-domain similarity local scaling) ranks them by
  ``2 cos(x, y) - r_T(x) - r_S(y)``, where ``r_S(y)`` is the mean cosine of ``y`` with its
  ``k = 10`` nearest source words and ``r_T(x)`` that of ``x`` with its 10 nearest target
  words. ``r_T(x)`` is the same for every candidate of ``x``, so the ranking needs only
  ``r_S``: it penalizes "hubs", target words that are near many source words.

``restrict_vocab`` limits both the searched target words and the source words that define
``r_S`` to the first rows (MUSE loads 200,000 words per language). Retrieval and ``r_S`` come
from :mod:`wordvec.align_retrieval` (one pass of ``n_target x n_source`` cosines, a block of
rows at a time), the same code the alignment uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wordvec.errors import ConfigError
from wordvec.eval.datasets import PathLike, TranslationDictionary, as_translation_dictionary
from wordvec.eval.errors import EvaluationError
from wordvec.eval.vectors import VectorsLike, as_eval_vectors

BLI_METHODS = ("nn", "csls")
CSLS_NEIGHBOURS = 10


@dataclass(frozen=True)
class BLIResult:
    """``precision[method][k]`` is precision@k of retrieval ``method`` ("nn" or "csls") over
    ``n_covered`` of the ``n_source_words`` distinct source words of the dictionary."""

    dictionary: str
    precision: Mapping[str, Mapping[int, float]]
    n_pairs: int
    n_source_words: int
    n_covered: int
    csls_k: int
    restrict_vocab: tuple[int, int]

    @property
    def score(self) -> float:
        """The headline number: precision@1 with CSLS if it was computed, else with nn."""
        method = "csls" if "csls" in self.precision else next(iter(self.precision))
        return self.precision[method][min(self.precision[method])]

    @property
    def coverage(self) -> float:
        return self.n_covered / self.n_source_words

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "bli",
            "dataset": self.dictionary,
            "score": self.score,
            "coverage": self.coverage,
            "precision": {m: {str(k): p for k, p in v.items()} for m, v in self.precision.items()},
            "n_pairs": self.n_pairs,
            "n_source_words": self.n_source_words,
            "n_covered": self.n_covered,
            "csls_k": self.csls_k,
            "restrict_vocab": list(self.restrict_vocab),
        }


def evaluate_bli(
    source: VectorsLike,
    target: VectorsLike,
    dictionary: TranslationDictionary | PathLike,
    *,
    methods: Sequence[str] = BLI_METHODS,
    ks: Sequence[int] = (1, 5, 10),
    csls_k: int = CSLS_NEIGHBOURS,
    restrict_vocab: int | None = 200_000,
    case_insensitive: bool = False,
) -> BLIResult:
    """Precision@k of translating the dictionary's source words into the target space.

    ``source`` and ``target`` must share a dimension (embeddings mapped into one space, e.g.
    by an alignment). ``case_insensitive`` matches dictionary words as the other evaluations
    do (see :mod:`wordvec.eval.vectors`); MUSE dictionaries are lower case, so the default is
    exact matching.

    Raises :class:`ConfigError` for mismatched dimensions, unknown methods or bad ``ks`` /
    ``csls_k``, :class:`FormatError` for a malformed dictionary and :class:`EvaluationError`
    if no dictionary pair has both words in the vocabularies.
    """
    unknown = [m for m in methods if m not in BLI_METHODS]
    if unknown or not methods:
        raise ConfigError(f"methods must be among {', '.join(BLI_METHODS)} (got {list(methods)})")
    if not ks or min(ks) < 1:
        raise ConfigError(f"ks must be positive integers (got {list(ks)})")
    if csls_k < 1:
        raise ConfigError(f"csls_k must be at least 1 (got {csls_k})")
    src, tgt = as_eval_vectors(source), as_eval_vectors(target)
    if src.dim != tgt.dim:
        raise ConfigError(
            f"source vectors have dimension {src.dim}, target vectors {tgt.dim}: BLI needs "
            "both in one space (align them first)"
        )
    data = as_translation_dictionary(dictionary)
    src_stop, tgt_stop = src.stop_for(restrict_vocab), tgt.stop_for(restrict_vocab)

    source_words = list(dict.fromkeys(s for s, _ in data.pairs))
    target_words = list(dict.fromkeys(t for _, t in data.pairs))
    src_rows = src.lookup(source_words, stop=src_stop, case_insensitive=case_insensitive)
    tgt_rows = tgt.lookup(target_words, stop=tgt_stop, case_insensitive=case_insensitive)
    src_row_of = dict(zip(source_words, src_rows.tolist(), strict=True))
    tgt_row_of = dict(zip(target_words, tgt_rows.tolist(), strict=True))
    gold: dict[int, set[int]] = {}
    for s, t in data.pairs:
        s_row, t_row = src_row_of[s], tgt_row_of[t]
        if s_row >= 0 and t_row >= 0:
            gold.setdefault(s_row, set()).add(t_row)
    if not gold:
        raise EvaluationError(
            f"{data.name}: no pair has its source word among the first {src_stop:,} source "
            f"words and its target word among the first {tgt_stop:,} target words"
        )

    queries = np.fromiter(gold, dtype=np.int64, count=len(gold))
    source_unit = src.unit_rows(src_stop)
    target_unit = tgt.unit_rows(tgt_stop)
    query_unit = source_unit[queries]
    depth = min(max(ks), tgt_stop)
    gold_sets = [gold[int(q)] for q in queries]
    precision: dict[str, dict[int, float]] = {}
    # The one blocked CSLS implementation (Numba kernels: imported here, off the lookup path).
    from wordvec.align_retrieval import csls_penalty, first_hit_ranks, nearest

    for method in methods:
        penalty = None
        if method == "csls":
            # Ranking by cos - r_S / 2 is ranking by 2 cos - r_T - r_S (r_T is fixed per query).
            r_source = csls_penalty(target_unit, source_unit, min(csls_k, src_stop))
            penalty = (r_source * np.float32(0.5)).astype(np.float32)
        top, _ = nearest(query_unit, target_unit, depth, target_penalty=penalty)
        hit_rank = first_hit_ranks(top, gold_sets)
        precision[method] = {k: float(np.mean(hit_rank < k)) for k in sorted(set(ks))}
    return BLIResult(
        dictionary=data.name,
        precision=precision,
        n_pairs=len(data.pairs),
        n_source_words=len(source_words),
        n_covered=len(gold),
        csls_k=csls_k,
        restrict_vocab=(src_stop, tgt_stop),
    )
