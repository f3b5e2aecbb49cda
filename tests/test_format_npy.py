""".npy matrix + .words file: round trips, streaming headers, every refusal with its message, and
no stray files after a failed write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError
from wordvec.formats import npy
from wordvec.formats.base import (
    BLOCK_ROWS,
    DuplicateWordWarning,
    VectorSource,
    WordBlock,
    read_embeddings,
    source_from_embeddings,
)
from wordvec.formats.npy import read_npy, words_path_for, write_npy
from wordvec.formats.registry import detect_format, get_format

from .conftest import make_embeddings

WORDS = ["hello", "naïve", "日本語", "with space", "tab\there", "", "Straße"]


def _write_pair(folder: Path, matrix: np.ndarray, words: list[str] | bytes) -> Path:
    path = folder / "m.npy"
    np.save(path, matrix, allow_pickle=True)
    data = words if isinstance(words, bytes) else "".join(w + "\n" for w in words).encode()
    (folder / "m.words").write_bytes(data)
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _matrix(n: int, dim: int = 4, dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(n).standard_normal((n, dim)).astype(dtype)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_round_trip(dtype: str, tmp_path: Path) -> None:
    planted = make_embeddings(n_filler=60, dim=8)
    path = tmp_path / "planted.npy"
    assert write_npy(path, source_from_embeddings(planted), dtype=dtype) == len(planted)
    assert _listing(tmp_path) == ["planted.npy", "planted.words"]
    matrix = np.load(path, allow_pickle=False)
    assert matrix.dtype == np.dtype(dtype) and matrix.flags.c_contiguous
    np.testing.assert_array_equal(matrix, planted.vectors.astype(dtype))
    words = (tmp_path / "planted.words").read_bytes()
    assert words == "".join(w + "\n" for w in planted.vocab.words).encode()
    assert detect_format(path) == "npy"

    back = read_embeddings(read_npy(path))
    assert back.vocab.words == planted.vocab.words and back.vocab.counts is None
    assert back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors, planted.vectors.astype(dtype).astype(np.float32))
    assert back.metadata == {
        "source": str(path),
        "source_format": "npy",
        "words_file": str(tmp_path / "planted.words"),
        "stored_dtype": dtype,
    }


def test_unusual_words_round_trip(tmp_path: Path) -> None:
    vectors = _matrix(len(WORDS))
    embeddings = Embeddings.from_words(WORDS, vectors)
    write_npy(tmp_path / "w.npy", source_from_embeddings(embeddings))
    back = read_embeddings(read_npy(tmp_path / "w.npy"))
    assert list(back.vocab.words) == WORDS
    np.testing.assert_array_equal(back.vectors, vectors)


def test_streamed_sources_get_the_real_row_count(tmp_path: Path) -> None:
    rows = [_matrix(BLOCK_ROWS), _matrix(5)]

    def blocks() -> Iterator[WordBlock]:
        start = 0
        for matrix in rows:
            yield WordBlock([f"w{start + i}" for i in range(len(matrix))], matrix)
            start += len(matrix)

    # Unknown length, and a length announced wrongly (as a reader dropping duplicates might).
    for announced in (None, 10, 10**9):
        path = tmp_path / f"s{announced}.npy"
        assert write_npy(path, VectorSource("<gen>", 4, announced, blocks())) == BLOCK_ROWS + 5
        np.testing.assert_array_equal(np.load(path), np.concatenate(rows))
        source = read_npy(path)
        assert source.n_words == BLOCK_ROWS + 5
        blocks_read = list(source.blocks)
        assert [len(b.words) for b in blocks_read] == [BLOCK_ROWS, 5]
        assert blocks_read[1].words[-1] == f"w{BLOCK_ROWS + 4}"


def test_header_of_another_length_moves_the_data(tmp_path: Path) -> None:
    # Only a NumPy without growth padding in headers takes this path; exercise it directly.
    matrix = _matrix(3)
    path = tmp_path / "m.npy"
    np.save(path, matrix)
    header = path.read_bytes()[:128]
    length = int.from_bytes(header[8:10], "little")
    longer = header[:8] + (length + 64).to_bytes(2, "little") + header[10:-1] + b" " * 64 + b"\n"
    npy._replace_header(str(path), 128, longer)
    assert len(path.read_bytes()) == 192 + matrix.nbytes
    np.testing.assert_array_equal(np.load(path), matrix)
    assert _listing(tmp_path) == ["m.npy"]


def test_empty_matrix(tmp_path: Path) -> None:
    write_npy(tmp_path / "e.npy", VectorSource("<empty>", 3, 0, iter([])))
    assert (tmp_path / "e.words").read_bytes() == b""
    source = read_npy(tmp_path / "e.npy")
    assert (source.n_words, source.dim, list(source.blocks)) == (0, 3, [])


# --- reading what others wrote -------------------------------------------------------------


def test_fortran_order_big_endian_and_float64(tmp_path: Path) -> None:
    matrix = _matrix(20, 5, "float64")
    for variant in (np.asfortranarray(matrix), matrix.astype(">f8"), matrix.astype(np.float16)):
        path = _write_pair(tmp_path, variant, [f"w{i}" for i in range(20)])
        back = read_embeddings(read_npy(path))
        np.testing.assert_array_equal(back.vectors, variant.astype(np.float32))
        assert back.vectors.flags.c_contiguous


def test_words_file_line_endings(tmp_path: Path) -> None:
    matrix = _matrix(3)
    for data in (b"a\nb\nc", b"a\r\nb\r\nc\r\n"):  # no final newline; Windows line endings
        path = _write_pair(tmp_path, matrix, data)
        assert read_embeddings(read_npy(path)).vocab.words == ("a", "b", "c")


def test_limit(tmp_path: Path) -> None:
    matrix = _matrix(10)
    # Invalid UTF-8 past the limit is never decoded.
    path = _write_pair(tmp_path, matrix, b"".join(b"w%d\n" % i for i in range(9)) + b"\xff\n")
    back = read_embeddings(read_npy(path, limit=3))
    assert back.vocab.words == ("w0", "w1", "w2")
    np.testing.assert_array_equal(back.vectors, matrix[:3])
    with pytest.raises(ConfigError, match="limit"):
        read_npy(path, limit=0)
    with pytest.raises(ConfigError, match="unicode_errors"):
        read_npy(path, unicode_errors="ignore")


def test_duplicates_keep_the_first(tmp_path: Path) -> None:
    matrix = _matrix(4)
    path = _write_pair(tmp_path, matrix, ["a", "b", "a", "c"])
    with pytest.warns(DuplicateWordWarning, match=r"1 duplicate word\(s\).*'a' \(record 2\)"):
        source = read_npy(path)
    assert source.n_words == 3
    back = read_embeddings(source)
    assert back.vocab.words == ("a", "b", "c")
    np.testing.assert_array_equal(back.vectors, matrix[[0, 1, 3]])


def test_invalid_utf8(tmp_path: Path) -> None:
    path = _write_pair(tmp_path, _matrix(3), b"ok\nbad\xff\xfeword\nfine\n")
    with pytest.raises(FormatError, match=r"m\.words, line 2: invalid UTF-8 byte 0xff"):
        read_npy(path)
    words = read_embeddings(read_npy(path, unicode_errors="replace")).vocab.words
    assert words == ("ok", "bad\ufffd\ufffdword", "fine")


@pytest.mark.parametrize(
    ("matrix", "problem"),
    [
        (np.zeros(5, dtype=np.float32), r"1 dimension\(s\), shape \(5,\)"),
        (np.zeros((2, 3, 4), dtype=np.float32), r"3 dimension\(s\), shape \(2, 3, 4\)"),
        (np.zeros((5, 4), dtype=np.int64), "dtype int64 .expected float16, float32 or float64"),
        (np.zeros((5, 4), dtype=np.complex64), "dtype complex64"),
        (np.zeros((5, 4), dtype=np.longdouble), "dtype float128"),
        (np.array([[1.0, None]] * 5, dtype=object), "object array"),
        (np.zeros((5, 0), dtype=np.float32), "at least one value"),
    ],
)
def test_matrices_that_are_not_word_vectors(
    matrix: np.ndarray, problem: str, tmp_path: Path
) -> None:
    if matrix.dtype == np.longdouble and np.dtype(np.longdouble).itemsize != 16:
        pytest.skip("long double is float64 here")
    path = _write_pair(tmp_path, matrix, [f"w{i}" for i in range(5)])
    with pytest.raises(FormatError, match=problem) as info:
        read_npy(path)
    assert str(path) in str(info.value)


def test_damaged_matrices(tmp_path: Path) -> None:
    path = _write_pair(tmp_path, _matrix(50), [f"w{i}" for i in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(FormatError, match=r"truncated: the header promises 50 x 4 float32"):
        read_npy(path)
    path.write_bytes(data[:40])
    with pytest.raises(FormatError, match=r"not a valid \.npy file"):
        read_npy(path)
    path.write_bytes(b"hello 0.1 0.2\n")
    with pytest.raises(FormatError, match=r"not a valid \.npy file"):
        read_npy(path)
    with pytest.raises(FormatError, match="no such file"):
        read_npy(tmp_path / "missing.npy")


def test_words_file_missing_or_of_the_wrong_length(tmp_path: Path) -> None:
    path = _write_pair(tmp_path, _matrix(3), ["a", "b", "c"])
    for words, lines in ((["a", "b"], 2), (["a", "b", "c", "d"], 4), (["a", "b", "c", ""], 4)):
        (tmp_path / "m.words").write_text("".join(w + "\n" for w in words))
        with pytest.raises(
            FormatError, match=rf"has {lines} line\(s\) but the matrix .* has 3 row"
        ):
            read_npy(path)
    (tmp_path / "m.words").unlink()
    with pytest.raises(FormatError, match="words file not found") as info:
        read_npy(path)
    assert str(tmp_path / "m.words") in str(info.value)


def test_non_finite_values_name_the_row(tmp_path: Path) -> None:
    matrix = _matrix(BLOCK_ROWS + 10, 3, "float64")
    matrix[BLOCK_ROWS + 7, 1] = np.inf
    path = _write_pair(tmp_path, matrix, [f"w{i}" for i in range(len(matrix))])
    with pytest.raises(FormatError, match=rf"record {BLOCK_ROWS + 7}: NaN or infinite"):
        read_embeddings(read_npy(path))
    matrix[BLOCK_ROWS + 7, 1] = np.nan
    np.save(path, matrix)
    with pytest.raises(FormatError, match=rf"record {BLOCK_ROWS + 7}: NaN or infinite"):
        read_embeddings(read_npy(path))
    matrix[BLOCK_ROWS + 7, 1] = 1e300
    np.save(path, matrix)
    with pytest.raises(FormatError, match=rf"record {BLOCK_ROWS + 7}: value too large"):
        read_embeddings(read_npy(path))


def test_closed_source_stops_reading(tmp_path: Path) -> None:
    path = _write_pair(tmp_path, _matrix(BLOCK_ROWS + 1), [f"w{i}" for i in range(BLOCK_ROWS + 1)])
    source = read_npy(path)
    blocks = iter(source.blocks)
    next(blocks)
    source.close()
    with pytest.raises(ValueError, match="closed"):
        next(blocks)


# --- failed writes ------------------------------------------------------------------------------


def _source(words: list[str], vectors: np.ndarray | None = None) -> VectorSource:
    matrix = _matrix(len(words)) if vectors is None else vectors
    return VectorSource("<test>", matrix.shape[1], len(words), iter([WordBlock(words, matrix)]))


def _failing_source() -> VectorSource:
    def blocks() -> Iterator[WordBlock]:
        yield WordBlock(["a", "b"], _matrix(2))
        raise OSError("disk went away")

    return VectorSource("<failing>", 4, None, blocks())


def test_failed_writes_leave_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.npy"
    nan = _matrix(2)
    nan[1, 0] = np.nan
    cases: list[tuple[VectorSource, str, type[Exception], str]] = [
        (_source(["a", "two\nlines"]), "float32", FormatError, r"record 1: word 'two\\nlines'"),
        (_source(["a", "b", "cr\r"]), "float32", FormatError, r"record 2: .* line break"),
        (_source(["a", "\udcff"]), "float32", FormatError, "lone surrogate"),
        (_source(["a", "b"], nan), "float32", ConfigError, r"'b' \(row 1\) has a NaN"),
        (_source(["a"], np.full((1, 4), 1e5)), "float16", ConfigError, "float16 range"),
        (_source(["a"], np.zeros((1, 4))), "float64", ConfigError, "dtype must be one of"),
        (_failing_source(), "float32", OSError, "disk went away"),
    ]
    for source, dtype, error, message in cases:
        with pytest.raises(error, match=message):
            write_npy(target, source, dtype=dtype)
        assert _listing(tmp_path) == [], message
    with pytest.raises(FormatError, match="folder does not exist"):
        write_npy(tmp_path / "nowhere" / "out.npy", _source(["a"]))


def test_failed_write_keeps_the_previous_pair(tmp_path: Path) -> None:
    target = tmp_path / "out.npy"
    write_npy(target, _source(["a", "b"]))
    before = target.read_bytes(), (tmp_path / "out.words").read_bytes()
    with pytest.raises(OSError, match="disk went away"):
        write_npy(target, _failing_source())
    assert (target.read_bytes(), (tmp_path / "out.words").read_bytes()) == before
    assert _listing(tmp_path) == ["out.npy", "out.words"]


def test_words_renamed_before_a_failing_matrix_rename_are_removed(tmp_path: Path) -> None:
    # A directory where the matrix should go: its rename fails after the words file's succeeded.
    (tmp_path / "out.npy").mkdir()
    with pytest.raises(OSError):
        write_npy(tmp_path / "out.npy", _source(["a", "b"]))
    assert _listing(tmp_path) == ["out.npy"]
    assert os.listdir(tmp_path / "out.npy") == []


def test_words_path_and_registry() -> None:
    assert words_path_for("a/b.npy") == "a/b.words"
    assert words_path_for("a/b.NPY") == "a/b.words"
    assert words_path_for("a/b") == "a/b.words"
    assert words_path_for(Path("x.vectors.npy")) == "x.vectors.words"
    spec = get_format("npy")
    assert spec.load_reader() is read_npy and spec.load_writer() is write_npy
