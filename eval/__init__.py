"""Evaluation of word vectors (``wordvec.eval``): word similarity, analogy, bilingual lexicon
induction, EvalRank and probing tasks for sentence encoders.

Every function takes a :class:`~wordvec.store.VectorStore`, in-memory
:class:`~wordvec.embeddings.Embeddings` or an :class:`EvalVectors` view (reuse one view to
normalize the vectors once for several tasks) and returns a frozen result with ``score``,
``coverage``, counts and per-item or per-section detail. Datasets are bundled names
(``wordsim353``, ``simlex999``, ``google``, shipped with gensim) or paths.

Only NumPy is needed to import this package; the analogy kernel loads Numba and the probing
classifier SciPy when first used.
"""

from __future__ import annotations

from wordvec.eval.analogy import AnalogyResult, evaluate_analogy
from wordvec.eval.bli import BLIResult, evaluate_bli
from wordvec.eval.datasets import (
    BUNDLED_DATASETS,
    read_analogy_dataset,
    read_similarity_dataset,
    read_translation_dictionary,
)
from wordvec.eval.errors import EvaluationError
from wordvec.eval.probing import (
    ProbingResult,
    evaluate_probing,
    evaluate_probing_corpus,
    make_bigram_shift,
    make_word_content,
    mean_encoder,
)
from wordvec.eval.ranking import RankingResult, evalrank_pairs, evaluate_evalrank
from wordvec.eval.similarity import SimilarityResult, evaluate_similarity
from wordvec.eval.suite import EvaluationReport, run_evaluation
from wordvec.eval.vectors import EvalVectors

__all__ = [
    "BUNDLED_DATASETS",
    "AnalogyResult",
    "BLIResult",
    "EvalVectors",
    "EvaluationError",
    "EvaluationReport",
    "ProbingResult",
    "RankingResult",
    "SimilarityResult",
    "evalrank_pairs",
    "evaluate_analogy",
    "evaluate_bli",
    "evaluate_evalrank",
    "evaluate_probing",
    "evaluate_probing_corpus",
    "evaluate_similarity",
    "make_bigram_shift",
    "make_word_content",
    "mean_encoder",
    "read_analogy_dataset",
    "read_similarity_dataset",
    "read_translation_dictionary",
    "run_evaluation",
]
