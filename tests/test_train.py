from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.errors import ConfigError, TrainingDivergedError
from wordvec.sampling_kernels import seed_states
from wordvec.train import Word2VecConfig, subword_bags, train_word2vec
from wordvec.vocab import Vocab, build_alias_table
from wordvec.word2vec_kernels import Word2VecParams, build_sigmoid_table, train_job

# --- kernels against a slow NumPy reference -----------------------------------------------------
# With window 1 and all noise mass on one word, the kernels draw nothing at random, so every
# update can be replayed exactly in NumPy.

SENTENCE = np.array([0, 1, 2, 1, 0], dtype=np.int32)
NOISE_WORD = 3


def _sigmoid(x: float) -> float:
    table = build_sigmoid_table()
    if x >= 6:
        return 1.0
    if x <= -6:
        return 0.0
    return float(table[int((x + 6) * (1000 / 12))])


def _run_kernel(
    skipgram: bool,
    shared: bool,
    center_as_input: bool,
    lr: float = 0.1,
    freeze: bool = False,
    cbow_batch: int = 1,
    bags: list[list[int]] | None = None,
    n_rows: int = 4,
):
    rng = np.random.default_rng(0)
    n_words, dim = 4, 8
    inputs = rng.standard_normal((n_rows, dim)).astype(np.float32) * 0.5
    outputs = rng.standard_normal((n_words, dim)).astype(np.float32) * 0.5
    probs = np.zeros(n_words)
    probs[NOISE_WORD] = 1.0
    noise = build_alias_table(probs)
    params = Word2VecParams(1, 1, center_as_input, True, shared, cbow_batch, freeze)
    bags = bags or [[w] for w in range(n_words)]
    bag_offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum([len(b) for b in bags], out=bag_offsets[1:])
    bag_ids = np.array([row for bag in bags for row in bag], dtype=np.int32)
    in0, out0 = inputs.copy(), outputs.copy()
    train_job(
        SENTENCE,
        np.array([0, SENTENCE.size], dtype=np.int64),
        0,
        1,
        inputs,
        outputs,
        bag_offsets,
        bag_ids,
        np.ones(n_words, dtype=np.float32),
        noise.accept,
        noise.alias,
        build_sigmoid_table(),
        seed_states(0, 1)[:1].copy(),
        0,
        lr,
        lr,
        params,
        skipgram,
        np.empty(SENTENCE.size, dtype=np.int32),
        np.empty(dim, dtype=np.float32),
        np.empty(dim, dtype=np.float32),
        np.empty(2, dtype=np.int64),
        np.empty((2, 2), dtype=np.float32),
        np.empty((2, dim), dtype=np.float32),
    )
    return in0, out0, inputs, outputs


def _targets(center: int) -> list[tuple[int, float]]:
    return [(center, 1.0)] + ([(NOISE_WORD, 0.0)] if center != NOISE_WORD else [])


# freeze: compass slices train with the output matrix fixed; the reference skips its updates.
@pytest.mark.parametrize("freeze", [False, True])
def test_skipgram_shared_negatives_matches_reference(freeze: bool) -> None:
    w_in, w_out, got_in, got_out = _run_kernel(True, True, False, freeze=freeze)
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    lr = 0.1
    for i in range(SENTENCE.size):
        contexts = [SENTENCE[j] for j in (i - 1, i + 1) if 0 <= j < SENTENCE.size]
        targets = _targets(SENTENCE[i])
        g = np.array(
            [
                [(label - _sigmoid(w_in[c] @ w_out[t])) * lr for t, label in targets]
                for c in contexts
            ]
        )
        grad_in = g @ np.array([w_out[t] for t, _ in targets])
        for k, (t, _) in enumerate(targets if not freeze else []):
            w_out[t] += sum(g[c, k] * w_in[contexts[c]] for c in range(len(contexts)))
        for c, word in enumerate(contexts):
            w_in[word] += grad_in[c]
    np.testing.assert_allclose(got_in, w_in, atol=1e-6)
    np.testing.assert_allclose(got_out, w_out, atol=1e-6)


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("center_as_input", [False, True])
def test_skipgram_pairs_match_reference(center_as_input: bool, freeze: bool) -> None:
    w_in, w_out, got_in, got_out = _run_kernel(True, False, center_as_input, freeze=freeze)
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    lr = 0.1
    for i in range(SENTENCE.size):
        for j in (i - 1, i + 1):
            if not 0 <= j < SENTENCE.size:
                continue
            source, target = (
                (SENTENCE[i], SENTENCE[j]) if center_as_input else (SENTENCE[j], SENTENCE[i])
            )
            hidden = w_in[source].copy()
            grad = np.zeros_like(hidden)
            for t, label in _targets(target):
                g = (label - _sigmoid(hidden @ w_out[t])) * lr
                grad += g * w_out[t]
                if not freeze:
                    w_out[t] += g * hidden
            w_in[source] += grad
    np.testing.assert_allclose(got_in, w_in, atol=1e-6)
    np.testing.assert_allclose(got_out, w_out, atol=1e-6)


