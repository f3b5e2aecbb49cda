from __future__ import annotations

import multiprocessing
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

import wordvec
from wordvec import store as store_module
from wordvec.embeddings import Embeddings, SubwordTable
from wordvec.errors import ConfigError, StoreError, StoreVersionError
from wordvec.formats import store as format_module
from wordvec.formats.store import StoreWriter, read_layout, verify_store, write_store

from .conftest import make_embeddings


def _only_file(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_round_trip_is_bit_exact(tmp_path: Path, planted: Embeddings) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted)
    with wordvec.load(str(path)) as v:
        assert len(v) == len(planted.vocab) and v.dim == planted.dim
        back = v.to_embeddings()
        assert back.vocab == planted.vocab
        assert back.vectors.dtype == np.float32
        assert np.array_equal(back.vectors, planted.vectors)
        assert list(v) == list(planted.vocab.words)
        for i, word in enumerate(planted.vocab.words):
            assert v.index_of(word) == i
            assert np.array_equal(v[word], planted.vectors[i])
        assert v.metadata == {"source": "planted"}
    assert verify_store(path)


def test_float16_and_subwords_round_trip(tmp_path: Path) -> None:
    base = make_embeddings(n_filler=40)
    rng = np.random.default_rng(5)
    table = SubwordTable(rng.standard_normal((97, base.dim)).astype(np.float32), 3, 5)
    emb = Embeddings(base.vocab, base.vectors, table, {})
    path = tmp_path / "half.h5"
    write_store(path, emb, dtype="float16")
    with wordvec.load(str(path)) as v:
        back = v.to_embeddings()
        assert np.array_equal(back.vectors, base.vectors.astype(np.float16))
        assert back.subwords is not None
        assert np.array_equal(back.subwords.vectors, table.vectors.astype(np.float16))
        assert (back.subwords.min_n, back.subwords.max_n) == (3, 5)
        assert v["hello"].dtype == np.float32
        assert v.ngram_index is None  # fastText buckets take the place of the n-gram index


def test_streaming_writer_without_known_size(tmp_path: Path, planted: Embeddings) -> None:
    words, vectors = list(planted.vocab.words), planted.vectors
    path = tmp_path / "stream.h5"
    with StoreWriter(path, planted.dim) as writer:
        for start in range(0, len(words), 7):
            writer.add(words[start : start + 7], vectors[start : start + 7])
    with wordvec.load(str(path)) as v:
        assert np.array_equal(v.to_embeddings().vectors, vectors)
        assert v.counts is None
    assert _only_file(tmp_path) == ["stream.h5"]


@pytest.mark.parametrize("problem", ["nan", "duplicate", "count", "exception"])
def test_failed_write_leaves_nothing(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "out.h5"
    vectors = np.ones((3, 4), dtype=np.float32)
    words = ["a", "b", "c"]
    if problem == "nan":
        vectors[1, 2] = np.nan
    if problem == "duplicate":
        words = ["a", "b", "a"]
    n_words = 4 if problem == "count" else 3
    with (
        pytest.raises((ConfigError, RuntimeError)) as info,
        StoreWriter(path, 4, n_words=n_words) as writer,
    ):
        writer.add(words, vectors)
        if problem == "exception":
            raise RuntimeError("interrupted")
    message = str(info.value)
    expected = {
        "nan": "'b' \\(row 1\\) has a NaN",
        "duplicate": "duplicate word 'a' at rows 0 and 2",
        "count": "3 rows were added but 4",
        "exception": "interrupted",
    }[problem]
    assert re.search(expected, message), message
    assert _only_file(tmp_path) == []


def test_existing_store_is_replaced_atomically(tmp_path: Path, planted: Embeddings) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted)
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        write_store(path, Embeddings.from_words(["x"], np.full((1, 3), np.inf, dtype=np.float32)))
    assert path.read_bytes() == before


