"""fastText ``.bin`` model files: a streaming reader of the word vectors and subword buckets.

The file (little-endian, as fastText's ``FastText::saveModel`` writes it):

* ``int32 magic = 793712314``, ``int32 version`` (11 or 12; fastText reads any version up to
  12). Files written before fastText had a magic number (2016) start straight with the
  arguments; they are read too, as gensim reads them;
* the training arguments: ``int32`` dim, ws, epoch, min_count, neg, word_ngrams, loss, model,
  bucket, minn, maxn, lr_update_rate, then ``float64`` t;
* the dictionary: ``int32`` size, nwords, nlabels, ``int64`` ntokens, ``int64`` pruneidx_size
  (not in headerless files), then ``size`` entries (a NUL-terminated word, ``int64`` count,
  ``int8`` type: 0 word, 1 label; words first), then ``pruneidx_size`` pairs of ``int32``;
* ``uint8`` quant flag (not in headerless files; 1 means a quantized ``.ftz`` model, refused);
* the input matrix: ``int64`` rows (nwords + bucket), ``int64`` cols (dim), then float32 rows:
  word ``i`` is row ``i``, character n-gram bucket ``b`` is row ``nwords + b``;
* the output matrix (flag, shape, floats), which the word vectors do not need.

The vector of a word is the one fastText prints for it: the mean of its own row and the rows of
its character n-grams (:mod:`wordvec.subwords`), computed block by block from a memory map of
the matrix, so a model larger than memory can be converted.
"""

from __future__ import annotations

import itertools
import mmap
import os
import struct
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import FormatError
from wordvec.formats.base import (
    BLOCK_ROWS,
    DuplicateFilter,
    VectorSource,
    WordBlock,
    check_finite,
    check_limit,
)
from wordvec.textio import check_unicode_errors

MAGIC = 793712314
NEWEST_VERSION = 12
# The store accepts n-gram lengths up to 64; no published model comes near.
MAX_NGRAM_CHARS = 64
MAX_WORD_BYTES = 1 << 16
# Scratch bounds: n-gram rows listed per batch of words, floats gathered at once for one long
# word, and the n-gram count above which a word is summed on its own.
BATCH_ROWS = 1 << 20
GATHER_FLOATS = 1 << 22
LONG_WORD_ROWS = 1024

_ARG_NAMES = (
    "dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn",
    "maxn", "lr_update_rate",
)  # fmt: skip
_ARGS = struct.Struct("<12id")
_DICT_HEADER = struct.Struct("<3iq")
_INT32 = struct.Struct("<i")
_INT64 = struct.Struct("<q")
_FLAG = struct.Struct("<B")
_ENTRY_TAIL = struct.Struct("<qb")
_SHAPE = struct.Struct("<2q")
_LOSS_NAMES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
_MODEL_NAMES = {1: "cbow", 2: "skipgram", 3: "supervised"}
_SUPERVISED = 3
_EOS = b"</s>"


@dataclass(frozen=True)
class _Header:
    """The model arguments and the dictionary header, checked for sense."""

    version: int | None  # None: a headerless file from before the magic number
    args: dict[str, int]
    t: float
    min_n: int
    max_n: int  # 0: no character n-grams, a word's vector is its row
    n_entries: int
    n_words: int
    n_labels: int
    n_tokens: int
    prune_size: int


@dataclass(frozen=True)
class _Model:
    """Everything parsed before the matrices, and where the input matrix starts."""

    header: _Header
    words: list[str]  # the words kept by ``limit``, decoded
    words_utf8: NDArray[np.uint8]  # their bytes as stored, which fastText hashes
    word_offsets: NDArray[np.int64]
    counts: NDArray[np.int64]
    matrix_offset: int