# Bags as fastText builds them: the word's own row, then n-gram bucket rows shared between words
# (and one repeated within a bag, as a word can repeat an n-gram).
BAGS = [[0, 4, 5], [1, 5, 6, 6], [2, 4, 7, 5, 8], [3]]


@pytest.mark.parametrize("center_as_input", [False, True])
def test_skipgram_subword_pairs_match_fasttext_reference(center_as_input: bool) -> None:
    """fastText's skip-gram update (Model::update with negative sampling): the hidden vector is
    the mean of the input word's bag rows, the output rows move by ``g * hidden``, and every bag
    row (each occurrence) receives the whole, unscaled input gradient."""
    w_in, w_out, got_in, got_out = _run_kernel(True, False, center_as_input, bags=BAGS, n_rows=9)
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    lr = 0.1
    for i in range(SENTENCE.size):
        for j in (i - 1, i + 1):
            if not 0 <= j < SENTENCE.size:
                continue
            source, target = (
                (SENTENCE[i], SENTENCE[j]) if center_as_input else (SENTENCE[j], SENTENCE[i])
            )
            hidden = w_in[BAGS[source]].mean(axis=0)
            grad = np.zeros_like(hidden)
            for t, label in _targets(target):
                g = (label - _sigmoid(hidden @ w_out[t])) * lr
                grad += g * w_out[t]
                w_out[t] += g * hidden
            for row in BAGS[source]:
                w_in[row] += grad
    np.testing.assert_allclose(got_in, w_in, atol=1e-6)
    np.testing.assert_allclose(got_out, w_out, atol=1e-6)


@pytest.mark.parametrize(("cbow_batch", "freeze"), [(1, False), (2, False), (3, True), (8, False)])
def test_cbow_matches_reference(cbow_batch: int, freeze: bool) -> None:
    """word2vec's CBOW step, position after position; batches only share the draw of negatives
    (here always the one noise word), so every batch size gives the same updates."""
    w_in, w_out, got_in, got_out = _run_kernel(
        False, False, False, freeze=freeze, cbow_batch=cbow_batch
    )
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    lr = 0.1
    for i in range(SENTENCE.size):
        contexts = [SENTENCE[j] for j in (i - 1, i + 1) if 0 <= j < SENTENCE.size]
        hidden = np.mean([w_in[c] for c in contexts], axis=0)
        grad = np.zeros_like(hidden)
        for t, label in _targets(SENTENCE[i]):
            g = (label - _sigmoid(hidden @ w_out[t])) * lr
            grad += g * w_out[t]
            if not freeze:
                w_out[t] += g * hidden
        for c in contexts:
            w_in[c] += grad
    np.testing.assert_allclose(got_in, w_in, atol=1e-6)
    np.testing.assert_allclose(got_out, w_out, atol=1e-6)


def test_cbow_batch_shares_negatives() -> None:
    """With noise spread over many words, a batch of positions trains against one draw: the
    output rows touched by a sentence are far fewer than with a draw per position."""
    rng = np.random.default_rng(1)
    n_words, dim = 200, 4
    sentence = rng.integers(0, 20, size=64).astype(np.int32)
    touched = {}
    for batch in (1, 16):
        outputs = np.zeros((n_words, dim), dtype=np.float32)
        noise = build_alias_table(np.r_[np.zeros(20), np.ones(n_words - 20)])
        train_job(
            sentence,
            np.array([0, sentence.size], dtype=np.int64),
            0,
            1,
            rng.standard_normal((n_words, dim)).astype(np.float32),
            outputs,
            np.arange(n_words + 1, dtype=np.int64),
            np.arange(n_words, dtype=np.int32),
            np.ones(n_words, dtype=np.float32),
            noise.accept,
            noise.alias,
            build_sigmoid_table(),
            seed_states(0, 1)[:1].copy(),
            0,
            0.1,
            0.1,
            Word2VecParams(2, 3, False, True, False, batch),
            False,
            np.empty(sentence.size, dtype=np.int32),
            np.empty(dim, dtype=np.float32),
            np.empty(dim, dtype=np.float32),
            np.empty(4, dtype=np.int64),
            np.empty((4, 4), dtype=np.float32),
            np.empty((4, dim), dtype=np.float32),
        )
        touched[batch] = int((np.abs(outputs[20:]).sum(axis=1) > 0).sum())
    # 64 positions x 3 draws against 4 batches x 3 draws (at most 12 distinct noise words).
    assert touched[16] <= 12 < touched[1]


