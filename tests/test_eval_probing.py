"""Probing tasks generated from a synthetic corpus, the NumPy/SciPy probe, and encoders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError
from wordvec.eval import (
    EvaluationError,
    evaluate_probing,
    evaluate_probing_corpus,
    make_bigram_shift,
    make_word_content,
    mean_encoder,
)
from wordvec.eval.probing import encode_sentences, fit_logistic_regression, read_sentences

N_WORDS = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sentences of 5-12 words drawn Zipf-like from ``w0..w299``, each sentence in increasing
    word order (so swapping two neighbours is visible to an order-aware encoder), plus lines
    too short or too long to be used."""
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, N_WORDS + 1)
    weights /= weights.sum()
    lines = ["too short", " ".join(["long"] * 40)]
    for _ in range(2500):
        ids = np.unique(rng.choice(N_WORDS, size=int(rng.integers(5, 13)), p=weights))
        if ids.size >= 5:
            lines.append(" ".join(f"w{i}" for i in ids))
    path = tmp_path_factory.mktemp("probing") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def embeddings() -> Embeddings:
    """Random vectors whose first coordinate is the word's index (its place in a sentence)."""
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((N_WORDS, 24)).astype(np.float32)
    vectors[:, 0] = np.arange(N_WORDS) / N_WORDS
    return Embeddings.from_words([f"w{i}" for i in range(N_WORDS)], vectors)


def order_encoder(word_vectors: np.ndarray) -> np.ndarray:
    """Order-aware: whether the first coordinate ever steps down between neighbours (only when
    two words are out of order), then the mean."""
    descends = float(np.any(np.diff(word_vectors[:, 0]) < 0))
    return np.concatenate([[descends], mean_encoder(word_vectors)])


def test_read_sentences(corpus: Path, tmp_path: Path) -> None:
    sentences = read_sentences(corpus)
    assert all(5 <= len(s) <= 28 for s in sentences) and len(sentences) > 2000
    assert len(read_sentences(corpus, max_sentences=10)) == 10
    with pytest.raises(FormatError, match="no such file"):
        read_sentences(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a b c d e\n\xfe b c d e\n")
    with pytest.raises(FormatError, match="line 2"):
        read_sentences(bad)


def test_bigram_shift_swaps_one_pair_of_neighbours(corpus: Path) -> None:
    sentences = read_sentences(corpus)
    data = make_bigram_shift(sentences, seed=3)
    assert len(data) == len(sentences) and 0.45 < data.labels.mean() < 0.55
    for original, changed, label in zip(sentences, data.sentences, data.labels, strict=True):
        differ = [i for i, (a, b) in enumerate(zip(original, changed, strict=True)) if a != b]
        if label:
            assert len(differ) == 2 and differ[1] == differ[0] + 1
            assert changed[differ[0]] == original[differ[1]]
        else:
            assert not differ
    assert make_bigram_shift(sentences, seed=3).sentences == data.sentences


def test_word_content_sentences_hold_exactly_one_target(corpus: Path) -> None:
    sentences = read_sentences(corpus)
    data = make_word_content(sentences, n_targets=20, skip_top=10)
    assert len(data.label_names) == 20 and len(data) > 100
    targets = set(data.label_names)
    for sentence, label in zip(data.sentences, data.labels, strict=True):
        assert set(sentence) & targets == {data.label_names[label]}
    capped = make_word_content(sentences, n_targets=20, skip_top=10, max_per_target=3)
    assert np.bincount(capped.labels).max() <= 3
    with pytest.raises(ConfigError, match="distinct words"):
        make_word_content(sentences, n_targets=400)


def test_mean_encoder_is_blind_to_order_and_sees_content(
    corpus: Path, embeddings: Embeddings
) -> None:
    shift, content = evaluate_probing_corpus(embeddings, corpus, n_targets=20)
    assert shift.task == "bigram_shift" and shift.n_classes == 2
    assert abs(shift.accuracy - 0.5) < 0.06  # the mean ignores order: chance level
    assert 0.4 < shift.majority_baseline < 0.6
    assert content.task == "word_content" and content.n_classes == 20
    assert content.accuracy > content.majority_baseline + 0.3
    assert shift.coverage == 1.0 and shift.n_train + shift.n_test == len(read_sentences(corpus))


def test_an_order_aware_encoder_plugs_in(corpus: Path, embeddings: Embeddings) -> None:
    data = make_bigram_shift(read_sentences(corpus), seed=0)
    result = evaluate_probing(embeddings, data, encoder=order_encoder, seed=1)
    assert result.accuracy > 0.95 > result.majority_baseline


def test_unknown_tokens_are_dropped_or_given_the_fallback(embeddings: Embeddings) -> None:
    features, coverage = encode_sentences(embeddings, [("w1", "w2", "zz"), ("zz",)])
    assert coverage == pytest.approx(2 / 4)
    assert np.allclose(features[0], embeddings.vectors[1:3].mean(0)) and not features[1].any()
    _, full = encode_sentences(embeddings, [("w1", "zz")], oov="fallback")
    assert full == 1.0


def test_logistic_regression_separates_blobs() -> None:
    rng = np.random.default_rng(2)
    centers = rng.standard_normal((4, 10)) * 4
    labels = rng.integers(0, 4, 400)
    features = centers[labels] + rng.standard_normal((400, 10))
    model = fit_logistic_regression(features[:300], labels[:300], n_classes=4)
    assert np.mean(model.predict(features[300:]) == labels[300:]) > 0.97
    assert model.weights.shape == (10, 4)


def test_bad_splits_and_options(corpus: Path, embeddings: Embeddings) -> None:
    data = make_bigram_shift(read_sentences(corpus, max_sentences=3))
    with pytest.raises(EvaluationError, match="too few"):
        evaluate_probing(embeddings, data, test_fraction=0.1)
    with pytest.raises(ConfigError, match="test_fraction"):
        evaluate_probing(embeddings, data, test_fraction=1.0)
    with pytest.raises(ConfigError, match="tasks must be among"):
        evaluate_probing_corpus(embeddings, corpus, tasks=["tense"])


def test_l2_is_chosen_on_a_validation_split(corpus: Path, embeddings: Embeddings) -> None:
    data = make_bigram_shift(read_sentences(corpus), seed=0)
    # A huge penalty flattens the order encoder's weights to chance; the sweep avoids it.
    crushed = evaluate_probing(embeddings, data, encoder=order_encoder, l2=1e4)
    chosen = evaluate_probing(embeddings, data, encoder=order_encoder, l2=[1e4, 1e-3])
    assert crushed.l2 == 1e4 and chosen.l2 == 1e-3
    assert chosen.accuracy > 0.95 and chosen.to_dict()["l2"] == 1e-3
    with pytest.raises(ConfigError, match="l2 must be"):
        evaluate_probing(embeddings, data, l2=[])
    with pytest.raises(ConfigError, match="validation_fraction"):
        evaluate_probing(embeddings, data, l2=[1.0, 0.1], validation_fraction=0.9)
