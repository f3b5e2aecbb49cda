"""The wordvec store: one HDF5 file per embedding set, laid out to be memory-mapped.

Format ``wordvec-store`` (the README has the full specification): version 1 holds a dense
float32/float16 matrix, version 2 adds compressed encodings of the rows (int8, product or
additive codes, see :mod:`wordvec.quantized`) and frequency pruning (several words sharing one
row), version 3 the compact layout and version 4 an n-gram index given by its parameters only
(rebuilt from the words by the reader). A dense, unpruned store is still written as version 1,
so older readers open it. Every dataset is contiguous, uncompressed and little-endian, so a
reader maps it with NumPy at its file offset and reads nothing at open; the vocabulary's hash
index is stored too, so opening costs the same for ten thousand or ten million words.

This module owns the layout (writing, and reading it back as validated offsets); the lookup
object built on it is :class:`wordvec.store.VectorStore`.
"""

from __future__ import annotations

import json
import os
import zlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from wordvec import __version__
from wordvec.errors import ConfigError, StoreError, StoreVersionError
from wordvec.hash_embeddings import HASH_SCHEME, HashParams, HashRows
from wordvec.progress import Progress
from wordvec.quantized import (
    ENCODINGS,
    AdditiveCodes,
    CodebookRows,
    DenseRows,
    Int8Rows,
    ProductCodes,
    RowCodec,
    row_norms,
)
from wordvec.types import VECTOR_DTYPES

if TYPE_CHECKING:  # the read path (every wordvec.load) must not pay for the write path
    from wordvec.embeddings import Embeddings, SubwordTable

FORMAT_NAME = "wordvec-store"
FORMAT_VERSION = 4  # the newest version this wordvec reads and writes
DENSE_FORMAT_VERSION = 1  # what a dense, unpruned store is written as
COMPACT_FORMAT_VERSION = 3  # the compact layout (narrow indices, packed cold datasets)
DERIVED_OOV_FORMAT_VERSION = 4  # an n-gram index given by its parameters only (rebuilt on read)
# How a store without subword buckets keeps the n-gram index of its OOV fallback: its posting
# lists ("stored"), only its parameters, the reader rebuilding the lists from the words on the
# first unknown word ("derived"), or not at all ("none": unknown words get a hashed vector).
OOV_INDEX_MODES = ("stored", "derived", "none")
SUBWORD_HASH = "fasttext-fnv1a32"
MAX_NGRAM_LENGTH = 64
WORD_HASH = "crc32"
_ROWS_PER_WRITE = 1 << 16
_EMPTY_SLOT = -1

# name -> (dtypes, required); shapes are checked in read_layout. No dtype: it depends on the
# header (vector dtype, encoding), see _allowed_dtypes. Several: the compact layout (version 3)
# may use the narrower one.
_DATASETS: dict[str, tuple[tuple[str, ...], bool]] = {
    "vectors": ((), False),
    "vector_scales": (("<f4",), False),
    "codes": ((), False),
    "codebooks": (("<f4", "<f2"), False),
    "rotation": (("<f4", "<f2"), False),
    "word_rows": (("<i4",), False),
    "norms": (("<f4",), True),
    "vocab/words_utf8": (("|u1",), True),
    "vocab/word_offsets": (("<i8", "<u4"), True),
    "vocab/word_hashes": (("<u4",), False),  # required before version 3
    "vocab/hash_table": (("<i4",), True),
    "vocab/counts": (("<i8",), False),
    "subwords/vectors": ((), False),
    "hash_table": ((), False),
    # classic n-gram index (every bucket listed)
    "oov_index/posting_offsets": (("<i8",), False),
    "oov_index/word_ngram_counts": (("<i4",), False),
    # compact n-gram index (only the used buckets)
    "oov_index/bucket_ids": (("<u4",), False),
    "oov_index/bucket_offsets": (("<u4", "<i8"), False),
    "oov_index/posting_word_ids": (("<i4", "<u2"), False),
}
# Datasets no lookup of a known word reads: the compact layout stores them compressed (gzip
# after byte shuffling); a reader loads one whole into memory the first time it is needed.
COLD_DATASETS = frozenset(
    {
        "vocab/counts",
        "oov_index/bucket_ids",
        "oov_index/bucket_offsets",
        "oov_index/posting_word_ids",
    }
)


# --- hashing of words -------------------------------------------------------------------------


def oov_index_mode(value: bool | str) -> str:
    """One of :data:`OOV_INDEX_MODES` from a mode name or the older boolean (``True``: stored,
    ``False``: none); raises :class:`ConfigError` otherwise."""
    if isinstance(value, bool):
        return "stored" if value else "none"
    if value not in OOV_INDEX_MODES:
        raise ConfigError(f"oov_index must be one of {', '.join(OOV_INDEX_MODES)} (got {value!r})")
    return value


def word_hash(word_utf8: bytes) -> int:
    """The hash that places a word in the store's index (CRC-32: in C in every Python)."""
    return zlib.crc32(word_utf8)


def hash_table_size(n_words: int, *, compact: bool = False) -> int:
    """Power of two at least twice the vocabulary (``compact``: 1.5 times, a load factor of
    at most 2/3, so a miss probes about five slots on average, a hit two): linear probing
    stays short."""
    factor = 1.5 if compact else 2.0
    return 1 << max(3, int(np.ceil(np.log2(factor * n_words + 1))))


