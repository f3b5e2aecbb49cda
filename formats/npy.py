"""NumPy ``.npy`` matrices with their words in a ``.words`` file beside them.

Layout: ``NAME.npy`` holds a 2-d float16, float32 or float64 matrix (C or Fortran order, any byte
order) whose row ``i`` is the vector of word ``i``; ``NAME.words`` holds the words in row order,
UTF-8, one per line, each line ending in ``\\n`` (the reader also accepts ``\\r\\n``). Nothing
else is stored: no counts, no subword buckets. Because a line ends at a line break, a word
containing ``\\n`` or ``\\r`` cannot be written.

The matrix is memory-mapped and streamed block by block; pickled (object) arrays are never loaded.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib import format as npy_format
from numpy.typing import NDArray

from wordvec.errors import ConfigError, FormatError
from wordvec.formats.base import (
    BLOCK_ROWS,
    DuplicateFilter,
    VectorSource,
    WordBlock,
    atomic_output,
    check_finite,
    check_limit,
)
from wordvec.progress import Progress
from wordvec.textio import check_unicode_errors
from wordvec.types import VECTOR_DTYPES

WORDS_SUFFIX = ".words"
_FLOAT_SIZES = (2, 4, 8)


def words_path_for(path: str | os.PathLike[str]) -> str:
    """Where the words of the matrix at ``path`` live: ``NAME.words`` for ``NAME.npy`` (and
    ``PATH.words`` for a path without the ``.npy`` extension)."""
    path = os.fspath(path)
    root, extension = os.path.splitext(path)
    return (root if extension.lower() == ".npy" else path) + WORDS_SUFFIX


# --- reading ----------------------------------------------------------------------------------


def read_npy(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """Stream the vectors of ``NAME.npy`` with the words of ``NAME.words``.

    ``limit`` reads only the first ``limit`` rows. Words are decoded as UTF-8 with
    ``unicode_errors`` (``"strict"`` raises naming the line, ``"replace"`` substitutes U+FFFD).
    A repeated word keeps its first row (:class:`~wordvec.formats.base.DuplicateFilter`), so
    ``n_words`` counts the rows actually yielded. Records in errors are 0-based matrix rows;
    lines are 1-based lines of the words file. Counts are ``None``.

    Raises :class:`FormatError` if the matrix is missing, truncated, not a 2-d float matrix
    (object arrays included), or holds NaN/infinity, and if the words file is missing, holds
    invalid UTF-8 or has more or fewer lines than the matrix has rows.
    """
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FormatError(path, "no such file")
    n_rows, dim, stored_dtype = _read_matrix_header(path)
    words_path = words_path_for(path)
    n_read = n_rows if limit is None else min(n_rows, limit)
    words = _read_words(path, words_path, n_rows, n_read, unicode_errors)

    duplicates = DuplicateFilter(path)
    keep = duplicates.keep(words, 0)
    duplicates.report()
    n_words = n_read - len(duplicates.dropped)

    matrix: list[NDArray[Any]] = []  # emptied by close(), which drops the memory map
    if n_read:
        try:
            matrix.append(np.load(path, mmap_mode="r", allow_pickle=False))
        except (ValueError, OSError) as exc:
            raise FormatError(path, f"cannot map the matrix: {exc}") from exc

    def blocks() -> Iterator[WordBlock]:
        for start in range(0, n_read, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, n_read)
            if not matrix:
                raise ValueError(f"{path}: the source was closed")
            vectors = _as_float32(path, matrix[0][start:stop], start)
            block_words = words[start:stop]
            if keep is not None:
                block_keep = keep[start:stop]
                vectors = vectors[block_keep]
                block_words = [
                    w for w, k in zip(block_words, block_keep.tolist(), strict=True) if k
                ]
            yield WordBlock(block_words, vectors)

    metadata = {
        "source": path,
        "source_format": "npy",
        "words_file": words_path,
        "stored_dtype": stored_dtype.name,
    }
    return VectorSource(path, dim, n_words, blocks(), None, metadata, matrix.clear)


def _read_matrix_header(path: str) -> tuple[int, int, np.dtype[Any]]:
    """Rows, columns and dtype of the matrix, after checking it is a complete 2-d float array."""
    try:
        with open(path, "rb") as f:
            version = npy_format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(f)
            else:
                raise FormatError(
                    path, f"unsupported .npy format version {version[0]}.{version[1]}"
                )
            data_offset = f.tell()
    except ValueError as exc:
        raise FormatError(path, f"not a valid .npy file ({exc})") from exc
    if dtype.hasobject:
        raise FormatError(
            path, "the matrix is an object array (pickled Python objects are never loaded)"
        )
    if dtype.kind != "f" or dtype.itemsize not in _FLOAT_SIZES:
        raise FormatError(
            path, f"the matrix has dtype {dtype} (expected float16, float32 or float64)"
        )
    if len(shape) != 2:
        raise FormatError(
            path,
            f"the matrix has {len(shape)} dimension(s), shape {shape} (expected a 2-d matrix: "
            "one row per word)",
        )
    n_rows, dim = (int(n) for n in shape)
    if dim < 1:
        raise FormatError(path, f"the matrix has shape {shape}: vectors need at least one value")
    expected = data_offset + n_rows * dim * dtype.itemsize
    size = os.path.getsize(path)
    if size < expected:
        raise FormatError(
            path,
            f"truncated: the header promises {n_rows} x {dim} {dtype} values ({expected} bytes) "
            f"but the file has {size} bytes",
        )
    return n_rows, dim, dtype


def _read_words(
    path: str, words_path: str, n_rows: int, n_read: int, unicode_errors: str
) -> list[str]:
    """The first ``n_read`` words, after checking the file has exactly ``n_rows`` lines."""
    if not os.path.isfile(words_path):
        raise FormatError(
            path,
            f"words file not found: expected {words_path} beside the matrix (one word per line)",
        )
    with open(words_path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines[-1] == b"":  # the terminator of the last line (or an empty file)
        lines.pop()
    if len(lines) != n_rows:
        raise FormatError(
            words_path,
            f"the words file has {len(lines)} line(s) but the matrix {path} has {n_rows} row(s) "
            "(expected one word per row)",
        )
    head = b"\n".join(lines[:n_read])
    try:
        text = head.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError as exc:
        raise FormatError(
            words_path,
            f"invalid UTF-8 byte 0x{head[exc.start]:02x} (pass unicode_errors='replace' to "
            "substitute U+FFFD)",
            line=head.count(b"\n", 0, exc.start) + 1,
        ) from None
    if not n_read:
        return []
    words = text.split("\n")
    if "\r" in text:  # a words file saved with Windows line endings
        words = [w[:-1] if w.endswith("\r") else w for w in words]
    return words


def _as_float32(path: str, rows: NDArray[Any], first_row: int) -> NDArray[np.float32]:
    """Rows converted to C-ordered float32, refusing NaN, infinity and float64 overflow."""
    with np.errstate(over="ignore"):
        vectors = np.ascontiguousarray(rows, dtype=np.float32)
    if rows.dtype.itemsize > 4 and not np.isfinite(vectors).all():
        overflow = np.isfinite(rows).all(axis=1) & ~np.isfinite(vectors).all(axis=1)
        if overflow.any():
            raise FormatError(
                path,
                "value too large for float32 (beyond ±3.4e38)",
                record=first_row + int(np.flatnonzero(overflow)[0]),
            )
    check_finite(path, vectors, first_row, line_based=False)
    return vectors


# --- writing ----------------------------------------------------------------------------------


def write_npy(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Write ``source`` as ``NAME.npy`` (C-order ``dtype`` matrix, ``float32`` or ``float16``)
    plus ``NAME.words``; return the number of rows written. Counts and subwords are dropped.

    Rows stream straight to disk: the header is written with the announced number of rows (or
    0), then rewritten in place with the real number at the end; NumPy pads every header so
    that the row count can grow without moving the data. Both files are written under
    temporary names in the target folder and renamed at the end, words first; if the matrix's
    rename then fails, the new words file is removed again, so the folder never pairs a new
    words file with an old matrix (an old ``NAME.words`` being replaced is lost in that case,
    which the reader reports as a missing words file). On any other error nothing is left.

    Raises :class:`ConfigError` for another ``dtype``, a block that does not match the source's
    dimension, NaN/infinity or values beyond float16's range; :class:`FormatError` for a word
    that a one-word-per-line UTF-8 file cannot hold (a line break, a lone surrogate).
    """
    if dtype not in VECTOR_DTYPES:
        raise ConfigError(f"npy dtype must be one of {', '.join(VECTOR_DTYPES)} (got {dtype!r})")
    stored = np.dtype(dtype).newbyteorder("<")
    npy_path = os.fspath(path)
    words_path = words_path_for(npy_path)
    with source, Progress("writing", total=source.n_words, unit="rows", enabled=progress) as bar:
        renamed_words: tuple[int, int] | None = None
        try:
            with atomic_output(npy_path) as npy_tmp, atomic_output(words_path) as words_tmp:
                rows = _write_files(npy_tmp, words_tmp, words_path, source, stored, bar)
                status = os.stat(words_tmp)
                renamed_words = (status.st_dev, status.st_ino)
        except BaseException:
            # Set only once both files are complete: the words rename may have succeeded.
            if renamed_words is not None:
                _remove_if_same(words_path, renamed_words)
            raise
    return rows


