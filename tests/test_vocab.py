from __future__ import annotations

import bz2
import gzip
import lzma
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from wordvec.errors import ConfigError, FormatError
from wordvec.vocab import (
    Vocab,
    build_alias_table,
    build_vocab,
    count_tokens,
    keep_probabilities,
    noise_distribution,
    sample_alias,
)

TEXT = "the cat sat on the mat\nthe dog sat\n\nA cat and The dog\n"


def reference_vocab(text: str, min_count: int, lowercase: bool = False) -> list[tuple[str, int]]:
    tokens = text.lower().split() if lowercase else text.split()
    counts = Counter(tokens)
    return sorted(
        ((w, c) for w, c in counts.items() if c >= min_count), key=lambda x: (-x[1], x[0])
    )


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("min_count", [1, 2])
def test_counts_and_order_match_reference(tmp_path: Path, min_count: int, lowercase: bool) -> None:
    path = tmp_path / "c.txt"
    path.write_text(TEXT)
    vocab = build_vocab(path, min_count=min_count, lowercase=lowercase)
    want = reference_vocab(TEXT, min_count, lowercase)
    assert list(vocab.words) == [w for w, _ in want]
    assert vocab.counts is not None and vocab.counts.tolist() == [c for _, c in want]
    assert vocab.counts.dtype == np.int64
    assert all(vocab.id_of(w) == i for i, w in enumerate(vocab.words))


def test_max_size_keeps_most_frequent(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text(TEXT)
    vocab = build_vocab(path, min_count=1, max_size=3)
    assert vocab.words == ("the", "cat", "dog")


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open, open])
def test_compressed_and_several_files(tmp_path: Path, opener: object) -> None:
    first, second = tmp_path / "a.any", tmp_path / "b.txt"
    with opener(first, "wb") as f:  # type: ignore[operator]
        f.write(TEXT.encode())
    second.write_text("cat cat\n")
    vocab = build_vocab([first, second], min_count=1)
    assert vocab.counts is not None
    assert dict(zip(vocab.words, vocab.counts.tolist(), strict=False))["cat"] == 4


def test_huge_single_line_is_streamed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    tokens = [words[i] for i in rng.integers(0, 50, size=20_000)]
    path = tmp_path / "text8"
    path.write_text(" ".join(tokens))  # one line, no newline at the end
    # Chunks far smaller than the line: tokens cut across chunk borders must be rejoined.
    counted = count_tokens(path, chunk_bytes=97)
    assert counted == Counter(tokens)


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine line\nsecond\nbad \xff byte\n")
    with pytest.raises(FormatError, match=r"bad\.txt, line 3: invalid UTF-8"):
        build_vocab(path, min_count=1)
    vocab = build_vocab(path, min_count=1, unicode_errors="replace")
    assert "\ufffd" in vocab


def test_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    data = gzip.compress(("word " * 10_000).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"cut\.gz: truncated or corrupt"):
        build_vocab(path, min_count=1)


def test_missing_file_and_bad_limits(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file"):
        build_vocab(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="min_count"):
        build_vocab(tmp_path / "nope.txt", min_count=0)


def test_vocab_rejects_duplicates_and_bad_counts() -> None:
    with pytest.raises(ConfigError, match=r"duplicate word.*'a' at ids 0 and 2"):
        Vocab(("a", "b", "a"))
    with pytest.raises(ConfigError, match="does not match"):
        Vocab(("a", "b"), np.array([1]))


def test_arrays_round_trip() -> None:
    vocab = Vocab(("α", "", "b c", "日本"), np.array([4, 3, 2, 1]))
    blob, offsets = vocab.to_arrays()
    assert Vocab.from_arrays(blob, offsets, vocab.counts) == vocab


def test_noise_distribution_and_alias_sampling() -> None:
    counts = np.array([100, 50, 10, 1, 0], dtype=np.int64)
    probs = noise_distribution(counts, 0.75)
    want = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(probs, want)
    table = build_alias_table(probs)
    # The alias table encodes the distribution exactly: mass of i = accept[i] + sum over j
    # aliasing to i of (1 - accept[j]), all over n.
    n = len(probs)
    mass = table.accept.copy()
    np.add.at(mass, table.alias, 1.0 - table.accept)
    np.testing.assert_allclose(mass / n, probs, atol=1e-12)
    draws = sample_alias(table, np.random.default_rng(0), 200_000)
    freq = np.bincount(draws, minlength=n) / draws.size
    np.testing.assert_allclose(freq, probs, atol=5e-3)
    assert freq[4] == 0


def test_keep_probabilities_word2vec_formula() -> None:
    counts = np.array([1_000_000, 10_000, 10], dtype=np.int64)
    sample = 1e-3
    total = counts.sum()
    freq = counts / total
    want = np.minimum((np.sqrt(freq / sample) + 1) * sample / freq, 1.0)
    np.testing.assert_allclose(keep_probabilities(counts, sample), want, rtol=1e-6)
    assert keep_probabilities(counts, 0).tolist() == [1, 1, 1]
    with pytest.raises(ConfigError):
        keep_probabilities(counts, -1)
