"""word2vec text, GloVe text and word2vec binary vector files: streaming readers and writers.

Readers parse a few megabytes at a time (text numbers in a Numba kernel, see
:mod:`wordvec.formats.text_kernels`; binary records located and gathered by NumPy, or for
files of millions of records by :mod:`wordvec.formats.binary_kernels`) and never
hold more than one block of rows. Every malformed record is reported with the file, the line
(text) or record (binary) number and what was expected.
"""

from __future__ import annotations

import io
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
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
from wordvec.textio import check_unicode_errors, open_binary

CHUNK_BYTES = 1 << 22
MAX_HEADER_BYTES = 4096
MAX_WORD_BYTES = 1 << 16
# Binary files with at least this many records are scanned by the Numba kernels, smaller ones
# by NumPy and bytes.find. tests/benchmarks/bench_formats.py measured the NumPy scan faster in
# a fresh process up to 1M records (1.39 against 1.51 CPU s for 1M x 50): the kernels save
# about 0.3 us a record but their first call loads Numba (about 0.5 s).
KERNEL_MIN_RECORDS = 2_000_000
# The scan statuses of binary_kernels (SCAN_*), repeated so the Python path needs no Numba.
_SCAN_DONE, _SCAN_MORE, _SCAN_NO_SPACE, _SCAN_EMPTY_WORD = 0, 1, 2, 3


def _open(path: str | os.PathLike[str]) -> tuple[str, BinaryIO]:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FormatError(path, "no such file")
    return path, open_binary(path)


def _read_header(path: str, stream: BinaryIO) -> tuple[int, int]:
    """Parse the ``count dim`` first line shared by word2vec text and binary files."""
    line = stream.readline(MAX_HEADER_BYTES)
    if not line:
        raise FormatError(path, "the file is empty (expected a 'count dim' header)", line=1)
    fields = line.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields) or not line.endswith(b"\n"):
        shown = line[:60].decode("utf-8", errors="replace").strip()
        raise FormatError(
            path,
            f"expected a header 'count dim' (two non-negative integers), found {shown!r}",
            line=1,
        )
    count, dim = int(fields[0]), int(fields[1])
    if dim < 1:
        raise FormatError(path, f"the header gives dimension {dim} (expected at least 1)", line=1)
    return count, dim


# --- text ---------------------------------------------------------------------------------------


def _slow_parse(
    path: str, line: bytes, line_number: int, dim: int, glove: bool, unicode_errors: str
) -> tuple[str, NDArray[np.float32]]:
    """Exact parse of one line with Python's float conversion, raising the precise error."""
    fields = line.split()
    if glove:
        word_fields, numbers = fields[:-dim], fields[-dim:]
        word_bytes = b" ".join(word_fields)
    else:
        word_bytes, _, rest = line.strip(b"\r\n").partition(b" ")
        numbers = rest.split()
        word_fields = [word_bytes] if word_bytes else []
    if not word_fields or len(numbers) != dim:
        found = len(fields) - (1 if word_fields else 0)
        raise FormatError(
            path,
            f"expected a word and {dim} numbers, found {max(found, 0)} numbers",
            line=line_number,
        )
    try:
        vector = np.array([float(x) for x in numbers], dtype=np.float32)
    except ValueError:
        bad = next(x for x in numbers if not _is_float(x))
        raise FormatError(
            path, f"{bad[:30].decode('utf-8', 'replace')!r} is not a number", line=line_number
        ) from None
    return _decode_word(path, word_bytes, unicode_errors, line=line_number), vector


