"""The evaluation view over stores and embeddings, and the vectors the other eval tests share.

``dataset_embeddings`` plants structure for the bundled datasets: analogy pairs of a section
differ by that section's offset (plus noise), similar pairs lie closer the higher their human
score, and some words get other spellings (upper/lower case variants, some before the word)
so that gensim's case rule is exercised; filler words and a shuffled order complete it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wordvec.embeddings import Embeddings, SubwordTable
from wordvec.errors import ConfigError
from wordvec.eval.datasets import read_analogy_dataset, read_similarity_dataset
from wordvec.eval.vectors import EvalVectors, as_eval_vectors
from wordvec.formats.store import write_store
from wordvec.store import VectorStore


def dataset_embeddings(
    dim: int = 32, seed: int = 1, n_filler: int = 1000, drop_every: int = 23
) -> Embeddings:
    """Vectors for the words of wordsim353, simlex999 and google with planted structure; every
    ``drop_every``-th dataset word is left out (unknown)."""
    rng = np.random.default_rng(seed)
    vectors: dict[str, np.ndarray] = {}
    for section in read_analogy_dataset("google").sections:
        offset = rng.standard_normal(dim)
        for a, b, c, d in section.questions:
            for x, y in ((a, b), (c, d)):
                if x not in vectors:
                    vectors[x] = rng.standard_normal(dim)
                if y not in vectors:
                    vectors[y] = vectors[x] + offset + 0.6 * rng.standard_normal(dim)
    for name in ("wordsim353", "simlex999"):
        for a, b, score in read_similarity_dataset(name).pairs:
            if a not in vectors:
                vectors[a] = rng.standard_normal(dim)
            if b not in vectors:
                vectors[b] = vectors[a] * score / 10 + rng.standard_normal(dim)
    words = [w for i, w in enumerate(vectors) if i % drop_every]
    matrix = [vectors[w] for w in words]
    for i, word in enumerate(list(words)):
        if i % 9 == 0:  # another spelling close to the word
            other = word.upper() if word != word.upper() else word.lower()
            if other not in vectors:
                vectors[other] = vectors[word] + 0.05 * rng.standard_normal(dim)
                words.append(other)
                matrix.append(vectors[other])
    for i in range(n_filler):
        words.append(f"filler{i}")
        matrix.append(rng.standard_normal(dim))
    order = rng.permutation(len(words))
    return Embeddings.from_words(
        [words[i] for i in order], np.asarray(matrix, dtype=np.float32)[order]
    )


def keyed_vectors(embeddings: Embeddings) -> Any:
    """gensim KeyedVectors with the same words and vectors, in the same order."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(embeddings.dim)
    kv.add_vectors(list(embeddings.vocab.words), np.asarray(embeddings.vectors))
    return kv


@pytest.fixture(scope="module")
def small() -> Embeddings:
    words = ["Paris", "paris", "PARIS", "rome", "Rome", "zero", "berlin"]
    vectors = np.arange(len(words) * 4, dtype=np.float32).reshape(-1, 4) + 1
    vectors[5] = 0
    return Embeddings.from_words(words, vectors)


def test_lookup_follows_gensims_case_rule(small: Embeddings) -> None:
    view = EvalVectors(small)
    words = ["paris", "ROME", "Berlin", "missing"]
    assert view.lookup(words, stop=7, case_insensitive=True).tolist() == [0, 3, 6, -1]
    assert view.lookup(words, stop=7, case_insensitive=False).tolist() == [1, -1, -1, -1]
    # restrict_vocab: rows past the limit are unknown
    assert view.lookup(["berlin", "Rome"], stop=4, case_insensitive=True).tolist() == [-1, 3]
    assert view.lookup(["Rome"], stop=4, case_insensitive=False).tolist() == [-1]
    canonical = view.canonical_ids(7, case_insensitive=True)
    assert canonical.tolist() == [0, 0, 0, 3, 3, 5, 6]
    assert view.canonical_ids(7, case_insensitive=False).tolist() == list(range(7))
    # one case index serves smaller limits, in either order
    assert view.canonical_ids(4, case_insensitive=True).tolist() == [0, 0, 0, 3]
    fresh = EvalVectors(small)
    assert fresh.lookup(["Berlin", "rome"], stop=4, case_insensitive=True).tolist() == [-1, 3]
    assert fresh.lookup(["Berlin", "rome"], stop=7, case_insensitive=True).tolist() == [6, 3]


def test_unit_rows_keep_zero_rows_zero(small: Embeddings) -> None:
    unit = EvalVectors(small).unit_rows(7)
    assert unit.dtype == np.float32 and unit.shape == (7, 4)
    assert np.allclose(np.linalg.norm(unit[[0, 1, 2, 3, 4, 6]], axis=1), 1.0, atol=1e-6)
    assert not unit[5].any()


def test_store_and_embeddings_views_agree(tmp_path: Path, small: Embeddings) -> None:
    path = tmp_path / "small.h5"
    write_store(path, small)
    with VectorStore(path) as store:
        a, b = EvalVectors(store), EvalVectors(small)
        assert a.words(7) == b.words(7)
        assert np.array_equal(a.unit_rows(5), b.unit_rows(5))
        assert np.array_equal(a.exact_ids(["rome", "x"]), b.exact_ids(["rome", "x"]))
        assert a.has_fallback and not b.has_fallback
        assert (
            a.words_at_rows([6, 0, 6])
            == b.words_at_rows([6, 0, 6])
            == ["berlin", "Paris", "berlin"]
        )
        assert np.array_equal(a.unit_rows_of(np.array([6, 1])), b.unit_rows(7)[[6, 1]])
        # Known words give their rows; an unknown one the store's policy (never an error).
        fallback = a.fallback_vectors(["berlin", "parsi"])
        assert np.array_equal(fallback[0], small.vectors[6])
        assert np.array_equal(b.fallback_vectors(["parsi"]), np.zeros((1, 4), np.float32))
    assert as_eval_vectors(b) is b


def test_fallback_of_embeddings_uses_subwords(small: Embeddings) -> None:
    buckets = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    with_subwords = Embeddings(small.vocab, small.vectors, SubwordTable(buckets, 3, 4))
    vector = EvalVectors(with_subwords).fallback_vectors(["parsi"])[0]
    from wordvec.subwords import ngram_bucket_ids

    assert np.allclose(vector, buckets[ngram_bucket_ids("parsi", 3, 4, 50)].mean(0))


def test_bad_source_and_restrict_vocab() -> None:
    with pytest.raises(ConfigError, match="VectorStore or Embeddings"):
        EvalVectors([[1.0]])  # type: ignore[arg-type]
    view = EvalVectors(dataset_embeddings(n_filler=0))
    with pytest.raises(ConfigError, match="restrict_vocab"):
        view.stop_for(0)
    assert view.stop_for(None) == view.stop_for(10**9) == view.n_words
