"""gensim native saves: shipped files compared with gensim itself, OOV vectors through the store,
round trips through gensim, and every refusal."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wordvec
from wordvec.embeddings import Embeddings, SubwordTable
from wordvec.errors import ConfigError, FormatError
from wordvec.formats.base import (
    BLOCK_ROWS,
    DuplicateWordWarning,
    VectorSource,
    WordBlock,
    read_embeddings,
    source_from_embeddings,
)
from wordvec.formats.gensim_native import EXPECTED, read_gensim, write_gensim
from wordvec.formats.registry import get_format
from wordvec.formats.store import write_store
from wordvec.subwords import char_ngrams, fasttext_hash

from .conftest import make_embeddings

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors  # noqa: E402
from gensim.models.fasttext import FastTextKeyedVectors  # noqa: E402
from gensim.test.utils import datapath  # noqa: E402
from gensim.utils import SaveLoad  # noqa: E402

# Shipped saves that gensim 4 loads: word2vec models from gensim 0.13.4 to 3.8 and KeyedVectors.
LOADABLE = [
    "model-from-gensim-3.8.0.w2v",
    "word2vec_old",
    "word2vec_old_sep",  # large arrays in side .npy files, memory-mapped
    "word2vec_3.3",
    "old_keyedvectors_320.dat",
    *(f"old_w2v_models/w2v_{v}.mdl" for v in ("0.13.4", "1.0.1", "2.3.0", "3.0.0", "3.4.0")),
]
# Shipped saves that gensim 4 itself cannot load (pre-KeyedVectors models, removed classes).
UNLOADABLE = [
    "word2vec_pre_kv_py3",
    "w2v-lee-v0.12.0",
    "ft_model_2.3.0",
    "lee_fasttext",
    "d2v-lee-v0.13.0",
]
OOV_WORDS = ["governmnet", "naïveté", "日本語", "é", "zzqx", "Straße", "antidisestablishment"]


def _gensim_load(path: str | Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SaveLoad.load(str(path))


def _store(embeddings: Embeddings, folder: Path) -> wordvec.VectorStore:
    path = folder / "converted.h5"
    write_store(path, embeddings)
    return wordvec.load(str(path))


def _assert_same_as_gensim(embeddings: Embeddings, kv: Any) -> None:
    assert list(embeddings.vocab.words) == list(kv.index_to_key)
    np.testing.assert_array_equal(embeddings.vectors, np.asarray(kv.vectors, dtype=np.float32))
    if "count" in kv.expandos:
        assert embeddings.vocab.counts is not None
        expected = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
        assert embeddings.vocab.counts.tolist() == expected


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# --- fixtures: models trained here and fastText models converted by gensim -------------------


@pytest.fixture(scope="module")
def saves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny gensim 4 saves of every accepted class, trained on gensim's ``common_texts``."""
    from gensim.models import Doc2Vec, FastText, Word2Vec
    from gensim.models.doc2vec import TaggedDocument
    from gensim.models.fasttext import load_facebook_model, load_facebook_vectors
    from gensim.test.utils import common_texts

    folder = tmp_path_factory.mktemp("gensim_saves")
    options = {"vector_size": 12, "min_count": 1, "workers": 1, "seed": 3, "epochs": 3}
    paths = {name: folder / f"{name}.model" for name in ("w2v", "ft", "d2v", "lee", "non_ascii")}
    Word2Vec(common_texts, window=3, sg=1, negative=4, **options).save(str(paths["w2v"]))
    FastText(common_texts, bucket=500, min_n=2, max_n=4, **options).save(str(paths["ft"]))
    documents = [TaggedDocument(words, [i]) for i, words in enumerate(common_texts)]
    Doc2Vec(documents, dm=1, **options).save(str(paths["d2v"]))
    load_facebook_model(datapath("lee_fasttext.bin")).save(str(paths["lee"]))
    load_facebook_vectors(datapath("non_ascii_fasttext.bin")).save(str(paths["non_ascii"]))
    return paths


# --- shipped files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOADABLE)
def test_shipped_saves_match_gensim(name: str) -> None:
    path = datapath(name)
    embeddings = read_embeddings(read_gensim(path))
    model = _gensim_load(path)
    _assert_same_as_gensim(embeddings, getattr(model, "wv", model))
    assert embeddings.vocab.counts is not None
    assert embeddings.subwords is None
    assert embeddings.metadata["source"] == path
    assert embeddings.metadata["source_format"] == "gensim"
    assert embeddings.metadata["gensim_class"] == type(model).__name__


