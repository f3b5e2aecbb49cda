"""Analogies against gensim's evaluate_word_analogies and most_similar_cosmul on the same
vectors; the batched kernel against a plain NumPy reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.test_eval_vectors import dataset_embeddings, keyed_vectors
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError
from wordvec.eval import EvaluationError, evaluate_analogy
from wordvec.eval.analogy_kernels import (
    METHOD_3COSADD,
    METHOD_3COSMUL,
    update_best_answers,
)
from wordvec.eval.datasets import read_analogy_dataset
from wordvec.formats.store import write_store
from wordvec.store import VectorStore


@pytest.fixture(scope="module")
def embeddings() -> Embeddings:
    return dataset_embeddings()


@pytest.fixture(scope="module")
def kv(embeddings: Embeddings) -> Any:
    return keyed_vectors(embeddings)


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every third Google question of every section (gensim needs ~1 ms per question)."""
    path = tmp_path_factory.mktemp("analogy") / "questions.txt"
    lines = []
    for section in read_analogy_dataset("google").sections:
        lines.append(f": {section.name}")
        lines += [" ".join(q) for q in section.questions[::3]]
    path.write_text("\n".join(lines) + "\n")
    return path


def _gensim_counts(sections: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]


@pytest.mark.parametrize(
    ("restrict_vocab", "case_insensitive", "dummy4unknown"),
    [(300_000, True, False), (2200, True, False), (2200, False, True), (1500, True, True)],
)
def test_equals_gensim(
    embeddings: Embeddings,
    kv: Any,
    questions: Path,
    restrict_vocab: int,
    case_insensitive: bool,
    dummy4unknown: bool,
) -> None:
    score, sections = kv.evaluate_word_analogies(
        str(questions),
        restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive,
        dummy4unknown=dummy4unknown,
    )
    result = evaluate_analogy(
        embeddings,
        questions,
        restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive,
        oov="incorrect" if dummy4unknown else "skip",
    )
    assert result.accuracy == score
    if not dummy4unknown:
        assert 0.2 < score < 0.95  # structured vectors: many right, many wrong
    ours = [(s.name, s.correct, s.incorrect) for s in (*result.sections, result.total)]
    assert ours == _gensim_counts(sections)
    assert result.total.name == "Total accuracy"

    def key(words: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.upper() for w in words) if case_insensitive else words

    right = {key(o[1:5]) for o in result.outcomes if o.correct}
    assert right == set(sections[-1]["correct"])
    assert result.total.oov == sum(o.oov for o in result.outcomes) > 0


def test_other_spellings_of_question_words_follow_gensims_top5(tmp_path: Path) -> None:
    """gensim skips other spellings of a question word while walking its top 5; when all
    five are such spellings it answers with the fifth."""
    rng = np.random.default_rng(7)
    dim = 64
    man, woman, king, noise = rng.standard_normal((4, dim))
    target = king - man + woman
    target /= np.linalg.norm(target)
    noise -= noise @ target * target
    # cos(queen, target) = 0.45: below king's spellings (~0.58), above random words (< 0.4)
    queen = 0.45 * target + np.sqrt(1 - 0.45**2) * noise / np.linalg.norm(noise)
    spellings = ["King", "KING", "kIng", "kiNg", "kinG"]
    words = ["king", "man", "woman", "queen", *spellings]
    rows = [king, man, woman, queen]
    rows += [king + 0.01 * rng.standard_normal(dim) for _ in spellings]
    words += [f"w{i}" for i in range(200)]
    rows += list(rng.standard_normal((200, dim)))
    questions = tmp_path / "q.txt"
    questions.write_text(": s\nman king woman queen\nman king woman king\n")
    for n_spellings, expected in ((4, [True, False]), (5, [False, True])):
        keep = [w for w in words if w not in spellings[n_spellings:]]
        vectors = np.array([rows[words.index(w)] for w in keep], dtype=np.float32)
        embeddings = Embeddings.from_words(keep, vectors)
        _, sections = keyed_vectors(embeddings).evaluate_word_analogies(str(questions))
        result = evaluate_analogy(embeddings, questions)
        assert [o.correct for o in result.outcomes] == expected
        assert (result.total.correct, result.total.incorrect) == (
            len(sections[-1]["correct"]),
            len(sections[-1]["incorrect"]),
        )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's own init_sims call