def _corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "text":
        path.write_text("hello 0.1 0.2\n")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "version":
        with h5py.File(path, "a") as f:
            f.attrs["format_version"] = 99
    elif how == "foreign":
        path.unlink()
        with h5py.File(path, "w") as f:
            f["data"] = np.zeros(3)
    elif how == "missing":
        with h5py.File(path, "a") as f:
            del f["vocab/hash_table"]
    elif how == "shape":
        with h5py.File(path, "a") as f:
            del f["norms"]
            f["norms"] = np.zeros(3, dtype=np.float32)
    elif how == "chunked":
        with h5py.File(path, "a") as f:
            norms = f["norms"][:]
            del f["norms"]
            f.create_dataset("norms", data=norms, chunks=True, compression="gzip")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("truncate", "truncated"),
        ("text", "not an HDF5 file"),
        ("empty", "not an HDF5 file|cannot open"),
        ("version", "format version 99 is not supported"),
        ("foreign", "not a wordvec store"),
        ("missing", "'vocab/hash_table' is missing"),
        ("shape", "'norms' has shape"),
        ("chunked", "chunked or compressed"),
    ],
)
def test_broken_stores_give_clear_errors(
    tmp_path: Path, planted: Embeddings, how: str, message: str
) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted)
    _corrupt(path, how)
    error = StoreVersionError if how == "version" else StoreError
    with pytest.raises(error, match=message) as info:
        wordvec.load(str(path))
    assert str(path) in str(info.value)


def test_missing_store() -> None:
    with pytest.raises(StoreError, match="no such file"):
        wordvec.load("/nonexistent/v.h5")


@pytest.mark.parametrize("compact", [False, True])
def test_flipped_bytes_never_crash(tmp_path: Path, planted: Embeddings, compact: bool) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted, compact=compact)
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    for _ in range(60):
        data = bytearray(original)
        for pos in rng.integers(0, len(data), size=8):
            data[pos] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            with wordvec.load(str(path)) as v:
                v.most_similar("hello", topn=3)
                v["hello"]
                v["helo"]
                assert v.counts is not None
        except (StoreError, KeyError):
            pass


def test_verify_detects_corrupted_vectors(tmp_path: Path, planted: Embeddings) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted)
    offset = read_layout(path).arrays["vectors"].offset
    with open(path, "r+b") as f:
        f.seek(offset + 100)
        f.write(b"\x12\x34")
    with pytest.raises(StoreError, match="'vectors' is corrupted"):
        verify_store(path)


def _lookup_in_child(path: str) -> tuple[list[float], list[str]]:
    with wordvec.load(path) as v:
        return v["hello"].tolist(), [w for w, _ in v.most_similar("hello", topn=3)]


def test_concurrent_readers(planted_store: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_lookup_in_child, [str(planted_store)] * 8)
    assert all(r == results[0] for r in results)
    assert results[0][1][:2] == ["hi", "greetings"]


def test_hash_collisions_are_resolved(
    tmp_path: Path, planted: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every word hashes alike: lookups must still find each word by comparing bytes.
    monkeypatch.setattr(format_module, "word_hash", lambda data: 12345)
    monkeypatch.setattr(store_module, "word_hash", lambda data: 12345)
    path = tmp_path / "collide.h5"
    write_store(path, planted)
    with wordvec.load(str(path), oov="error") as v:
        words = list(planted.vocab.words)
        assert [v.index_of(w) for w in words] == list(range(len(words)))
        ids = v.indices_of([*words, "missing", words[3]])
        assert ids.tolist() == [*range(len(words)), -1, 3]
        assert "missing" not in v


def test_batch_lookup(planted_store: Path, planted: Embeddings) -> None:
    with wordvec.load(str(planted_store)) as v:
        words = ["queen", "hello", "helo", "king", "queen"]
        matrix = v.vectors_of(words)
        assert matrix.shape == (5, planted.dim)
        for row, word in zip(matrix, words, strict=False):
            assert np.array_equal(row, v[word])
        assert [v.is_oov(w) for w in words] == [False, False, True, False, False]


def brute_force(emb: Embeddings, query: np.ndarray, topn: int, exclude: set[int]) -> list[int]:
    units = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    scores = units @ (query / np.linalg.norm(query))
    order = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in exclude]
    return order[:topn]


@pytest.mark.parametrize("block_rows", [7, 1 << 16])
def test_most_similar_is_exact(
    planted_store: Path, planted: Embeddings, monkeypatch: pytest.MonkeyPatch, block_rows: int
) -> None:
    monkeypatch.setattr(store_module, "_BLOCK_ROWS", block_rows)
    with wordvec.load(str(planted_store)) as v:
        for word in ["hello", "king", planted.vocab.words[100]]:
            got = [v.index_of(w) for w, _ in v.most_similar(word, topn=10)]
            want = brute_force(planted, planted.vectors[v.index_of(word)], 10, {v.index_of(word)})
            assert got == want
        query = np.random.default_rng(2).standard_normal(planted.dim).astype(np.float32)
        assert [v.index_of(w) for w, _ in v.most_similar(query, topn=5)] == brute_force(
            planted, query, 5, set()
        )