def test_subword_bags_hold_word_row_then_buckets() -> None:
    vocab = Vocab(("ab", "é"), np.array([5, 5]))
    config = Word2VecConfig(subwords=True, subword_min_n=1, subword_max_n=2, n_buckets=50)
    offsets, ids = subword_bags(vocab, config)
    from wordvec.subwords import ngram_bucket_ids

    for i, word in enumerate(vocab.words):
        bag = ids[offsets[i] : offsets[i + 1]].tolist()
        assert bag == [i, *(ngram_bucket_ids(word, 1, 2, 50) + 2).tolist()]


# --- end to end ---------------------------------------------------------------------------------

TOPICS = [[f"t{t}w{i}" for i in range(8)] for t in range(6)]


@pytest.fixture(scope="module")
def planted_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sentences that each mix words of one topic: a model must put topic-mates together."""
    rng = np.random.default_rng(3)
    lines = []
    for _ in range(6000):
        topic = TOPICS[rng.integers(len(TOPICS))]
        lines.append(" ".join(rng.choice(topic, size=8)))
    path = tmp_path_factory.mktemp("corpus") / "planted.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _topic_precision(emb: wordvec.Embeddings) -> float:  # type: ignore[name-defined]
    units = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    hits = 0
    total = 0
    for i, word in enumerate(emb.vocab.words):
        order = np.argsort(-(units @ units[i]))[1:4]
        topic = word.split("w")[0]
        hits += sum(emb.vocab.words[j].split("w")[0] == topic for j in order)
        total += 3
    return hits / total


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_planted_topics_are_recovered(planted_corpus: Path, model: str) -> None:
    config = Word2VecConfig(model=model, dim=16, epochs=3, min_count=1, threads=2, sample=0)  # type: ignore[arg-type]
    emb = train_word2vec(planted_corpus, config)
    assert len(emb) == 48
    assert _topic_precision(emb) > 0.9


def _interrupted_in_second_epoch(
    monkeypatch: pytest.MonkeyPatch, corpus: Path, config: Word2VecConfig, checkpoint: str
) -> None:
    """Train with a checkpoint and stop in the second epoch, after the first one is saved."""
    import wordvec.train as train_module

    real = train_module.run_epoch_threads
    calls = {"n": 0}

    def interrupted(*args: object, **kwargs: object) -> float:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(train_module, "run_epoch_threads", interrupted)
        with pytest.raises(KeyboardInterrupt):
            train_word2vec(corpus, config, checkpoint=checkpoint, checkpoint_interval=0)


def test_one_thread_is_deterministic_and_resume_matches(
    planted_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Word2VecConfig(dim=8, epochs=2, min_count=1, threads=1, seed=5)
    first = train_word2vec(planted_corpus, config)
    second = train_word2vec(planted_corpus, config)
    assert np.array_equal(first.vectors, second.vectors)
    # Interrupt the second epoch after the checkpoint of the first, then resume.
    checkpoint = str(tmp_path / "run.ckpt.npz")
    _interrupted_in_second_epoch(monkeypatch, planted_corpus, config, checkpoint)
    resumed = train_word2vec(planted_corpus, config, checkpoint=checkpoint, resume=True)
    assert np.array_equal(resumed.vectors, first.vectors)
    with pytest.raises(ConfigError, match="other settings"):
        train_word2vec(
            planted_corpus,
            Word2VecConfig(dim=9, epochs=2, min_count=1),
            checkpoint=checkpoint,
            resume=True,
        )


def test_shuffled_job_order(
    planted_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wordvec.train import _epoch_order

    jobs = [(i, i + 1) for i in range(50)]
    config = Word2VecConfig(seed=5)
    first, second = _epoch_order(jobs, config, 0), _epoch_order(jobs, config, 1)
    assert sorted(first) == jobs and first != jobs and first != second
    assert first == _epoch_order(jobs, config, 0)
    assert _epoch_order(jobs, Word2VecConfig(seed=5, shuffle=False), 0) == jobs
    # The planted corpus is three jobs: file order and shuffled order train differently.
    base = {"dim": 8, "epochs": 2, "min_count": 1, "threads": 1, "seed": 5}
    ordered = train_word2vec(planted_corpus, Word2VecConfig(shuffle=False, **base))  # type: ignore[arg-type]
    shuffled = train_word2vec(planted_corpus, Word2VecConfig(**base))  # type: ignore[arg-type]
    assert not np.array_equal(ordered.vectors, shuffled.vectors)

    # A checkpoint written before the setting existed ran in file order, and resumes so.
    checkpoint = tmp_path / "old.ckpt.npz"
    old_config = Word2VecConfig(shuffle=False, **base)  # type: ignore[arg-type]
    _interrupted_in_second_epoch(monkeypatch, planted_corpus, old_config, str(checkpoint))
    with np.load(checkpoint) as data:
        arrays = dict(data)
    saved = json.loads(arrays["config"].tobytes())
    del saved["shuffle"]
    arrays["config"] = np.frombuffer(json.dumps(saved).encode(), dtype=np.uint8)
    np.savez(checkpoint, **arrays)
    resumed = train_word2vec(
        planted_corpus,
        Word2VecConfig(shuffle=False, **base),  # type: ignore[arg-type]
        checkpoint=str(checkpoint),
        resume=True,
    )
    assert np.array_equal(resumed.vectors, ordered.vectors)
    with pytest.raises(ConfigError, match="shuffle"):
        train_word2vec(
            planted_corpus,
            Word2VecConfig(**base),
            checkpoint=str(checkpoint),
            resume=True,  # type: ignore[arg-type]
        )


def test_given_vocab_initial_state_and_frozen_output(planted_corpus: Path) -> None:
    from wordvec.train import TrainingState, initial_state, train_state

    config = Word2VecConfig(model="cbow", dim=8, epochs=1, min_count=1, threads=1)
    words = [w for topic in TOPICS[:2] for w in topic]  # a vocabulary of two topics only
    vocab = Vocab.from_counts(dict.fromkeys(words, 100))
    start = initial_state(len(vocab), config)
    outputs = np.random.default_rng(0).standard_normal((len(vocab), 8)).astype(np.float32)
    state, used = train_state(
        planted_corpus,
        config,
        vocab=vocab,
        initial=TrainingState(start.input_vectors.copy(), outputs.copy()),
        freeze_output=True,
    )
    assert used is vocab
    assert np.array_equal(state.output_vectors, outputs)
    assert not np.array_equal(state.input_vectors, start.input_vectors)
    bad = [
        (dict(initial=TrainingState(start.input_vectors[:3].copy(), outputs)), "initial input"),
        (dict(initial=TrainingState(start.input_vectors, outputs.astype(np.float64))), "output"),
        (dict(initial=start, init_vectors=train_word2vec(planted_corpus, config)), "not both"),
        (dict(initial=start, resume=True, checkpoint="x"), "resume"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ConfigError, match=message):
            train_state(planted_corpus, config, vocab=vocab, **kwargs)  # type: ignore[arg-type]


def test_divergence_is_reported(planted_corpus: Path) -> None:
    with pytest.raises(TrainingDivergedError, match="lower the learning rate"):
        train_word2vec(
            planted_corpus, Word2VecConfig(dim=8, epochs=1, min_count=1, learning_rate=1e30)
        )


def test_bad_config() -> None:
    with pytest.raises(ConfigError, match="window"):
        Word2VecConfig(window=0)
    with pytest.raises(ConfigError, match="model"):
        Word2VecConfig(model="glove")  # type: ignore[arg-type]


def test_cli_train_with_subwords(planted_corpus: Path, tmp_path: Path) -> None:
    from wordvec.cli.main import cli

    out = tmp_path / "v.h5"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            str(planted_corpus),
            "-o",
            str(out),
            "--dim",
            "16",
            "--epochs",
            "2",
            "--min-count",
            "1",
            "--subwords",
            "--buckets",
            "1000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    with wordvec.load(str(out)) as v:
        assert len(v) == 48 and v.metadata["config"]["subwords"] is True
        assert v.is_oov("t2w9")
        # An unknown word shares most n-grams with its topic-mates.
        top = [w for w, _ in v.most_similar(v["t2w9"], topn=5)]
        assert sum(w.startswith("t2w") for w in top) >= 3
    assert not (tmp_path / "v.h5.ckpt.npz").exists()
    result = CliRunner().invoke(cli, ["train", str(tmp_path / "none.txt"), "-o", str(out)])
    assert result.exit_code == 1 and "none.txt: no such file" in result.output
