"""Word similarity against gensim's evaluate_word_pairs on the same vectors, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from tests.test_eval_vectors import dataset_embeddings, keyed_vectors
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError
from wordvec.eval import EvaluationError, EvalVectors, evaluate_similarity
from wordvec.eval.similarity import average_ranks, pearson_correlation, spearman_correlation
from wordvec.formats.store import write_store
from wordvec.store import VectorStore

FILES = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


@pytest.fixture(scope="module")
def embeddings() -> Embeddings:
    return dataset_embeddings()


@pytest.fixture(scope="module")
def kv(embeddings: Embeddings) -> Any:
    return keyed_vectors(embeddings)


@pytest.mark.parametrize("dataset", ["wordsim353", "simlex999"])
@pytest.mark.parametrize(
    ("restrict_vocab", "case_insensitive", "dummy4unknown"),
    [(300_000, True, False), (1500, True, True), (2500, False, False), (None, False, True)],
)
def test_equals_gensim(
    embeddings: Embeddings,
    kv: Any,
    dataset: str,
    restrict_vocab: int | None,
    case_insensitive: bool,
    dummy4unknown: bool,
) -> None:
    from gensim.test.utils import datapath

    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(
        datapath(FILES[dataset]),
        restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive,
        dummy4unknown=dummy4unknown,
    )
    result = evaluate_similarity(
        embeddings,
        dataset,
        restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive,
        oov="zero" if dummy4unknown else "drop",
    )
    assert result.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert result.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert 100 * (1 - result.coverage) == pytest.approx(oov_ratio)
    assert result.n_oov > 0 and result.score == result.spearman


def test_equals_gensim_on_real_vectors(gensim_data: Path, tmp_path: Path) -> None:
    """gensim's shipped fastText vectors (Lee corpus), through a store."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(gensim_data / "lee_fasttext.vec"))
    path = tmp_path / "lee.h5"
    write_store(path, Embeddings.from_words(list(kv.index_to_key), kv.vectors))
    with VectorStore(path) as store:
        view = EvalVectors(store)
        for dataset, file in FILES.items():
            pearson, spearman, _ = kv.evaluate_word_pairs(str(gensim_data / file))
            result = evaluate_similarity(view, dataset)
            assert result.spearman == pytest.approx(spearman.statistic, abs=1e-6)
            assert result.pearson == pytest.approx(pearson.statistic, abs=1e-6)


def test_store_gives_the_same_result(embeddings: Embeddings, tmp_path: Path) -> None:
    path = tmp_path / "vectors.h5"
    write_store(path, embeddings)
    with VectorStore(path) as store:
        assert evaluate_similarity(store, "simlex999") == evaluate_similarity(
            embeddings, "simlex999"
        )


def test_fallback_scores_oov_pairs_with_the_stores_vectors(
    embeddings: Embeddings, tmp_path: Path
) -> None:
    path = tmp_path / "vectors.h5"
    write_store(path, embeddings)
    with VectorStore(path) as store:
        result = evaluate_similarity(store, "wordsim353", oov="fallback", case_insensitive=False)
        assert result.n_scored == result.n_pairs == 353 and result.n_oov > 0
        for pair in result.pairs:
            assert pair.model == pytest.approx(store.similarity(pair.word1, pair.word2), abs=1e-5)
        dropped = evaluate_similarity(store, "wordsim353", case_insensitive=False)
        assert dropped.n_scored == 353 - dropped.n_oov
        assert all(p.model is None for p in dropped.pairs if p.oov)


def test_correlations_equal_scipy() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 8, 200).astype(np.float64)  # many ties
    y = x + rng.standard_normal(200)
    assert np.array_equal(average_ranks(x), stats.rankdata(x))
    assert spearman_correlation(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson_correlation(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_empty_overlap_is_a_clear_error() -> None:
    unrelated = Embeddings.from_words(["xq", "zv"], np.eye(2, dtype=np.float32))
    with pytest.raises(EvaluationError, match=r"wordsim353: 0 of 353 pairs have both words"):
        evaluate_similarity(unrelated, "wordsim353")


def test_constant_similarities_are_an_error(tmp_path: Path) -> None:
    words = ["a", "b", "c", "d"]
    same = Embeddings.from_words(words, np.ones((4, 3), dtype=np.float32))
    path = tmp_path / "pairs.txt"
    path.write_text("a b 1\nc d 2\na c 3\n")
    with pytest.raises(EvaluationError, match="all 3 model similarities are equal"):
        evaluate_similarity(same, path)
    with pytest.raises(ConfigError, match="oov must be one of"):
        evaluate_similarity(same, path, oov="skip")  # type: ignore[arg-type]
