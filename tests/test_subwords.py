from __future__ import annotations

import numpy as np
import pytest
from gensim.models.fasttext import ft_ngram_hashes
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

from wordvec.errors import ConfigError
from wordvec.subword_kernels import vocab_ngram_hashes
from wordvec.subwords import (
    char_ngrams,
    count_ngrams,
    fasttext_hash,
    ngram_bucket_ids,
)
from wordvec.vocab import Vocab

WORDS = ["hello", "a", "naïve", "日本語", "Привет", "straße", "🙂ok", "x" * 40, "</s>"]


@pytest.mark.parametrize("word", WORDS)
def test_hash_and_buckets_equal_fasttext(word: str) -> None:
    # gensim's functions reproduce fastText's C++ hashing, sign-extension quirk included.
    assert [fasttext_hash(g) for g in char_ngrams(word, 3, 6)] == [
        ft_hash_bytes(g) for g in compute_ngrams_bytes(word, 3, 6)
    ]
    assert ngram_bucket_ids(word, 3, 6, 2_000_000).tolist() == list(
        ft_ngram_hashes(word, 3, 6, 2_000_000)
    )


def test_sign_extension_matters_for_non_ascii() -> None:
    data = "é".encode()
    plain = 2166136261
    for byte in data:
        plain = ((plain ^ byte) * 16777619) & 0xFFFFFFFF
    assert fasttext_hash(data) != plain
    assert fasttext_hash(b"abc") == ft_hash_bytes(b"abc")


def test_ngrams_follow_fasttext_order_and_markers() -> None:
    assert char_ngrams("ab", 1, 2) == [b"<a", b"a", b"ab", b"b", b"b>"]
    assert char_ngrams("日本", 2, 2) == ["<日".encode(), "日本".encode(), "本>".encode()]
    for word in WORDS:
        assert len(char_ngrams(word, 2, 5)) == count_ngrams(len(word), 2, 5)


def test_bad_ranges_are_rejected() -> None:
    with pytest.raises(ConfigError, match="min_n"):
        char_ngrams("x", 4, 3)
    with pytest.raises(ConfigError):
        ngram_bucket_ids("x", 3, 6, 0)
    assert char_ngrams("x", 0, 0) == []


@pytest.mark.parametrize(("min_n", "max_n"), [(3, 6), (1, 4), (2, 2)])
def test_kernel_equals_reference(min_n: int, max_n: int) -> None:
    blob, offsets = Vocab(tuple(WORDS)).to_arrays()
    hash_offsets, hashes = vocab_ngram_hashes(blob, offsets, min_n, max_n)
    for i, word in enumerate(WORDS):
        got = hashes[hash_offsets[i] : hash_offsets[i + 1]]
        want = [fasttext_hash(g) for g in char_ngrams(word, min_n, max_n)]
        assert got.tolist() == want, word
    assert hashes.dtype == np.uint32