def test_word2vec_metadata_has_training_params() -> None:
    metadata = read_gensim(datapath("model-from-gensim-3.8.0.w2v")).metadata
    model = _gensim_load(datapath("model-from-gensim-3.8.0.w2v"))
    assert metadata["gensim_class"] == "Word2Vec"
    assert metadata["training"] == {
        name: int(getattr(model, name))
        for name in ("vector_size", "window", "sg", "negative", "min_count", "epochs")
    }
    json.dumps(metadata)


def test_gensim3_packed_fasttext_is_unpacked(tmp_path: Path) -> None:
    # gensim 3 kept only its vocabulary's n-gram rows (hash2index); gensim 4 loads the packed
    # matrix unchanged, so its own kv[oov] indexes out of range. Known rows must land on their
    # buckets: the stored word vectors are then exactly (own row + n-gram rows) / (n + 1).
    path = datapath("compatible-hash-true.model")
    embeddings = read_embeddings(read_gensim(path))
    wv = _gensim_load(path).wv
    _assert_same_as_gensim(embeddings, wv)
    assert embeddings.subwords is not None
    assert "unpacked" in embeddings.metadata["subwords"]
    table = embeddings.subwords.vectors
    for i, word in enumerate(wv.index_to_key):
        buckets = [fasttext_hash(g) % wv.bucket for g in char_ngrams(word, wv.min_n, wv.max_n)]
        composed = (wv.vectors_vocab[i] + table[buckets].sum(axis=0)) / (len(buckets) + 1)
        np.testing.assert_allclose(composed, wv.vectors[i], rtol=1e-5, atol=1e-7)
    # Unknown words point where gensim 3 pointed them (the mean of their known n-grams).
    with _store(embeddings, tmp_path) as store:
        for word in ("anarchy", "societies", "propertyless"):
            buckets = [fasttext_hash(g) % wv.bucket for g in char_ngrams(word, 3, 6)]
            known = [wv.vectors_ngrams[wv.hash2index[b]] for b in buckets if b in wv.hash2index]
            assert known
            gensim3 = np.mean(known, axis=0)
            ours = store[word]
            cosine = ours @ gensim3 / np.linalg.norm(ours) / np.linalg.norm(gensim3)
            assert cosine == pytest.approx(1.0, abs=1e-5)
            np.testing.assert_allclose(ours, gensim3 * len(known) / len(buckets), rtol=1e-5)


def test_old_fasttext_hash_is_refused() -> None:
    with pytest.raises(FormatError, match=r"compatible_hash=False") as info:
        read_gensim(datapath("ft_kv_3.6.0.model.gz"))
    assert "ft_kv_3.6.0.model.gz" in str(info.value)


@pytest.mark.parametrize("name", UNLOADABLE)
def test_saves_gensim_cannot_load_are_format_errors(name: str) -> None:
    with pytest.raises(Exception):  # noqa: B017  (gensim's own error varies)
        _gensim_load(datapath(name))
    with pytest.raises(FormatError, match="cannot load it") as info:
        read_gensim(datapath(name))
    assert EXPECTED in str(info.value) and name in str(info.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("lda_3_0_1_model", "holds a gensim.models.ldamodel.LdaModel"),
        ("poincare_test_3.4.0", "holds a gensim.models.poincare.PoincareModel"),
        ("lee_fasttext.vec", "not a pickle"),
        ("lee_fasttext.bin", "not a pickle"),
    ],
)
def test_other_gensim_files_are_refused(name: str, problem: str) -> None:
    with pytest.raises(FormatError, match=problem) as info:
        read_gensim(datapath(name))
    assert EXPECTED in str(info.value) and name in str(info.value)


# --- models trained here --------------------------------------------------------------------------


def test_word2vec_doc2vec_and_keyedvectors(saves: dict[str, Path]) -> None:
    for name, cls in (("w2v", "Word2Vec"), ("d2v", "Doc2Vec"), ("non_ascii", None)):
        source = read_gensim(saves[name])
        assert source.metadata["gensim_class"] == (cls or "FastTextKeyedVectors")
        model = _gensim_load(saves[name])
        embeddings = read_embeddings(source)
        _assert_same_as_gensim(embeddings, getattr(model, "wv", model))
    training = read_gensim(saves["w2v"]).metadata["training"]
    assert training == {
        "vector_size": 12,
        "window": 3,
        "sg": 1,
        "negative": 4,
        "min_count": 1,
        "epochs": 3,
    }