def test_3cosmul_equals_gensims_most_similar_cosmul(embeddings: Embeddings, kv: Any) -> None:
    result = evaluate_analogy(
        embeddings, "google", method="3cosmul", case_insensitive=False, epsilon=1e-6
    )
    answered = [o for o in result.outcomes if not o.oov]
    assert 0.2 < result.accuracy < 0.95
    for outcome in answered[:: max(1, len(answered) // 150)]:
        best = kv.most_similar_cosmul(positive=[outcome.b, outcome.c], negative=[outcome.a])
        assert outcome.predicted == best[0][0]


def test_store_and_embeddings_agree(
    embeddings: Embeddings, questions: Path, tmp_path: Path
) -> None:
    path = tmp_path / "vectors.h5"
    write_store(path, embeddings)
    with VectorStore(path) as store:
        for method in ("3cosadd", "3cosmul"):
            assert evaluate_analogy(store, questions, method=method) == evaluate_analogy(
                embeddings, questions, method=method
            )


def test_planted_analogy(planted: Embeddings, tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text(": royals\nman king woman queen\nman king woman nobody\n")
    for method in ("3cosadd", "3cosmul"):
        result = evaluate_analogy(planted, path, method=method)  # type: ignore[arg-type]
        assert result.outcomes[0].predicted == "queen" and result.outcomes[0].correct
        assert result.outcomes[1].oov and result.outcomes[1].predicted is None
        assert (result.total.correct, result.total.incorrect, result.total.oov) == (1, 0, 1)
        assert result.coverage == 0.5 and result.score == 1.0


def test_no_answerable_question_is_a_clear_error() -> None:
    unrelated = Embeddings.from_words(["xq", "zv"], np.eye(2, dtype=np.float32))
    with pytest.raises(EvaluationError, match="none of the 19,544 questions has all four words"):
        evaluate_analogy(unrelated, "google")
    with pytest.raises(ConfigError, match="method must be one of"):
        evaluate_analogy(unrelated, "google", method="3cosavg")  # type: ignore[arg-type]


def _reference_best(
    cosines: np.ndarray, slots: np.ndarray, rows: np.ndarray, canonical: np.ndarray, method: int
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's contract written out with NumPy: score every column, mask columns spelled
    like a question word, take the first maximum."""
    a, b, c = (cosines[slots[:, i]].astype(np.float64) for i in range(3))
    if method == METHOD_3COSADD:
        scores = (cosines[slots[:, 1]] - cosines[slots[:, 0]] + cosines[slots[:, 2]]).astype(
            np.float64
        )
    else:
        scores = 0.25 * (1 + b) * (1 + c) / (0.5 * (1 + a) + 1e-3)
    masked = (canonical[None, None, :] == rows[:, :, None]).any(axis=1)
    scores[masked] = -np.inf
    best = scores.argmax(axis=1)
    found = np.isfinite(scores.max(axis=1))
    return np.where(found, scores.max(axis=1), -np.inf), np.where(found, best, -1)


@pytest.mark.parametrize("method", [METHOD_3COSADD, METHOD_3COSMUL])
@pytest.mark.parametrize("jit", [True, False])
def test_kernel_equals_numpy_reference(method: int, jit: bool) -> None:
    rng = np.random.default_rng(5)
    n_slots, n_cols, n_questions = 6, 40, 25
    cosines = rng.uniform(-1, 1, (n_slots, n_cols)).astype(np.float32)
    slots = rng.integers(0, n_slots, (n_questions, 3))
    rows = rng.integers(0, 10, (n_questions, 3))
    canonical = np.arange(n_cols)
    canonical[[12, 20, 33]] = [3, 3, 7]  # other spellings of rows 3 and 7
    kernel = update_best_answers if jit else update_best_answers.py_func
    scores = np.full(n_questions, -np.inf)
    best = np.full(n_questions, -1, dtype=np.int64)
    # two blocks of columns, as the driver feeds them
    for start, stop in ((0, 17), (17, n_cols)):
        kernel(
            np.ascontiguousarray(cosines[:, start:stop]),
            *(np.ascontiguousarray(x) for x in (*slots.T, *rows.T)),
            canonical[start:stop],
            start,
            method,
            1e-3,
            scores,
            best,
        )
    expected_scores, expected_best = _reference_best(cosines, slots, rows, canonical, method)
    assert np.array_equal(best, expected_best)
    assert np.allclose(scores, expected_scores)