# gensim's own most_similar_cosmul calls its deprecated init_sims (not ours to fix).
@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")
def test_queries_agree_with_gensim(planted_store: Path, planted: Embeddings) -> None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(planted.dim)
    kv.add_vectors(list(planted.vocab.words), planted.vectors)
    with wordvec.load(str(planted_store)) as v:
        for word in ["hello", "woman", planted.vocab.words[50]]:
            ours = v.most_similar(word, topn=10)
            theirs = kv.most_similar(word, topn=10)
            assert [w for w, _ in ours] == [w for w, _ in theirs]
            np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
        assert v.similarity("king", "queen") == pytest.approx(
            kv.similarity("king", "queen"), abs=1e-6
        )
        add = v.analogy("man", "king", "woman", topn=5)
        assert add[0][0] == "queen"
        gensim_add = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
        assert [w for w, _ in add] == [w for w, _ in gensim_add]
        mul = v.analogy("man", "king", "woman", topn=5, method="3cosmul")
        gensim_mul = kv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5)
        assert [w for w, _ in mul] == [w for w, _ in gensim_mul]
        # Scores use the paper's epsilon (0.001); gensim uses 1e-6, which changes values only.
        units = planted.vectors / np.linalg.norm(planted.vectors, axis=1, keepdims=True)
        shifted = [
            (units @ units[planted.vocab.id_of(w)] + 1) / 2 for w in ("man", "king", "woman")
        ]
        want = shifted[1] * shifted[2] / (shifted[0] + 1e-3)
        np.testing.assert_allclose(
            [s for _, s in mul], [want[planted.vocab.id_of(w)] for w, _ in mul], rtol=1e-5
        )


def test_closed_store_refuses_queries(planted_store: Path) -> None:
    v = wordvec.load(str(planted_store))
    v.close()
    with pytest.raises(StoreError, match="closed"):
        v["hello"]
    with pytest.raises(StoreError, match="closed"):
        v.most_similar("hello")


def test_bad_arguments(planted_store: Path) -> None:
    with pytest.raises(ConfigError, match="oov must be"):
        wordvec.load(str(planted_store), oov="maybe")
    with wordvec.load(str(planted_store)) as v:
        with pytest.raises(ConfigError, match="topn"):
            v.most_similar("hello", topn=0)
        with pytest.raises(ConfigError, match="dimensions"):
            v.most_similar(np.zeros(3, dtype=np.float32))
        with pytest.raises(ConfigError, match="method"):
            v.analogy("a", "b", "c", method="3cosdiv")  # type: ignore[arg-type]


def test_float16_overflow_and_file_mode(tmp_path: Path) -> None:
    big = Embeddings.from_words(["a", "b"], np.array([[1.0, 2.0], [7e4, 0.0]], dtype=np.float32))
    with pytest.raises(ConfigError, match=r"'b' \(row 1\).*float16 range"):
        write_store(tmp_path / "big.h5", big, dtype="float16")
    assert os.listdir(tmp_path) == []
    write_store(tmp_path / "ok.h5", big)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "ok.h5").stat().st_mode & 0o777 == 0o666 & ~umask


# --- compact layout (format version 3) --------------------------------------------------------


def _larger_vocabulary() -> Embeddings:
    """Planted words, fillers, and words sharing spelling with the planted ones, so unknown
    words have several n-gram neighbours."""
    base = make_embeddings(n_filler=400)
    extra = ["hellos", "helping", "helper", "holder", "kings", "queens", "worlds", "womanly"]
    words = [*base.vocab.words, *extra]
    rng = np.random.default_rng(11)
    vectors = np.vstack([base.vectors, rng.standard_normal((len(extra), base.dim))])
    counts = np.arange(len(words), 0, -1, dtype=np.int64) * 3
    return Embeddings.from_words(words, vectors.astype(np.float32), counts=counts)