@pytest.mark.parametrize("name", ["ft", "lee", "non_ascii"])
def test_fasttext_oov_through_the_store_equals_gensim(
    name: str, saves: dict[str, Path], tmp_path: Path
) -> None:
    model = _gensim_load(saves[name])
    kv = getattr(model, "wv", model)
    embeddings = read_embeddings(read_gensim(saves[name]))
    _assert_same_as_gensim(embeddings, kv)
    assert embeddings.subwords is not None
    assert (embeddings.subwords.min_n, embeddings.subwords.max_n) == (kv.min_n, kv.max_n)
    extra = ["q" + w[::-1] for w in kv.index_to_key[:20]]
    with _store(embeddings, tmp_path) as store:
        for word in OOV_WORDS + extra:
            assert word not in kv.key_to_index
            np.testing.assert_allclose(store[word], kv[word], rtol=1e-5, atol=1e-7)
        for word in kv.index_to_key[:50]:
            np.testing.assert_allclose(store[word], kv[word], rtol=1e-6)


def test_memory_mapped_side_files(tmp_path: Path) -> None:
    kv = KeyedVectors(8, count=0)
    kv.add_vectors([f"w{i}" for i in range(300)], np.random.default_rng(0).random((300, 8)))
    path = tmp_path / "side.kv"
    kv.save(str(path), sep_limit=0)  # every array in its own .npy, mapped on load
    assert (tmp_path / "side.kv.vectors.npy").exists()
    embeddings = read_embeddings(read_gensim(path))
    np.testing.assert_array_equal(embeddings.vectors, kv.vectors.astype(np.float32))
    assert embeddings.vocab.counts is None


def test_limit(saves: dict[str, Path]) -> None:
    kv = _gensim_load(saves["lee"]).wv
    embeddings = read_embeddings(read_gensim(saves["lee"], limit=5))
    assert list(embeddings.vocab.words) == kv.index_to_key[:5]
    np.testing.assert_array_equal(embeddings.vectors, kv.vectors[:5])
    assert embeddings.subwords is not None
    assert len(read_embeddings(read_gensim(saves["w2v"], limit=10**6))) == 12
    with pytest.raises(ConfigError, match="limit"):
        read_gensim(saves["w2v"], limit=0)
    with pytest.raises(ConfigError, match="unicode_errors"):
        read_gensim(saves["w2v"], unicode_errors="ignore")


def test_source_streams_blocks_and_closes(saves: dict[str, Path], tmp_path: Path) -> None:
    source = read_gensim(saves["lee"])
    assert source.n_words == 1762 and source.dim == 10
    first = next(iter(source.blocks))
    assert first.vectors.dtype == np.float32 and first.vectors.flags.c_contiguous
    assert first.counts is not None and first.counts.dtype == np.int64

    kv = KeyedVectors(2, count=0)
    kv.add_vectors([f"w{i}" for i in range(BLOCK_ROWS + 1)], np.ones((BLOCK_ROWS + 1, 2)))
    kv.save(str(tmp_path / "two_blocks.kv"))
    source = read_gensim(tmp_path / "two_blocks.kv")
    blocks = iter(source.blocks)
    assert len(next(blocks).words) == BLOCK_ROWS
    source.close()
    with pytest.raises(ValueError, match="closed"):
        next(blocks)


# --- refusals -------------------------------------------------------------------------------------


