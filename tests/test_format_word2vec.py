from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

import wordvec
from wordvec.errors import FormatError
from wordvec.formats import word2vec as word2vec_format
from wordvec.formats.base import DuplicateWordWarning, read_embeddings
from wordvec.formats.convert import convert
from wordvec.formats.registry import detect_format
from wordvec.formats.word2vec import read_glove_text, read_word2vec_binary, read_word2vec_text

TEXT_FILES = ["lee_fasttext.vec", "crime-and-punishment.vec", "high_precision.kv.txt"]
BINARY_FILES = ["euclidean_vectors.bin", "high_precision.kv.bin"]


@pytest.fixture(params=["numpy", "numba"])
def binary_scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with binary records located by the NumPy path and by the Numba kernels."""
    threshold = 1 << 62 if request.param == "numpy" else 0
    monkeypatch.setattr(word2vec_format, "KERNEL_MIN_RECORDS", threshold)
    return str(request.param)


def _same_as_gensim(path: str, reader: object, binary: bool, **gensim_args: object) -> None:
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, **gensim_args)
    emb = read_embeddings(reader(path, unicode_errors=gensim_args.get("unicode_errors", "strict")))  # type: ignore[operator]
    assert list(emb.vocab.words) == list(kv.index_to_key)
    assert emb.vectors.dtype == np.float32
    assert np.array_equal(emb.vectors, kv.vectors)


@pytest.mark.parametrize("name", TEXT_FILES)
def test_text_equals_gensim(name: str) -> None:
    _same_as_gensim(datapath(name), read_word2vec_text, False)
    assert detect_format(datapath(name)) == "word2vec-text"


@pytest.mark.parametrize("name", BINARY_FILES)
def test_binary_equals_gensim(name: str, binary_scanner: str) -> None:
    _same_as_gensim(datapath(name), read_word2vec_binary, True)
    assert detect_format(datapath(name)) == "word2vec-binary"


def test_glove_equals_gensim() -> None:
    _same_as_gensim(datapath("test_glove.txt"), read_glove_text, False, no_header=True)
    assert detect_format(datapath("test_glove.txt")) == "glove"


def test_invalid_utf8_strict_and_replace(tmp_path: Path, binary_scanner: str) -> None:
    # A real file with bytes that are not UTF-8: strict names the line, replace matches gensim.
    name = "pang_lee_polarity_fasttext.vec"
    with pytest.raises(FormatError, match=rf"{name}, line \d+: invalid UTF-8"):
        read_embeddings(read_word2vec_text(datapath(name)))
    _same_as_gensim(datapath(name), read_word2vec_text, False, unicode_errors="replace")
    path = tmp_path / "latin1.bin"
    path.write_bytes(
        b"2 2\nok " + np.ones(2, "<f4").tobytes() + b"caf\xe9 " + np.ones(2, "<f4").tobytes()
    )
    with pytest.raises(FormatError, match=r"latin1\.bin, record 2: invalid UTF-8"):
        read_embeddings(read_word2vec_binary(path))
    _same_as_gensim(str(path), read_word2vec_binary, True, unicode_errors="replace")


def test_numbers_fast_and_slow_paths_match_python(tmp_path: Path) -> None:
    values = [
        "0.1",
        "-0",
        "+1.5e+3",
        ".5",
        "5.",
        "1e-30",
        "3.4028234e38",
        "1.17549435e-38",
        "0.12345678901234567890",
        "123456789012345678",
        "-2.5E-7",
        "7",
        "0.000001",
        "1.0000000000000002",
        "9007199254740993",
        "4.9e-324",
        "1e22",
        "1e23",
    ]
    path = tmp_path / "v.txt"
    path.write_text(f"2 {len(values)}\na {' '.join(values)}\nb {' '.join(reversed(values))}\n")
    emb = read_embeddings(read_word2vec_text(path))
    want = np.array([np.float32(float(v)) for v in values], dtype=np.float32)
    np.testing.assert_array_equal(emb.vectors[0], want)
    np.testing.assert_array_equal(emb.vectors[1], want[::-1])


def test_random_numbers_match_gensim(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n, dim = 300, 20
    words = [f"w{i}" for i in range(n)]
    matrix = (rng.standard_normal((n, dim)) * 10.0 ** rng.integers(-8, 8, (n, dim))).astype(
        np.float32
    )
    kv = KeyedVectors(dim)
    kv.add_vectors(words, matrix)
    for binary in (False, True):
        path = tmp_path / f"v{int(binary)}"
        kv.save_word2vec_format(str(path), binary=binary)
        reader = read_word2vec_binary if binary else read_word2vec_text
        emb = read_embeddings(reader(path))
        assert np.array_equal(emb.vectors, matrix)
    lines = [
        "{} {}".format(w, " ".join(f"{x:.6f}" for x in row))
        for w, row in zip(words, matrix, strict=False)
    ]
    (tmp_path / "c.txt").write_text(
        f"{n} {dim}\n" + " \n".join(lines) + " \n"
    )  # C tool: trailing space
    theirs = KeyedVectors.load_word2vec_format(str(tmp_path / "c.txt"))
    assert np.array_equal(
        read_embeddings(read_word2vec_text(tmp_path / "c.txt")).vectors, theirs.vectors
    )


def test_both_binary_variants(tmp_path: Path, binary_scanner: str) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    words = ["a", "bé", "c"]
    body_c = b"".join(
        w.encode() + b" " + v.tobytes() + b"\n" for w, v in zip(words, vectors, strict=False)
    )
    body_gensim = b"".join(
        w.encode() + b" " + v.tobytes() for w, v in zip(words, vectors, strict=False)
    )
    for body in (body_c, body_gensim):
        path = tmp_path / "v.bin"
        path.write_bytes(b"3 4\n" + body)
        emb = read_embeddings(read_word2vec_binary(path))
        assert list(emb.vocab.words) == words and np.array_equal(emb.vectors, vectors)


def test_round_trip_text_store_binary_text(tmp_path: Path) -> None:
    source = datapath("lee_fasttext.vec")
    convert(source, tmp_path / "a.h5")
    convert(tmp_path / "a.h5", tmp_path / "b.bin")
    convert(tmp_path / "b.bin", tmp_path / "c.vec")
    convert(tmp_path / "c.vec", tmp_path / "d.txt", to_format="glove")
    original = read_embeddings(read_word2vec_text(source))
    for name, reader in (("c.vec", read_word2vec_text), ("d.txt", read_glove_text)):
        back = read_embeddings(reader(tmp_path / name))
        assert back.vocab.words == original.vocab.words
        assert np.array_equal(back.vectors, original.vectors)
    with wordvec.load(str(tmp_path / "a.h5")) as v:
        assert np.array_equal(v.to_embeddings().vectors, original.vectors)
        assert v.metadata["source_format"] == "word2vec-text"


def test_compressed_text_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "v.vec.gz"
    path.write_bytes(gzip.compress(Path(datapath("lee_fasttext.vec")).read_bytes()))
    emb = read_embeddings(read_word2vec_text(path, limit=100))
    kv = KeyedVectors.load_word2vec_format(datapath("lee_fasttext.vec"), limit=100)
    assert list(emb.vocab.words) == kv.index_to_key and np.array_equal(emb.vectors, kv.vectors)


def test_glove_keys_with_spaces(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("the 0.1 0.2\nnew york 0.3 0.4\n. . 0.5 0.6\n")
    emb = read_embeddings(read_glove_text(path))
    assert emb.vocab.words == ("the", "new york", ". .")
    np.testing.assert_array_equal(emb.vectors[1], np.array([0.3, 0.4], dtype=np.float32))


@pytest.mark.parametrize(
    ("content", "reader", "message"),
    [
        (b"", read_word2vec_text, r"line 1: the file is empty"),
        (b"a 1 2\n", read_word2vec_text, r"line 1: expected a header"),
        (b"two 3\na 1 2 3\n", read_word2vec_text, r"line 1: expected a header"),
        (
            b"2 3\na 1 2 3\nb 1 2\n",
            read_word2vec_text,
            r"line 3: expected a word and 3 numbers, found 2",
        ),
        (
            b"2 3\na 1 2 3\nb 1 2 3 4\n",
            read_word2vec_text,
            r"line 3: expected a word and 3 numbers, found 4",
        ),
        (b"2 3\na 1 x 3\nb 1 2 3\n", read_word2vec_text, r"line 2: 'x' is not a number"),
        (b"2 3\na 1 2 3\nb 1 nan 3\n", read_word2vec_text, r"line 3: NaN or infinite"),
        (b"2 3\na 1 2 3\nb 1 inf 3\n", read_word2vec_text, r"line 3: NaN or infinite"),
        (
            b"3 3\na 1 2 3\nb 1 2 3\n",
            read_word2vec_text,
            r"announces 3 words but the file holds only 2",
        ),
        (b"1 3\na 1 2 3\nb 1 2 3\n", read_word2vec_text, r"line 3: more entries than the 1"),
        (b"2 3\na 1 2 3\n\nb 1 2 3\n", read_word2vec_text, r"line 3: empty line"),
        (b"2 3\n\xff\xfe 1 2 3\nb 1 2 3\n", read_word2vec_text, r"line 2: invalid UTF-8"),
        (b"a 1 2\nb 1\n", read_glove_text, r"line 2: expected a word and 2 numbers"),
        (b"\n", read_glove_text, r"line 1: the file is empty"),
        (
            b"2 2\na " + np.ones(2, "<f4").tobytes() + b"b " + np.ones(1, "<f4").tobytes(),
            read_word2vec_binary,
            r"record 2: truncated",
        ),
        (b"3 2\na " + np.ones(2, "<f4").tobytes(), read_word2vec_binary, r"record 2: truncated"),
        (
            b"1 2\na " + np.ones(2, "<f4").tobytes() + b"b " + np.ones(2, "<f4").tobytes(),
            read_word2vec_binary,
            r"more data after the 1 records",
        ),
        (
            b"1 2\na " + np.array([1, np.nan], "<f4").tobytes(),
            read_word2vec_binary,
            r"record 1: NaN",
        ),
        (b"1 2\n" + b"x" * 70000, read_word2vec_binary, r"record 1: no word terminator"),
        (
            b"1 2\n\xff " + np.ones(2, "<f4").tobytes(),
            read_word2vec_binary,
            r"record 1: invalid UTF-8",
        ),
    ],
)
def test_bad_input_errors(
    tmp_path: Path, content: bytes, reader: object, message: str, binary_scanner: str
) -> None:
    path = tmp_path / "bad.vec"
    path.write_bytes(content)
    with pytest.raises(
        FormatError,
        match=rf"bad\.vec, {message}" if message.startswith(("line", "record")) else message,
    ):
        read_embeddings(reader(path))  # type: ignore[operator]


def test_duplicates_keep_first_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "dup.vec"
    path.write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    with pytest.warns(DuplicateWordWarning, match=r"1 duplicate word.*'a' \(record 3\)"):
        emb = read_embeddings(read_word2vec_text(path))
    assert emb.vocab.words == ("a", "b")
    np.testing.assert_array_equal(emb.vectors[0], [1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert(path, tmp_path / "dup.h5")
    with wordvec.load(str(tmp_path / "dup.h5")) as v:
        assert list(v) == ["a", "b"]


def test_failed_conversion_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.vec"
    source.write_text("3 2\na 1 2\nb 3 4\nc 5\n")
    for target in ("out.h5", "out.bin", "out.vec"):
        with pytest.raises(FormatError, match="line 4"):
            convert(source, tmp_path / target)
    assert sorted(os.listdir(tmp_path)) == ["in.vec"]


def test_mutated_files_never_crash(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    originals = {
        "t.vec": Path(datapath("crime-and-punishment.vec")).read_bytes()[:4000],
        "b.bin": Path(datapath("euclidean_vectors.bin")).read_bytes()[:6000],
    }
    for name, original in originals.items():
        reader = read_word2vec_binary if name.endswith(".bin") else read_word2vec_text
        for trial in range(150):
            data = bytearray(original)
            if trial % 3 == 0:
                data = data[: int(rng.integers(0, len(data)))]
            else:
                for pos in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
                    data[pos] = int(rng.integers(0, 256))
            path = tmp_path / name
            path.write_bytes(bytes(data))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DuplicateWordWarning)
                with contextlib.suppress(FormatError):
                    read_embeddings(reader(path))


def _outcome(path: Path, kernels: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(word2vec_format, "KERNEL_MIN_RECORDS", 0 if kernels else 1 << 62)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DuplicateWordWarning)
            emb = read_embeddings(read_word2vec_binary(path))
    except FormatError as exc:
        return str(exc)
    return list(emb.vocab.words), emb.vectors.tobytes()


def test_binary_scanners_agree_on_mutated_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The NumPy and the Numba record scanners must give the same words, vectors or error on
    # any input: plain files (scanned in a memory map) and gzip files read in small chunks
    # (records cut between chunks), in both the C tool's and gensim's layout.
    monkeypatch.setattr(word2vec_format, "CHUNK_BYTES", 100)
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((40, 5)).astype("<f4")
    words = [f"w{i}" * int(rng.integers(1, 4)) for i in range(40)]
    pairs = list(zip(words, vectors, strict=True))
    layouts = [
        b"40 5\n" + b"".join(w.encode() + b" " + v.tobytes() + sep for w, v in pairs)
        for sep in (b"", b"\n")
    ]
    agreed = set()
    for trial in range(120):
        data = bytearray(layouts[trial % 2])
        if trial % 3 == 0:
            data = data[: int(rng.integers(0, len(data)))]
        elif trial % 3 == 1:
            for pos in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
                data[pos] = int(rng.choice([0x20, 0x0A, 0xFF, int(rng.integers(0, 256))]))
        for name in ("m.bin", "m.bin.gz"):
            path = tmp_path / name
            path.write_bytes(gzip.compress(bytes(data)) if name.endswith(".gz") else bytes(data))
            numpy_result = _outcome(path, False, monkeypatch)
            assert numpy_result == _outcome(path, True, monkeypatch), (trial, name)
            agreed.add(type(numpy_result).__name__)
    assert agreed == {"str", "tuple"}  # both errors and successful reads were compared


def test_small_binary_file_is_read_without_numba() -> None:
    # Numba's start-up costs more than scanning a file of fewer than a few million records.
    code = (
        "import sys\n"
        "from gensim.test.utils import datapath\n"
        "from wordvec.formats.base import read_embeddings\n"
        "from wordvec.formats.word2vec import read_word2vec_binary\n"
        "emb = read_embeddings(read_word2vec_binary(datapath('euclidean_vectors.bin')))\n"
        "assert len(emb.vocab) > 0\n"
        "print('numba' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