def _is_float(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _decode_word(
    path: str,
    word: bytes,
    unicode_errors: str,
    *,
    line: int | None = None,
    record: int | None = None,
) -> str:
    try:
        return word.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError:
        raise FormatError(
            path,
            "invalid UTF-8 in the word (use unicode_errors='replace' / --unicode-errors replace "
            "to substitute U+FFFD)",
            line=line,
            record=record,
        ) from None


def _text_blocks(
    path: str,
    stream: BinaryIO,
    dim: int,
    *,
    glove: bool,
    first_line: int,
    announced: int | None,
    limit: int | None,
    unicode_errors: str,
) -> Iterator[WordBlock]:
    from wordvec.formats.text_kernels import LINE_BLANK, LINE_OK, parse_vector_lines

    duplicates = DuplicateFilter(path)
    records = 0
    line_number = first_line
    blank_line: int | None = None
    carry = b""
    wanted = limit if limit is not None else None
    with stream:
        while True:
            try:
                chunk = stream.read(CHUNK_BYTES)
            except (EOFError, OSError) as exc:
                raise FormatError(path, f"truncated or corrupt compressed data: {exc}") from exc
            data = carry + chunk
            if chunk:
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) > 1 << 28:
                        raise FormatError(path, "a line longer than 256 MB", line=line_number)
                    carry = data
                    continue
                block, carry = data[: cut + 1], data[cut + 1 :]
            else:
                block, carry = data, b""
            if block:
                capacity = block.count(b"\n") + 1
                starts = np.empty(capacity, dtype=np.int64)
                ends = np.empty(capacity, dtype=np.int64)
                vectors = np.empty((capacity, dim), dtype=np.float32)
                status = np.empty(capacity, dtype=np.int8)
                n_lines = parse_vector_lines(
                    np.frombuffer(block, dtype=np.uint8), dim, glove, starts, ends, vectors, status
                )
                words: list[str] = []
                word_lines: list[int] = []
                keep = np.zeros(n_lines, dtype=bool)
                line_starts = starts.tolist()
                line_ends = ends.tolist()
                codes = status[:n_lines].tolist()
                for i in range(n_lines):
                    number = line_number + i
                    code = codes[i]
                    if code == LINE_BLANK:
                        if blank_line is None:
                            blank_line = number
                        continue
                    if blank_line is not None:
                        raise FormatError(
                            path, f"empty line (expected a word and {dim} numbers)", line=blank_line
                        )
                    if announced is not None and records >= announced:
                        raise FormatError(
                            path,
                            f"more entries than the {announced} the header announces",
                            line=number,
                        )
                    if code == LINE_OK:
                        word = _decode_word(
                            path, block[line_starts[i] : line_ends[i]], unicode_errors, line=number
                        )
                    else:
                        line_end = block.find(b"\n", line_starts[i])
                        raw = block[line_starts[i] : None if line_end < 0 else line_end]
                        word, vectors[i] = _slow_parse(
                            path, raw, number, dim, glove, unicode_errors
                        )
                    words.append(word)
                    word_lines.append(number)
                    keep[i] = True
                    records += 1
                    if wanted is not None and records >= wanted:
                        break
                line_number += n_lines
                rows = vectors[:n_lines][keep]
                bad = ~np.isfinite(rows).all(axis=1)
                if bad.any():
                    raise FormatError(
                        path,
                        "NaN or infinite value in vector (expected finite numbers)",
                        line=word_lines[int(np.flatnonzero(bad)[0])],
                    )
                mask = duplicates.keep(words, records - len(words) + 1)
                if mask is not None:
                    words = [w for w, k in zip(words, mask.tolist(), strict=True) if k]
                    rows = rows[mask]
                for start in range(0, len(words), BLOCK_ROWS):
                    yield WordBlock(
                        words[start : start + BLOCK_ROWS], rows[start : start + BLOCK_ROWS]
                    )
                if wanted is not None and records >= wanted:
                    break
            if not chunk:
                break
    if announced is not None and records < announced and (limit is None or records < limit):
        raise FormatError(
            path, f"the header announces {announced} words but the file holds only {records}"
        )
    duplicates.report()


