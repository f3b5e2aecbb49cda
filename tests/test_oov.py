from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wordvec
from wordvec.embeddings import Embeddings, SubwordTable
from wordvec.formats.store import write_store
from wordvec.oov import hashed_random_vector


def test_typo_lands_next_to_its_source(planted_store: Path) -> None:
    with wordvec.load(str(planted_store)) as v:
        assert v.is_oov("helo") and not v.is_oov("hello")
        assert v.oov_neighbours("helo")[0][0] == "hello"
        top = v.most_similar(v["helo"], topn=3)
        assert top[0][0] == "hello"
        assert v.similarity("helo", "hello") > 0.6
        # A morphological variant too.
        assert v.most_similar(v["hellos"], topn=1)[0][0] == "hello"
        # The fallback vector has the scale of real vectors.
        assert 0.5 < np.linalg.norm(v["helo"]) / np.linalg.norm(v["hello"]) < 2


def test_unrelated_oov_words_differ_and_similar_ones_agree(planted_store: Path) -> None:
    with wordvec.load(str(planted_store)) as v:
        a, b, c = v["qqqqqqqqq"], v["qqqqqqqqz"], v["0123456789"]
        cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
        assert cos(a, b) > cos(a, c) + 0.2
        assert not np.array_equal(a, c)


def test_oov_is_deterministic_across_processes(planted_store: Path) -> None:
    code = (
        "import sys, wordvec; v = wordvec.load(sys.argv[1]); "
        "sys.stdout.write(v['helo'].tobytes().hex() + ' ' + v['zzxq'].tobytes().hex())"
    )
    env = {"PYTHONHASHSEED": "123"}
    import os

    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, str(planted_store)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    with wordvec.load(str(planted_store)) as v:
        here = v["helo"].tobytes().hex() + " " + v["zzxq"].tobytes().hex()
    assert outputs == {here}


def test_hashed_random_vector_is_pinned() -> None:
    # Pinned values: a change here changes every OOV vector of every existing store.
    vec = hashed_random_vector(np.array([1, 2**32 - 1], dtype=np.uint32), 4)
    np.testing.assert_allclose(np.linalg.norm(vec), 1.0, rtol=1e-6)
    again = hashed_random_vector(np.array([1, 2**32 - 1], dtype=np.uint32), 4)
    assert np.array_equal(vec, again)


@pytest.mark.parametrize("policy", ["error", "zeros"])
def test_policies(planted_store: Path, policy: str) -> None:
    with wordvec.load(str(planted_store), oov=policy) as v:
        if policy == "error":
            with pytest.raises(KeyError, match="helo"):
                v["helo"]
        else:
            assert not v["helo"].any()
        assert v["hello"].any()


def test_subword_fallback_equals_fasttext(tmp_path: Path) -> None:
    """On a real fastText model (shipped with gensim), OOV vectors equal gensim's fastText ones."""
    from gensim.models.fasttext import load_facebook_vectors
    from gensim.test.utils import datapath

    kv = load_facebook_vectors(datapath("lee_fasttext.bin"))
    emb = Embeddings.from_words(
        list(kv.index_to_key),
        kv.vectors,
        subwords=SubwordTable(kv.vectors_ngrams, kv.min_n, kv.max_n),
    )
    path = tmp_path / "ft.h5"
    write_store(path, emb)
    with wordvec.load(str(path)) as v:
        for word in ["helo", "governmentt", "naïveté", "日本", "x"]:
            assert word not in kv.key_to_index
            assert v.is_oov(word)
            np.testing.assert_allclose(v[word], kv[word], rtol=1e-5, atol=1e-6)
        for word in kv.index_to_key[:20]:
            assert np.array_equal(v[word], kv[word])


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_edit_similarity_matches_reference() -> None:
    from wordvec.oov import edit_similarity

    rng = np.random.default_rng(4)
    words = ["".join(rng.choice(list("abcé"), size=rng.integers(0, 9))) for _ in range(60)]
    for query in ["", "a", "abcab", "ééa", "helo"]:
        got = edit_similarity(query, words)
        want = [1 - _levenshtein(query, w) / max(len(query), len(w), 1) for w in words]
        np.testing.assert_allclose(got, want)


