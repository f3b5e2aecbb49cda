"""Compression: codecs against their definitions, the store reading every form, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec.cli.main import cli
from wordvec.compress import (
    CompressConfig,
    compress_matrix,
    compress_store,
    encode_pq,
    encode_rq,
    kmeans,
)
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, StoreError
from wordvec.formats.store import read_layout, verify_store, write_store
from wordvec.quantized import Int8Rows, WordMatrix

from .conftest import make_embeddings


def structured(n: int = 600, dim: int = 24, seed: int = 3) -> np.ndarray:
    """Rows with a low-rank part and noise, like word vectors."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((6, dim))
    return (rng.standard_normal((n, 6)) @ basis + 0.3 * rng.standard_normal((n, dim))).astype(
        np.float32
    )


def relative_error(x: np.ndarray, y: np.ndarray) -> float:
    return float(((x - y) ** 2).sum() / (x**2).sum())


# --- codecs -----------------------------------------------------------------------------------


def test_kmeans_recovers_planted_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((5, 8)).astype(np.float32) * 10
    points = np.repeat(centres, 40, axis=0) + 0.01 * rng.standard_normal((200, 8)).astype(
        np.float32
    )
    for init in ("kmeans++", "random"):
        found = kmeans(points, 5, iterations=20, init=init, seed=4)
        # Every planted centre has a centroid next to it.
        gaps = np.linalg.norm(centres[:, None, :] - found[None, :, :], axis=2).min(axis=1)
        if init == "kmeans++":  # D^2 seeding never misses a cluster this far apart
            assert gaps.max() < 0.1
    again = kmeans(points, 5, iterations=20, init="kmeans++", seed=4)
    assert np.array_equal(found if init == "kmeans++" else again, again)


def test_pq_is_exact_when_every_subvector_is_a_codeword() -> None:
    rng = np.random.default_rng(1)
    x = rng.choice([-1.0, 0.0, 2.0], size=(300, 12)).astype(np.float32)
    config = CompressConfig(method="pq", n_codebooks=12, n_codewords=3, rotate=False)
    assert np.array_equal(encode_pq(x, config).decode(np.arange(300)), x)


def test_balanced_rotation_lowers_the_error_of_pq() -> None:
    # Dimensions with very unequal variance, as word vectors have along their principal axes.
    x = structured(dim=24) * np.logspace(0, -2, 24, dtype=np.float32)
    errors = {}
    for rotate in (False, True):
        config = CompressConfig(method="pq", n_codebooks=6, n_codewords=16, rotate=rotate)
        codec = encode_pq(x, config)
        assert (codec.rotation is not None) == rotate
        errors[rotate] = relative_error(x, codec.decode(np.arange(x.shape[0])))
    assert errors[True] < 0.8 * errors[False]
    rotation = encode_pq(x, CompressConfig(method="pq", n_codebooks=6, n_codewords=4)).rotation
    assert rotation is not None
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(24), atol=1e-5)


@pytest.mark.parametrize("method", ["pq", "rq"])
def test_error_is_bounded_and_decreases_with_codebooks_and_codewords(method: str) -> None:
    x = structured()
    encode = encode_pq if method == "pq" else encode_rq

    def error(m: int, k: int) -> float:
        config = CompressConfig(method=method, n_codebooks=m, n_codewords=k, iterations=15)
        return relative_error(x, encode(x, config).decode(np.arange(x.shape[0])))

    by_m = [error(m, 16) for m in (1, 3, 6)]
    by_k = [error(3, k) for k in (4, 16, 64)]
    assert by_m[0] > by_m[1] > by_m[2] and by_k[0] > by_k[1] > by_k[2]
    assert max(by_m + by_k) < 1.0  # always better than encoding nothing
    assert by_m[-1] < 0.35 and by_k[-1] < 0.35


def test_rq_refinement_never_increases_the_error() -> None:
    x = structured(dim=16)
    errors = [
        relative_error(
            x,
            encode_rq(
                x, CompressConfig(method="rq", n_codebooks=3, n_codewords=8, refine=r)
            ).decode(np.arange(x.shape[0])),
        )
        for r in (0, 1, 3)
    ]
    assert errors[0] >= errors[1] >= errors[2]


def test_pq_handles_dimensions_not_divisible_by_codebooks() -> None:
    x = structured(dim=23)
    codec = encode_pq(x, CompressConfig(method="pq", n_codebooks=5, n_codewords=16))
    assert codec.codebooks.shape == (5, 16, 5)
    assert relative_error(x, codec.decode(np.arange(x.shape[0]))) < 0.5


