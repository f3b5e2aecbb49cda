"""Co-occurrence counting against a plain Python counter, and PPMI against a dense formula."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse

from wordvec.cooccurrence import count_cooccurrences, ppmi
from wordvec.corpus import EncodedCorpus
from wordvec.errors import ConfigError


def make_corpus(sentences: list[list[int]]) -> EncodedCorpus:
    ids = np.array([w for s in sentences for w in s], dtype=np.int32)
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sentences], out=offsets[1:])
    return EncodedCorpus(ids, offsets, int(ids.size))


def reference_counts(
    sentences: list[list[int]], window: int, weighted: bool
) -> Counter[tuple[int, int]]:
    counts: Counter[tuple[int, int]] = Counter()
    for sentence in sentences:
        for i, word in enumerate(sentence):
            for j in range(max(0, i - window), min(len(sentence), i + window + 1)):
                if j != i:
                    counts[(word, sentence[j])] += 1.0 / abs(i - j) if weighted else 1.0
    return counts


def random_sentences(n_words: int, n_sentences: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, n_words, size=int(rng.integers(1, 30))).tolist() for _ in range(n_sentences)
    ]


@pytest.mark.parametrize("window", [1, 2, 5, 15])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("buffer_pairs", [1, 64, 1_000_000])
def test_counts_equal_python_counter(window: int, weighted: bool, buffer_pairs: int) -> None:
    sentences = random_sentences(12, 60, seed=window)
    matrix = count_cooccurrences(
        make_corpus(sentences),
        12,
        window=window,
        distance_weighting=weighted,
        buffer_pairs=buffer_pairs,
    )
    expected = np.zeros((12, 12))
    for (i, j), value in reference_counts(sentences, window, weighted).items():
        expected[i, j] = value
    assert isinstance(matrix, scipy.sparse.csr_matrix)
    assert matrix.has_sorted_indices
    np.testing.assert_allclose(matrix.toarray(), expected, rtol=1e-12)
    np.testing.assert_allclose(matrix.toarray(), matrix.toarray().T)


def test_float32_and_keep_all_subsampling() -> None:
    sentences = random_sentences(8, 20, seed=3)
    matrix = count_cooccurrences(
        make_corpus(sentences), 8, window=3, keep_probs=np.ones(8, np.float32), dtype=np.float32
    )
    assert matrix.dtype == np.float32
    expected = np.zeros((8, 8))
    for (i, j), value in reference_counts(sentences, 3, False).items():
        expected[i, j] = value
    np.testing.assert_allclose(matrix.toarray(), expected)


def test_dynamic_window_keeps_pairs_with_word2vec_probability() -> None:
    # One long sentence of distinct-by-distance structure: word ids cycle 0..window, so the
    # distance between two tokens determines their word pair; E[count at distance d] =
    # pairs_at_d * (window - d + 1) / window.
    window = 4
    period = 2 * window + 1
    sentence = [i % period for i in range(20_000)]
    matrix = count_cooccurrences(
        make_corpus([sentence]), period, window=window, dynamic_window=True, seed=5
    ).toarray()
    for d in range(1, window + 1):
        pairs = 20_000 - d
        observed = sum(matrix[i, (i + d) % period] for i in range(period))  # right neighbours
        expected = pairs * (window - d + 1) / window
        assert abs(observed - expected) < 0.03 * expected, (d, observed, expected)
    np.testing.assert_allclose(matrix, matrix.T)
    same = count_cooccurrences(
        make_corpus([sentence]), period, window=window, dynamic_window=True, seed=5
    ).toarray()
    np.testing.assert_array_equal(matrix, same)


def test_subsampling_drops_tokens_before_windowing() -> None:
    # Word 0 is kept with probability 0.5, others always; a sentence "1 0 2" repeated: the pair
    # (1, 2) is at distance 2 (or 1 when 0 is dropped); with window 1 it is counted only when 0
    # is dropped, about half of the time.
    sentences = [[1, 0, 2]] * 4000
    keep = np.array([0.5, 1.0, 1.0], dtype=np.float32)
    matrix = count_cooccurrences(make_corpus(sentences), 3, window=1, keep_probs=keep).toarray()
    assert abs(matrix[1, 2] - 2000) < 150
    assert abs(matrix[1, 0] - 2000) < 150
    assert matrix[1, 2] + matrix[1, 0] == 4000


def test_bad_arguments() -> None:
    corpus = make_corpus([[0, 1]])
    with pytest.raises(ConfigError):
        count_cooccurrences(corpus, 2, window=0)
    with pytest.raises(ConfigError):
        count_cooccurrences(corpus, 2, keep_probs=np.ones(3, np.float32))
    with pytest.raises(ConfigError):
        ppmi(scipy.sparse.csr_matrix((2, 2)))
    with pytest.raises(ConfigError):
        ppmi(scipy.sparse.identity(2), context_smoothing=0)


def test_ppmi_matches_dense_formula() -> None:
    rng = np.random.default_rng(0)
    dense = rng.poisson(1.0, size=(7, 7)).astype(np.float64)
    dense = dense + dense.T
    result = ppmi(scipy.sparse.csr_matrix(dense), context_smoothing=0.75)
    total = dense.sum()
    context = dense.sum(axis=0) ** 0.75
    with np.errstate(divide="ignore"):
        pmi = np.log(dense / total) - np.log(dense.sum(axis=1, keepdims=True) / total)
        pmi -= np.log(context / context.sum())[None, :]
    expected = np.where(dense > 0, np.maximum(pmi, 0), 0)
    np.testing.assert_allclose(result.toarray(), expected, rtol=1e-12, atol=1e-12)
    assert np.all(result.data > 0)