def _write_files(
    npy_tmp: str,
    words_tmp: str,
    words_path: str,
    source: VectorSource,
    stored: np.dtype[Any],
    bar: Progress,
) -> int:
    dim = source.dim
    if dim < 1:
        raise ConfigError(f"vectors need at least one dimension (got dim={dim})")
    provisional = _npy_header(source.n_words or 0, dim, stored)
    rows = 0
    with open(npy_tmp, "wb") as npy_file, open(words_tmp, "wb") as words_file:
        npy_file.write(provisional)
        for block in source.blocks:
            vectors = _check_block(block, dim, stored, rows)
            words_file.write(_encode_words(block.words, words_path, rows))
            npy_file.write(vectors.tobytes())
            rows += len(block.words)
            bar.update(len(block.words))
        final = _npy_header(rows, dim, stored)
        if len(final) == len(provisional):
            npy_file.seek(0)
            npy_file.write(final)
    if len(final) != len(provisional):
        _replace_header(npy_tmp, len(provisional), final)
    return rows


def _npy_header(rows: int, dim: int, dtype: np.dtype[Any]) -> bytes:
    header = io.BytesIO()
    npy_format.write_array_header_1_0(
        header,
        {"descr": npy_format.dtype_to_descr(dtype), "fortran_order": False, "shape": (rows, dim)},
    )
    return header.getvalue()