def test_int8_error_is_at_most_half_a_step() -> None:
    x = structured()
    codec = Int8Rows.encode(x)
    decoded = codec.decode(np.arange(x.shape[0]))
    step = np.abs(x).max(axis=1) / 127
    assert (np.abs(decoded - x) <= step[:, None] * 0.5 + 1e-6).all()


@pytest.mark.parametrize("method", ["pq", "pq-plain", "rq", "int8", "float16"])
def test_adc_scores_equal_dense_scores_of_decoded_vectors(method: str) -> None:
    x = structured(dim=20)
    config = CompressConfig(
        method=method.split("-")[0], n_codebooks=3, n_codewords=32, iterations=5,
        rotate=method == "pq",
    )  # fmt: skip
    codec = compress_matrix(x, config).codec
    queries = np.random.default_rng(2).standard_normal((20, 3)).astype(np.float32)
    dense = codec.decode(np.arange(x.shape[0])).astype(np.float64) @ queries
    np.testing.assert_allclose(codec.dot(queries, 0, x.shape[0]), dense, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        codec.scorer(queries)(100, 250), dense[100:250], rtol=1e-4, atol=1e-4
    )


def test_word_matrix_indexing_matches_a_plain_matrix() -> None:
    x = structured(n=50, dim=6)
    codec = Int8Rows.encode(x)
    rows = np.arange(50, dtype=np.int32)
    rows[3] = 0  # word 3 shares row 0, as after pruning
    plain = codec.decode(rows)
    matrix = WordMatrix(codec, rows, 50)
    assert matrix.shape == (50, 6) and len(matrix) == 50
    np.testing.assert_array_equal(matrix[3], plain[3])
    np.testing.assert_array_equal(matrix[-1], plain[-1])
    np.testing.assert_array_equal(matrix[2:9:3], plain[2:9:3])
    np.testing.assert_array_equal(matrix[np.array([[4, 3], [0, 49]])], plain[[[4, 3], [0, 49]]])
    np.testing.assert_array_equal(matrix[[1, 2], 1:3], plain[[1, 2], 1:3])
    np.testing.assert_array_equal(np.asarray(matrix), plain)
    assert matrix[[]].shape == (0, 6) and matrix[np.zeros(50, bool)].shape == (0, 6)
    with pytest.raises(IndexError):
        matrix[50]


# --- the store reads every form ---------------------------------------------------------------

FORMS = {
    "float16": CompressConfig(method="float16"),
    "int8": CompressConfig(method="int8"),
    "pq": CompressConfig(method="pq", n_codebooks=8, n_codewords=32, iterations=8),
    "pq-plain": CompressConfig(method="pq", n_codebooks=8, n_codewords=32, rotate=False),
    "rq": CompressConfig(method="rq", n_codebooks=4, n_codewords=32, iterations=8),
    "prune": CompressConfig(method="prune", keep=200),
    "pq-pruned": CompressConfig(method="pq", n_codebooks=8, n_codewords=32, keep=200),
}