def read_word2vec_text(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """word2vec text: a ``count dim`` header line, then ``word v1 ... vdim`` per line (.txt,
    .vec, also gzip/bzip2/xz compressed)."""
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path, stream = _open(path)
    try:
        count, dim = _read_header(path, stream)
    except BaseException:
        stream.close()
        raise
    n_words = count if limit is None else min(count, limit)
    blocks = _text_blocks(
        path,
        stream,
        dim,
        glove=False,
        first_line=2,
        announced=count,
        limit=limit,
        unicode_errors=unicode_errors,
    )
    meta = {"source": path, "source_format": "word2vec-text"}
    return VectorSource(path, dim, n_words, blocks, None, meta, stream.close)


def read_glove_text(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """GloVe text: no header; each line is a word and its numbers, the dimension taken from the
    first line. Words may contain spaces (GloVe 840B): the last ``dim`` fields are the vector."""
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path, stream = _open(path)
    try:
        first = stream.readline(1 << 24)
        if not first.strip():
            raise FormatError(path, "the file is empty or starts with a blank line", line=1)
        dim = len(first.split()) - 1
        if dim < 1:
            raise FormatError(path, "expected a word followed by numbers", line=1)
        stream.seek(0)  # compressed streams rewind too
    except BaseException:
        stream.close()
        raise
    rest = _text_blocks(
        path,
        stream,
        dim,
        glove=True,
        first_line=1,
        announced=None,
        limit=limit,
        unicode_errors=unicode_errors,
    )
    meta = {"source": path, "source_format": "glove"}
    return VectorSource(path, dim, None, rest, None, meta, stream.close)


# --- binary -------------------------------------------------------------------------------------


def _scan_python(
    buffer: bytes | mmap.mmap, position: int, record_bytes: int, wanted: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], int, int]:
    """The NumPy twin of :func:`wordvec.formats.binary_kernels.scan_binary_records`: word
    starts, word ends (the space), the position after the last complete record and the
    ``SCAN_*`` status. Only the chain of ``bytes.find`` calls (in C, a fraction of a
    microsecond a record) runs in Python, which spares a small file the Numba start-up
    (about 0.5 s in a fresh process)."""
    find = buffer.find
    size = len(buffer)
    step = record_bytes + 1
    regions: list[int] = []  # where each record's word region (maybe a newline first) begins
    spaces: list[int] = []
    begin, end_space = regions.append, spaces.append
    pos = position
    ran_out = False
    for _ in range(wanted):
        # The region may start with the C tool's newline, so look one byte further.
        space = find(b" ", pos, pos + MAX_WORD_BYTES + 1)
        if space < 0:
            ran_out = True
            break
        begin(pos)
        end_space(space)
        pos = space + step
    status = _SCAN_DONE
    if spaces and spaces[-1] + step > size:  # the last record is cut off
        regions.pop()
        spaces.pop()
        status = _SCAN_MORE
    elif ran_out:
        start = pos + (pos < size and buffer[pos] == 10)
        status = _SCAN_NO_SPACE if size - start >= MAX_WORD_BYTES else _SCAN_MORE
    data = np.frombuffer(buffer, dtype=np.uint8)
    starts = np.array(regions, dtype=np.int64)
    ends = np.array(spaces, dtype=np.int64)
    if starts.size:
        starts += data[starts] == 10
        empty = np.flatnonzero(starts == ends)
        if empty.size:
            starts, ends = starts[: empty[0]], ends[: empty[0]]
            status = _SCAN_EMPTY_WORD
    new_position = int(ends[-1]) + step if ends.size else position
    return starts, ends, new_position, status


def _gather_python(
    buffer: bytes | mmap.mmap, starts: NDArray[np.int64], ends: NDArray[np.int64], dim: int
) -> tuple[bytes, NDArray[np.uint8]]:
    """The words (each followed by its space) and the vector bytes of the records located by
    :func:`_scan_python`, gathered by NumPy without a Python loop."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    record_bytes = 4 * dim
    n = ends.size
    # Word i with its terminating space is data[starts[i] : ends[i] + 1].
    lengths = ends - starts + 1
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    index = np.arange(int(lengths.sum()), dtype=np.int64)
    index += np.repeat(starts - offsets, lengths)
    joined = data[index].tobytes()
    # Every byte offset viewed as the start of a record_bytes-wide item: a fancy index then
    # copies each vector with one memcpy.
    items = np.ndarray(
        (data.size - record_bytes + 1,),
        dtype=np.dtype((np.void, record_bytes)),
        buffer=data,
        strides=(1,),
    )
    rows = items[ends + 1].view(np.uint8).reshape(n, record_bytes)
    return joined, rows


def _records_block(
    path: str,
    buffer: bytes | mmap.mmap,
    position: int,
    dim: int,
    wanted: int,
    unicode_errors: str,
    first_record: int,
    use_kernels: bool,
) -> tuple[list[str], NDArray[np.float32], int, int]:
    """Up to ``wanted`` complete records of ``buffer`` from ``position``: their words, their
    vectors, the position after them and the scan status (``SCAN_*``). Records are located
    and copied by :mod:`wordvec.formats.binary_kernels` if ``use_kernels``, else by
    :func:`_scan_python` and :func:`_gather_python` (the same result)."""
    record_bytes = 4 * dim
    if use_kernels:
        from wordvec.formats import binary_kernels as kernels

        data = np.frombuffer(buffer, dtype=np.uint8)
        word_starts = np.empty(wanted, dtype=np.int64)
        word_ends = np.empty(wanted, dtype=np.int64)
        found, new_position, status = kernels.scan_binary_records(
            data, position, record_bytes, wanted, MAX_WORD_BYTES, word_starts, word_ends
        )
        rows = np.empty((found, record_bytes), dtype=np.uint8)
        joined = np.empty(int((word_ends[:found] - word_starts[:found]).sum()) + found, np.uint8)
        written = kernels.gather_binary_records(data, word_starts, word_ends, found, rows, joined)
        joined_words = joined[:written].tobytes()
    else:
        starts, ends, new_position, status = _scan_python(buffer, position, record_bytes, wanted)
        found = int(ends.size)
        if found:
            joined_words, rows = _gather_python(buffer, starts, ends, dim)
            joined_words = joined_words[:-1]  # the last word's space
        else:
            joined_words, rows = b"", np.empty((0, record_bytes), dtype=np.uint8)
    words = _decode_words(path, joined_words, unicode_errors, first_record) if found else []
    vectors = rows.view("<f4")
    if vectors.dtype != np.float32:  # a big-endian machine
        vectors = vectors.astype(np.float32)
    return words, vectors, new_position, status


_WHITESPACE_BYTES = np.frombuffer(b" \t\n\r\x0b\x0c", dtype=np.uint8)


def _map_plain_file(stream: BinaryIO) -> mmap.mmap | None:
    """A read-only memory map of ``stream`` if it is a plain (uncompressed) non-empty file."""
    if not isinstance(stream, io.BufferedReader):
        return None
    try:
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # not a regular file (a pipe, say), or empty
        return None


def _release_pages(mapped: mmap.mmap, released: int, position: int) -> int:
    """Drop the mapped pages before ``position`` from this process (they stay in the page
    cache), so resident memory stays bounded while a large file streams through; returns the
    new released offset."""
    end = position - position % mmap.PAGESIZE
    if end - released >= 1 << 24 and hasattr(mapped, "madvise"):
        mapped.madvise(mmap.MADV_DONTNEED, released, end - released)
        return end
    return released


def _binary_blocks(
    path: str,
    stream: BinaryIO,
    count: int,
    dim: int,
    *,
    limit: int | None,
    unicode_errors: str,
    header_bytes: int,
) -> Iterator[WordBlock]:
    target = count if limit is None else min(count, limit)
    # Numba's start-up (~0.5 s) pays off only on files with many records.
    use_kernels = target >= KERNEL_MIN_RECORDS
    # Blocks of about 1 MB: larger fresh arrays get transparent huge pages from NumPy, which
    # fault in several times slower on these machines than the copy itself.
    block_rows = max(64, min(BLOCK_ROWS, (1 << 20) // (4 * dim)))
    duplicates = DuplicateFilter(path)
    record = 0
    buffer: bytes | mmap.mmap = b""
    position = 0
    consumed = header_bytes  # file offset of buffer[0], for messages
    at_end = False
    mapped = _map_plain_file(stream)
    released = 0
    if mapped is not None:
        # An uncompressed file is scanned in place: no read or concatenation copies.
        buffer, position, consumed, at_end = mapped, header_bytes, 0, True
    # The map is not closed explicitly: arrays viewing it may outlive this generator (in a
    # traceback, say), and closing it under them raises; it unmaps when the last one goes.
    with stream:
        while record < target:
            wanted = min(block_rows, target - record)
            words, rows, new_position, stop = _records_block(
                path, buffer, position, dim, wanted, unicode_errors, record + 1, use_kernels
            )
            n = len(words)
            if n:
                check_finite(path, rows, record + 1, line_based=False)
                mask = duplicates.keep(words, record + 1)
                if mask is not None:
                    words = [w for w, k in zip(words, mask.tolist(), strict=True) if k]
                    rows = rows[mask]
                record += n
                position = new_position
                yield WordBlock(words, rows)
                if mapped is not None:
                    released = _release_pages(mapped, released, position)
                continue
            if stop == _SCAN_EMPTY_WORD:
                raise FormatError(
                    path, "empty word (expected 'word ' and the vector)", record=record + 1
                )
            if stop == _SCAN_NO_SPACE:
                raise FormatError(
                    path,
                    f"no word terminator (space) within {MAX_WORD_BYTES} bytes at byte "
                    f"{consumed + position}: not a word2vec binary file?",
                    record=record + 1,
                )
            if at_end:
                raise FormatError(
                    path,
                    f"truncated: the header announces {count} records but the file ends inside "
                    f"record {record + 1} (at byte {consumed + position})",
                    record=record + 1,
                )
            try:
                more = stream.read(max(CHUNK_BYTES, 2 * (4 * dim + MAX_WORD_BYTES)))
            except (EOFError, OSError) as exc:
                raise FormatError(path, f"truncated or corrupt compressed data: {exc}") from exc
            at_end = not more
            consumed += position
            buffer = buffer[position:] + more
            position = 0
        if limit is None or limit >= count:
            if mapped is not None:
                rest = np.frombuffer(mapped, dtype=np.uint8)[position:]
                trailing = bool(np.isin(rest, _WHITESPACE_BYTES, invert=True).any())
                del rest
            else:
                trailing = bool((buffer[position:] + stream.read(1 << 16)).strip())
            if trailing:
                raise FormatError(
                    path,
                    f"more data after the {count} records the header announces "
                    f"(at byte {consumed + position})",
                )
    duplicates.report()


def _decode_words(path: str, joined: bytes, unicode_errors: str, first_record: int) -> list[str]:
    """Decode space-separated words in one call; on bad UTF-8, find the record to report."""
    try:
        return joined.decode("utf-8", errors=unicode_errors).split(" ")
    except UnicodeDecodeError:
        for i, word in enumerate(joined.split(b" ")):
            _decode_word(path, word, unicode_errors, record=first_record + i)
        raise


def read_word2vec_binary(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """word2vec binary: a ``count dim`` text header, then per word its UTF-8 bytes, a space and
    ``dim`` little-endian float32; the C tool puts a newline after each vector, gensim does
    not, and both are read."""
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path, stream = _open(path)
    try:
        count, dim = _read_header(path, stream)
        header_bytes = stream.tell()
    except BaseException:
        stream.close()
        raise
    n_words = count if limit is None else min(count, limit)
    blocks = _binary_blocks(
        path,
        stream,
        count,
        dim,
        limit=limit,
        unicode_errors=unicode_errors,
        header_bytes=header_bytes,
    )
    meta = {"source": path, "source_format": "word2vec-binary"}
    return VectorSource(path, dim, n_words, blocks, None, meta, stream.close)


# --- writers ------------------------------------------------------------------------------------


def _check_word(word: str, *, allow_spaces: bool, target: str) -> bytes:
    encoded = word.encode("utf-8")
    bad = b"\n\r\t" if allow_spaces else b" \n\r\t"
    if not encoded or any(c in encoded for c in bad):
        raise ConfigError(
            f"the word {word!r} cannot be written as {target} (empty or containing "
            f"{'line breaks' if allow_spaces else 'whitespace'})"
        )
    return encoded


def _write_text(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str,
    progress: bool | None,
    header: bool,
) -> int:
    if dtype not in ("float32", "float16"):
        raise ConfigError(f"dtype must be float32 or float16 (got {dtype!r})")
    # %.9g round-trips every float32 exactly, %.5g every float16.
    digits = 9 if dtype == "float32" else 5
    row_format = " ".join([f"%.{digits}g"] * source.dim) + "\n"
    target = "word2vec text" if header else "GloVe text"
    rows = 0
    with (
        atomic_output(path) as tmp,
        Progress("writing", total=source.n_words, unit="rows", enabled=progress) as bar,
    ):
        folder = os.path.dirname(tmp)
        handle, body_path = tempfile.mkstemp(prefix=".body.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as body, source:
                for block in source.blocks:
                    values = block.vectors.astype(dtype).astype(np.float64).tolist()
                    lines = [
                        _check_word(w, allow_spaces=not header, target=target)
                        + b" "
                        + (row_format % tuple(v)).encode("ascii")
                        for w, v in zip(block.words, values, strict=True)
                    ]
                    body.write(b"".join(lines))
                    rows += len(lines)
                    bar.update(len(lines))
            with open(tmp, "wb") as out:
                if header:
                    out.write(f"{rows} {source.dim}\n".encode("ascii"))
                with open(body_path, "rb") as body_in:
                    shutil.copyfileobj(body_in, out, 1 << 22)
        finally:
            os.remove(body_path)
    return rows


def write_word2vec_text(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Write word2vec text (``count dim`` header, one ``word v1 ... vdim`` line per word).
    Values are printed with enough digits to read back bit for bit."""
    return _write_text(path, source, dtype=dtype, progress=progress, header=True)


def write_glove_text(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Write GloVe text (no header; words may contain spaces)."""
    return _write_text(path, source, dtype=dtype, progress=progress, header=False)


def write_word2vec_binary(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Write word2vec binary in the C tool's layout (a newline after each vector), which the C
    tools, gensim and fastText all read."""
    if dtype != "float32":
        raise ConfigError("word2vec binary files hold float32 only (got dtype {dtype!r})")
    rows = 0
    with (
        atomic_output(path) as tmp,
        Progress("writing", total=source.n_words, unit="rows", enabled=progress) as bar,
    ):
        folder = os.path.dirname(tmp)
        handle, body_path = tempfile.mkstemp(prefix=".body.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as body, source:
                for block in source.blocks:
                    data = np.ascontiguousarray(block.vectors, dtype="<f4")
                    parts = []
                    for word, row in zip(block.words, data, strict=True):
                        parts.append(
                            _check_word(word, allow_spaces=False, target="word2vec binary")
                        )
                        parts.append(b" ")
                        parts.append(row.tobytes())
                        parts.append(b"\n")
                    body.write(b"".join(parts))
                    rows += len(block.words)
                    bar.update(len(block.words))
            with open(tmp, "wb") as out:
                out.write(f"{rows} {source.dim}\n".encode("ascii"))
                with open(body_path, "rb") as body_in:
                    shutil.copyfileobj(body_in, out, 1 << 22)
        finally:
            os.remove(body_path)
    return rows