def _replace_header(npy_tmp: str, old_length: int, header: bytes) -> None:
    """Copy the data behind a header of a new length (only for a NumPy that does not pad
    headers for growth; current ones always let :func:`_write_files` rewrite in place)."""
    handle, copy = tempfile.mkstemp(suffix=".tmp", dir=os.path.dirname(os.path.abspath(npy_tmp)))
    try:
        with os.fdopen(handle, "wb") as out, open(npy_tmp, "rb") as data:
            out.write(header)
            data.seek(old_length)
            shutil.copyfileobj(data, out, 1 << 24)
        os.replace(copy, npy_tmp)
    finally:
        if os.path.exists(copy):
            os.remove(copy)


def _check_block(block: WordBlock, dim: int, stored: np.dtype[Any], first_row: int) -> NDArray[Any]:
    vectors = np.asarray(block.vectors)
    if vectors.shape != (len(block.words), dim):
        raise ConfigError(
            f"a block of {len(block.words)} words has vectors of shape {vectors.shape} "
            f"(expected ({len(block.words)}, {dim})) at row {first_row}"
        )
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(vectors, dtype=stored)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        word = block.words[bad]
        if np.isfinite(vectors[bad]).all():
            raise ConfigError(
                f"vector of {word!r} (row {first_row + bad}) exceeds the float16 range "
                "(±65504); write float32"
            )
        raise ConfigError(f"vector of {word!r} (row {first_row + bad}) has a NaN or infinite value")
    return out


def _encode_words(words: list[str], words_path: str, first_row: int) -> bytes:
    text = "\n".join(words)
    if "\r" in text or text.count("\n") != len(words) - 1:
        row = next(i for i, w in enumerate(words) if "\n" in w or "\r" in w)
        raise FormatError(
            words_path,
            f"word {words[row]!r} contains a line break; a .words file holds one word per line "
            "and cannot store it",
            record=first_row + row,
        )
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        row = next(i for i, w in enumerate(words) if not _encodable(w))
        raise FormatError(
            words_path,
            f"word {words[row]!r} cannot be encoded as UTF-8 (it holds a lone surrogate)",
            record=first_row + row,
        ) from None
    return data + b"\n" if words else b""


def _encodable(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _remove_if_same(path: str, identity: tuple[int, int]) -> None:
    """Remove ``path`` if it is still the file we renamed there (same device and inode)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    if (status.st_dev, status.st_ino) == identity:
        os.remove(path)