def test_short_words_inside_the_typo_do_not_win(tmp_path: Path) -> None:
    # "hel" and "elo" share a larger fraction of their n-grams with "helo" than "hello" does;
    # edit similarity still ranks the source word first.
    rng = np.random.default_rng(0)
    words = ["hel", "elo", "lo", "he", "hello", "gbeehelo", "yellow"]
    emb = Embeddings.from_words(words, rng.standard_normal((len(words), 16)).astype(np.float32))
    path = tmp_path / "short.h5"
    write_store(path, emb)
    with wordvec.load(str(path)) as v:
        assert v.oov_neighbours("helo")[0][0] == "hello"
        assert v.most_similar(v["helo"], topn=1)[0][0] == "hello"


def _vocab_arrays(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(w) for w in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


# Real words (the Lee corpus shipped with gensim) plus multi-byte UTF-8, boundary characters
# inside words, and words shorter than the n-grams.
_NON_ASCII = ["héllo", "naïveté", "日本語", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Ωmega", "é", "a", "ab", "x>y", "<a", "ü<>"]


@pytest.fixture(scope="module")
def lee_words() -> list[str]:
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as handle:
        words = sorted(set(handle.read().split()) - set(_NON_ASCII))
    return words + _NON_ASCII


@pytest.mark.parametrize(("min_n", "max_n"), [(3, 5), (1, 1), (1, 4), (2, 6)])
def test_numpy_ngram_pairs_equal_the_kernel(lee_words: list[str], min_n: int, max_n: int) -> None:
    from wordvec.oov import vocab_ngram_pairs
    from wordvec.subword_kernels import vocab_ngram_hashes
    from wordvec.subwords import ngram_hashes

    blob, offsets = _vocab_arrays(lee_words)
    hash_offsets, hashes = vocab_ngram_hashes(blob, offsets, min_n, max_n)
    kernel = np.repeat(np.arange(len(lee_words)), np.diff(hash_offsets))
    word_ids, numpy_hashes = vocab_ngram_pairs(blob, offsets, min_n, max_n)
    assert sorted(zip(kernel.tolist(), hashes.tolist(), strict=True)) == sorted(
        zip(word_ids.tolist(), numpy_hashes.tolist(), strict=True)
    )
    # And the readable reference, word by word, for the unusual words.
    first = len(lee_words) - len(_NON_ASCII)
    for i, word in enumerate(_NON_ASCII, start=first):
        mine = np.sort(numpy_hashes[word_ids == i])
        assert np.array_equal(mine, np.sort(ngram_hashes(word, min_n, max_n))), word


@pytest.mark.parametrize("max_postings", [512, 4, 1])
def test_derived_index_equals_the_stored_one(lee_words: list[str], max_postings: int) -> None:
    from wordvec.oov import build_ngram_index, derive_ngram_index, index_bucket_count

    blob, offsets = _vocab_arrays(lee_words)
    for n_buckets in (index_bucket_count(len(lee_words)), 1000):
        stored = build_ngram_index(
            blob, offsets, n_index_buckets=n_buckets, max_postings=max_postings, compact=True
        )
        derived = derive_ngram_index(
            blob, offsets, min_n=3, max_n=5, n_index_buckets=n_buckets, max_postings=max_postings
        )
        assert stored.keys() == derived.keys()
        for name, array in stored.items():
            assert np.array_equal(array, derived[name]), name
    # The capping rule mattered: some bucket held more words than were kept.
    if max_postings < 512:
        full = derive_ngram_index(
            blob, offsets, min_n=3, max_n=5, n_index_buckets=1000, max_postings=10**9
        )
        assert full["posting_word_ids"].size > stored["posting_word_ids"].size


# --- stores with a derived index ----------------------------------------------------------------

# Unknown words: typos of Lee words, non-ASCII ones, words shorter than the n-grams.
_QUERIES = ["governmnet", "australa", "helicoptre", "hèllo", "naïve", "日本", "𝔘𝔫𝔦",
            "ø", "ж", "qj", "zzxq", "Ωmeg", ""]  # fmt: skip


@pytest.fixture(scope="module")
def lee_stores(lee_words: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Lee vocabulary (with random vectors) written with each way of keeping the index."""
    rng = np.random.default_rng(5)
    emb = Embeddings.from_words(
        lee_words, rng.standard_normal((len(lee_words), 24)).astype(np.float32)
    )
    folder = tmp_path_factory.mktemp("lee")
    paths = {}
    for name, compact, mode in [
        ("classic", False, "stored"),
        ("stored", True, "stored"),
        ("derived", True, "derived"),
        ("derived-classic", False, "derived"),
        ("none", True, "none"),
    ]:
        paths[name] = folder / f"{name}.h5"
        write_store(paths[name], emb, compact=compact, oov_index=mode)
    return paths


def test_derived_index_answers_exactly_as_the_stored_one(lee_stores: dict[str, Path]) -> None:
    from wordvec.formats.store import read_layout

    layouts = {name: read_layout(path) for name, path in lee_stores.items()}
    assert {name: layout.oov_index for name, layout in layouts.items()} == {
        "classic": "stored",
        "stored": "stored",
        "derived": "derived",
        "derived-classic": "derived",
        "none": "none",
    }
    assert layouts["derived"].format_version == 4 and layouts["stored"].format_version == 3
    assert not any(name.startswith("oov_index/") for name in layouts["derived"].arrays)
    with (
        wordvec.load(lee_stores["stored"]) as stored,
        wordvec.load(lee_stores["derived"]) as derived,
        wordvec.load(lee_stores["classic"]) as classic,
        wordvec.load(lee_stores["derived-classic"]) as derived_classic,
    ):
        assert derived._ngram_index is None  # nothing is built before an unknown word
        built, kept = derived.ngram_index, stored.ngram_index
        assert built is not None and kept is not None
        assert built.n_index_buckets == kept.n_index_buckets
        assert kept.bucket_ids is not None and built.bucket_ids is not None
        assert np.array_equal(built.bucket_ids, kept.bucket_ids)
        assert np.array_equal(built.bucket_offsets, kept.bucket_offsets)
        assert np.array_equal(built.posting_word_ids, kept.posting_word_ids)
        for word in _QUERIES:
            assert stored.is_oov(word), word
            buckets = kept.query_buckets(word)[1]
            for a, b in zip(built.candidates(buckets), kept.candidates(buckets), strict=True):
                assert np.array_equal(a, b), word
            assert derived.oov_neighbours(word) == stored.oov_neighbours(word), word
            vector = stored[word]
            assert vector.tobytes() == derived[word].tobytes(), word
            assert vector.tobytes() == classic[word].tobytes(), word
            assert vector.tobytes() == derived_classic[word].tobytes(), word
        assert stored.oov_neighbours("governmnet")[0][0] == "government"
        assert derived.most_similar("governmnet", topn=3) == stored.most_similar(
            "governmnet", topn=3
        )


def test_derived_store_answers_without_numba(lee_stores: dict[str, Path]) -> None:
    code = (
        "import sys, wordvec\n"
        "v = wordvec.load(sys.argv[1])\n"
        "vec = v['governmnet']\n"
        "assert v.layout.oov_index == 'derived' and v.oov_neighbours('governmnet')\n"
        "heavy = [m for m in ('numba', 'scipy', 'gensim') if m in sys.modules]\n"
        "sys.stdout.write(','.join(heavy) + ' ' + vec.tobytes().hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(lee_stores["derived"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    heavy, vector = out.split(" ")
    assert heavy == ""
    with wordvec.load(lee_stores["stored"]) as v:
        assert vector == v["governmnet"].tobytes().hex()


def test_store_without_index_gives_hashed_vectors(lee_stores: dict[str, Path]) -> None:
    from wordvec.subwords import ngram_hashes

    with wordvec.load(lee_stores["none"]) as v:
        assert v.ngram_index is None and v.oov_neighbours("governmnet") == []
        want = hashed_random_vector(ngram_hashes("governmnet", 3, 5), v.dim)
        np.testing.assert_allclose(v["governmnet"], want * v.layout.median_norm, rtol=1e-6)


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("n_buckets", 0, "invalid n-gram index size n_buckets=0"),
        ("n_buckets", 2**33, "invalid n-gram index size"),
        ("n_buckets", "many", "'n_buckets' should be an integer"),
        ("max_postings", 0, "max_postings=0"),
        ("hash", "murmur3", "unknown n-gram index hash 'murmur3'"),
        ("min_n", 0, "invalid n-gram range (0, 5)"),
        ("max_n", 2, "invalid n-gram range (3, 2)"),
        ("derived", 2, "'derived' must be 1"),
        ("min_n", None, "attribute 'min_n' is missing"),
        ("max_postings", None, "attribute 'max_postings' is missing"),
    ],
)
def test_bad_derived_index_attributes_are_refused(
    lee_stores: dict[str, Path], tmp_path: Path, attribute: str, value: object, message: str
) -> None:
    import h5py

    from wordvec.errors import StoreError

    path = tmp_path / "bad-derived.h5"
    path.write_bytes(lee_stores["derived"].read_bytes())
    with h5py.File(path, "r+") as file:
        if value is None:
            del file["oov_index"].attrs[attribute]
        else:
            file["oov_index"].attrs[attribute] = value
    with pytest.raises(StoreError, match=r"bad-derived\.h5") as info:
        wordvec.load(path)
    assert message in str(info.value)


def test_derived_index_needs_format_version_4(lee_stores: dict[str, Path], tmp_path: Path) -> None:
    import h5py

    from wordvec.errors import StoreError

    path = tmp_path / "old.h5"
    path.write_bytes(lee_stores["derived"].read_bytes())
    with h5py.File(path, "r+") as file:
        file.attrs["format_version"] = 3
    with pytest.raises(StoreError, match=r"old\.h5: .*needs format version 4"):
        wordvec.load(path)
    with h5py.File(path, "r+") as file:
        file.attrs["format_version"] = 4
        file["oov_index"].create_dataset("bucket_ids", data=np.zeros(3, dtype="<u4"))
    with pytest.raises(StoreError, match="holds no datasets"):
        wordvec.load(path)


def test_derived_index_equals_the_stored_one_beyond_uint16_ids() -> None:
    """Over 65,536 words the stored index keeps int32 ids; the word ids need 17 key bits."""
    from wordvec.oov import build_ngram_index, derive_ngram_index, index_bucket_count

    rng = np.random.default_rng(9)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéøж日"))
    words = sorted({"".join(rng.choice(letters, size=rng.integers(1, 12))) for _ in range(90_000)})
    assert len(words) > 1 << 16
    blob, offsets = _vocab_arrays(words)
    stored = build_ngram_index(blob, offsets, compact=True)
    derived = derive_ngram_index(
        blob,
        offsets,
        min_n=3,
        max_n=5,
        n_index_buckets=index_bucket_count(len(words)),
        max_postings=512,
    )
    assert stored["posting_word_ids"].dtype == derived["posting_word_ids"].dtype == np.int32
    for name, array in stored.items():
        assert np.array_equal(array, derived[name]), name


def test_numpy_ngram_pairs_of_a_slice_of_the_words(lee_words: list[str]) -> None:
    """Offsets need not start at 0 (a slice of a vocabulary's arrays)."""
    from wordvec.oov import vocab_ngram_pairs

    blob, offsets = _vocab_arrays(lee_words)
    whole_ids, whole = vocab_ngram_pairs(blob, offsets, 3, 5)
    part_ids, part = vocab_ngram_pairs(blob, offsets[100:201], 3, 5)
    inside = (whole_ids >= 100) & (whole_ids <= 199)
    assert sorted(zip((part_ids + 100).tolist(), part.tolist(), strict=True)) == sorted(
        zip(whole_ids[inside].tolist(), whole[inside].tolist(), strict=True)
    )
