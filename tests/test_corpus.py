from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wordvec.corpus import build_and_encode, encode_corpus
from wordvec.errors import ConfigError
from wordvec.vocab import build_vocab


def reference_encode(lines: list[str], index: dict[str, int], max_len: int) -> list[list[int]]:
    sentences = []
    for line in lines:
        ids = [index[t] for t in line.split() if t in index]
        sentences.extend(ids[start : start + max_len] for start in range(0, len(ids), max_len))
    return [s for s in sentences if s]


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1 << 20])
@pytest.mark.parametrize("max_len", [3, 10_000])
def test_encoding_matches_reference(tmp_path: Path, chunk_bytes: int, max_len: int) -> None:
    rng = np.random.default_rng(3)
    pool = [f"t{i}" for i in range(30)]
    lines = [" ".join(rng.choice(pool, size=rng.integers(0, 12))) for _ in range(200)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    vocab = build_vocab(path, min_count=8)
    index = {w: i for i, w in enumerate(vocab.words)}
    with encode_corpus(path, vocab, max_sentence_length=max_len, chunk_bytes=chunk_bytes) as corpus:
        got = [corpus.sentence(i).tolist() for i in range(corpus.n_sentences)]
        assert corpus.token_ids.dtype == np.int32
        assert corpus.n_raw_tokens == sum(len(line.split()) for line in lines)
        tmp = corpus.path
        assert tmp is not None and os.path.exists(tmp)
    assert got == reference_encode(lines, index, max_len)
    assert not os.path.exists(tmp)


def test_single_line_corpus_is_cut_into_sentences(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text(" ".join(["a", "b", "c"] * 1000))
    vocab = build_vocab(path, min_count=1)
    with encode_corpus(path, vocab, max_sentence_length=100, chunk_bytes=50) as corpus:
        lengths = np.diff(corpus.sentence_offsets)
        assert corpus.n_tokens == 3000
        assert lengths.tolist() == [100] * 30


def test_lowercase_encoding(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("The the THE cat\n")
    vocab = build_vocab(path, min_count=1, lowercase=True)
    with encode_corpus(path, vocab, lowercase=True) as corpus:
        assert corpus.token_ids.tolist() == [vocab.id_of("the")] * 3 + [vocab.id_of("cat")]


def test_bad_sentence_length(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("a\n")
    with pytest.raises(ConfigError):
        encode_corpus(path, build_vocab(path, min_count=1), max_sentence_length=0)


@pytest.mark.parametrize("chunk_bytes", [7, 1 << 20])
@pytest.mark.parametrize("chunk_tokens", [5, 1 << 22])
@pytest.mark.parametrize("lowercase", [False, True])
def test_build_and_encode_equals_the_two_passes(
    tmp_path: Path, chunk_bytes: int, chunk_tokens: int, lowercase: bool, monkeypatch: Any
) -> None:
    import wordvec.corpus as corpus_module

    remap = corpus_module._remap
    monkeypatch.setattr(
        corpus_module,
        "_remap",
        lambda *args: remap(*args, chunk_tokens=chunk_tokens),
    )
    rng = np.random.default_rng(5)
    pool = [f"T{i}" for i in range(20)] + [f"t{i}" for i in range(20)] + ["hapax"]
    paths = []
    for k in range(2):  # a file always ends a sentence, and the next one starts afresh
        lines = [" ".join(rng.choice(pool, size=rng.integers(0, 15))) for _ in range(60)]
        paths.append(tmp_path / f"part{k}.txt")
        paths[-1].write_text("\n".join(lines) + ("\n" if k else ""))
    options = {"lowercase": lowercase, "max_sentence_length": 4, "chunk_bytes": chunk_bytes}
    work = tmp_path / "work"
    work.mkdir()
    vocab = build_vocab(paths, min_count=6, lowercase=lowercase)
    with (
        encode_corpus(paths, vocab, **options) as expected,
        build_and_encode(paths, min_count=6, workdir=work, **options)[1] as got,
    ):
        got_vocab, again = build_and_encode(paths, min_count=6, workdir=work, **options)
        again.close()
        assert got_vocab == vocab
        assert np.array_equal(got.token_ids, expected.token_ids)
        assert np.array_equal(got.sentence_offsets, expected.sentence_offsets)
        assert got.n_raw_tokens == expected.n_raw_tokens
        tmp = got.path
    assert tmp is not None and not os.path.exists(tmp)
    # The temporary file of provisional ids is gone too.
    assert sorted(p.name for p in work.iterdir()) == []


def test_build_and_encode_empty_corpus(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n")
    vocab, corpus = build_and_encode(path, min_count=1)
    with corpus:
        assert len(vocab) == 0 and corpus.n_tokens == 0 and corpus.n_sentences == 0
