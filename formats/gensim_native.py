"""gensim's native saves (the pickles ``.save()`` writes), read and written through gensim.

Reading accepts a saved ``KeyedVectors`` (``FastTextKeyedVectors`` included), or a ``Word2Vec``,
``FastText`` or ``Doc2Vec`` model, whose word vectors (``.wv``) are taken. A fastText model
brings its n-gram buckets along as a :class:`~wordvec.embeddings.SubwordTable`, so an
out-of-vocabulary word gets the same vector from a wordvec store as from gensim's ``kv[word]``.
Writing produces a ``KeyedVectors`` save (a ``FastTextKeyedVectors`` one when the vectors carry
subword buckets) that ``KeyedVectors.load`` opens.

SECURITY: a gensim save is a pickle, and loading a pickle runs code chosen by whoever wrote the
file. Only read gensim files you trust (gensim's own documentation gives the same warning). The
other formats never unpickle anything.

gensim is imported inside the functions only, so importing this module (or listing formats)
stays cheap.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import pickle
import zlib
from collections.abc import Iterator
from typing import Any

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
from wordvec.textio import check_unicode_errors
from wordvec.types import VECTOR_DTYPES

EXPECTED = "a gensim KeyedVectors, Word2Vec, FastText or Doc2Vec save"
TRAINING_PARAMS = ("vector_size", "window", "sg", "negative", "min_count", "epochs")
_FASTTEXT_PARAMS = ("min_n", "max_n", "bucket")
# gensim (through smart_open) decompresses by file extension; mmap is impossible then.
_COMPRESSED = (".gz", ".bz2", ".xz")
# What unpickling a damaged, foreign or outdated file raises: bad opcodes, a missing class or
# module (saves from old gensim versions), truncation, or upgrade code failing on old state.
_LOAD_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    TypeError,
    ValueError,
    IndexError,
    KeyError,
    OSError,
    lzma.LZMAError,
    zlib.error,
)
_INVERT_ROWS = 1024


# --- reading ----------------------------------------------------------------------------------


def read_gensim(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """Stream the word vectors of a gensim save, in gensim's order (``kv.index_to_key``).

    Vectors come from gensim's matrix (memory-mapped when the save keeps it in a side
    ``.npy`` file), ``BLOCK_ROWS`` rows at a time, as float32. Counts are gensim's ``"count"``
    attribute when every word has one, else ``None``. A fastText model or
    ``FastTextKeyedVectors`` adds ``subwords`` (its ``vectors_ngrams``, ``min_n``, ``max_n``;
    a gensim 3 save's packed n-gram rows are unpacked, see :func:`_unpack_ngrams`).
    ``limit`` keeps the first ``limit`` words. ``unicode_errors`` is accepted for the reader
    contract only: gensim keys are already text. Records in errors are 0-based rows.

    Metadata: ``source``, ``source_format`` (``"gensim"``), ``gensim_class`` and, for a model,
    ``training`` (``vector_size``, ``window``, ``sg``, ``negative``, ``min_count``, ``epochs``,
    and ``min_n``, ``max_n``, ``bucket`` for fastText).

    SECURITY: loading unpickles the file, which runs code chosen by whoever wrote it; only
    read files you trust.

    Raises :class:`FormatError` for a missing, empty, truncated or non-pickle file, a pickle of
    anything else (an LDA model, a dict), a save that this gensim version cannot load, a
    fastText model hashed with gensim's pre-3.8 non-fastText hash (``compatible_hash=False``),
    non-string keys, or NaN/infinity in a vector.
    """
    check_limit(limit)
    check_unicode_errors(unicode_errors)
    path = os.fspath(path)
    model = _load(path)

    from gensim.models import KeyedVectors, Word2Vec

    if isinstance(model, Word2Vec):
        kv = model.wv
        training = _training_params(model)
    elif isinstance(model, KeyedVectors):
        kv, training = model, None
    else:
        kind = type(model)
        raise FormatError(path, f"holds a {kind.__module__}.{kind.__qualname__}, not {EXPECTED}")

    words, vectors = _words_and_vectors(path, kv, limit)
    n = len(words)
    counts = _counts(path, kv, n)
    subwords, subwords_note = _subwords(path, kv, vectors.shape[1])
    duplicates = DuplicateFilter(path)
    keep = duplicates.keep(words, 0)
    duplicates.report()

    state = [vectors]  # emptied by close(), which releases gensim's (mapped) matrix

    def blocks() -> Iterator[WordBlock]:
        for start in range(0, n, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, n)
            if not state:
                raise ValueError(f"{path}: the source was closed")
            with np.errstate(over="ignore"):
                block = np.ascontiguousarray(state[0][start:stop], dtype=np.float32)
            check_finite(path, block, start, line_based=False)
            block_words = words[start:stop]
            block_counts = None if counts is None else counts[start:stop]
            if keep is not None:
                mask = keep[start:stop]
                block = block[mask]
                block_words = [w for w, k in zip(block_words, mask.tolist(), strict=True) if k]
                block_counts = None if block_counts is None else block_counts[mask]
            yield WordBlock(block_words, block, block_counts)

    metadata: dict[str, Any] = {
        "source": path,
        "source_format": "gensim",
        "gensim_class": type(model).__name__,
    }
    if training is not None:
        metadata["training"] = training
    if subwords_note is not None:
        metadata["subwords"] = subwords_note
    n_words = n - len(duplicates.dropped)
    return VectorSource(
        path, int(vectors.shape[1]), n_words, blocks(), subwords, metadata, state.clear
    )


def _load(path: str) -> Any:
    """The object of a gensim save, after checking the file is a pickle at all."""
    if not os.path.isfile(path):
        raise FormatError(path, "no such file")
    compressed = os.path.splitext(path)[1].lower() in _COMPRESSED
    try:
        head = _read_head(path)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise FormatError(path, f"cannot read the file ({exc}); expected {EXPECTED}") from exc
    if not head:
        raise FormatError(path, f"the file is empty (expected {EXPECTED})")
    # gensim has always pickled with protocol 2 or later, whose first byte is PROTO (0x80).
    if len(head) < 2 or head[0] != 0x80 or head[1] < 2:
        raise FormatError(path, f"not a pickle (expected {EXPECTED})")

    import gensim
    from gensim.utils import SaveLoad

    try:
        return SaveLoad.load(path, mmap=None if compressed else "r")
    except _LOAD_ERRORS as exc:
        if isinstance(exc, AttributeError) and exc.name == "_load_specials":
            kind = type(exc.obj)  # unpickled fine, but not a gensim object at all
            raise FormatError(
                path, f"holds a {kind.__module__}.{kind.__qualname__}, not {EXPECTED}"
            ) from exc
        if "hashing" in str(exc):
            raise FormatError(path, _OLD_HASH_PROBLEM) from exc
        problem = f"gensim {gensim.__version__} cannot load it ({type(exc).__name__}: {exc})"
        if isinstance(exc, (pickle.UnpicklingError, EOFError)):
            problem += ": the file is truncated or damaged"
        elif isinstance(exc, (AttributeError, ImportError)):
            problem += "; a save from an old gensim may need loading in gensim 3.8.3 and saving"
        raise FormatError(path, f"{problem}; expected {EXPECTED}") from exc


def _read_head(path: str) -> bytes:
    """The first two bytes of the (decompressed) file."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read(2)
    if extension == ".bz2":
        with bz2.open(path, "rb") as f:
            return f.read(2)
    if extension == ".xz":
        with lzma.open(path, "rb") as f:
            return f.read(2)
    with open(path, "rb") as f:
        return f.read(2)


_OLD_HASH_PROBLEM = (
    "a fastText model saved by gensim < 3.8, whose n-gram buckets follow gensim's old hash "
    "(compatible_hash=False) rather than fastText's, so unknown words would get wrong vectors "
    "(gensim 4 refuses it too)"
)


def _words_and_vectors(path: str, kv: Any, limit: int | None) -> tuple[list[str], NDArray[Any]]:
    keys = kv.index_to_key
    vectors = kv.vectors
    n = len(keys) if limit is None else min(len(keys), limit)
    if (
        not isinstance(vectors, np.ndarray)
        or vectors.ndim != 2
        or vectors.shape[0] < len(keys)
        or vectors.shape[1] < 1
        or vectors.dtype.kind != "f"
    ):
        shape = getattr(vectors, "shape", None)
        raise FormatError(
            path, f"the vectors are not a float matrix with a row per key (shape {shape})"
        )
    words = list(keys[:n])
    for row, word in enumerate(words):
        if not isinstance(word, str):
            raise FormatError(
                path,
                f"key {word!r} is a {type(word).__name__}, not a word (expected string keys)",
                record=row,
            )
    return words, vectors


def _counts(path: str, kv: Any, n: int) -> NDArray[np.int64] | None:
    # The "count" array behind kv.get_vecattr(word, "count"), read at once, not word by word.
    raw = getattr(kv, "expandos", {}).get("count")
    if raw is None or len(raw) < n:
        return None
    values = np.asarray(raw[:n])
    if values.dtype.kind not in "iu":
        try:  # gensim records None for a word missing from a word2vec vocabulary file
            values = np.array(values.tolist(), dtype=np.int64)
        except (TypeError, ValueError):
            return None
    counts = values.astype(np.int64)
    if counts.size and counts.min() < 0:
        row = int(np.flatnonzero(counts < 0)[0])
        raise FormatError(path, f"negative word count {counts[row]}", record=row)
    return counts


def _subwords(path: str, kv: Any, dim: int) -> tuple[Any, str | None]:
    """The n-gram buckets of a fastText ``kv`` (``None`` for other vectors), and a note for the
    metadata when they had to be unpacked from a gensim 3 save."""
    from gensim.models.fasttext import FastTextKeyedVectors

    from wordvec.embeddings import SubwordTable

    if not isinstance(kv, FastTextKeyedVectors) or not kv.bucket:
        return None, None
    if getattr(kv, "compatible_hash", False) is not True:
        raise FormatError(path, _OLD_HASH_PROBLEM)
    ngrams = kv.vectors_ngrams
    note = None
    if not isinstance(ngrams, np.ndarray) or ngrams.ndim != 2 or ngrams.dtype.kind != "f":
        raise FormatError(path, "the n-gram vectors are not a float matrix")
    if ngrams.shape[0] != kv.bucket and isinstance(getattr(kv, "hash2index", None), dict):
        ngrams = _unpack_ngrams(path, ngrams, kv.hash2index, int(kv.bucket))
        note = PACKED_NGRAMS_NOTE
    if ngrams.shape != (kv.bucket, dim):
        raise FormatError(
            path, f"the n-gram vectors have shape {ngrams.shape}, expected ({kv.bucket}, {dim})"
        )
    for start in range(0, ngrams.shape[0], BLOCK_ROWS):
        finite = np.isfinite(ngrams[start : start + BLOCK_ROWS]).all(axis=1)
        if not finite.all():
            bucket = start + int(np.flatnonzero(~finite)[0])
            raise FormatError(path, f"NaN or infinite value in n-gram bucket {bucket}")
    if kv.min_n < 1:
        raise FormatError(path, f"n-gram lengths {kv.min_n}..{kv.max_n} (expected min_n >= 1)")
    try:
        return SubwordTable(ngrams, int(kv.min_n), int(kv.max_n)), note
    except ConfigError as exc:
        raise FormatError(path, f"unusable fastText n-gram settings: {exc}") from exc


PACKED_NGRAMS_NOTE = (
    "unpacked from a gensim 3 save that kept only the n-grams of its vocabulary; the other "
    "buckets are zero"
)


def _unpack_ngrams(
    path: str, packed: NDArray[Any], hash2index: dict[Any, Any], n_buckets: int
) -> NDArray[np.float32]:
    """The full bucket matrix of a gensim 3 fastText save, whose ``vectors_ngrams`` held only
    the buckets its vocabulary uses (row ``hash2index[bucket]``).

    gensim 4 keeps such a matrix as it is, so its ``kv[word]`` indexes past its end for
    unknown words (and gensim 3.8's own unpacking misplaced rows). gensim 3 averaged an unknown
    word over its known n-grams only; with the unknown buckets at zero the mean over all of
    them points the same way (same cosine), shorter by the share of known n-grams.
    """
    buckets = np.fromiter(hash2index.keys(), dtype=np.int64, count=len(hash2index))
    rows = np.fromiter(hash2index.values(), dtype=np.int64, count=len(hash2index))
    if (
        len(hash2index) != packed.shape[0]
        or (buckets.size and (buckets.min() < 0 or buckets.max() >= n_buckets))
        or not np.array_equal(np.sort(rows), np.arange(packed.shape[0]))
    ):
        raise FormatError(
            path,
            f"packed n-gram vectors ({packed.shape[0]} rows) with a hash2index of "
            f"{len(hash2index)} entries that does not map onto {n_buckets} buckets",
        )
    full = np.zeros((n_buckets, packed.shape[1]), dtype=np.float32)
    full[buckets] = packed[rows]
    return full


def _training_params(model: Any) -> dict[str, int]:
    """The integer training settings a model keeps as plain attributes (JSON-able)."""
    names = TRAINING_PARAMS + (_FASTTEXT_PARAMS if hasattr(model.wv, "vectors_ngrams") else ())
    params: dict[str, int] = {}
    for name in names:
        owner = model.wv if name in _FASTTEXT_PARAMS else model
        value = getattr(owner, name, None)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            params[name] = int(value)
    return params


# --- writing ----------------------------------------------------------------------------------


def write_gensim(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Save ``source`` as a gensim ``KeyedVectors`` (``KeyedVectors.load(path)`` opens it);
    return the number of words written.

    Counts become gensim's ``"count"`` attribute. With ``source.subwords`` the save is a
    ``FastTextKeyedVectors`` holding the same n-gram rows, so gensim gives an unknown word
    exactly the vector a wordvec store gives it. gensim does not store a fastText model's word
    vectors: it recomputes each as the mean of the word's own row and its n-gram rows when it
    loads; the own rows are solved for so that this gives back the source's vectors (to float32
    rounding), and such saves are float32 only.

    The whole matrix is gathered in memory (gensim pickles it) and saved in one file, so no side
    ``.npy`` file can be orphaned; a name ending in ``.gz`` or ``.bz2`` is compressed, as gensim
    does. The file appears only when complete (see :func:`~wordvec.formats.base.atomic_output`).

    Raises :class:`ConfigError` for another ``dtype``, float16 with subwords, duplicate words,
    NaN/infinity, values beyond float16's range, or blocks that do not match the source's
    dimension or number of words.
    """
    if dtype not in VECTOR_DTYPES:
        raise ConfigError(
            f"gensim vector dtype must be one of {', '.join(VECTOR_DTYPES)} (got {dtype!r})"
        )
    path = os.fspath(path)
    stored = np.dtype(dtype)
    with source, atomic_output(path) as tmp:
        subwords = source.subwords
        if subwords is not None and subwords.max_n == 0:
            subwords = None  # n-grams disabled: nothing to answer unknown words with
        if subwords is not None:
            if subwords.vectors.shape[1] != source.dim:
                raise ConfigError(
                    f"subword vectors have dimension {subwords.vectors.shape[1]}, word vectors "
                    f"{source.dim}"
                )
            if stored != np.float32:
                raise ConfigError(
                    "gensim rebuilds fastText word vectors from their n-grams when loading; "
                    "write vectors with subwords as float32"
                )
        words, vectors, counts = _collect(source, stored, progress)
        kv = _keyed_vectors(words, vectors, counts, subwords)
        extension = os.path.splitext(path)[1].lower()
        _save(kv, tmp, compression=extension if extension in (".gz", ".bz2") else "")
    return len(words)


def _collect(
    source: VectorSource, stored: np.dtype[Any], progress: bool | None
) -> tuple[list[str], NDArray[Any], NDArray[np.int64] | None]:
    """All words, vectors (as ``stored``) and counts (``None`` unless every block has them)."""
    dim = source.dim
    if dim < 1:
        raise ConfigError(f"vectors need at least one dimension (got dim={dim})")
    announced = source.n_words
    matrix = None if announced is None else np.empty((announced, dim), dtype=stored)
    parts: list[NDArray[Any]] = []
    words: list[str] = []
    count_parts: list[NDArray[np.int64]] | None = []
    with Progress("writing", total=announced, unit="rows", enabled=progress) as bar:
        for block in source.blocks:
            rows = len(words)
            vectors = _check_block(block, dim, stored, rows)
            if matrix is not None:
                if rows + len(vectors) > matrix.shape[0]:
                    raise ConfigError(
                        f"the source yields more than the {announced} rows it announced"
                    )
                matrix[rows : rows + len(vectors)] = vectors
            else:
                parts.append(vectors)
            words.extend(block.words)
            if block.counts is None:
                count_parts = None
            elif count_parts is not None:
                count_parts.append(np.asarray(block.counts, dtype=np.int64))
            bar.update(len(vectors))
    if matrix is not None:
        matrix = matrix[: len(words)]
    else:
        matrix = np.concatenate(parts) if parts else np.empty((0, dim), dtype=stored)
    counts = np.concatenate(count_parts) if count_parts else None
    return words, matrix, counts


def _check_block(block: WordBlock, dim: int, stored: np.dtype[Any], first_row: int) -> NDArray[Any]:
    vectors = np.asarray(block.vectors)
    if vectors.shape != (len(block.words), dim):
        raise ConfigError(
            f"a block of {len(block.words)} words has vectors of shape {vectors.shape} "
            f"(expected ({len(block.words)}, {dim})) at row {first_row}"
        )
    if block.counts is not None and len(block.counts) != len(block.words):
        raise ConfigError(f"a block of {len(block.words)} words has {len(block.counts)} counts")
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


def _keyed_vectors(
    words: list[str], vectors: NDArray[Any], counts: NDArray[np.int64] | None, subwords: Any
) -> Any:
    from gensim.models import KeyedVectors
    from gensim.models.fasttext import FastTextKeyedVectors

    index: dict[str, int] = {}
    for row, word in enumerate(words):
        first = index.setdefault(word, row)
        if first != row:
            raise ConfigError(
                f"duplicate word {word!r} at rows {first} and {row}: gensim keys must be unique"
            )
    dim = int(vectors.shape[1])
    if subwords is None:
        kv = KeyedVectors(dim, count=0, dtype=vectors.dtype)
    else:
        kv = FastTextKeyedVectors(
            dim, subwords.min_n, subwords.max_n, subwords.n_buckets, count=0, dtype=np.float32
        )
    # Filled in bulk, as gensim's own loaders do; add_vector() would copy the matrix per word.
    kv.index_to_key = words
    kv.key_to_index = index
    kv.next_index = len(words)
    kv.vectors = vectors
    if counts is not None:
        # allocate_vecattrs + filling its array is what set_vecattr() does one word at a time.
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = counts
    if subwords is not None:
        kv.vectors_ngrams = np.array(subwords.vectors, dtype=np.float32)
        kv.recalc_char_ngram_buckets()
        kv.vectors_vocab = _own_rows(kv.buckets_word, kv.vectors_ngrams, vectors)
    return kv


def _own_rows(
    buckets_word: list[NDArray[np.uint32]],
    ngrams: NDArray[np.float32],
    vectors: NDArray[Any],
) -> NDArray[np.float32]:
    """Rows ``own`` with ``(own[i] + ngrams[buckets_word[i]].sum(0)) / (len(buckets_word[i]) + 1)
    == vectors[i]``: gensim's composition of a fastText word vector, solved for the word's row
    (in float64, so the float32 result is off by rounding only)."""
    n, dim = vectors.shape
    own = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, _INVERT_ROWS):
        stop = min(start + _INVERT_ROWS, n)
        buckets = buckets_word[start:stop]
        lengths = np.fromiter((len(b) for b in buckets), dtype=np.int64, count=stop - start)
        sums = np.zeros((stop - start, dim), dtype=np.float64)
        nonempty = lengths > 0
        if nonempty.any():
            flat = np.concatenate(buckets).astype(np.intp)
            starts = np.cumsum(lengths) - lengths
            sums[nonempty] = np.add.reduceat(
                ngrams[flat].astype(np.float64), starts[nonempty], axis=0
            )
        scale = (lengths + 1).astype(np.float64)[:, None]
        own[start:stop] = vectors[start:stop].astype(np.float64) * scale - sums
    return own


def _save(kv: Any, tmp: str, *, compression: str) -> None:
    """``kv.save`` into ``tmp`` as one self-contained file, compressed if ``compression`` is
    ``".gz"`` or ``".bz2"``."""
    # gensim compresses by the name's extension, so a compressed save goes through a sibling
    # with that extension, then takes the temporary name that atomic_output will rename.
    staged = tmp + compression
    try:
        # separately=[]: no array goes to a side NAME.vectors.npy file, which would be written
        # under the temporary name and lost (or orphaned) by the rename.
        kv.save(staged, separately=[])
        if staged != tmp:
            os.replace(staged, tmp)
    finally:
        if staged != tmp and os.path.exists(staged):
            os.remove(staged)