def test_compact_layout_answers_exactly_like_the_classic_one(tmp_path: Path) -> None:
    emb = _larger_vocabulary()
    classic, compact = tmp_path / "classic.h5", tmp_path / "compact.h5"
    write_store(classic, emb)
    write_store(compact, emb, compact=True)
    assert verify_store(compact)
    layout = read_layout(compact)
    assert (read_layout(classic).format_version, layout.format_version) == (1, 3)
    arrays = layout.arrays
    assert "vocab/word_hashes" not in arrays and "oov_index/posting_offsets" not in arrays
    assert arrays["vocab/word_offsets"].dtype == np.dtype("<u4")
    assert arrays["oov_index/posting_word_ids"].dtype == np.dtype("<u2")
    packed = {name for name, ref in arrays.items() if ref.compressed}
    assert packed == {"vocab/counts", *(n for n in arrays if n.startswith("oov_index/"))}
    assert os.path.getsize(compact) < os.path.getsize(classic)
    unknown = ["helo", "kingz", "qeen", "wrld", "xyzzy", "hellp", "zz", "é"]
    words = [*emb.vocab.words, *unknown]
    with wordvec.load(classic) as old, wordvec.load(compact) as new:
        assert new.ngram_index is not None and new.ngram_index.bucket_ids is not None
        assert np.array_equal(old.counts, new.counts)
        assert old.indices_of(words).tolist() == new.indices_of(words).tolist()
        assert [old.index_of(w) for w in words] == [new.index_of(w) for w in words]
        assert np.array_equal(old.vectors_of(words), new.vectors_of(words))
        for word in unknown:
            assert old.oov_neighbours(word) == new.oov_neighbours(word)
            assert old.most_similar(word, topn=5) == new.most_similar(word, topn=5)
        assert old.oov_neighbours("helo")  # the comparison covers real neighbours
        assert old.most_similar("hello", topn=8) == new.most_similar("hello", topn=8)
        assert list(old) == list(new)


def test_compact_layout_resolves_hash_collisions_without_word_hashes(
    tmp_path: Path, planted: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(format_module, "word_hash", lambda data: 777)
    monkeypatch.setattr(store_module, "word_hash", lambda data: 777)
    path = tmp_path / "collide.h5"
    write_store(path, planted, compact=True)
    with wordvec.load(str(path), oov="error") as v:
        words = list(planted.vocab.words)
        assert [v.index_of(w) for w in words] == list(range(len(words)))
        assert v.indices_of([*words, "missing"]).tolist() == [*range(len(words)), -1]


def test_compact_index_stays_small(tmp_path: Path) -> None:
    emb = _larger_vocabulary()
    classic, compact = tmp_path / "classic.h5", tmp_path / "compact.h5"
    write_store(classic, emb)
    write_store(compact, emb, compact=True)
    with h5py.File(classic) as old, h5py.File(compact) as new:
        old_index = sum(d.id.get_storage_size() for d in old["oov_index"].values())
        new_index = sum(d.id.get_storage_size() for d in new["oov_index"].values())
        # The classic index has an int64 offset for each of 65,536 buckets.
        assert new_index * 20 < old_index


@pytest.mark.parametrize("how", ["packed-hot", "packed-in-version-2", "no-hashes-in-version-2"])
def test_compact_features_are_refused_where_they_do_not_belong(
    tmp_path: Path, planted: Embeddings, how: str
) -> None:
    path = tmp_path / "v.h5"
    write_store(path, planted, compact=(how == "packed-hot"))
    with h5py.File(path, "a") as f:
        if how == "packed-hot":  # words are read by every lookup: never compressed
            words = f["vocab/words_utf8"][:]
            del f["vocab/words_utf8"]
            f.create_dataset("vocab/words_utf8", data=words, compression="gzip")
        elif how == "packed-in-version-2":
            counts = f["vocab/counts"][:]
            del f["vocab/counts"]
            f.create_dataset("vocab/counts", data=counts, compression="gzip")
        else:
            del f["vocab/word_hashes"]
    message = "chunked or compressed" if how != "no-hashes-in-version-2" else "word_hashes"
    with pytest.raises(StoreError, match=message):
        wordvec.load(str(path))


def test_truncated_compact_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.h5"
    write_store(path, _larger_vocabulary(), compact=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(StoreError), wordvec.load(str(path)) as v:
        v["helo"]
        assert v.counts is not None


def test_float16_similarity_equals_float32_of_the_stored_rows(tmp_path: Path) -> None:
    # More rows than one widening step, so float16 scoring crosses several sub-blocks.
    rng = np.random.default_rng(3)
    n, dim = 9000, 8
    words = [f"w{i}" for i in range(n)]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    path = tmp_path / "f16.h5"
    write_store(path, Embeddings.from_words(words, vectors), dtype="float16")
    stored = vectors.astype(np.float16).astype(np.float64)
    units = stored / np.linalg.norm(stored, axis=1, keepdims=True)
    with wordvec.load(str(path)) as store:
        for query in (0, 4500, 8999):
            cosines = units @ units[query]
            cosines[query] = -np.inf
            expected = np.argsort(-cosines)[:10]
            found = store.most_similar(words[query], topn=10)
            assert [w for w, _ in found] == [words[i] for i in expected]
            np.testing.assert_allclose([s for _, s in found], cosines[expected], atol=1e-5)