def build_hash_table(
    word_hashes: NDArray[np.uint32], *, compact: bool = False
) -> NDArray[np.int32]:
    """Open-addressing table (linear probing) of word ids keyed by ``word_hashes``.

    Built in vectorised rounds: every unplaced word tries its current slot, the lowest id wins
    each free slot, the others move one slot on. Slots are never freed, so every slot between a
    word's home and its final place is occupied, which is what a probing lookup relies on.
    """
    n = word_hashes.shape[0]
    size = hash_table_size(n, compact=compact)
    mask = size - 1
    table = np.full(size, _EMPTY_SLOT, dtype=np.int32)
    pending = np.arange(n, dtype=np.int64)
    slots = word_hashes.astype(np.int64) & mask
    while pending.size:
        free = table[slots] == _EMPTY_SLOT
        # Among the words aiming at the same free slot, the first (lowest id) wins.
        candidates, cand_slots = pending[free], slots[free]
        winners_slots, first = np.unique(cand_slots, return_index=True)
        table[winners_slots] = candidates[first].astype(np.int32)
        placed = np.zeros(pending.size, dtype=bool)
        placed[np.flatnonzero(free)[first]] = True
        pending, slots = pending[~placed], (slots[~placed] + 1) & mask
    return table


def apply_umask(path: str) -> None:
    """Give a file made by ``mkstemp`` (mode 0600) the mode a plain ``open`` would have, so
    outputs renamed into place are as readable as any other file the user writes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _crc32_of(array_: NDArray[Any], crc: int = 0) -> int:
    flat = np.ascontiguousarray(array_).reshape(-1).view(np.uint8)
    step = 1 << 26
    for start in range(0, flat.size, step):
        crc = zlib.crc32(flat[start : start + step].tobytes(), crc)
    return crc


# --- writing ----------------------------------------------------------------------------------


def _check_dtype(dtype: str) -> np.dtype[Any]:
    if dtype not in VECTOR_DTYPES:
        raise ConfigError(f"vector dtype must be one of {', '.join(VECTOR_DTYPES)} (got {dtype!r})")
    return np.dtype(dtype).newbyteorder("<")


class StoreWriter:
    """Write a store row block by row block, so a matrix larger than RAM can be stored.

    ``with StoreWriter(path, dim) as w: w.add(words, vectors)``; the file appears at ``path``
    only when the block ends without error (it is written under a temporary name in the same
    folder, then renamed). Give ``n_words`` when it is known to write vectors straight into
    place (with ``allow_fewer`` it is an upper bound); otherwise they are spooled to a temporary
    file first.

    Compressed stores: give the rows as ``codec`` (a :class:`~wordvec.quantized.RowCodec`)
    and, for frequency pruning, ``word_rows`` (int32, the row of every word; the first
    ``codec.n_rows`` words must own their rows). ``add`` then takes words and counts only
    (``vectors=None``); ``dtype`` applies to dense rows and subword buckets.

    ``compact`` writes the compact layout (format version 3, which older wordvec versions do
    not read): word offsets as uint32, no word hashes, a hash index at load factor up to 2/3,
    codebooks and rotation in float16, the n-gram index listing only the used buckets with
    uint16 word ids when they fit, and the cold datasets (:data:`COLD_DATASETS`: counts, the
    n-gram index) compressed. Lookups, search and unknown words give the same answers.

    ``oov_index`` says how the n-gram index of the OOV fallback is kept when there are no
    subword buckets (:data:`OOV_INDEX_MODES`; ``True``/``False`` mean ``"stored"``/``"none"``):
    ``"derived"`` writes only its parameters (format version 4); readers rebuild the same
    posting lists from the words when the first unknown word is asked for.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        dim: int,
        *,
        n_words: int | None = None,
        dtype: str = "float32",
        metadata: Mapping[str, Any] | None = None,
        oov_index: bool | str = True,
        progress: bool | None = False,
        allow_fewer: bool = False,
        codec: RowCodec | None = None,
        word_rows: NDArray[np.integer[Any]] | None = None,
        compact: bool = False,
    ) -> None:
        import tempfile

        import h5py

        if dim < 1:
            raise ConfigError(f"dimension must be at least 1 (got {dim})")
        if n_words is not None and n_words < 1:
            raise ConfigError(f"a store needs at least one word (got n_words={n_words})")
        self.path = os.fspath(path)
        self.dim = dim
        self.dtype = _check_dtype(dtype)
        self.n_words = n_words
        self.metadata = dict(metadata or {})
        self.oov_index = oov_index_mode(oov_index)
        self.compact = compact
        self.allow_fewer = allow_fewer
        if word_rows is not None and codec is None:
            raise ConfigError("word_rows (pruning) needs the rows given as a codec")
        if codec is not None and codec.dim != dim:
            raise ConfigError(f"encoded rows have dimension {codec.dim}, not {dim}")
        self._codec = codec
        self._word_rows = None if word_rows is None else np.asarray(word_rows, dtype="<i4")
        self._words: list[bytes] = []
        self._counts: array[int] | None = array("q")
        self._norms = array("f")
        self._vectors_crc = 0
        self._subwords: SubwordTable | None = None
        self._rows = 0
        self._progress = Progress("writing", total=n_words, unit="rows", enabled=progress)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise StoreError(self.path, "cannot write: the folder does not exist")
        handle, self._tmp_path = tempfile.mkstemp(
            prefix=f".{os.path.basename(self.path)}.", suffix=".tmp", dir=folder
        )
        os.close(handle)
        apply_umask(self._tmp_path)
        self._spool_path: str | None = None
        self._spool: Any = None
        try:
            self._file = h5py.File(self._tmp_path, "w", libver="latest")
            if codec is not None:
                pass  # rows come from the codec at commit
            elif n_words is not None:
                self._vectors = self._file.create_dataset(
                    "vectors", shape=(n_words, dim), dtype=self.dtype
                )
            else:
                handle, self._spool_path = tempfile.mkstemp(
                    prefix=f".{os.path.basename(self.path)}.", suffix=".rows", dir=folder
                )
                self._spool = os.fdopen(handle, "wb")
        except BaseException:
            self._cleanup()
            raise

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def add(
        self,
        words: Sequence[str],
        vectors: NDArray[Any] | None,
        counts: Sequence[int] | NDArray[np.int64] | None = None,
    ) -> None:
        """Append words with their vectors (and counts: give them for every row or never).
        With a ``codec`` the vectors are already given: pass ``None``."""
        if self._codec is not None or vectors is None:
            if self._codec is None or vectors is not None:
                raise ConfigError("give vectors to add() exactly when the writer has no codec")
            self._add_words(words, counts)
            self._rows += len(words)
            self._progress.update(len(words))
            return
        block = np.asarray(vectors)
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise ConfigError(
                f"vectors must have shape (n, {self.dim}) (got {block.shape}) for rows "
                f"{self._rows}..."
            )
        if block.shape[0] != len(words):
            raise ConfigError(
                f"number of words ({len(words)}) does not match number of vectors "
                f"({block.shape[0]})"
            )
        if self.n_words is not None and self._rows + len(words) > self.n_words:
            raise ConfigError(f"more rows than the {self.n_words} announced")
        with np.errstate(over="ignore"):
            stored = np.ascontiguousarray(block, dtype=self.dtype)
        finite = np.isfinite(stored).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            limit = " (or beyond the float16 range)" if self.dtype == np.float16 else ""
            raise ConfigError(
                f"vector of {words[bad]!r} (row {self._rows + bad}) has a NaN or infinite "
                f"value{limit}"
            )
        self._add_words(words, counts)
        norms = np.linalg.norm(stored.astype(np.float32), axis=1).astype(np.float32)
        self._norms.frombytes(norms.tobytes())
        self._vectors_crc = _crc32_of(stored, self._vectors_crc)
        if self._spool is not None:
            self._spool.write(stored.tobytes())
        else:
            self._vectors[self._rows : self._rows + stored.shape[0]] = stored
        self._rows += stored.shape[0]
        self._progress.update(stored.shape[0])

    def _add_words(
        self, words: Sequence[str], counts: Sequence[int] | NDArray[np.int64] | None
    ) -> None:
        if self.n_words is not None and self._rows + len(words) > self.n_words:
            raise ConfigError(f"more rows than the {self.n_words} announced")
        if counts is None:
            self._counts = None
        elif self._counts is not None:
            if len(counts) != len(words):
                raise ConfigError("counts must be given for every word of a block")
            self._counts.extend(int(c) for c in counts)
        self._words.extend(w.encode("utf-8") for w in words)

    @property
    def rows(self) -> int:
        """Rows added so far."""
        return self._rows

    def set_subwords(self, subwords: SubwordTable) -> None:
        if subwords.vectors.shape[1] != self.dim:
            raise ConfigError(
                f"subword vectors have dimension {subwords.vectors.shape[1]}, not {self.dim}"
            )
        self._subwords = subwords

    def _write(self, name: str, data: NDArray[Any], **attrs: Any) -> None:
        packed = self.compact and name in COLD_DATASETS and data.size > 0
        options: dict[str, Any] = (
            {"compression": "gzip", "compression_opts": 6, "shuffle": True} if packed else {}
        )
        dataset = self._file.create_dataset(name, data=data, **options)
        dataset.attrs["crc32"] = _crc32_of(data)
        for key, value in attrs.items():
            dataset.attrs[key] = value

    def _write_subwords(self, subwords: SubwordTable) -> None:
        """Copy the bucket table block by block (it may be a memory map of gigabytes)."""
        if subwords.max_n > MAX_NGRAM_LENGTH:
            raise ConfigError(
                f"subword max_n must be at most {MAX_NGRAM_LENGTH} (got {subwords.max_n})"
            )
        source = subwords.vectors
        dataset = self._file.create_dataset(
            "subwords/vectors", shape=source.shape, dtype=self.dtype
        )
        crc = 0
        for start in range(0, source.shape[0], _ROWS_PER_WRITE):
            block = self._stored_rows(
                source[start : start + _ROWS_PER_WRITE], "subword bucket", start
            )
            dataset[start : start + block.shape[0]] = block
            crc = _crc32_of(block, crc)
        dataset.attrs.update(
            {"crc32": crc, "min_n": subwords.min_n, "max_n": subwords.max_n, "hash": SUBWORD_HASH}
        )

    def _stored_rows(self, rows: NDArray[Any], what: str, first_row: int) -> NDArray[Any]:
        """``rows`` in the stored dtype; NaN, infinity or a value beyond the dtype's range (as
        float16 has) is an error naming the row."""
        with np.errstate(over="ignore"):
            stored = np.ascontiguousarray(rows, dtype=self.dtype)
        finite = np.isfinite(stored).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            limit = " or beyond the float16 range" if self.dtype == np.float16 else ""
            raise ConfigError(f"{what} row {first_row + bad} has a NaN or infinite value{limit}")
        return stored

    def commit(self) -> None:
        """Finish the file (vocabulary, indices, metadata) and move it into place."""
        try:
            self._commit()
        except BaseException:
            self._cleanup()
            raise

    def _commit(self) -> None:
        n = self._rows
        if n == 0:
            raise ConfigError("no words were added: a store needs at least one word")
        if self.n_words is not None and n != self.n_words:
            if not self.allow_fewer or n > self.n_words or self._codec is not None:
                raise ConfigError(f"{n} rows were added but {self.n_words} were announced")
            # Fewer rows than announced (a reader dropped duplicates): move them into a dataset
            # of the right size. The old one's space stays unused in the file.
            old = self._vectors
            self._vectors = self._file.create_dataset(
                "vectors_final", shape=(n, self.dim), dtype=self.dtype
            )
            for start in range(0, n, _ROWS_PER_WRITE):
                stop = min(start + _ROWS_PER_WRITE, n)
                self._vectors[start:stop] = old[start:stop]
            del self._file["vectors"]
            self._file.move("vectors_final", "vectors")
            self._vectors = self._file["vectors"]
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            assert self._spool_path is not None
            spooled = np.memmap(self._spool_path, dtype=self.dtype, mode="r", shape=(n, self.dim))
            self._vectors = self._file.create_dataset(
                "vectors", shape=(n, self.dim), dtype=self.dtype
            )
            for start in range(0, n, _ROWS_PER_WRITE):
                self._vectors[start : start + _ROWS_PER_WRITE] = spooled[
                    start : start + _ROWS_PER_WRITE
                ]
            del spooled
        version = DENSE_FORMAT_VERSION
        encoding = "dense"
        n_rows = n
        if self._codec is not None:
            version, encoding, n_rows = self._write_codec(n)
        else:
            self._vectors.attrs["crc32"] = self._vectors_crc
        if self.compact:
            version = COMPACT_FORMAT_VERSION

        seen: dict[bytes, int] = {}
        for i, word in enumerate(self._words):
            first = seen.setdefault(word, i)
            if first != i:
                raise ConfigError(
                    f"duplicate word {word.decode('utf-8')!r} at rows {first} and {i}"
                )
        del seen
        lengths = np.fromiter((len(w) for w in self._words), dtype=np.int64, count=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = np.frombuffer(b"".join(self._words), dtype=np.uint8)
        hashes = np.fromiter((word_hash(w) for w in self._words), dtype=np.uint32, count=n)
        self._words = []
        self._write("vocab/words_utf8", blob)
        if self.compact:
            # A lookup compares the bytes of the few words it probes: no stored hashes needed.
            narrow = "<u4" if blob.size < 1 << 32 else "<i8"
            self._write("vocab/word_offsets", offsets.astype(narrow))
        else:
            self._write("vocab/word_offsets", offsets)
            self._write("vocab/word_hashes", hashes)
        self._write("vocab/hash_table", build_hash_table(hashes, compact=self.compact))
        if self._counts is not None:
            self._write("vocab/counts", np.frombuffer(self._counts, dtype=np.int64))
        if self._codec is not None:
            norms = row_norms(self._codec)
        else:
            norms = np.frombuffer(self._norms, dtype=np.float32)
        self._write("norms", norms)

        if self._subwords is not None:
            self._write_subwords(self._subwords)
        elif self.oov_index != "none":
            from wordvec.oov import OOV_MAX_N, OOV_MAX_POSTINGS, OOV_MIN_N, index_bucket_count

            if self.oov_index == "derived":
                # Only the parameters: the posting lists are a function of the words.
                group = self._file.create_group("oov_index")
                group.attrs["derived"] = 1
                version = DERIVED_OOV_FORMAT_VERSION
            else:
                from wordvec.oov import build_ngram_index

                index = build_ngram_index(blob, offsets, compact=self.compact)
                for name, data in index.items():
                    self._write(f"oov_index/{name}", data)
                group = self._file["oov_index"]
            group.attrs.update(
                {
                    "min_n": OOV_MIN_N,
                    "max_n": OOV_MAX_N,
                    "max_postings": OOV_MAX_POSTINGS,
                    "hash": SUBWORD_HASH,
                }
            )
            if self.compact or self.oov_index == "derived":
                group.attrs["n_buckets"] = index_bucket_count(n)

        attrs = self._file.attrs
        attrs["format"] = FORMAT_NAME
        attrs["format_version"] = version
        attrs["created_by"] = f"wordvec {__version__}"
        attrs["dim"] = self.dim
        attrs["n_words"] = n
        attrs["n_rows"] = n_rows
        attrs["vector_encoding"] = encoding
        attrs["vector_dtype"] = self.dtype.name
        attrs["word_hash"] = WORD_HASH
        attrs["median_norm"] = float(np.median(norms))
        attrs["metadata_json"] = json.dumps(self.metadata, sort_keys=True, default=str)
        self._file.close()
        self._progress.close()
        os.replace(self._tmp_path, self.path)
        if self._spool_path is not None:
            os.remove(self._spool_path)

    def _write_codec(self, n: int) -> tuple[int, str, int]:
        """Write the codec's arrays (and the word -> row map); returns the format version,
        encoding name and row count."""
        codec = self._codec
        assert codec is not None
        if isinstance(codec, DenseRows) and codec.matrix.dtype != self.dtype:
            codec = self._codec = DenseRows(self._stored_rows(codec.matrix, "vector", 0))
        elif isinstance(codec, DenseRows):
            self._stored_rows(codec.matrix, "vector", 0)  # NaN and infinity are errors
        if self._word_rows is None:
            if codec.n_rows != n:
                raise ConfigError(f"{codec.n_rows} encoded rows for {n} words")
        else:
            rows = self._word_rows
            if rows.shape != (n,):
                raise ConfigError(f"word_rows must have one entry per word ({n})")
            if codec.n_rows > n or (rows.size and (rows.min() < 0 or rows.max() >= codec.n_rows)):
                raise ConfigError(f"word_rows must point into the {codec.n_rows} encoded rows")
            if not np.array_equal(rows[: codec.n_rows], np.arange(codec.n_rows)):
                raise ConfigError("the first n_rows words must own their rows (word_rows[i] = i)")
            self._write("word_rows", rows)
        if isinstance(codec, HashRows):
            if codec.n_rows != n:
                raise ConfigError(f"the hash table's vocabulary has {codec.n_rows} words, not {n}")
            table = self._stored_rows(codec.table, "hash table", 0)
            self._write("hash_table", table, **codec.params.to_attrs())
            # Norms and the lookups of this file see the table as stored (float16 rounds it).
            self._codec = HashRows(table, codec.params, codec.words_utf8, codec.word_offsets)
            return 2, codec.encoding, n
        if self.compact and isinstance(codec, CodebookRows):
            codec = self._codec = _half_precision_codebooks(codec)
        for name, data in codec.arrays().items():
            if self.compact and name in _HALF_PRECISION_ARRAYS and _fits_float16(data):
                data = data.astype("<f2")  # exact: the codec already holds the rounded values
            self._write(name, np.ascontiguousarray(data))
        pruned = self._word_rows is not None
        version = DENSE_FORMAT_VERSION if codec.encoding == "dense" and not pruned else 2
        return version, codec.encoding, codec.n_rows

    def abort(self) -> None:
        """Drop everything written so far; nothing appears at ``path``."""
        self._cleanup()

    def _cleanup(self) -> None:
        self._progress.close(success=False)
        file = getattr(self, "_file", None)
        if file is not None and file.id.valid:
            file.close()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        for path in (self._tmp_path, self._spool_path):
            if path is not None and os.path.exists(path):
                os.remove(path)


_HALF_PRECISION_ARRAYS = ("codebooks", "rotation")


def _fits_float16(data: NDArray[Any]) -> bool:
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.asarray(data, dtype=np.float16)).all())


