"""fastText .bin reader: equal to gensim on the real models gensim ships, equal bit for bit to
fastText's own arithmetic on synthetic models, and only FormatError on hostile files."""

from __future__ import annotations

import json
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gensim.models import _fasttext_bin
from gensim.models.fasttext import load_facebook_vectors
from gensim.models.fasttext_inner import ft_hash_bytes
from gensim.test.utils import datapath
from numpy.typing import NDArray

import wordvec
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError
from wordvec.formats import fasttext as fasttext_module
from wordvec.formats.base import DuplicateWordWarning, read_embeddings
from wordvec.formats.fasttext import read_fasttext_bin
from wordvec.formats.registry import detect_format, get_format
from wordvec.formats.store import write_store

# (file, has the magic number): every fastText model gensim's load_facebook_vectors reads.
GENSIM_MODELS = [
    ("lee_fasttext.bin", False),
    ("lee_fasttext_new.bin", True),
    ("non_ascii_fasttext.bin", False),
    ("toy-model.bin", True),
    ("toy-model-pretrained.bin", True),
    ("crime-and-punishment.bin", True),
]
OOV_WORDS = ["someunknownword", "helo", "příliš", "naïveté", "日本語", "x"]


@pytest.fixture(scope="module")
def gensim_vectors() -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in cache:
            cache[name] = load_facebook_vectors(datapath(name))
        return cache[name]

    return load


def read_all(path: str | Path, **options: Any) -> Embeddings:
    return read_embeddings(read_fasttext_bin(path, **options))


# --- an independent model writer and fastText's arithmetic, for synthetic models ---------------


def model_bytes(
    words: list[bytes],
    matrix: NDArray[np.float32],
    *,
    minn: int = 3,
    maxn: int = 5,
    bucket: int | None = None,
    version: int | None = 12,
    model: int = 2,
    labels: tuple[bytes, ...] = (),
    types: list[int] | None = None,
    header: dict[str, int] | None = None,
    prune: int = -1,
    quant: int = 0,
    output_rows: int = 3,
) -> bytes:
    """A fastText .bin as FastText::saveModel writes it (``version=None``: pre-2017 layout)."""
    dim = matrix.shape[1]
    bucket = matrix.shape[0] - len(words) if bucket is None else bucket
    entries = words + list(labels)
    kinds = types if types is not None else [0] * len(words) + [1] * len(labels)
    fields = {"size": len(entries), "nwords": len(words), "nlabels": len(labels), **(header or {})}
    args = [dim, 5, 5, 1, 5, 1, 2, model, bucket, minn, maxn, 100]
    out = b"" if version is None else struct.pack("<2i", fasttext_module.MAGIC, version)
    out += struct.pack("<12id", *args, 1e-4)
    out += struct.pack("<3iq", fields["size"], fields["nwords"], fields["nlabels"], 1000)
    if version is not None:
        out += struct.pack("<q", prune)
    for i, (word, kind) in enumerate(zip(entries, kinds, strict=True)):
        out += word + b"\0" + struct.pack("<qb", 100 - i, kind)
    if version is not None:
        out += struct.pack("<B", quant)
    out += struct.pack("<2q", *matrix.shape) + matrix.astype("<f4").tobytes()
    if version is not None:
        out += b"\0"
    return out + struct.pack("<2q", output_rows, dim) + bytes(4 * output_rows * dim)


def fasttext_vector(
    word: bytes,
    word_id: int,
    matrix: NDArray[np.float32],
    n_words: int,
    minn: int,
    maxn: int,
    *,
    eos_rule: bool = True,
) -> NDArray[np.float32]:
    """FastText::getWordVector, transcribed: the word's row, then its n-gram rows (computed over
    the raw bytes as Dictionary::computeSubwords does), summed in float32, times 1/n."""
    ids = [word_id]
    bucket = matrix.shape[0] - n_words
    if maxn > 0 and not (eos_rule and word == b"</s>"):
        data = b"<" + word + b">"
        for i in range(len(data)):
            if data[i] & 0xC0 == 0x80:
                continue
            j, n = i, 1
            while j < len(data) and n <= maxn:
                j += 1
                while j < len(data) and data[j] & 0xC0 == 0x80:
                    j += 1
                if n >= minn and not (n == 1 and (i == 0 or j == len(data))):
                    ids.append(n_words + ft_hash_bytes(data[i:j]) % bucket)
                n += 1
    total = np.zeros(matrix.shape[1], dtype=np.float32)
    for row in ids:
        total += matrix[row]
    total *= np.float32(1.0 / len(ids))
    return total


