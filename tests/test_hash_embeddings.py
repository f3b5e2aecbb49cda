from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, StoreError
from wordvec.formats.store import read_layout, verify_store, write_store
from wordvec.hash_embeddings import (
    HashParams,
    HashRows,
    bag_vectors,
    hash_bags,
    hash_rows,
    piece_hashes,
    words_to_arrays,
)
from wordvec.subwords import char_ngrams, fasttext_hash
from wordvec.train import Word2VecConfig, subword_bags, train_word2vec
from wordvec.vocab import Vocab

WORDS = ["a", "hello", "naïve", "日本語", "x" * 40, "", "über-cool", "<s>", "ab"]


# --- the hashing scheme -------------------------------------------------------------------------


@pytest.mark.parametrize(("min_n", "max_n"), [(3, 6), (1, 2), (2, 4)])
def test_piece_hashes_are_the_word_then_fasttext_ngrams(min_n: int, max_n: int) -> None:
    blob, offsets = words_to_arrays(WORDS)
    piece_offsets, hashes = piece_hashes(blob, offsets, min_n, max_n)
    for i, word in enumerate(WORDS):
        expected = [fasttext_hash(f"<{word}>".encode())]
        expected += [fasttext_hash(g) for g in char_ngrams(word, min_n, max_n)]
        assert hashes[piece_offsets[i] : piece_offsets[i + 1]].tolist() == expected, word


def test_python_and_array_paths_agree() -> None:
    blob, offsets = words_to_arrays(WORDS)  # more words than the Python path takes
    whole_offsets, whole = piece_hashes(blob, offsets, 2, 5)
    for i in range(len(WORDS)):
        one_offsets, one = piece_hashes(blob, offsets[i : i + 2], 2, 5)
        assert one.tolist() == whole[whole_offsets[i] : whole_offsets[i + 1]].tolist()
        assert one_offsets.tolist() == [0, whole_offsets[i + 1] - whole_offsets[i]]
    # A lone surrogate (not UTF-8) still gets pieces, cut as bytes.
    _, odd = piece_hashes(*words_to_arrays(["ab\udc80"]), 2, 3)
    assert odd.size == 1 + 4 + 3


def test_piece_hashes_accept_offsets_into_a_larger_blob() -> None:
    blob, offsets = words_to_arrays(WORDS)
    whole_offsets, whole = piece_hashes(blob, offsets, 3, 6)
    part_offsets, part = piece_hashes(blob, offsets[2:6], 3, 6)
    assert part.tolist() == whole[whole_offsets[2] : whole_offsets[5]].tolist()
    assert (part_offsets == whole_offsets[2:6] - whole_offsets[2]).all()