def _half_precision_codebooks(codec: CodebookRows) -> CodebookRows:
    """The codec with its codebooks (and rotation) rounded to float16, held as float32: what the
    compact layout stores, so norms and fidelity are computed from the stored values. Tables
    beyond the float16 range stay float32."""

    def rounded(data: NDArray[Any]) -> NDArray[np.float32]:
        if not _fits_float16(data):
            return np.asarray(data, dtype=np.float32)
        return np.asarray(data, dtype=np.float16).astype(np.float32)

    if isinstance(codec, ProductCodes):
        rotation = None if codec.rotation is None else rounded(codec.rotation)
        return ProductCodes(codec.codes, rounded(codec.codebooks), codec.dim, rotation)
    return AdditiveCodes(codec.codes, rounded(codec.codebooks), codec.dim)


def write_store(
    path: str | os.PathLike[str],
    embeddings: Embeddings,
    *,
    dtype: str = "float32",
    oov_index: bool | str = True,
    progress: bool | None = False,
    compact: bool = False,
) -> None:
    """Write ``embeddings`` to a store at ``path`` (replaced atomically if it exists);
    ``compact`` writes the compact layout and ``oov_index`` chooses how the OOV fallback's
    n-gram index is kept (see :class:`StoreWriter`).

    Hash embeddings (``embeddings.hashing``) are stored as their table and hashing parameters
    only (encoding ``hash``); unknown words are then answered from the same table."""
    vocab = embeddings.vocab
    if embeddings.hashing is not None:
        blob, offsets = vocab.to_arrays()
        table = embeddings.hashing
        with StoreWriter(
            path,
            embeddings.dim,
            n_words=len(vocab),
            dtype=dtype,
            metadata=embeddings.metadata,
            oov_index=False,
            progress=progress,
            codec=HashRows(table.vectors, table.params, blob, offsets),
        ) as writer:
            for start in range(0, len(vocab), _ROWS_PER_WRITE):
                stop = start + _ROWS_PER_WRITE
                counts = None if vocab.counts is None else vocab.counts[start:stop]
                writer.add(vocab.words[start:stop], None, counts)
        return
    with StoreWriter(
        path,
        embeddings.dim,
        n_words=len(vocab),
        dtype=dtype,
        metadata=embeddings.metadata,
        oov_index=oov_index,
        progress=progress,
        compact=compact,
    ) as writer:
        for start in range(0, len(vocab), _ROWS_PER_WRITE):
            stop = start + _ROWS_PER_WRITE
            writer.add(
                vocab.words[start:stop],
                embeddings.vectors[start:stop],
                None if vocab.counts is None else vocab.counts[start:stop],
            )
        if embeddings.subwords is not None:
            writer.set_subwords(embeddings.subwords)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrayRef:
    """Where a dataset's bytes lie in the file."""

    offset: int  # -1 when compressed
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    crc32: int | None
    compressed: bool = False  # a cold dataset stored compressed: read whole, not mapped

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass(frozen=True)
class StoreLayout:
    """Validated header of a store: attributes and the location of every array."""

    path: str
    format_version: int
    dim: int
    n_words: int
    vector_dtype: str
    median_norm: float
    metadata: dict[str, Any]
    arrays: dict[str, ArrayRef]
    subword_range: tuple[int, int] | None = None
    oov_range: tuple[int, int] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    vector_encoding: str = "dense"
    n_rows: int = 0  # rows of the matrix (fewer than n_words when pruned)
    hash_params: HashParams | None = None
    oov_buckets: int | None = None  # compact or derived n-gram index: size of its bucket space
    oov_derived: bool = False  # the n-gram index is rebuilt from the words (version 4)
    oov_max_postings: int | None = None  # derived index: words kept per bucket
    _loaded: dict[str, NDArray[Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def oov_index(self) -> str:
        """How the store keeps the n-gram index of its OOV fallback: ``"stored"``,
        ``"derived"`` or ``"none"`` (see :data:`OOV_INDEX_MODES`)."""
        if self.oov_range is None:
            return "none"
        return "derived" if self.oov_derived else "stored"

    def map(self, name: str) -> NDArray[Any]:
        """A read-only memory map of one array (an empty array for zero-length data). A
        compressed (cold) dataset is read and decompressed whole on the first call instead,
        and kept: later calls return the same array."""
        ref = self.arrays[name]
        if ref.nbytes == 0:
            return np.empty(ref.shape, dtype=ref.dtype)
        if ref.compressed:
            return self._read_compressed(name, ref)
        mapped = np.memmap(self.path, dtype=ref.dtype, mode="r", offset=ref.offset, shape=ref.shape)
        # A plain ndarray view of the map: np.memmap's subclass hooks cost microseconds on
        # every slice, which dominated single-word lookups.
        return mapped.view(np.ndarray)

    def _read_compressed(self, name: str, ref: ArrayRef) -> NDArray[Any]:
        if name not in self._loaded:
            import h5py

            try:
                with h5py.File(self.path, "r", locking=False) as file:
                    data = np.asarray(file[name][()], dtype=ref.dtype)
            except (OSError, KeyError, ValueError) as exc:
                raise StoreError(self.path, f"cannot read dataset {name!r}: {exc}") from exc
            if data.shape != ref.shape:
                raise StoreError(self.path, f"dataset {name!r} changed since the store was opened")
            data.flags.writeable = False
            self._loaded[name] = data
        return self._loaded[name]

    def map_float32(self, name: str) -> NDArray[np.float32]:
        """A small array (codebooks, rotation) as float32, read now if stored as float16."""
        mapped = self.map(name)
        return mapped if mapped.dtype == np.float32 else mapped.astype(np.float32)

    def open_codec(self) -> RowCodec:
        """The matrix rows as a :class:`~wordvec.quantized.RowCodec` over memory maps."""
        if self.vector_encoding == "int8":
            return Int8Rows(self.map("vectors"), self.map("vector_scales"))
        if self.vector_encoding == "pq":
            rotation = self.map_float32("rotation") if "rotation" in self.arrays else None
            return ProductCodes(
                self.map("codes"), self.map_float32("codebooks"), self.dim, rotation
            )
        if self.vector_encoding == "rq":
            return AdditiveCodes(self.map("codes"), self.map_float32("codebooks"), self.dim)
        if self.vector_encoding == "hash":
            assert self.hash_params is not None  # read_layout checked it
            return HashRows(
                self.map("hash_table"),
                self.hash_params,
                self.map("vocab/words_utf8"),
                self.map("vocab/word_offsets"),
            )
        return DenseRows(self.map("vectors"))


def _attr(path: str, attrs: Any, name: str, kind: type) -> Any:
    if name not in attrs:
        raise StoreError(path, f"attribute {name!r} is missing: not a complete wordvec store")
    value = attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if kind is int:
        if not isinstance(value, (int, np.integer)):
            raise StoreError(path, f"attribute {name!r} should be an integer (got {value!r})")
        return int(value)
    if kind is float:
        return float(value)
    return str(value)


def read_layout(path: str | os.PathLike[str]) -> StoreLayout:
    """Open ``path`` just long enough to read and check its header.

    Raises :class:`StoreError` for a missing, non-HDF5, truncated, damaged or incomplete file, or
    one whose arrays are not laid out as this format requires, and :class:`StoreVersionError` for
    a format version this wordvec cannot read.
    """
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise StoreError(path, "no such file")
    if os.path.isdir(path):
        raise StoreError(path, "is a folder, not a store file")
    file_size = os.path.getsize(path)
    try:
        file = h5py.File(path, "r", locking=False)
    except OSError as exc:
        message = str(exc)
        if "truncated" in message:
            raise StoreError(path, f"truncated file ({message})") from exc
        if "signature" in message:
            raise StoreError(path, "not an HDF5 file, so not a wordvec store") from exc
        raise StoreError(path, f"cannot open as HDF5: {message}") from exc
    try:
        with file:
            layout = _read_header(path, file, file_size)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        # h5py reports damaged internal structures in many ways; all mean the same to a user.
        raise StoreError(path, f"corrupted HDF5 structure ({exc})") from exc
    _check_shapes(layout)
    return layout


def _read_header(path: str, file: Any, file_size: int) -> StoreLayout:
    import h5py

    attrs = file.attrs
    if attrs.get("format") not in (FORMAT_NAME, FORMAT_NAME.encode()):
        raise StoreError(path, f"an HDF5 file but not a wordvec store (no format={FORMAT_NAME!r})")
    version = _attr(path, attrs, "format_version", int)
    if version > FORMAT_VERSION or version < 1:
        raise StoreVersionError(
            path,
            f"store format version {version} is not supported: this wordvec "
            f"({__version__}) reads versions 1 to {FORMAT_VERSION}; upgrade wordvec",
        )
    dim = _attr(path, attrs, "dim", int)
    n_words = _attr(path, attrs, "n_words", int)
    vector_dtype = _attr(path, attrs, "vector_dtype", str)
    if vector_dtype not in VECTOR_DTYPES:
        raise StoreError(path, f"unknown vector dtype {vector_dtype!r}")
    if dim < 1 or n_words < 1:
        raise StoreError(path, f"invalid header: dim={dim}, n_words={n_words}")
    encoding, n_rows = "dense", n_words
    if version >= 2:
        encoding = _attr(path, attrs, "vector_encoding", str)
        n_rows = _attr(path, attrs, "n_rows", int)
        if encoding not in ENCODINGS:
            raise StoreError(
                path, f"unknown vector encoding {encoding!r} (expected {', '.join(ENCODINGS)})"
            )
        if not 1 <= n_rows <= n_words:
            raise StoreError(path, f"invalid header: n_rows={n_rows} for {n_words} words")
    try:
        metadata = json.loads(_attr(path, attrs, "metadata_json", str))
    except json.JSONDecodeError as exc:
        raise StoreError(path, f"metadata is not valid JSON: {exc}") from exc

    arrays: dict[str, ArrayRef] = {}
    for name, (expected, required) in _DATASETS.items():
        if name not in file:
            if required:
                raise StoreError(path, f"dataset {name!r} is missing")
            continue
        dataset = file[name]
        if not isinstance(dataset, h5py.Dataset):
            raise StoreError(path, f"{name!r} is not a dataset")
        allowed = _allowed_dtypes(name, expected, encoding, vector_dtype)
        if version < COMPACT_FORMAT_VERSION:
            allowed = allowed[:1]  # the narrow alternatives came with version 3
        if dataset.dtype not in allowed:
            raise StoreError(
                path,
                f"dataset {name!r} has dtype {dataset.dtype}, expected "
                f"{' or '.join(str(a) for a in allowed)}",
            )
        want = dataset.dtype.newbyteorder("<") if dataset.dtype.itemsize > 1 else dataset.dtype
        compressed = dataset.chunks is not None or dataset.compression is not None
        if compressed and not (version >= COMPACT_FORMAT_VERSION and name in COLD_DATASETS):
            raise StoreError(path, f"dataset {name!r} is chunked or compressed: cannot be mapped")
        offset = None if compressed else dataset.id.get_offset()
        ref = ArrayRef(
            offset=-1 if offset is None else int(offset),
            shape=tuple(int(s) for s in dataset.shape),
            dtype=want,
            crc32=int(dataset.attrs["crc32"]) if "crc32" in dataset.attrs else None,
            compressed=compressed,
        )
        if compressed:
            # A truncated file shows when the chunks are read (h5py raises; map() reports it).
            if dataset.id.get_storage_size() > file_size:
                raise StoreError(path, f"truncated: dataset {name!r} cannot fit in the file")
        elif ref.nbytes and (ref.offset < 0 or ref.offset + ref.nbytes > file_size):
            raise StoreError(
                path,
                f"truncated: dataset {name!r} needs bytes {ref.offset}..{ref.offset + ref.nbytes}"
                f" but the file has {file_size}",
            )
        arrays[name] = ref
    subword_range = None
    if "subwords/vectors" in arrays:
        sub_attrs = file["subwords/vectors"].attrs
        subword_range = (_attr(path, sub_attrs, "min_n", int), _attr(path, sub_attrs, "max_n", int))
    oov_range = None
    oov_buckets = None
    oov_max_postings = None
    derived = isinstance(file.get("oov_index"), h5py.Group) and "derived" in file["oov_index"].attrs
    if derived or "oov_index/posting_offsets" in arrays or "oov_index/bucket_ids" in arrays:
        oov_attrs = file["oov_index"].attrs
        oov_range = (_attr(path, oov_attrs, "min_n", int), _attr(path, oov_attrs, "max_n", int))
        if derived:
            oov_buckets, oov_max_postings = _derived_index_params(path, file, version)
        elif "oov_index/bucket_ids" in arrays:
            oov_buckets = _attr(path, oov_attrs, "n_buckets", int)
    hash_params = None
    if "hash_table" in arrays:
        table_attrs = file["hash_table"].attrs
        scheme = _attr(path, table_attrs, "scheme", str)
        if scheme != HASH_SCHEME:
            raise StoreError(
                path, f"unknown hash-embedding scheme {scheme!r} (this wordvec reads {HASH_SCHEME})"
            )
        try:
            hash_params = HashParams(
                *(_attr(path, table_attrs, key, int) for key in ("table_rows", "n_hashes")),
                *(_attr(path, table_attrs, key, int) for key in ("min_n", "max_n", "seed")),
            )
        except ConfigError as exc:
            raise StoreError(path, f"invalid hash-embedding parameters: {exc}") from exc
    for n_range in (subword_range, oov_range):
        if n_range is not None and not 1 <= n_range[0] <= n_range[1] <= MAX_NGRAM_LENGTH:
            raise StoreError(path, f"invalid n-gram range {n_range}")
    return StoreLayout(
        path=path,
        format_version=version,
        dim=dim,
        n_words=n_words,
        vector_dtype=vector_dtype,
        median_norm=float(attrs.get("median_norm", 1.0)),
        metadata=metadata if isinstance(metadata, dict) else {"value": metadata},
        arrays=arrays,
        subword_range=subword_range,
        oov_range=oov_range,
        attrs={k: (v.item() if isinstance(v, np.generic) else v) for k, v in attrs.items()},
        vector_encoding=encoding,
        n_rows=n_rows,
        hash_params=hash_params,
        oov_buckets=oov_buckets,
        oov_derived=derived,
        oov_max_postings=oov_max_postings,
    )


def _derived_index_params(path: str, file: Any, version: int) -> tuple[int, int]:
    """``(n_buckets, max_postings)`` of a derived n-gram index, checked: the reader rebuilds
    the posting lists from these, so a wrong value would silently change every OOV vector."""
    group = file["oov_index"]
    attrs = group.attrs
    if version < DERIVED_OOV_FORMAT_VERSION:
        raise StoreError(
            path,
            f"a derived n-gram index needs format version {DERIVED_OOV_FORMAT_VERSION} "
            f"(the file says {version})",
        )
    if _attr(path, attrs, "derived", int) != 1:
        raise StoreError(
            path, f"n-gram index attribute 'derived' must be 1 (got {attrs['derived']!r})"
        )
    if len(group):
        raise StoreError(path, f"a derived n-gram index holds no datasets (found {sorted(group)})")
    hash_name = _attr(path, attrs, "hash", str)
    if hash_name != SUBWORD_HASH:
        raise StoreError(
            path, f"unknown n-gram index hash {hash_name!r} (this wordvec reads {SUBWORD_HASH})"
        )
    n_buckets = _attr(path, attrs, "n_buckets", int)
    if not 1 <= n_buckets <= 1 << 32:
        raise StoreError(path, f"invalid n-gram index size n_buckets={n_buckets}")
    max_postings = _attr(path, attrs, "max_postings", int)
    if max_postings < 1:
        raise StoreError(path, f"invalid n-gram index max_postings={max_postings} (must be >= 1)")
    return n_buckets, max_postings


def _allowed_dtypes(
    name: str, expected: tuple[str, ...], encoding: str, vector_dtype: str
) -> list[np.dtype[Any]]:
    if expected:
        return [np.dtype(e) for e in expected]
    if name == "codes":
        return [np.dtype("|u1"), np.dtype("<u2")]
    if name == "vectors" and encoding == "int8":
        return [np.dtype("|i1")]
    return [np.dtype(vector_dtype).newbyteorder("<")]


def _check_shapes(layout: StoreLayout) -> None:
    path, arrays, n_words, dim = layout.path, layout.arrays, layout.n_words, layout.dim

    def expect(name: str, shape: tuple[int, ...]) -> None:
        if name in arrays and arrays[name].shape != shape:
            raise StoreError(
                path, f"dataset {name!r} has shape {arrays[name].shape}, expected {shape}"
            )

    _check_encoding(layout, expect)
    expect("norms", (layout.n_rows,))
    expect("vocab/word_offsets", (n_words + 1,))
    if "vocab/word_hashes" not in arrays and layout.format_version < COMPACT_FORMAT_VERSION:
        raise StoreError(path, "dataset 'vocab/word_hashes' is missing")
    expect("vocab/word_hashes", (n_words,))
    expect("vocab/counts", (n_words,))
    table = arrays["vocab/hash_table"].shape
    if len(table) != 1 or table[0] < n_words + 1 or table[0] & (table[0] - 1):
        raise StoreError(path, f"hash table of shape {table} cannot index {n_words} words")
    if "subwords/vectors" in arrays:
        sub_shape = arrays["subwords/vectors"].shape
        if len(sub_shape) != 2 or sub_shape[1] != dim or sub_shape[0] < 1:
            raise StoreError(
                path, f"subword table has shape {sub_shape}, expected (n_buckets, {dim})"
            )
    if layout.oov_range is not None:
        _check_ngram_index(layout, expect)


def _check_ngram_index(layout: StoreLayout, expect: Any) -> None:
    """The n-gram index is complete, in the classic layout (an offset per bucket) or the
    compact one (the used buckets and their offsets)."""
    path, arrays = layout.path, layout.arrays
    if layout.oov_derived:
        return  # no datasets: the parameters were checked with the header
    if layout.oov_buckets is None:
        needed: tuple[str, ...] = (
            "oov_index/posting_offsets",
            "oov_index/posting_word_ids",
            "oov_index/word_ngram_counts",
        )
        offsets_name = "oov_index/posting_offsets"
    else:
        needed = ("oov_index/bucket_ids", "oov_index/bucket_offsets", "oov_index/posting_word_ids")
        offsets_name = "oov_index/bucket_offsets"
    for name in needed:
        if name not in arrays:
            raise StoreError(path, f"dataset {name!r} is missing")
    expect("oov_index/word_ngram_counts", (layout.n_words,))
    offsets = arrays[offsets_name].shape
    if len(offsets) != 1 or offsets[0] < (1 if layout.oov_buckets is not None else 2):
        raise StoreError(path, "n-gram index offsets must be one-dimensional")
    if layout.oov_buckets is not None:
        expect("oov_index/bucket_ids", (offsets[0] - 1,))
        if not 1 <= layout.oov_buckets <= 1 << 32:
            raise StoreError(path, f"invalid n-gram index size {layout.oov_buckets}")


def _check_encoding(layout: StoreLayout, expect: Any) -> None:
    """The datasets each encoding needs, with consistent shapes."""
    path, arrays, n_rows, dim = layout.path, layout.arrays, layout.n_rows, layout.dim
    needed = {
        "dense": ("vectors",),
        "int8": ("vectors", "vector_scales"),
        "pq": ("codes", "codebooks"),
        "rq": ("codes", "codebooks"),
        "hash": ("hash_table",),
    }[layout.vector_encoding]
    for name in needed:
        if name not in arrays:
            raise StoreError(
                path, f"dataset {name!r} is missing ({layout.vector_encoding} encoding)"
            )
    expect("vectors", (n_rows, dim))
    if layout.vector_encoding == "hash":
        assert layout.hash_params is not None
        expect("hash_table", (layout.hash_params.table_rows, dim))
        if n_rows != layout.n_words:
            raise StoreError(path, f"hash encoding needs n_rows = n_words (got {n_rows})")
    expect("vector_scales", (n_rows,))
    expect("rotation", (dim, dim))
    if n_rows != layout.n_words and "word_rows" not in arrays:
        raise StoreError(
            path, f"dataset 'word_rows' is missing ({n_rows} rows, {layout.n_words} words)"
        )
    expect("word_rows", (layout.n_words,))
    if "codes" in arrays:
        codes, books = arrays["codes"].shape, arrays["codebooks"].shape
        if len(codes) != 2 or codes[0] != n_rows or len(books) != 3 or books[0] != codes[1]:
            raise StoreError(
                path,
                f"codes of shape {codes} and codebooks of shape {books} do not match {n_rows} rows",
            )
        n_codebooks, n_codewords, width = books
        if not 1 <= n_codebooks <= dim or n_codewords < 1:
            raise StoreError(path, f"invalid codebooks of shape {books} for dimension {dim}")
        if n_codewords > 1 << (8 * arrays["codes"].dtype.itemsize):
            raise StoreError(
                path, f"{n_codewords} codewords cannot be indexed by {arrays['codes'].dtype} codes"
            )
        want = dim if layout.vector_encoding == "rq" else -(-dim // n_codebooks)
        if width != want:
            raise StoreError(
                path,
                f"codebooks have width {width}, expected {want} for "
                f"{layout.vector_encoding} with {n_codebooks} codebooks of dimension {dim}",
            )


def verify_store(path: str | os.PathLike[str], *, progress: bool | None = False) -> list[str]:
    """Read every byte of the store and compare with the checksums written with it.

    Returns the names of the arrays that verified; raises :class:`StoreError` on a mismatch.
    """
    layout = read_layout(path)
    verified = []
    total = sum(ref.nbytes for ref in layout.arrays.values())
    with Progress("verifying", total=total, unit="B", enabled=progress) as bar:
        for name, ref in layout.arrays.items():
            if ref.crc32 is None:
                raise StoreError(layout.path, f"dataset {name!r} has no checksum")
            if _crc32_of(layout.map(name)) != ref.crc32:
                raise StoreError(layout.path, f"dataset {name!r} is corrupted (checksum mismatch)")
            verified.append(name)
            bar.update(ref.nbytes)
    return verified