def random_matrix(rows: int, dim: int, seed: int = 0) -> NDArray[np.float32]:
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def write(tmp_path: Path, data: bytes, name: str = "m.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def input_matrix_offset(
    data: bytes, rows: int, dim: int, output_rows: int, *, versioned: bool = True
) -> int:
    """Where a dense model's input matrix starts, found from the end of the file (the output
    matrix: a quantization flag if versioned, its shape, its floats)."""
    return len(data) - (4 * output_rows * dim + 16 + versioned) - 4 * rows * dim


# --- real models, against gensim ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "versioned"), GENSIM_MODELS)
def test_equals_gensim_on_its_models(
    name: str, versioned: bool, gensim_vectors: Callable[[str], Any]
) -> None:
    kv = gensim_vectors(name)
    source = read_fasttext_bin(datapath(name))
    assert source.n_words == len(kv.index_to_key) and source.dim == kv.vector_size
    assert source.subwords is not None
    assert source.subwords.vectors.dtype == np.float32
    assert np.array_equal(source.subwords.vectors, kv.vectors_ngrams)
    assert (source.subwords.min_n, source.subwords.max_n) == (kv.min_n, kv.max_n)
    emb = read_embeddings(source)
    assert list(emb.vocab.words) == list(kv.index_to_key)
    assert emb.vocab.counts is not None
    assert emb.vocab.counts.tolist() == [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    assert emb.vectors.dtype == np.float32
    raw = _fasttext_bin.load(datapath(name), full_model=False).vectors_ngrams
    for i, word in enumerate(emb.vocab.words):
        if word == "</s>" and versioned:
            # fastText gives the end-of-sentence token no n-grams (Dictionary::initNgrams);
            # gensim averages them in. We print what fastText prints: the bare row.
            assert np.array_equal(emb.vectors[i], raw[i])
            assert not np.allclose(emb.vectors[i], kv[word], rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(emb.vectors[i], kv[word], rtol=1e-5, atol=1e-6)
    meta = emb.metadata
    assert meta["source"] == datapath(name) and meta["source_format"] == "fasttext-bin"
    args = meta["fasttext"]
    assert args["dim"] == kv.vector_size and args["bucket"] == kv.bucket
    assert (args["minn"], args["maxn"]) == (kv.min_n, kv.max_n)
    header = struct.unpack("<2i", Path(datapath(name)).read_bytes()[:8])
    assert args["version"] == (header[1] if versioned else None)
    assert args["model"] in ("cbow", "skipgram") and args["loss"] == "ns"
    json.dumps(meta)


@pytest.mark.parametrize("name", ["toy-model.bin", "crime-and-punishment.bin"])
def test_bit_exact_fasttext_arithmetic(name: str) -> None:
    """The vectors are the float32 results of fastText's own loop (checked during development
    against the official fastText 0.9.2 build, all words of every versioned gensim model)."""
    model = _fasttext_bin.load(datapath(name), full_model=False)
    emb = read_all(datapath(name))
    for i, word in enumerate(emb.vocab.words):
        want = fasttext_vector(
            word.encode(), i, model.vectors_ngrams, model.nwords, model.minn, model.maxn
        )
        assert np.array_equal(emb.vectors[i], want), word


@pytest.mark.parametrize(
    "name", ["lee_fasttext.bin", "lee_fasttext_new.bin", "non_ascii_fasttext.bin"]
)
def test_store_answers_oov_words_as_gensim(
    name: str, tmp_path: Path, gensim_vectors: Callable[[str], Any]
) -> None:
    kv = gensim_vectors(name)
    store = tmp_path / "ft.h5"
    write_store(store, read_all(datapath(name)))
    with wordvec.load(str(store)) as vectors:
        for word in OOV_WORDS:
            assert vectors.is_oov(word) and word not in kv.key_to_index
            np.testing.assert_allclose(vectors[word], kv[word], rtol=1e-5, atol=1e-6)
        for word in kv.index_to_key[:50]:
            if word != "</s>":
                np.testing.assert_allclose(vectors[word], kv[word], rtol=1e-5, atol=1e-6)


def test_non_utf8_words_cp852(gensim_vectors: Callable[[str], Any]) -> None:
    """The cp852 model holds words that are not UTF-8: strict names the entry; replace keeps
    the first of the words that become equal, with the vector fastText computes from the raw
    bytes (gensim re-encodes decoded words, so for those words it differs)."""
    path = datapath("cp852_fasttext.bin")
    with pytest.raises(FormatError, match=r"record 2: invalid UTF-8 byte 0xec") as caught:
        read_fasttext_bin(path)
    assert caught.value.path == path and caught.value.record == 2

    with pytest.warns(DuplicateWordWarning, match="duplicate word"):
        emb = read_all(path, unicode_errors="replace")
    raw = _fasttext_bin.load(path, encoding="cp852", full_model=False)
    raw_words = [w.encode("cp852") for w in raw.raw_vocab]
    kept: dict[str, int] = {}
    for i, word in enumerate(raw_words):
        kept.setdefault(word.decode("utf-8", "replace"), i)
    assert list(emb.vocab.words) == list(kept)
    assert len(emb) < raw.nwords
    kv = load_facebook_vectors(path, encoding="cp852")
    for row, (word, i) in enumerate(kept.items()):
        want = fasttext_vector(
            raw_words[i], i, raw.vectors_ngrams, raw.nwords, 2, 4, eos_rule=False
        )
        assert np.array_equal(emb.vectors[row], want)
        if word.isascii():
            np.testing.assert_allclose(emb.vectors[row], kv[word], rtol=1e-5, atol=1e-6)


def test_supervised_model_skips_labels() -> None:
    """gensim refuses supervised models; its pang_lee model has labels, no char n-grams and a
    cp1252 byte in one word."""
    path = datapath("pang_lee_polarity_fasttext.bin")
    with pytest.raises(FormatError, match="record 149"):
        read_fasttext_bin(path)
    source = read_fasttext_bin(path, unicode_errors="replace")
    assert source.subwords is None
    assert source.metadata["fasttext"]["model"] == "supervised"
    assert source.metadata["fasttext"]["nlabels"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicateWordWarning)
        emb = read_embeddings(source)
    assert not any(w.startswith("__label__") for w in emb.vocab.words)
    data = Path(path).read_bytes()
    n_words, dim = 1694, 100
    start = input_matrix_offset(data, n_words, dim, output_rows=2)
    rows = np.frombuffer(data, dtype="<f4", count=n_words * dim, offset=start).reshape(-1, dim)
    assert emb.vectors.shape[0] <= n_words
    # Every kept word is the bare input row (maxn = 0), in dictionary order.
    first_rows = {w: i for i, w in reversed(list(enumerate(_words_of(data, n_words))))}
    for row, word in enumerate(emb.vocab.words):
        assert np.array_equal(emb.vectors[row], rows[first_rows[word]])


def _words_of(data: bytes, n_words: int) -> list[str]:
    """The first ``n_words`` dictionary words of a version-12 model, decoded with replace."""
    pos, words = 8 + 56 + 28, []
    for _ in range(n_words):
        end = data.index(b"\0", pos)
        words.append(data[pos:end].decode("utf-8", "replace"))
        pos = end + 10
    return words


def test_limit_and_streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    path = datapath("lee_fasttext_new.bin")
    full = read_all(path)
    source = read_fasttext_bin(path, limit=100)
    assert source.n_words == 100
    assert source.subwords is not None and source.subwords.n_buckets == 1000
    part = read_embeddings(source)
    assert part.vocab.words == full.vocab.words[:100]
    assert np.array_equal(part.vectors, full.vectors[:100])
    assert read_fasttext_bin(path, limit=10**6).n_words == len(full)
    with pytest.raises(ConfigError):
        read_fasttext_bin(path, limit=0)
    with pytest.raises(ConfigError):
        read_fasttext_bin(path, unicode_errors="ignore")

    monkeypatch.setattr(fasttext_module, "BLOCK_ROWS", 7)
    blocks = list(read_fasttext_bin(path).blocks)
    assert len(blocks) == -(-len(full) // 7)
    assert np.array_equal(np.concatenate([b.vectors for b in blocks]), full.vectors)
    source = read_fasttext_bin(path)
    next(iter(source.blocks))
    source.close()
    assert list(source.blocks) == []


def test_small_scratch_budgets_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    path = datapath("lee_fasttext_new.bin")
    want = read_all(path).vectors
    monkeypatch.setattr(fasttext_module, "BATCH_ROWS", 64)
    monkeypatch.setattr(fasttext_module, "LONG_WORD_ROWS", 8)
    monkeypatch.setattr(fasttext_module, "GATHER_FLOATS", 30)
    assert np.array_equal(read_all(path).vectors, want)


def test_registry_and_sniffing() -> None:
    assert get_format("fasttext-bin").load_reader() is read_fasttext_bin
    assert detect_format(datapath("toy-model.bin")) == "fasttext-bin"


# --- synthetic models -----------------------------------------------------------------------------

WORDS = [b"</s>", b"the", b"caf\xc3\xa9", b"\xe6\x97\xa5\xe6\x9c\xac", b"a", b"xy" * 300]


@pytest.mark.parametrize(
    ("version", "minn", "maxn"), [(12, 3, 5), (11, 1, 2), (12, 0, 3), (None, 2, 4), (12, 4, 4)]
)
def test_synthetic_models_bit_exact(
    tmp_path: Path, version: int | None, minn: int, maxn: int
) -> None:
    matrix = random_matrix(len(WORDS) + 37, 6)
    path = write(tmp_path, model_bytes(WORDS, matrix, minn=minn, maxn=maxn, version=version))
    emb = read_all(path)
    assert [w.encode() for w in emb.vocab.words] == WORDS
    for i, word in enumerate(WORDS):
        want = fasttext_vector(
            word, i, matrix, len(WORDS), minn, maxn, eos_rule=version is not None
        )
        assert np.array_equal(emb.vectors[i], want), word
    assert emb.subwords is not None and emb.subwords.min_n == max(minn, 1)
    assert np.array_equal(emb.subwords.vectors, matrix[len(WORDS) :])


def test_no_char_ngrams(tmp_path: Path) -> None:
    matrix = random_matrix(len(WORDS) + 4, 3)
    cases: list[dict[str, Any]] = [{"maxn": 0}, {"version": 11, "model": 3}]
    for kwargs in cases:
        path = write(tmp_path, model_bytes(WORDS, matrix, **kwargs))
        source = read_fasttext_bin(path)
        assert source.subwords is None
        assert np.array_equal(read_embeddings(source).vectors, matrix[: len(WORDS)])
    empty = write(tmp_path, model_bytes([b"w"], random_matrix(1, 2), maxn=0, bucket=0))
    assert np.array_equal(read_all(empty).vectors, random_matrix(1, 2))


def test_labels_skipped_and_duplicates_keep_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = [b"b", b"a", b"b", b"c", b"a"]
    matrix = random_matrix(len(words) + 10, 4)
    data = model_bytes(words, matrix, labels=(b"__label__x",), output_rows=1)
    monkeypatch.setattr(fasttext_module, "BLOCK_ROWS", 2)
    with pytest.warns(DuplicateWordWarning, match="2 duplicate"):
        source = read_fasttext_bin(write(tmp_path, data))
    assert source.n_words == 3
    emb = read_embeddings(source)
    assert emb.vocab.words == ("b", "a", "c")
    assert emb.vocab.counts is not None and emb.vocab.counts.tolist() == [100, 99, 97]
    for row, i in enumerate([0, 1, 3]):
        want = fasttext_vector(words[i], i, matrix, len(words), 3, 5)
        assert np.array_equal(emb.vectors[row], want)
    write_store(tmp_path / "s.h5", emb)


def test_non_finite_vectors(tmp_path: Path) -> None:
    matrix = random_matrix(len(WORDS) + 37, 6)
    matrix[2, 1] = np.nan
    with pytest.raises(FormatError, match=r"record 3: NaN or infinite"):
        read_all(write(tmp_path, model_bytes(WORDS, matrix)))
    matrix = random_matrix(len(WORDS) + 37, 6)
    bucket_row = len(WORDS) + ft_hash_bytes(b"<th") % 37
    matrix[bucket_row, 0] = np.inf
    with pytest.raises(FormatError, match=r"record 2: NaN or infinite"):
        read_all(write(tmp_path, model_bytes(WORDS, matrix)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"header": {"nwords": 9}}, "inconsistent dictionary header"),
        ({"header": {"size": -1}}, "inconsistent dictionary header"),
        ({"header": {"size": 2**31 - 1, "nlabels": 2**31 - 1 - len(WORDS)}}, "announces"),
        ({"bucket": 5}, r"input matrix has shape \(43, 6\), expected .* \(11, 6\)"),
        ({"types": [0, 0, 1, 0, 0, 0]}, r"record 3: dictionary entry has type 1"),
        ({"version": 13}, "version 13 is newer"),
        ({"version": -2}, "invalid fastText model version"),
        ({"minn": 4, "maxn": 3}, "n-gram range"),
        ({"maxn": 65}, "n-gram range"),
        ({"prune": 0}, "pruned dictionary"),
        ({"quant": 1}, r"quantized fastText models \(.ftz\) are not supported: convert"),
        ({"quant": 7}, "invalid quantization flag"),
    ],
)
def test_inconsistent_files(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    data = model_bytes(WORDS, random_matrix(len(WORDS) + 37, 6), **kwargs)
    path = write(tmp_path, data)
    with pytest.raises(FormatError, match=message) as caught:
        read_all(path)
    assert str(caught.value).startswith(str(path))


def test_more_bad_files(tmp_path: Path) -> None:
    good = model_bytes(WORDS, random_matrix(len(WORDS) + 37, 6))
    cases = {
        "trailing bytes": (good + b"\0", "1 unexpected bytes after the output matrix"),
        "wrong magic": (b"ABCD" + good[4:], "does not start with the magic number 793712314"),
        "empty": (b"", "empty"),
        "dim": (good[:8] + struct.pack("<i", 7) + good[12:], r"input matrix has shape"),
        "long word": (model_bytes([b"w" * (fasttext_module.MAX_WORD_BYTES + 1)],
                                  random_matrix(5, 2)), "longer than 65536 bytes"),
    }  # fmt: skip
    for name, (data, message) in cases.items():
        with pytest.raises(FormatError, match=message):
            read_all(write(tmp_path, data, f"{name}.bin"))
    with pytest.raises(FormatError, match="no such file"):
        read_fasttext_bin(tmp_path / "missing.bin")


# --- hostile files: only FormatError, never a crash, a hang or a huge allocation -----------------


def _cut_points(size: int, dictionary_end: int) -> Iterator[int]:
    yield from range(0, dictionary_end + 60, 47)
    yield from range(dictionary_end, size, max(1, (size - dictionary_end) // 25))
    yield size - 1


@pytest.mark.parametrize(
    ("name", "n_rows", "dim", "output_rows"),
    [("toy-model.bin", 122, 5, 22), ("lee_fasttext.bin", 2762, 10, 1762)],
)
def test_truncated_anywhere(
    tmp_path: Path, name: str, n_rows: int, dim: int, output_rows: int
) -> None:
    data = Path(datapath(name)).read_bytes()
    versioned = name != "lee_fasttext.bin"
    dictionary_end = input_matrix_offset(data, n_rows, dim, output_rows, versioned=versioned)
    path = tmp_path / name
    for cut in _cut_points(len(data), dictionary_end):
        path.write_bytes(data[:cut])
        with pytest.raises(FormatError) as caught:
            read_all(path)
        assert str(caught.value).startswith(str(path))
        assert "truncated" in str(caught.value) or cut == 0, (cut, caught.value)


def test_random_mutations_of_header_and_dictionary(tmp_path: Path) -> None:
    data = Path(datapath("toy-model.bin")).read_bytes()
    dictionary_end = input_matrix_offset(data, 122, 5, 22)
    rng = np.random.default_rng(20240611)
    path = tmp_path / "mutated.bin"
    outcomes = {"read": 0, "error": 0}
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, dictionary_end))
            mutated[at] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF, int(rng.integers(0, 256))]))
        path.write_bytes(bytes(mutated))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DuplicateWordWarning)
            try:
                emb = read_all(path, unicode_errors="replace")
            except FormatError as exc:
                assert str(exc).startswith(str(path))
                outcomes["error"] += 1
                continue
        assert emb.vectors.shape == (len(emb), emb.dim) and np.isfinite(emb.vectors).all()
        outcomes["read"] += 1
    assert outcomes["read"] > 20 and outcomes["error"] > 20
