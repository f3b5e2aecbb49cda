"""Several evaluations in one call, sharing one view of the vectors: what ``wordvec eval`` runs.

With no task asked for, the default suite is WordSim-353 and SimLex-999 (similarity) and the
Google analogy set, all bundled with gensim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wordvec.errors import ConfigError
from wordvec.eval.analogy import AnalogyMethod, AnalogyResult, evaluate_analogy
from wordvec.eval.bli import BLIResult, evaluate_bli
from wordvec.eval.datasets import DEFAULT_ANALOGY, DEFAULT_SIMILARITY, PathLike
from wordvec.eval.errors import EvaluationError
from wordvec.eval.ranking import RankingResult, evaluate_evalrank
from wordvec.eval.similarity import SimilarityOOV, SimilarityResult, evaluate_similarity
from wordvec.eval.vectors import VectorsLike, as_eval_vectors

TaskResult = SimilarityResult | AnalogyResult | BLIResult | RankingResult


@dataclass(frozen=True)
class TaskOutcome:
    """One task on one dataset: its result, or why there is none (an
    :class:`EvaluationError` message, e.g. no word of the dataset in the vocabulary)."""

    task: str
    dataset: str
    result: TaskResult | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.result is not None:
            return self.result.to_dict()
        return {"task": self.task, "dataset": self.dataset, "error": self.error}


@dataclass(frozen=True)
class EvaluationReport:
    vectors: str
    n_words: int
    dim: int
    outcomes: tuple[TaskOutcome, ...]

    @property
    def failed(self) -> tuple[TaskOutcome, ...]:
        return tuple(o for o in self.outcomes if o.result is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "vectors": self.vectors,
            "n_words": self.n_words,
            "dim": self.dim,
            "results": [o.to_dict() for o in self.outcomes],
        }


def run_evaluation(
    vectors: VectorsLike,
    *,
    similarity: Sequence[PathLike] = (),
    analogy: PathLike | None = None,
    bli: PathLike | None = None,
    target: VectorsLike | None = None,
    evalrank: bool = False,
    restrict_vocab: int | None = 300_000,
    method: AnalogyMethod = "3cosadd",
    case_insensitive: bool = True,
    similarity_oov: SimilarityOOV = "drop",
) -> EvaluationReport:
    """Run the asked-for tasks (bundled dataset names or paths) on ``vectors``; with none
    asked for, WordSim-353 + SimLex-999 + Google analogies. EvalRank draws its pairs from the
    similarity datasets run (the defaults when none are). ``bli`` needs ``target``.

    A task that cannot produce a number is reported in the outcome's ``error``; other errors
    (a malformed or missing dataset, a bad option) raise :class:`WordvecError`.
    """
    if bli is not None and target is None:
        raise ConfigError("bilingual lexicon induction needs target vectors (--target)")
    if not similarity and analogy is None and bli is None and not evalrank:
        similarity, analogy = DEFAULT_SIMILARITY, DEFAULT_ANALOGY
    view = as_eval_vectors(vectors)
    outcomes: list[TaskOutcome] = []

    def attempt(task: str, dataset: PathLike, run: Any) -> None:
        try:
            outcomes.append(TaskOutcome(task, str(dataset), run()))
        except EvaluationError as exc:
            outcomes.append(TaskOutcome(task, str(dataset), None, str(exc)))

    for dataset in similarity:
        attempt(
            "similarity",
            dataset,
            lambda d=dataset: evaluate_similarity(
                view,
                d,
                restrict_vocab=restrict_vocab,
                case_insensitive=case_insensitive,
                oov=similarity_oov,
            ),
        )
    if analogy is not None:
        attempt(
            "analogy",
            analogy,
            lambda: evaluate_analogy(
                view,
                analogy,
                method=method,
                restrict_vocab=restrict_vocab,
                case_insensitive=case_insensitive,
            ),
        )
    if evalrank:
        sources = tuple(similarity) or DEFAULT_SIMILARITY
        attempt(
            "evalrank",
            "+".join(str(s) for s in sources),
            lambda: evaluate_evalrank(
                view, sources, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
            ),
        )
    if bli is not None:
        assert target is not None
        attempt(
            "bli",
            bli,
            lambda: evaluate_bli(view, target, bli, restrict_vocab=restrict_vocab),
        )
    return EvaluationReport(view.name, view.n_words, view.dim, tuple(outcomes))
