"""Word analogies: "a is to b as c is to ?", answered by vector arithmetic.

Methods: 3CosAdd, the word closest to ``b - a + c`` on unit vectors (Mikolov, Chen, Corrado and
Dean, 2013, "Efficient estimation of word representations in vector space", which also
introduced the Google analogy set bundled with gensim), and 3CosMul (Levy and Goldberg, 2014,
"Linguistic regularities in sparse and explicit word representations"):
``cos'(x, b) cos'(x, c) / (cos'(x, a) + epsilon)`` with ``cos' = (cos + 1) / 2`` and their
``epsilon = 0.001`` (gensim's ``most_similar_cosmul`` uses 1e-6).

Reference implementation: gensim's ``KeyedVectors.evaluate_word_analogies`` (3CosAdd only).
With the same options the accuracy and the per-section correct/incorrect counts are equal:

- ``restrict_vocab`` (gensim's default 300,000): a question with a word outside the first
  ``restrict_vocab`` rows is skipped (``oov="skip"``, gensim's ``dummy4unknown=False``) or
  counted as wrong (``oov="incorrect"``, ``dummy4unknown=True``); answers are searched among
  those rows only.
- ``case_insensitive=True`` (gensim's default): words are matched in upper case, each standing
  for the first vocabulary row spelled like it (see :mod:`wordvec.eval.vectors`); an answer is
  right when it is spelled like the expected word in upper case. The three question words are
  never the answer, and neither are their other spellings: gensim walks through its top 5 and
  skips them. If all five are such spellings gensim keeps the fifth; that is reproduced too.
- Sections are the ``: name`` blocks; the total ("Total accuracy" in gensim) sums all of them.
  A section without an answerable question has accuracy 0.0, as in gensim.

How it is fast: the first ``restrict_vocab`` rows are normalized once. For a block of rows at a
time, one matrix product gives the cosine of every *distinct* question word (905 in the Google
set, against its 19,544 questions) with the block; a Numba kernel then combines three of those
rows per question and keeps the best candidate, excluding the question words. The work is
``distinct words x restrict_vocab x dim`` multiply-adds plus one pass over three cosine rows per
question, instead of one matrix-vector product and one sort per question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.eval.datasets import AnalogyDataset, PathLike, as_analogy_dataset
from wordvec.eval.errors import EvaluationError
from wordvec.eval.vectors import VectorsLike, as_eval_vectors

ANALOGY_METHODS = ("3cosadd", "3cosmul")
ANALOGY_OOV_POLICIES = ("skip", "incorrect")
AnalogyMethod = Literal["3cosadd", "3cosmul"]
AnalogyOOV = Literal["skip", "incorrect"]
COSMUL_EPSILON = 1e-3
TOTAL_SECTION = "Total accuracy"
_GENSIM_TOPN = 5  # gensim asks most_similar for 5 answers and takes the first acceptable one
_BLOCK_BYTES = 1 << 26  # cosines of the distinct question words with one block of rows


class AnalogyOutcome(NamedTuple):
    """One question; ``predicted`` is ``None`` when it was not answered (an unknown word)."""

    section: str
    a: str
    b: str
    c: str
    expected: str
    predicted: str | None
    correct: bool
    oov: bool


@dataclass(frozen=True)
class SectionScore:
    """Counts of one section: ``correct + incorrect`` questions were scored, ``oov`` had a word
    outside the first ``restrict_vocab`` rows (skipped, or included in ``incorrect`` under
    ``oov="incorrect"``)."""

    name: str
    correct: int
    incorrect: int
    oov: int
    n_questions: int

    @property
    def accuracy(self) -> float:
        """``correct / (correct + incorrect)``; 0.0 when nothing was scored (as gensim)."""
        scored = self.correct + self.incorrect
        return self.correct / scored if scored else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.name,
            "accuracy": self.accuracy,
            "correct": self.correct,
            "incorrect": self.incorrect,
            "oov": self.oov,
            "n_questions": self.n_questions,
        }


@dataclass(frozen=True)
class AnalogyResult:
    """Accuracy on one analogy dataset, per section and in total."""

    dataset: str
    method: str
    restrict_vocab: int
    case_insensitive: bool
    oov: str
    sections: tuple[SectionScore, ...]
    total: SectionScore
    outcomes: tuple[AnalogyOutcome, ...] = field(repr=False, compare=False)

    @property
    def accuracy(self) -> float:
        return self.total.accuracy

    @property
    def score(self) -> float:
        """The headline number: total accuracy."""
        return self.total.accuracy

    @property
    def coverage(self) -> float:
        """Fraction of questions with all four words known."""
        return 1.0 - self.total.oov / self.total.n_questions

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "analogy",
            "dataset": self.dataset,
            "score": self.score,
            "accuracy": self.accuracy,
            "coverage": self.coverage,
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "case_insensitive": self.case_insensitive,
            "oov": self.oov,
            "total": self.total.to_dict(),
            "sections": [s.to_dict() for s in self.sections],
        }


def evaluate_analogy(
    vectors: VectorsLike,
    dataset: AnalogyDataset | PathLike = "google",
    *,
    method: AnalogyMethod = "3cosadd",
    restrict_vocab: int | None = 300_000,
    case_insensitive: bool = True,
    oov: AnalogyOOV = "skip",
    epsilon: float = COSMUL_EPSILON,
) -> AnalogyResult:
    """Accuracy on the analogy questions of ``dataset`` (an :class:`AnalogyDataset`, a bundled
    name such as ``"google"`` or a path), per section and in total.

    Raises :class:`ConfigError` for an unknown ``method`` or ``oov`` policy or a negative
    ``epsilon``, :class:`FormatError` for a malformed dataset and :class:`EvaluationError` if
    no question has all four words among the first ``restrict_vocab`` rows.
    """
    if method not in ANALOGY_METHODS:
        raise ConfigError(f"method must be one of {', '.join(ANALOGY_METHODS)} (got {method!r})")
    if oov not in ANALOGY_OOV_POLICIES:
        raise ConfigError(f"oov must be one of {', '.join(ANALOGY_OOV_POLICIES)} (got {oov!r})")
    if not epsilon >= 0:
        raise ConfigError(f"epsilon must be non-negative (got {epsilon})")
    view = as_eval_vectors(vectors)
    data = as_analogy_dataset(dataset)
    stop = view.stop_for(restrict_vocab)

    questions = [q for section in data.sections for q in section.questions]
    words = list(dict.fromkeys(w for q in questions for w in q))
    word_rows = view.lookup(words, stop=stop, case_insensitive=case_insensitive)
    slot = {w: i for i, w in enumerate(words)}
    rows = word_rows[np.array([[slot[w] for w in q] for q in questions], dtype=np.int64)]
    answerable: NDArray[np.bool_] = np.all(rows >= 0, axis=1)
    if not answerable.any():
        raise EvaluationError(
            f"{data.name}: none of the {len(questions):,} questions has all four words among "
            f"the first {stop:,} words of the vocabulary"
            + (" (ignoring case)" if case_insensitive else "")
        )

    canonical = view.canonical_ids(stop, case_insensitive=case_insensitive)
    predicted = np.full(len(questions), -1, dtype=np.int64)
    predicted[answerable] = answer_analogies(
        view.unit_rows(stop), canonical, rows[answerable, :3], method=method, epsilon=epsilon
    )
    answered = predicted >= 0
    correct = np.zeros(len(questions), dtype=bool)
    correct[answered] = canonical[predicted[answered]] == rows[answered, 3]

    guessed = np.unique(predicted[answered]).tolist()
    guess_of = dict(zip(guessed, view.words_at_rows(guessed), strict=True))
    outcomes: list[AnalogyOutcome] = []
    scores: list[SectionScore] = []
    position = 0
    for section in data.sections:
        n = len(section.questions)
        span = slice(position, position + n)
        n_correct = int(correct[span].sum())
        n_oov = int((~answerable[span]).sum())
        n_wrong = n - n_correct - (n_oov if oov == "skip" else 0)
        scores.append(SectionScore(section.name, n_correct, n_wrong, n_oov, n))
        for (a, b, c, d), row, ok, known in zip(
            section.questions,
            predicted[span].tolist(),
            correct[span].tolist(),
            answerable[span].tolist(),
            strict=True,
        ):
            guess = guess_of[row] if row >= 0 else None
            outcomes.append(AnalogyOutcome(section.name, a, b, c, d, guess, ok, not known))
        position += n
    total = SectionScore(
        TOTAL_SECTION,
        sum(s.correct for s in scores),
        sum(s.incorrect for s in scores),
        sum(s.oov for s in scores),
        len(questions),
    )
    return AnalogyResult(
        dataset=data.name,
        method=method,
        restrict_vocab=stop,
        case_insensitive=case_insensitive,
        oov=oov,
        sections=tuple(scores),
        total=total,
        outcomes=tuple(outcomes),
    )


def answer_analogies(
    unit: NDArray[np.float32],
    canonical: NDArray[np.int64],
    question_rows: NDArray[np.int64],
    *,
    method: AnalogyMethod = "3cosadd",
    epsilon: float = COSMUL_EPSILON,
) -> NDArray[np.int64]:
    """The answer row of each question, -1 where no row is acceptable.

    ``unit`` (n, dim) float32: unit rows to search; ``canonical`` (n,) int64: the row each
    row's spelling stands for (``arange(n)`` when case matters); ``question_rows`` (m, 3)
    int64: rows of ``a, b, c`` (canonical, all valid). Returns (m,) int64. Rows standing for a
    question word are never the answer (with gensim's top-5 rule, see the module docstring).
    """
    from wordvec.eval.analogy_kernels import (
        METHOD_3COSADD,
        METHOD_3COSMUL,
        update_best_answers,
    )

    n_rows = unit.shape[0]
    m = question_rows.shape[0]
    distinct, inverse = np.unique(question_rows, return_inverse=True)
    slots = inverse.reshape(m, 3).astype(np.int64)
    queries = np.ascontiguousarray(unit[distinct])
    best_scores = np.full(m, -np.inf, dtype=np.float64)
    best_rows = np.full(m, -1, dtype=np.int64)
    method_code = METHOD_3COSADD if method == "3cosadd" else METHOD_3COSMUL
    slot_a, slot_b, slot_c = (np.ascontiguousarray(slots[:, i]) for i in range(3))
    row_a, row_b, row_c = (np.ascontiguousarray(question_rows[:, i]) for i in range(3))
    block_rows = max(1024, _BLOCK_BYTES // (4 * max(1, distinct.shape[0])))
    for start in range(0, n_rows, block_rows):
        stop = min(start + block_rows, n_rows)
        cosines = queries @ unit[start:stop].T
        update_best_answers(
            cosines,
            slot_a,
            slot_b,
            slot_c,
            row_a,
            row_b,
            row_c,
            canonical[start:stop],
            start,
            method_code,
            float(epsilon),
            best_scores,
            best_rows,
        )
    _follow_gensim_top5(unit, canonical, question_rows, best_scores, best_rows, method, epsilon)
    return best_rows


def _scores(
    cosines: NDArray[np.float32], method: AnalogyMethod, epsilon: float
) -> NDArray[np.float64]:
    """Analogy scores from ``cosines`` (k, 3) with ``a, b, c``, computed as the kernel does."""
    cos_a, cos_b, cos_c = cosines[:, 0], cosines[:, 1], cosines[:, 2]
    if method == "3cosadd":
        return (cos_b - cos_a + cos_c).astype(np.float64)
    a, b, c = (x.astype(np.float64) for x in (cos_a, cos_b, cos_c))
    return 0.25 * (1.0 + b) * (1.0 + c) / (0.5 * (1.0 + a) + epsilon)


def _follow_gensim_top5(
    unit: NDArray[np.float32],
    canonical: NDArray[np.int64],
    question_rows: NDArray[np.int64],
    best_scores: NDArray[np.float64],
    best_rows: NDArray[np.int64],
    method: AnalogyMethod,
    epsilon: float,
) -> None:
    """Reproduce gensim where other spellings of the question words come first.

    gensim excludes the three question rows from its top 5 but not other rows spelled like
    them; it skips those while walking the five. The kernel skipped them all, which is the same
    unless five or more of them outrank the best acceptable row: then gensim answers with the
    fifth. Only questions whose words have other spellings are checked (few rows each).
    """
    spellings: defaultdict[int, list[int]] = defaultdict(list)
    for row in np.flatnonzero(canonical != np.arange(canonical.shape[0])).tolist():
        spellings[int(canonical[row])].append(row)
    if not spellings:
        return
    for q, (a, b, c) in enumerate(question_rows.tolist()):
        others = [r for word in {a, b, c} for r in spellings.get(word, ())]
        if not others:
            continue
        cosines = unit[others] @ unit[[a, b, c]].T
        above = int((_scores(cosines, method, epsilon) > best_scores[q]).sum())
        if best_rows[q] < 0 or above >= _GENSIM_TOPN:
            best_rows[q] = _gensim_answer(unit, canonical, (a, b, c), method, epsilon)


def _gensim_answer(
    unit: NDArray[np.float32],
    canonical: NDArray[np.int64],
    abc: tuple[int, int, int],
    method: AnalogyMethod,
    epsilon: float,
) -> int:
    """gensim's answer for one question, the slow way: rank every row, drop the question rows,
    walk the top 5 for the first row not spelled like a question word, else keep the last."""
    scores = _scores(unit @ unit[list(abc)].T, method, epsilon)
    scores[list(abc)] = -np.inf
    n_candidates = unit.shape[0] - len(set(abc))
    top = np.argsort(-scores, kind="stable")[: min(_GENSIM_TOPN, n_candidates)].tolist()
    if not top:
        return -1
    for row in top:
        if int(canonical[row]) not in abc:
            return int(row)
    return int(top[-1])
