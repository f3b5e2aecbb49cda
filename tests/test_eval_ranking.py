"""EvalRank against a port of the reference toolkit's ranking loop, and its pair selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_eval_vectors import dataset_embeddings
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError
from wordvec.eval import EvaluationError, evalrank_pairs, evaluate_evalrank
from wordvec.eval.datasets import read_similarity_dataset


def toolkit_ranks(unit: np.ndarray, pairs: list[tuple[int, int]]) -> list[int]:
    """``eval_for_ranking`` of BinWang28/EvalRank-Embedding-Evaluation (cosine metric), with
    the whole vocabulary as background. The partner's score is taken from the same product as
    the background's (the toolkit recomputes it with ``np.dot``, which can differ in the last
    bit and then count the partner above itself)."""
    ranks = []
    for w1, w2 in pairs:
        scores = unit @ unit[w1]
        pos_score = scores[w2]
        background_scores = np.sort(scores)[::-1]
        rank = len(background_scores) - np.searchsorted(
            background_scores[::-1], pos_score, side="right"
        )
        ranks.append(max(1, int(rank)))
    return ranks


def test_equals_the_toolkits_ranking() -> None:
    rng = np.random.default_rng(0)
    n, dim = 400, 16
    words = [f"w{i}" for i in range(n)]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors[1::2] = vectors[::2] + 0.8 * rng.standard_normal((n // 2, dim))  # noisy partners
    vectors[7] = vectors[6]  # an exact tie counts in the partner's favour
    embeddings = Embeddings.from_words(words, vectors)
    pairs = [(int(a), int(a) + 1) for a in range(0, n, 2)] + [(6, 7), (9, 8), (3, 250)]
    result = evaluate_evalrank(
        embeddings, (), pairs=[(words[a], words[b]) for a, b in pairs], background_size=None
    )
    unit = vectors / np.linalg.norm(vectors, axis=1)[:, None]
    expected = np.array(toolkit_ranks(unit, pairs))
    assert result.n_background == n and result.n_ranked == len(pairs)
    assert result.mrr == pytest.approx(np.mean(1.0 / expected))
    assert result.hits[1] == pytest.approx(np.mean(expected <= 1))
    assert result.hits[3] == pytest.approx(np.mean(expected <= 3))
    assert result.mean_rank == pytest.approx(expected.mean())
    assert 0.2 < result.mrr < 0.9 and result.score == result.mrr


def test_positive_pairs_follow_the_paper(tmp_path: Path) -> None:
    path = tmp_path / "sim.txt"
    path.write_text("a b 9\nc c 10\nd e 1\nf g 8\nb a 9.5\nh i 2\ni j 3\nk l 4\n")
    # top 25% of 8 pairs = 2: (c, c) at 10 is dropped as identical, then (b, a) at 9.5
    assert evalrank_pairs([path]) == (("b", "a"), ("a", "b"))
    assert evalrank_pairs([path], top_fraction=0.5) == (
        ("b", "a"),
        ("a", "b"),
        ("f", "g"),
        ("g", "f"),
    )
    wordsim = read_similarity_dataset("wordsim353")
    pairs = evalrank_pairs(["wordsim353", "simlex999"])
    assert len(pairs) == len(set(pairs)) and all(a != b for a, b in pairs)
    assert {(b, a) for a, b in pairs} == set(pairs)
    top = max(wordsim.pairs, key=lambda p: p[2] if p[0] != p[1] else 0)
    assert (top[0], top[1]) in pairs
    with pytest.raises(ConfigError, match="top_fraction"):
        evalrank_pairs([path], top_fraction=0)


def test_default_background_and_datasets() -> None:
    embeddings = dataset_embeddings()
    result = evaluate_evalrank(embeddings)
    assert result.dataset == "wordsim353+simlex999"
    assert result.n_pairs == len(evalrank_pairs(["wordsim353", "simlex999"]))
    assert 0 < result.n_oov < result.n_pairs and result.coverage < 1
    # background: the dataset words plus the (all, here < 20,000) vocabulary rows, with other
    # spellings of a word merged into it
    assert result.n_background < len(embeddings)
    assert 0 < result.mrr < 1 and result.hits[1] <= result.hits[3]
    smaller = evaluate_evalrank(embeddings, background_size=0)
    assert smaller.n_background < result.n_background and smaller.mrr >= result.mrr
    listed = evaluate_evalrank(embeddings, background=["filler1", "filler2"])
    assert listed.n_background == smaller.n_background + 2


def test_nothing_to_rank_is_a_clear_error() -> None:
    unrelated = Embeddings.from_words(["xq", "zv"], np.eye(2, dtype=np.float32))
    with pytest.raises(EvaluationError, match=r"none of the .* positive pairs has both words"):
        evaluate_evalrank(unrelated)
    with pytest.raises(EvaluationError, match="no positive pairs"):
        evaluate_evalrank(unrelated, (), pairs=[])