@pytest.fixture(scope="module")
def compressed(tmp_path_factory: pytest.TempPathFactory, planted_store: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("compressed")
    paths = {}
    for name, config in FORMS.items():
        paths[name] = folder / f"{name}.h5"
        compress_store(planted_store, paths[name], config)
    return paths


@pytest.mark.parametrize("form", list(FORMS))
def test_store_reads_every_compressed_form(
    form: str, compressed: dict[str, Path], planted: Embeddings
) -> None:
    path = compressed[form]
    assert verify_store(path)
    layout = read_layout(path)
    # The compact layout with the OOV index derived from the words (the default).
    assert layout.format_version == 4 and layout.oov_index == "derived"
    assert layout.vector_dtype == ("float16" if form == "float16" else "float32")
    with wordvec.load(path) as v:
        assert (
            len(v) == len(planted)
            and v.dim == planted.dim
            and list(v)[:3] == ["hello", "hi", "greetings"]
        )
        decoded = np.asarray(v.vectors, dtype=np.float32)  # float16 stores map as float16
        assert decoded.shape == planted.vectors.shape
        # (Equal up to the rounding of a rotation applied to one row or to many.)
        np.testing.assert_allclose(v["queen"], decoded[7], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(v.vectors_of(["king", "man"]), decoded[[6, 8]], atol=1e-6)
        # Scores from the codes equal cosines of the decoded vectors.
        candidates = v.codec.n_rows
        unit = decoded[:candidates] / np.linalg.norm(decoded[:candidates], axis=1)[:, None]
        query = unit[0]
        want = np.argsort(-(unit @ query), kind="stable")[1:6]
        got = v.most_similar("hello", topn=5)
        assert [w for w, _ in got] == [v.word_at(int(i)) for i in want]
        np.testing.assert_allclose([s for _, s in got], (unit @ query)[want], atol=1e-5)
        # The planted neighbours survive compression.
        assert {w for w, _ in got[:2]} == {"hi", "greetings"}
        assert v.analogy("man", "king", "woman", topn=3)
        # The OOV fallback keeps working.
        assert v.is_oov("helo")
        oov = v["helo"]
        assert np.isfinite(oov).all() and np.linalg.norm(oov) > 0
        assert v.most_similar("helo", topn=3)
        back = v.to_embeddings()
        np.testing.assert_allclose(back.vectors, decoded, atol=1e-6)
        assert back.vocab.words == planted.vocab.words
        assert v.metadata["compression"]["method"] == FORMS[form].method


def test_pruned_words_share_their_nearest_kept_row(
    compressed: dict[str, Path], planted: Embeddings
) -> None:
    kept = planted.vectors[:200] / np.linalg.norm(planted.vectors[:200], axis=1)[:, None]
    with wordvec.load(compressed["prune"]) as v:
        assert v.codec.n_rows == 200 and v.word_rows is not None
        for word_id in (200, 250, 309):
            word = planted.vocab.words[word_id]
            nearest = int(np.argmax(kept @ planted.vectors[word_id]))
            np.testing.assert_array_equal(v[word], planted.vectors[nearest])
            assert not v.is_oov(word)
        kept_words = set(planted.vocab.words[:200])
        assert {w for w, _ in v.most_similar("hello", topn=50)} <= kept_words


def test_lookup_of_compressed_store_needs_no_numba(compressed: dict[str, Path]) -> None:
    code = (
        "import sys, wordvec\n"
        "for path in sys.argv[1:]:\n"
        "    v = wordvec.load(path)\n"
        "    v['hello']; v['helo']; v.most_similar('hello'); v.analogy('man', 'king', 'woman')\n"
        "print(','.join(m for m in ('numba', 'scipy', 'gensim') if m in sys.modules))\n"
    )
    paths = [str(p) for p in compressed.values()]
    out = subprocess.run(
        [sys.executable, "-c", code, *paths], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_damaged_compressed_store_is_refused(tmp_path: Path, compressed: dict[str, Path]) -> None:
    broken = tmp_path / "broken.h5"
    broken.write_bytes(compressed["pq"].read_bytes())
    with h5py.File(broken, "a") as f:
        del f["codebooks"]
    with pytest.raises(StoreError, match="'codebooks' is missing"):
        wordvec.load(broken)
    broken.write_bytes(compressed["prune"].read_bytes())
    with h5py.File(broken, "a") as f:
        del f["word_rows"]
    with pytest.raises(StoreError, match="word_rows"):
        wordvec.load(broken)
    broken.write_bytes(compressed["int8"].read_bytes())
    with h5py.File(broken, "a") as f:
        f.attrs["vector_encoding"] = "zstd"
    with pytest.raises(StoreError, match="unknown vector encoding 'zstd'"):
        wordvec.load(broken)


@pytest.mark.parametrize("method", ["pq", "rq", "int8"])
def test_version_2_stores_of_the_classic_layout_stay_readable(
    tmp_path: Path, planted: Embeddings, method: str
) -> None:
    """Compressed stores written before the compact layout (format version 2: float32
    codebooks, word hashes, an int64 offset for every n-gram bucket) open and answer as the
    same codes written compactly, up to the float16 rounding of the codebooks."""
    from wordvec.formats.store import StoreWriter

    config = CompressConfig(method=method, n_codebooks=4, n_codewords=16)
    codec = compress_matrix(planted.vectors, config).codec
    paths = {}
    for compact in (False, True):
        paths[compact] = tmp_path / f"{method}-{compact}.h5"
        writer = StoreWriter(paths[compact], planted.dim, codec=codec, compact=compact)
        with writer:
            writer.add(planted.vocab.words, None, planted.vocab.counts)
    classic = read_layout(paths[False])
    assert classic.format_version == 2 and "oov_index/posting_offsets" in classic.arrays
    assert "vocab/word_hashes" in classic.arrays
    if method != "int8":
        assert classic.arrays["codebooks"].dtype == np.float32
        assert read_layout(paths[True]).arrays["codebooks"].dtype == np.float16
    assert verify_store(paths[False]) and verify_store(paths[True])
    with wordvec.load(paths[False]) as old, wordvec.load(paths[True]) as new:
        words = [*planted.vocab.words[:50], "helo", "kingg"]
        np.testing.assert_allclose(old.vectors_of(words), new.vectors_of(words), atol=2e-3)
        assert old.oov_neighbours("helo") == new.oov_neighbours("helo")
        assert [w for w, _ in old.most_similar("hello", topn=2)] == ["hi", "greetings"]
        assert [w for w, _ in new.most_similar("hello", topn=2)] == ["hi", "greetings"]
        np.testing.assert_array_equal(old.counts, new.counts)


def test_repack_rewrites_any_store_compactly(
    tmp_path: Path, planted_store: Path, compressed: dict[str, Path]
) -> None:
    from wordvec.compress import repack_store

    dense = tmp_path / "dense.h5"
    repack_store(planted_store, dense)
    bare = tmp_path / "bare.h5"
    repack_store(compressed["prune"], bare, oov_index=False)
    assert read_layout(dense).format_version == 4 and verify_store(dense)
    assert not any(name.startswith("oov_index/") for name in read_layout(bare).arrays)
    words = ["hello", "queen", "helo", "xyzzyq"]
    with wordvec.load(planted_store) as old, wordvec.load(dense) as new:
        assert np.array_equal(old.vectors_of(words), new.vectors_of(words))
        assert old.most_similar("helo", topn=4) == new.most_similar("helo", topn=4)
        assert np.array_equal(old.counts, new.counts)
    with wordvec.load(compressed["prune"]) as old, wordvec.load(bare) as new:
        assert np.array_equal(old.vectors_of(words[:2]), new.vectors_of(words[:2]))
        assert new.word_rows is not None and new.ngram_index is None
        assert np.linalg.norm(new["helo"]) > 0  # the hashed fallback vector remains
    with pytest.raises(ConfigError, match="different file"):
        repack_store(dense, dense)


def test_subword_buckets_survive_compression(tmp_path: Path) -> None:
    from wordvec.embeddings import SubwordTable

    base = make_embeddings(n_filler=80, dim=16)
    table = SubwordTable(
        np.random.default_rng(1).standard_normal((50, 16)).astype(np.float32), 3, 5
    )
    source = tmp_path / "ft.h5"
    write_store(source, Embeddings(base.vocab, base.vectors, table, {}))
    target = tmp_path / "ft-pq.h5"
    compress_store(source, target, CompressConfig(method="pq", n_codebooks=4, n_codewords=16))
    with wordvec.load(source) as dense, wordvec.load(target) as small:
        assert small.subword_vectors is not None and small.layout.vector_dtype == "float16"
        np.testing.assert_allclose(small["helo"], dense["helo"], atol=1e-2)


def test_bad_configurations_are_errors(tmp_path: Path, planted_store: Path) -> None:
    with pytest.raises(ConfigError, match="needs keep"):
        CompressConfig(method="prune")
    with pytest.raises(ConfigError, match="method must be one of"):
        CompressConfig(method="zip")
    with pytest.raises(ConfigError, match="codewords must be between"):
        CompressConfig(n_codewords=1)
    target = tmp_path / "out.h5"
    with pytest.raises(ConfigError, match="at most one per dimension"):
        compress_store(planted_store, target, CompressConfig(method="pq", n_codebooks=33))
    with pytest.raises(ConfigError, match="only 310 rows"):
        compress_store(planted_store, target, CompressConfig(method="rq", n_codewords=1000))
    with pytest.raises(ConfigError, match="different file"):
        compress_store(planted_store, planted_store, CompressConfig(method="int8"))
    assert not target.exists() and os.listdir(tmp_path) == []
    once = tmp_path / "once.h5"
    compress_store(planted_store, once, CompressConfig(method="int8"))
    with pytest.raises(ConfigError, match="already compressed"):
        compress_store(once, tmp_path / "twice.h5", CompressConfig(method="pq"))


# --- command line -----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_compress_command(tmp_path: Path, planted_store: Path) -> None:
    target = tmp_path / "pq.h5"
    code, out, err = run(
        "compress", str(planted_store), str(target), "--method", "pq", "--codebooks", "8",
        "--codewords", "32", "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["encoding"] == {
        "encoding": "pq", "codebooks": 8, "codewords": 32, "bytes_per_row": 8, "rotated": True,
        "pruned": False,
    }  # fmt: skip
    assert report["matrix_ratio"] > 2 and report["target_bytes"] == target.stat().st_size
    assert 0 < report["relative_error"] < 1 and report["mean_cosine"] > 0.5
    code, out, _ = run("query", str(target), "hello", "--similar", "1", "--json")
    assert code == 0 and "hi" in out
    code, out, _ = run("info", str(target), "--json")
    assert json.loads(out)["vector_encoding"] == "pq"
    code, out, err = run("compress", str(planted_store), str(tmp_path / "p.h5"), "--method",
                         "prune", "--keep", "100")  # fmt: skip
    assert code == 0, err
    assert "ratio" in out and "neighbour recall" in out


def test_compress_command_errors(tmp_path: Path, planted_store: Path) -> None:
    target = tmp_path / "x.h5"
    code, _, err = run("compress", str(planted_store), str(target), "--method", "prune")
    assert code == 1 and "needs keep" in err
    code, _, err = run("compress", str(planted_store), str(target), "--codebooks", "64")
    assert code == 1 and "64 codebooks for 32 dimensions" in err
    code, _, err = run("compress", str(planted_store), str(target), "--codewords", "1")
    assert code == 2 and "--codewords" in err
    code, _, err = run("compress", str(tmp_path / "none.h5"), str(target))
    assert code == 1 and "none.h5: no such file" in err
    assert not target.exists()
    code, out, _ = run("compress", "--help")
    assert code == 0 and "--keep" in out


def test_compress_command_oov_index_modes(tmp_path: Path, planted_store: Path) -> None:
    """--oov-index derived|stored|none (a bare --oov-index: stored; --no-oov-index: none);
    the query of an unknown word then answers alike from the stored and the derived index."""
    outputs = {}
    for flags in (["--oov-index", "derived"], ["--oov-index"], ["--no-oov-index"], []):
        name = "-".join(flags) or "default"
        target = tmp_path / f"{name}.h5"
        code, out, err = run(
            "compress", str(planted_store), str(target), "--method", "int8", *flags, "--json"
        )
        assert code == 0, err
        mode = json.loads(out)["oov_index"]
        code, info, err = run("info", str(target), "--json")
        assert code == 0, err
        assert json.loads(info)["oov_index"] == mode
        code, out, err = run("query", str(target), "helo", "--similar", "2", "--json")
        assert code == 0, err
        outputs[name] = (mode, json.loads(out)["words"][0])
    assert outputs["--oov-index-derived"][0] == "derived"
    assert outputs["--oov-index"][0] == "stored"
    assert outputs["--no-oov-index"][0] == "none"
    assert outputs["default"][0] == "derived"
    derived, stored = outputs["--oov-index-derived"][1], outputs["--oov-index"][1]
    assert derived["oov"] is True and derived == stored
    assert derived["similar"][0]["word"] == "hello"
    assert outputs["--no-oov-index"][1]["similar"] != stored["similar"]
    code, out, _ = run("info", str(tmp_path / "--oov-index-derived.h5"))
    assert "index rebuilt from the words on first use" in out
    code, _, err = run("compress", str(planted_store), str(tmp_path / "x.h5"), "--oov-index",
                       "derived", "--no-oov-index")  # fmt: skip
    assert code == 2 and "contradicts" in err
    code, _, err = run("compress", str(planted_store), str(tmp_path / "x.h5"), "--oov-index",
                       "maybe")  # fmt: skip
    assert code == 2 and "maybe" in err


def test_cli_oov_index_choices_match_the_library() -> None:
    from wordvec.cli import compress as command
    from wordvec.compress import DEFAULT_OOV_INDEX
    from wordvec.formats.store import OOV_INDEX_MODES, oov_index_mode

    assert command.OOV_INDEX_CHOICES == OOV_INDEX_MODES
    assert command.DEFAULT_OOV_INDEX == DEFAULT_OOV_INDEX
    assert [oov_index_mode(v) for v in (True, False, "derived")] == ["stored", "none", "derived"]
    with pytest.raises(ConfigError, match="oov_index must be one of"):
        oov_index_mode("sometimes")