def read_fasttext_bin(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """Stream the word vectors of a fastText ``.bin`` model (unsupervised or supervised).

    Each word gets the vector fastText prints for it (``print-word-vectors``), float32: the
    mean of its input row and of the bucket rows of its character n-grams, hashed from the
    word's bytes as stored (so also for words that are not UTF-8), summed in fastText's order
    (the results are bit for bit fastText's); ``</s>`` has no n-grams in versioned files, as
    in fastText. Labels of supervised models are skipped. ``subwords`` is the bucket part of
    the input matrix (float32 rows ``nwords:``, a read-only memory map) with the model's
    n-gram range, or ``None`` if the model has no character n-grams. Blocks carry the
    dictionary counts (int64). ``limit`` keeps the first ``limit`` dictionary words; a word
    repeated in the dictionary keeps its first vector (a
    :class:`~wordvec.formats.base.DuplicateWordWarning` is issued here, at the call) and
    ``n_words`` counts the words kept. ``metadata`` holds ``source``, ``source_format`` and,
    under ``fasttext``, the model's arguments (``version`` is ``None`` for headerless files).

    Raises :class:`FormatError` (naming the file and, where it applies, the dictionary entry,
    counted from 1) for a file that is not a fastText model, is truncated or inconsistent,
    holds invalid UTF-8 with ``unicode_errors="strict"`` (``"replace"`` substitutes U+FFFD)
    or non-finite vectors, or is a quantized ``.ftz`` model; :class:`ConfigError` for a bad
    ``limit`` or ``unicode_errors``.
    """
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FormatError(path, "no such file")
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise FormatError(path, "the file is empty (expected a fastText model)")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            model = _parse(path, data, limit, unicode_errors)

    dim, bucket = model.header.args["dim"], model.header.args["bucket"]
    rows = model.header.n_words + bucket
    matrix: NDArray[np.float32]
    if rows == 0:
        matrix = np.empty((0, dim), dtype=np.float32)
    else:
        mapped = np.memmap(
            path, dtype="<f4", mode="r", offset=model.matrix_offset, shape=(rows, dim)
        )
        # A plain ndarray view: np.memmap's subclass hooks cost time on every gather.
        matrix = mapped.view(np.ndarray)

    duplicates = DuplicateFilter(path)
    keep = duplicates.keep(model.words, 1)
    duplicates.report()
    n_kept = len(model.words) if keep is None else int(keep.sum())

    subwords = None
    if model.header.max_n > 0:
        from wordvec.embeddings import SubwordTable

        subwords = SubwordTable(
            matrix[model.header.n_words :], model.header.min_n, model.header.max_n
        )
    blocks = _blocks(path, model, matrix, keep)
    metadata = {
        "source": path,
        "source_format": "fasttext-bin",
        "fasttext": _describe(model.header),
    }
    return VectorSource(path, dim, n_kept, blocks, subwords, metadata, blocks.close)


# --- parsing ------------------------------------------------------------------------------------


class _Reader:
    """Bounds-checked reads from the mapped file: every size is checked against the file
    before anything is allocated for it."""

    def __init__(self, path: str, data: mmap.mmap) -> None:
        self.path = path
        self.data = data
        self.size = len(data)
        self.pos = 0

    def need(self, n_bytes: int, what: str) -> None:
        if self.pos + n_bytes > self.size:
            raise FormatError(
                self.path,
                f"truncated: {what} needs {n_bytes} bytes at offset {self.pos}, the file has "
                f"{self.size}",
            )

    def unpack(self, layout: struct.Struct, what: str) -> tuple[Any, ...]:
        self.need(layout.size, what)
        values = layout.unpack_from(self.data, self.pos)
        self.pos += layout.size
        return values


def _parse(path: str, data: mmap.mmap, limit: int | None, unicode_errors: str) -> _Model:
    reader = _Reader(path, data)
    magic = int.from_bytes(data[:4], "little", signed=True) if len(data) >= 4 else None
    if magic == MAGIC:
        reader.pos = 4
        (version,) = reader.unpack(_INT32, "the version")
        if version > NEWEST_VERSION:
            raise FormatError(
                path,
                f"fastText model version {version} is newer than the versions wordvec reads "
                f"(up to {NEWEST_VERSION})",
            )
        if version < 0:
            raise FormatError(path, f"invalid fastText model version {version}")
        header = _read_header(reader, version)
    else:
        # Either a model from before the magic number or no model at all: until its header
        # has proved plausible, a failure says both.
        try:
            header = _read_header(reader, None)
        except FormatError as exc:
            raise FormatError(
                path,
                f"not a fastText model: it does not start with the magic number {MAGIC} "
                f"(found {magic}), and read as a headerless pre-2017 model: {exc.problem}",
            ) from None
    return _parse_body(reader, header, limit, unicode_errors)


def _read_header(reader: _Reader, version: int | None) -> _Header:
    path = reader.path
    *ints, t = reader.unpack(_ARGS, "the model arguments")
    args = dict(zip(_ARG_NAMES, ints, strict=True))
    dim, bucket, min_n, max_n = args["dim"], args["bucket"], args["minn"], args["maxn"]
    if dim < 1:
        raise FormatError(path, f"invalid dimension {dim} in the model arguments (expected >= 1)")
    if bucket < 0 or min_n < 0 or max_n < 0:
        raise FormatError(
            path,
            f"invalid model arguments bucket={bucket}, minn={min_n}, maxn={max_n} (expected "
            "non-negative numbers)",
        )
    if version == 11 and args["model"] == _SUPERVISED:
        max_n = 0  # as fastText loads version-11 supervised models: they had no char n-grams
    if max_n > 0:
        # n counts from 1 in fastText's loop, so minn = 0 means the same as minn = 1.
        min_n = max(min_n, 1)
        if min_n > max_n or max_n > MAX_NGRAM_CHARS:
            raise FormatError(
                path,
                f"n-gram range minn={args['minn']}, maxn={args['maxn']} is not supported "
                f"(expected minn <= maxn <= {MAX_NGRAM_CHARS})",
            )
        if bucket == 0:
            raise FormatError(path, f"maxn={max_n} needs buckets for its n-grams, but bucket=0")
    else:
        min_n = 0

    n_entries, n_words, n_labels, n_tokens = reader.unpack(_DICT_HEADER, "the dictionary header")
    prune_size = -1
    if version is not None:
        (prune_size,) = reader.unpack(_INT64, "the dictionary header")
    if min(n_entries, n_words, n_labels, n_tokens) < 0 or n_words + n_labels != n_entries:
        raise FormatError(
            path,
            f"inconsistent dictionary header: size={n_entries}, nwords={n_words}, "
            f"nlabels={n_labels}, ntokens={n_tokens} (expected non-negative numbers with "
            "size = nwords + nlabels)",
        )
    # An entry takes at least 10 bytes (NUL, count, type): a size the file cannot hold is
    # refused before anything is allocated for it.
    if n_entries > (reader.size - reader.pos) // 10:
        raise FormatError(
            path,
            f"truncated: the dictionary announces {n_entries} entries, at least "
            f"{10 * n_entries} bytes at offset {reader.pos}, the file has {reader.size}",
        )
    return _Header(
        version, args, t, min_n, max_n, n_entries, n_words, n_labels, n_tokens, prune_size
    )


def _parse_body(reader: _Reader, header: _Header, limit: int | None, unicode_errors: str) -> _Model:
    path, version, prune_size = reader.path, header.version, header.prune_size
    n_words, dim, bucket = header.n_words, header.args["dim"], header.args["bucket"]
    n_take = n_words if limit is None else min(n_words, limit)
    words, blob, offsets, counts = _read_entries(
        reader, header.n_entries, n_words, n_take, unicode_errors
    )

    if prune_size > 0:
        reader.need(8 * prune_size, f"the {prune_size} pruned-index pairs")
        reader.pos += 8 * prune_size
    if version is not None:
        (quantized,) = reader.unpack(_FLAG, "the quantization flag")
        if quantized == 1:
            raise FormatError(
                path,
                "quantized fastText models (.ftz) are not supported: convert the unquantized "
                ".bin model instead",
            )
        if quantized != 0:
            raise FormatError(path, f"invalid quantization flag {quantized} (expected 0 or 1)")
        if prune_size >= 0:
            # Only quantization prunes the dictionary; its bucket remapping has no place in a
            # dense subword table, so such a file cannot be answered as fastText would.
            raise FormatError(
                path, f"a pruned dictionary (pruneidx_size={prune_size}) in a dense model"
            )
    rows, cols = reader.unpack(_SHAPE, "the input matrix shape")
    if cols != dim or rows != n_words + bucket:
        raise FormatError(
            path,
            f"the input matrix has shape ({rows}, {cols}), expected (nwords + bucket, dim) = "
            f"({n_words + bucket}, {dim})",
        )
    matrix_offset = reader.pos
    reader.need(4 * rows * cols, "the input matrix")
    reader.pos += 4 * rows * cols
    _check_output_matrix(reader, version, dim)
    return _Model(header, words, blob, offsets, counts, matrix_offset)


def _read_entries(
    reader: _Reader, n_entries: int, n_words: int, n_take: int, unicode_errors: str
) -> tuple[list[str], NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Scan the dictionary entries; decode the first ``n_take`` words (raw UTF-8 bytes, offsets
    and decoded strings) and return their counts."""
    path, data, end = reader.path, reader.data, reader.size
    starts = np.empty(n_take, dtype=np.int64)
    stops = np.empty(n_take, dtype=np.int64)
    counts = np.empty(n_take, dtype=np.int64)
    find, unpack = data.find, _ENTRY_TAIL.unpack_from
    pos = reader.pos
    for i in range(n_entries):
        nul = find(b"\0", pos, pos + MAX_WORD_BYTES + 1)
        if nul < 0 or nul + 10 > end:
            if nul < 0 and pos + MAX_WORD_BYTES + 1 < end:
                raise FormatError(
                    path,
                    f"a word longer than {MAX_WORD_BYTES} bytes (no NUL byte ends it)",
                    record=i + 1,
                )
            raise FormatError(
                path,
                f"truncated: dictionary entry {i + 1} of {n_entries} (word, NUL, count, type) "
                f"runs past the end of the file ({end} bytes)",
                record=i + 1,
            )
        count, kind = unpack(data, nul + 1)
        if kind != (0 if i < n_words else 1):
            raise FormatError(
                path,
                f"dictionary entry has type {kind}, expected {0 if i < n_words else 1} "
                f"({'a word' if i < n_words else 'a label'}: the {n_words} words come first)",
                record=i + 1,
            )
        if count < 0:
            raise FormatError(path, f"negative count {count} in the dictionary", record=i + 1)
        if i < n_take:
            starts[i], stops[i], counts[i] = pos, nul, count
        pos = nul + 10
    reader.pos = pos

    lengths = stops - starts
    offsets = np.zeros(n_take + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    mapped = np.frombuffer(data, dtype=np.uint8)
    try:
        # Gather the words' bytes: position j of word i is starts[i] + (j - offsets[i]).
        shift = np.repeat(starts - offsets[:-1], lengths)
        blob = mapped[shift + np.arange(offsets[-1], dtype=np.int64)]
    finally:
        del mapped  # the map is closed by the caller: no view of it may outlive this call
    words = _decode_words(path, blob.tobytes(), offsets, unicode_errors)
    return words, blob, offsets, counts


def _decode_words(
    path: str, data: bytes, offsets: NDArray[np.int64], unicode_errors: str
) -> list[str]:
    bounds = list(itertools.pairwise(offsets.tolist()))
    try:
        return [data[a:b].decode("utf-8", unicode_errors) for a, b in bounds]
    except UnicodeDecodeError:
        pass
    # Only strict decoding fails: find the first bad word to name its entry.
    for i, (a, b) in enumerate(bounds):
        bad = _first_invalid_utf8(data[a:b])
        if bad is not None:
            raise FormatError(
                path,
                f"invalid UTF-8 byte 0x{data[a + bad]:02x} in the word {data[a:b][:40]!r} (pass "
                "unicode_errors='replace' to substitute U+FFFD)",
                record=i + 1,
            )
    raise AssertionError("a word failed to decode but none is invalid")


def _first_invalid_utf8(word: bytes) -> int | None:
    try:
        word.decode("utf-8")
    except UnicodeDecodeError as exc:
        return int(exc.start)
    return None


def _check_output_matrix(reader: _Reader, version: int | None, dim: int) -> None:
    """The output matrix is not needed, but a file cut inside it is still a broken download."""
    if version is not None:
        (flag,) = reader.unpack(_FLAG, "the output quantization flag")
        if flag != 0:
            raise FormatError(
                reader.path, f"invalid output quantization flag {flag} for a dense model"
            )
    rows, cols = reader.unpack(_SHAPE, "the output matrix shape")
    if rows < 0 or cols != dim:
        raise FormatError(
            reader.path, f"the output matrix has shape ({rows}, {cols}), expected (n, {dim})"
        )
    reader.need(4 * rows * cols, "the output matrix")
    if reader.pos + 4 * rows * cols != reader.size:
        extra = reader.size - reader.pos - 4 * rows * cols
        raise FormatError(reader.path, f"{extra} unexpected bytes after the output matrix")


def _describe(header: _Header) -> dict[str, Any]:
    """The model's arguments as JSON-able metadata (fastText's names; loss and model named)."""
    args: dict[str, Any] = dict(header.args)
    args["loss"] = _LOSS_NAMES.get(args["loss"], f"unknown ({args['loss']})")
    args["model"] = _MODEL_NAMES.get(args["model"], f"unknown ({args['model']})")
    return {
        "version": header.version,
        **args,
        "t": header.t if np.isfinite(header.t) else None,
        "nwords": header.n_words,
        "nlabels": header.n_labels,
        "ntokens": header.n_tokens,
    }


# --- vectors ------------------------------------------------------------------------------------


def _blocks(
    path: str, model: _Model, matrix: NDArray[np.float32], keep: NDArray[np.bool_] | None
) -> Generator[WordBlock, None, None]:
    n_take = len(model.words)
    for start in range(0, n_take, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_take)
        vectors = _word_vectors(model, matrix, start, stop)
        check_finite(path, vectors, start + 1, line_based=False)
        words, counts = model.words[start:stop], model.counts[start:stop]
        if keep is not None and not keep[start:stop].all():
            mask = keep[start:stop]
            words = list(itertools.compress(words, mask.tolist()))
            vectors, counts = vectors[mask], counts[mask]
        yield WordBlock(words, vectors, counts.copy())


def _word_vectors(
    model: _Model, matrix: NDArray[np.float32], start: int, stop: int
) -> NDArray[np.float32]:
    """fastText's vectors of words ``start:stop``: (own row + n-gram rows) / (1 + n-grams)."""
    if model.header.max_n == 0:
        return np.array(matrix[start:stop], dtype=np.float32)
    out = np.empty((stop - start, matrix.shape[1]), dtype=np.float32)
    lengths = np.diff(model.word_offsets[start : stop + 1])
    # An upper bound on each word's rows cuts the block into batches of bounded scratch.
    span = model.header.max_n - model.header.min_n + 1
    bound = np.cumsum(1 + span * (lengths + 2))
    first = 0
    # Non-finite rows make NaN or inf here; check_finite then reports the word.
    with np.errstate(invalid="ignore", over="ignore"):
        while first < stop - start:
            base = int(bound[first - 1]) if first else 0
            last = max(first + 1, int(np.searchsorted(bound, base + BATCH_ROWS, side="right")))
            out[first:last] = _batch_vectors(model, matrix, start + first, start + last)
            first = last
    return out


def _ngram_hashes(
    model: _Model, start: int, stop: int
) -> tuple[NDArray[np.int64], NDArray[np.uint32]]:
    """The n-gram hashes of words ``start:stop`` as CSR (offsets, hashes), fastText's rules."""
    from wordvec.subword_kernels import vocab_ngram_hashes

    lo, hi = model.word_offsets[start], model.word_offsets[stop]
    word_offsets = model.word_offsets[start : stop + 1] - lo
    words_utf8 = model.words_utf8[lo:hi]
    lengths = np.diff(word_offsets)
    # No n-gram is longer than the longest word with its markers: a smaller max_n changes
    # nothing but the size of the kernel's scratch buffer.
    max_n = min(model.header.max_n, int(lengths.max()) + 2)
    if max_n < model.header.min_n:
        return np.zeros(stop - start + 1, dtype=np.int64), np.empty(0, dtype=np.uint32)
    offsets, hashes = vocab_ngram_hashes(words_utf8, word_offsets, model.header.min_n, max_n)
    if model.header.version is None:
        return offsets, hashes
    # fastText since the magic number (not before) gives the end-of-sentence token no n-grams.
    eos = [
        i
        for i in np.flatnonzero(lengths == len(_EOS)).tolist()
        if words_utf8[word_offsets[i] : word_offsets[i + 1]].tobytes() == _EOS
    ]
    if not eos:
        return offsets, hashes
    n_ngrams = np.diff(offsets)
    drop = np.zeros(stop - start, dtype=bool)
    drop[eos] = True
    n_ngrams[drop] = 0
    kept = np.zeros_like(offsets)
    np.cumsum(n_ngrams, out=kept[1:])
    return kept, hashes[~np.repeat(drop, np.diff(offsets))]


def _batch_vectors(
    model: _Model, matrix: NDArray[np.float32], start: int, stop: int
) -> NDArray[np.float32]:
    ngram_offsets, hashes = _ngram_hashes(model, start, stop)
    # Each word's rows: its own row, then its n-gram rows in fastText's order.
    sizes = np.diff(ngram_offsets) + 1
    offsets = np.zeros(stop - start + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    rows = np.empty(int(offsets[-1]), dtype=np.int64)
    is_ngram = np.ones(rows.size, dtype=bool)
    is_ngram[offsets[:-1]] = False
    rows[offsets[:-1]] = np.arange(start, stop, dtype=np.int64)
    rows[is_ngram] = model.header.n_words + hashes.astype(np.int64) % model.header.args["bucket"]

    # Summed one row at a time in float32 in that order, then scaled by float32(1 / n), as
    # fastText does, the vectors are bit for bit those fastText prints. The loop runs over
    # n-gram positions, every word of the batch at once (longest words first).
    out = np.empty((stop - start, matrix.shape[1]), dtype=np.float32)
    order = np.argsort(-sizes, kind="stable")
    n_long = int(np.count_nonzero(sizes > LONG_WORD_ROWS))
    for i in order[:n_long].tolist():
        out[i] = _sequential_sum(matrix, rows[offsets[i] : offsets[i + 1]])
    short = order[n_long:]
    if short.size:
        starts, descending = offsets[short], -sizes[short]
        acc = matrix[rows[starts]]
        for k in range(1, int(-descending[0])):
            n_k = int(np.searchsorted(descending, -k, side="left"))  # words with > k rows
            acc[:n_k] += matrix[rows[starts[:n_k] + k]]
        out[short] = acc
    out *= (1.0 / sizes).astype(np.float32)[:, None]
    return out


def _sequential_sum(matrix: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float32]:
    """``matrix[rows[0]] + matrix[rows[1]] + ...`` in float32, in that order, in pieces of
    bounded memory (cumsum adds one row at a time, unlike sum's pairwise summation)."""
    step = max(1, GATHER_FLOATS // matrix.shape[1])
    total = np.zeros((1, matrix.shape[1]), dtype=np.float32)
    for first in range(0, rows.size, step):
        piece = np.concatenate([total, matrix[rows[first : first + step]]])
        total = np.cumsum(piece, axis=0, dtype=np.float32)[-1:]
    return total[0]