def test_foreign_pickles_and_damaged_files(tmp_path: Path, saves: dict[str, Path]) -> None:
    cases = {
        "dict.pkl": (pickle.dumps({"a": [1.0, 2.0]}), "holds a builtins.dict"),
        "array.pkl": (pickle.dumps(np.zeros((2, 3))), "holds a numpy.ndarray"),
        "text.kv": (b"hello 0.1 0.2\nworld 0.3 0.4\n", "not a pickle"),
        "empty.kv": (b"", "the file is empty"),
        "old_protocol.pkl": (pickle.dumps({"a": 1}, protocol=0), "not a pickle"),
        "truncated.kv": (saves["w2v"].read_bytes()[:1500], "cannot load it"),
        "tail.kv": (saves["w2v"].read_bytes()[:-40], "cannot load it"),
        "broken.gz": (b"\x1f\x8b\x08\x00 not really gzip", "cannot read the file"),
    }
    for name, (data, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(FormatError, match=problem) as info:
            read_gensim(path)
        assert str(path) in str(info.value)
        assert EXPECTED in str(info.value), name
    with pytest.raises(FormatError, match="no such file"):
        read_gensim(tmp_path / "missing.kv")


def test_non_string_keys_and_nan_are_refused(tmp_path: Path) -> None:
    kv = KeyedVectors(4, count=0)
    kv.add_vectors([10, 11], np.ones((2, 4)))
    kv.save(str(tmp_path / "ints.kv"))
    with pytest.raises(FormatError, match=r"record 0: key 10 is a int"):
        read_gensim(tmp_path / "ints.kv")

    kv = KeyedVectors(4, count=0)
    kv.add_vectors(["a", "b", "c"], np.array([[0, 0, 0, 0], [1, np.nan, 0, 0], [0, 0, 0, 0.0]]))
    kv.save(str(tmp_path / "nan.kv"))
    source = read_gensim(tmp_path / "nan.kv")
    with pytest.raises(FormatError, match=r"record 1: NaN or infinite"):
        read_embeddings(source)


def test_duplicate_keys_keep_the_first(tmp_path: Path) -> None:
    kv = KeyedVectors(2, count=0)
    kv.add_vectors(["a", "b", "c"], np.arange(6.0).reshape(3, 2))
    kv.index_to_key[2] = "a"  # a damaged save: the same word twice
    kv.save(str(tmp_path / "dup.kv"))
    with pytest.warns(DuplicateWordWarning, match="1 duplicate"):
        source = read_gensim(tmp_path / "dup.kv")
    assert source.n_words == 2
    embeddings = read_embeddings(source)
    assert embeddings.vocab.words == ("a", "b")
    np.testing.assert_array_equal(embeddings.vectors, [[0, 1], [2, 3]])


# --- writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", ["planted.kv", "planted.model.gz", "planted.kv.bz2"])
def test_round_trip_through_gensim(name: str, dtype: str, tmp_path: Path) -> None:
    planted = make_embeddings(n_filler=50, dim=8)
    path = tmp_path / name
    assert write_gensim(path, source_from_embeddings(planted), dtype=dtype) == len(planted)
    assert _listing(tmp_path) == [name]
    kv = KeyedVectors.load(str(path))
    assert type(kv) is KeyedVectors and kv.vectors.dtype == np.dtype(dtype)
    assert kv.index_to_key == list(planted.vocab.words)
    expected = planted.vectors.astype(dtype).astype(np.float32)
    np.testing.assert_array_equal(kv.vectors.astype(np.float32), expected)
    assert planted.vocab.counts is not None
    assert [kv.get_vecattr(w, "count") for w in kv.index_to_key] == planted.vocab.counts.tolist()
    assert kv.most_similar("hello", topn=1)[0][0] == "hi"
    back = read_embeddings(read_gensim(path))
    assert back.vocab == planted.vocab
    np.testing.assert_array_equal(back.vectors, expected)


def test_round_trip_without_counts_and_unknown_length(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    blocks = [
        WordBlock(["x", "y"], rng.random((2, 3), dtype=np.float32)),
        WordBlock(["z"], rng.random((1, 3), dtype=np.float32)),
    ]
    source = VectorSource("<test>", 3, None, iter(blocks))
    assert write_gensim(tmp_path / "n.kv", source) == 3
    kv = KeyedVectors.load(str(tmp_path / "n.kv"))
    assert kv.index_to_key == ["x", "y", "z"] and "count" not in kv.expandos
    np.testing.assert_array_equal(kv.vectors, np.concatenate([b.vectors for b in blocks]))
    assert read_embeddings(read_gensim(tmp_path / "n.kv")).vocab.counts is None


def test_fasttext_round_trip_keeps_oov_vectors(saves: dict[str, Path], tmp_path: Path) -> None:
    original = _gensim_load(saves["lee"]).wv
    embeddings = read_embeddings(read_gensim(saves["lee"]))
    path = tmp_path / "lee.kv"
    write_gensim(path, source_from_embeddings(embeddings))
    assert _listing(tmp_path) == ["lee.kv"]
    kv = FastTextKeyedVectors.load(str(path))
    assert kv.index_to_key == original.index_to_key
    assert (kv.min_n, kv.max_n, kv.bucket) == (original.min_n, original.max_n, original.bucket)
    np.testing.assert_array_equal(kv.vectors_ngrams, original.vectors_ngrams)
    # gensim recomputes word vectors from the word's own row and its n-grams when loading.
    np.testing.assert_allclose(kv.vectors, original.vectors, rtol=1e-5, atol=1e-6)
    for word in OOV_WORDS:
        np.testing.assert_array_equal(kv[word], original[word])
    assert [kv.get_vecattr(w, "count") for w in kv.index_to_key[:20]] == [
        original.get_vecattr(w, "count") for w in original.index_to_key[:20]
    ]
    back = read_embeddings(read_gensim(path))
    assert back.subwords is not None
    assert embeddings.subwords is not None
    np.testing.assert_array_equal(back.subwords.vectors, embeddings.subwords.vectors)


def test_subwords_from_wordvec_are_answered_alike(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    planted = make_embeddings(n_filler=30, dim=6)
    subwords = SubwordTable(rng.standard_normal((97, 6)).astype(np.float32), 2, 5)
    embeddings = Embeddings(planted.vocab, planted.vectors, subwords)
    write_gensim(tmp_path / "ft.kv", source_from_embeddings(embeddings))
    kv = FastTextKeyedVectors.load(str(tmp_path / "ft.kv"))
    np.testing.assert_allclose(kv.vectors, planted.vectors, rtol=1e-5, atol=1e-6)
    with _store(embeddings, tmp_path) as store:
        for word in OOV_WORDS:
            np.testing.assert_allclose(kv[word], store[word], rtol=1e-5, atol=1e-7)


def _failing_source(dim: int = 4) -> VectorSource:
    def blocks() -> Iterator[WordBlock]:
        yield WordBlock(["a", "b"], np.zeros((2, dim), dtype=np.float32))
        raise OSError("disk went away")

    return VectorSource("<failing>", dim, None, blocks())


def test_failed_writes_leave_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.kv"
    nan = np.zeros((2, 4), dtype=np.float32)
    nan[1, 2] = np.nan
    subwords = SubwordTable(np.zeros((10, 4), dtype=np.float32), 3, 5)
    big = np.full((1, 4), 1e6, dtype=np.float32)
    cases: list[tuple[VectorSource, str, type[Exception], str]] = [
        (_failing_source(), "float32", OSError, "disk went away"),
        (
            VectorSource(
                "s", 4, 2, iter([WordBlock(["a", "a"], np.zeros((2, 4), dtype=np.float32))])
            ),
            "float32",
            ConfigError,
            "duplicate word 'a' at rows 0 and 1",
        ),
        (
            VectorSource("s", 4, 2, iter([WordBlock(["a", "b"], nan)])),
            "float32",
            ConfigError,
            r"'b' \(row 1\) has a NaN",
        ),
        (
            VectorSource("s", 4, 1, iter([WordBlock(["a"], big)])),
            "float16",
            ConfigError,
            "float16 range",
        ),
        (
            VectorSource("s", 4, 1, iter([WordBlock(["a"], big)]), subwords),
            "float16",
            ConfigError,
            "float32",
        ),
        (
            VectorSource("s", 4, 1, iter([WordBlock(["a"], np.zeros((1, 3), dtype=np.float32))])),
            "float32",
            ConfigError,
            r"shape \(1, 3\)",
        ),
        (
            VectorSource(
                "s", 4, 1, iter([WordBlock(["a", "b"], np.zeros((2, 4), dtype=np.float32))])
            ),
            "float32",
            ConfigError,
            "more than the 1 rows",
        ),
        (source_from_embeddings(make_embeddings(5, 4)), "float64", ConfigError, "dtype"),
    ]
    for source, dtype, error, message in cases:
        with pytest.raises(error, match=message):
            write_gensim(target, source, dtype=dtype)
        assert _listing(tmp_path) == [], message
    with pytest.raises(FormatError, match="folder does not exist"):
        write_gensim(tmp_path / "nowhere" / "out.kv", source_from_embeddings(make_embeddings(5, 4)))


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.kv"
    write_gensim(target, source_from_embeddings(make_embeddings(5, 4)))
    before = target.read_bytes()
    with pytest.raises(OSError, match="disk went away"):
        write_gensim(target, _failing_source())
    assert target.read_bytes() == before and _listing(tmp_path) == ["out.kv"]


def test_registry_and_lazy_gensim_import() -> None:
    spec = get_format("gensim")
    assert spec.load_reader() is read_gensim and spec.load_writer() is write_gensim
    code = "import sys, wordvec.formats.gensim_native; print('gensim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