def _reference_row(h: int, k: int, seed: int, rows: int) -> int:
    """The documented scheme in plain Python integers."""
    mask = (1 << 64) - 1
    z = ((h ^ (k << 32)) + (seed + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return z % rows


def test_hash_rows_follow_the_documented_scheme() -> None:
    hashes = np.array([0, 1, 2**32 - 1, fasttext_hash(b"<hello>")], dtype=np.uint32)
    for seed in (0, 7):
        params = HashParams(table_rows=997, n_hashes=4, min_n=3, max_n=6, seed=seed)
        rows = hash_rows(hashes, params)
        assert rows.shape == (4, 4)
        for i, h in enumerate(hashes.tolist()):
            assert rows[i].tolist() == [_reference_row(h, k, seed, 997) for k in range(4)]
    # Different hash functions and seeds spread a piece over different rows.
    assert len(set(hash_rows(hashes, HashParams(10**6, 4, 3, 6)).reshape(-1).tolist())) == 16


def test_bags_list_every_piece_under_every_hash() -> None:
    params = HashParams(table_rows=1000, n_hashes=3, min_n=3, max_n=6, seed=1)
    blob, offsets = words_to_arrays(WORDS)
    bag_offsets, bag_rows = hash_bags(blob, offsets, params)
    piece_offsets, hashes = piece_hashes(blob, offsets, 3, 6)
    assert (bag_offsets == 3 * piece_offsets).all()
    assert (bag_rows == hash_rows(hashes, params).reshape(-1)).all()
    assert bag_rows.dtype == np.int32 and bag_rows.min() >= 0 and bag_rows.max() < 1000


def test_bag_vectors_do_not_depend_on_the_other_words() -> None:
    rng = np.random.default_rng(0)
    params = HashParams(table_rows=300, n_hashes=2, min_n=2, max_n=4)
    table = rng.standard_normal((300, 8)).astype(np.float32)
    words = [f"w{i}{'é' * (i % 3)}" for i in range(2500)]  # more than one block
    vectors = bag_vectors(table, *hash_bags(*words_to_arrays(words), params))
    for i in (0, 1023, 1024, 2499):
        alone = bag_vectors(table, *hash_bags(*words_to_arrays([words[i]]), params))[0]
        assert np.array_equal(alone, vectors[i])
        blob, offsets = words_to_arrays([words[i]])
        rows = hash_bags(blob, offsets, params)[1]
        assert np.allclose(vectors[i], table[rows].mean(axis=0), atol=1e-6)


def test_params_are_checked() -> None:
    for bad in (
        {"table_rows": 0},
        {"n_hashes": 0},
        {"n_hashes": 9},
        {"min_n": 0},
        {"min_n": 5, "max_n": 4},
        {"seed": -1},
    ):
        args = {"table_rows": 10, "n_hashes": 2, "min_n": 3, "max_n": 5, "seed": 0, **bad}
        with pytest.raises(ConfigError):
            HashParams(**args)


# --- training and the store ---------------------------------------------------------------------

TOPICS = [["cat", "dog", "horse", "cow"], ["red", "green", "blue", "yellow"], ["one", "two"]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    lines = []
    for _ in range(1500):
        topic = TOPICS[rng.integers(len(TOPICS))]
        lines.append(" ".join(rng.choice(topic, size=8)))
    path = tmp_path_factory.mktemp("hash") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


CONFIG = Word2VecConfig(
    dim=16,
    epochs=2,
    min_count=1,
    threads=1,
    hash_embeddings=True,
    hash_rows=200,
    n_hashes=3,
    subword_min_n=3,
    subword_max_n=5,
)


@pytest.fixture(scope="module")
def trained(corpus: Path) -> Embeddings:
    return train_word2vec(str(corpus), CONFIG)


@pytest.fixture(scope="module")
def hash_store(trained: Embeddings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hash") / "hash.h5"
    write_store(path, trained)
    return path


def test_trainer_returns_bag_means_of_its_table(trained: Embeddings) -> None:
    assert trained.hashing is not None
    table = trained.hashing.vectors
    assert table.shape == (200, 16)
    assert trained.hashing.params == HashParams(200, 3, 3, 5, 0)
    offsets, rows = subword_bags(trained.vocab, CONFIG)
    for i in range(len(trained)):
        bag = rows[offsets[i] : offsets[i + 1]]
        assert np.allclose(trained.vectors[i], table[bag].mean(axis=0), atol=1e-6)
    assert np.abs(table).max() > 0.01  # trained: far from the initial ±0.5/dim


def test_training_learns_topics(trained: Embeddings) -> None:
    units = trained.vectors / np.linalg.norm(trained.vectors, axis=1, keepdims=True)
    ids = {w: i for i, w in enumerate(trained.vocab.words)}
    same = units[ids["cat"]] @ units[ids["dog"]]
    other = units[ids["cat"]] @ units[ids["blue"]]
    assert same > other


def test_store_gives_the_trainers_vectors_bit_for_bit(
    trained: Embeddings, hash_store: Path
) -> None:
    assert trained.hashing is not None
    with wordvec.load(str(hash_store)) as v:
        assert v.layout.vector_encoding == "hash"
        assert v.layout.hash_params == trained.hashing.params
        words = list(trained.vocab.words)
        assert list(v) == words
        assert np.array_equal(v.vectors_of(words), trained.vectors)
        for i, word in enumerate(words):
            assert np.array_equal(v[word], trained.vectors[i])
        assert np.array_equal(np.asarray(v.vectors), trained.vectors)
        # An unseen word: the bag mean of its pieces in the trainer's own table.
        assert v.is_oov("catdog")
        blob, offsets = words_to_arrays(["catdog"])
        expected = bag_vectors(
            trained.hashing.vectors, *hash_bags(blob, offsets, trained.hashing.params)
        )[0]
        assert np.array_equal(v["catdog"], expected)
        assert np.any(expected != 0)
    with wordvec.load(str(hash_store)) as again:  # deterministic across opens
        assert np.array_equal(again["catdog"], expected)


def test_centering_moves_every_word_by_the_vocabulary_mean(
    corpus: Path, trained: Embeddings, tmp_path: Path
) -> None:
    import dataclasses

    centred = train_word2vec(str(corpus), dataclasses.replace(CONFIG, hash_center=True))
    assert centred.hashing is not None and trained.hashing is not None
    shift = trained.vectors.mean(axis=0, dtype=np.float64)
    assert np.linalg.norm(shift) > 0.1 * np.linalg.norm(trained.vectors, axis=1).mean()
    # The same training run (one thread, same seed), then the table moved by the mean.
    np.testing.assert_allclose(centred.vectors, trained.vectors - shift, atol=1e-5)
    assert np.abs(centred.vectors.mean(axis=0)).max() < 1e-5
    np.testing.assert_allclose(centred.hashing.vectors, trained.hashing.vectors - shift, atol=1e-5)
    path = tmp_path / "centred.h5"
    write_store(path, centred)
    with wordvec.load(str(path)) as v:
        assert np.array_equal(v.vectors_of(list(centred.vocab.words)), centred.vectors)
        blob, offsets = words_to_arrays(["catdog"])
        plain = bag_vectors(trained.hashing.vectors, *hash_bags(blob, offsets, CONFIG.hash_params))
        np.testing.assert_allclose(v["catdog"], plain[0] - shift, atol=1e-5)
    with pytest.raises(ConfigError, match="hash_center applies to hash embeddings"):
        Word2VecConfig(hash_center=True)


def test_store_search_scores_equal_dense_cosines(trained: Embeddings, hash_store: Path) -> None:
    units = trained.vectors / np.linalg.norm(trained.vectors, axis=1, keepdims=True)
    with wordvec.load(str(hash_store)) as v:
        for query in ("cat", "red", "catdog"):
            q = v[query] / np.linalg.norm(v[query])
            hits = v.most_similar(query, topn=5)
            cosines = units @ q
            for word, score in hits:
                assert score == pytest.approx(cosines[v.index_of(word)], abs=1e-5)
            expected = [trained.vocab.words[i] for i in np.argsort(-cosines)]
            expected = [w for w in expected if w != query][:5]
            assert [w for w, _ in hits] == expected
        assert v.most_similar("cat", topn=3)[0][0] in TOPICS[0]


def test_store_holds_only_the_table(trained: Embeddings, hash_store: Path) -> None:
    layout = read_layout(hash_store)
    assert "vectors" not in layout.arrays and "subwords/vectors" not in layout.arrays
    assert "oov_index/posting_offsets" not in layout.arrays
    assert layout.arrays["hash_table"].shape == (200, 16)
    assert "hash_table" in verify_store(hash_store)
    import os

    table_bytes = 200 * 16 * 4
    assert os.path.getsize(hash_store) < table_bytes + 40_000  # vocabulary and header only


def test_store_round_trips_to_embeddings_and_info(hash_store: Path, tmp_path: Path) -> None:
    from wordvec.cli.main import cli

    with wordvec.load(str(hash_store)) as v:
        embeddings = v.to_embeddings()
        expected = np.asarray(v.vectors)
    assert embeddings.hashing is not None
    copy = tmp_path / "copy.h5"
    write_store(copy, embeddings)
    with wordvec.load(str(copy)) as again:
        assert again.layout.vector_encoding == "hash"
        assert np.array_equal(np.asarray(again.vectors), expected)
    result = CliRunner().invoke(cli, ["info", str(hash_store)])
    assert result.exit_code == 0 and "hash-embeddings (n-grams 3-5, 3 hashes into 200" in (
        result.output
    )


def test_float16_hash_store(trained: Embeddings, tmp_path: Path) -> None:
    path = tmp_path / "half.h5"
    write_store(path, trained, dtype="float16")
    with wordvec.load(str(path)) as v:
        assert v.layout.arrays["hash_table"].dtype == np.float16
        assert np.allclose(v["cat"], trained.vectors[trained.vocab.ids_of(["cat"])[0]], atol=2e-3)


def test_damaged_hash_parameters_are_reported(hash_store: Path, tmp_path: Path) -> None:
    for attr, value, message in (
        ("scheme", "murmur", "unknown hash-embedding scheme"),
        ("n_hashes", 0, "invalid hash-embedding parameters"),
        ("table_rows", 201, "has shape"),
    ):
        damaged = tmp_path / f"{attr}.h5"
        shutil.copy(hash_store, damaged)
        with h5py.File(damaged, "r+") as f:
            f["hash_table"].attrs[attr] = value
        with pytest.raises(StoreError, match=message):
            wordvec.load(str(damaged))


def test_hash_rows_codec_decodes_any_words(trained: Embeddings) -> None:
    assert trained.hashing is not None
    blob, offsets = trained.vocab.to_arrays()
    codec = HashRows(trained.hashing.vectors, trained.hashing.params, blob, offsets)
    ids = np.array([3, 0, 3, 1])
    assert np.array_equal(codec.decode(ids), trained.vectors[ids])
    assert np.array_equal(codec.decode_range(1, 4), trained.vectors[1:4])
    q = np.random.default_rng(1).standard_normal((16, 2)).astype(np.float32)
    assert np.allclose(codec.dot(q, 0, len(trained)), trained.vectors @ q, atol=1e-5)


def test_bad_configurations(corpus: Path) -> None:
    with pytest.raises(ConfigError, match="either subwords or hash_embeddings"):
        Word2VecConfig(subwords=True, hash_embeddings=True)
    with pytest.raises(ConfigError, match="n_hashes"):
        Word2VecConfig(hash_embeddings=True, n_hashes=0)
    with pytest.raises(ConfigError, match="table rows"):
        Word2VecConfig(hash_embeddings=True, hash_rows=0)
    init = Embeddings(Vocab(("cat",)), np.zeros((1, 16), dtype=np.float32))
    with pytest.raises(ConfigError, match="hash embeddings"):
        train_word2vec(str(corpus), CONFIG, init_vectors=init)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_trains_hash_embeddings(corpus: Path, tmp_path: Path) -> None:
    from wordvec.cli.main import cli

    out = tmp_path / "h.h5"
    args = ["train", str(corpus), "-o", str(out), "--dim", "8", "--epochs", "1"]
    args += ["--min-count", "1", "--threads", "1", "--hash-embeddings", "--hash-rows", "300"]
    result = CliRunner().invoke(cli, [*args, "--hashes", "2", "--json"])
    assert result.exit_code == 0, result.output
    with wordvec.load(str(out)) as v:
        assert v.layout.hash_params == HashParams(300, 2, 3, 6, 0)
        assert v.metadata["config"]["hash_embeddings"] is True
        assert v["zebra"].shape == (8,) and np.any(v["zebra"] != 0)
        assert len(v.most_similar("cat", topn=3)) == 3
    centred = tmp_path / "c.h5"
    args[args.index(str(out))] = str(centred)
    result = CliRunner().invoke(cli, [*args, "--hash-center"])
    assert result.exit_code == 0, result.output
    with wordvec.load(str(centred)) as v:
        assert v.metadata["config"]["hash_center"] is True
        assert np.abs(np.asarray(v.vectors).mean(axis=0)).max() < 1e-5


def test_cli_rejects_bad_hash_options(corpus: Path, tmp_path: Path) -> None:
    from wordvec.cli.main import cli

    out = tmp_path / "bad.h5"
    base = ["train", str(corpus), "-o", str(out), "--min-count", "1", "--hash-embeddings"]
    result = CliRunner().invoke(cli, [*base, "--subwords"])
    assert result.exit_code != 0 and "either subwords or hash_embeddings" in result.output
    result = CliRunner().invoke(cli, [*base, "--hashes", "0"])
    assert result.exit_code == 2 and "--hashes" in result.output
    result = CliRunner().invoke(cli, [*base, "--hash-rows", "0"])
    assert result.exit_code == 2 and "--hash-rows" in result.output
    assert not out.exists()
