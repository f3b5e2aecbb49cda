"""What every format module shares: the streamed representation of vectors, atomic output, and
the checks that turn a malformed record into an error naming file, line and expectation.

A reader returns a :class:`VectorSource`: the dimension, the number of words if the file says,
optional fastText subword buckets, metadata, and a single-pass iterator of :class:`WordBlock`
(words with their vectors, a few thousand rows at a time). A writer consumes one. Nothing in
between holds more than a block, so converting a file larger than memory works.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError, FormatError

if TYPE_CHECKING:
    from wordvec.embeddings import Embeddings, SubwordTable

BLOCK_ROWS = 8192


class WordBlock(NamedTuple):
    """Consecutive rows: ``vectors[i]`` (float32) belongs to ``words[i]``; ``counts`` if known."""

    words: list[str]
    vectors: NDArray[np.float32]
    counts: NDArray[np.int64] | None = None


@dataclass
class VectorSource:
    """A single pass over the vectors of one file (or of embeddings in memory)."""

    path: str
    dim: int
    n_words: int | None
    blocks: Iterable[WordBlock]
    subwords: SubwordTable | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> VectorSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def source_from_embeddings(embeddings: Embeddings, *, path: str = "<memory>") -> VectorSource:
    vocab, vectors = embeddings.vocab, embeddings.vectors

    def blocks() -> Iterator[WordBlock]:
        for start in range(0, len(vocab), BLOCK_ROWS):
            stop = start + BLOCK_ROWS
            yield WordBlock(
                list(vocab.words[start:stop]),
                np.asarray(vectors[start:stop], dtype=np.float32),
                None if vocab.counts is None else vocab.counts[start:stop],
            )

    return VectorSource(
        path, embeddings.dim, len(vocab), blocks(), embeddings.subwords, dict(embeddings.metadata)
    )


def read_embeddings(source: VectorSource) -> Embeddings:
    """Collect a whole source into memory."""
    from wordvec.embeddings import Embeddings
    from wordvec.vocab import Vocab

    words: list[str] = []
    parts: list[NDArray[np.float32]] = []
    counts: list[NDArray[np.int64]] | None = []
    # With the size announced, rows go straight into the final matrix (one copy, no list of
    # blocks to concatenate); readers may deliver fewer rows (dropped duplicates), never more.
    matrix = None if source.n_words is None else allocate_rows(source.n_words, source.dim)
    filled = 0
    with source:
        for block in source.blocks:
            words.extend(block.words)
            if matrix is not None and filled + len(block.words) <= matrix.shape[0]:
                matrix[filled : filled + len(block.words)] = block.vectors
            else:
                if matrix is not None:
                    parts.append(matrix[:filled])
                    matrix = None
                parts.append(block.vectors)
            filled += len(block.words)
            if block.counts is None:
                counts = None
            elif counts is not None:
                counts.append(block.counts)
    if matrix is not None:
        matrix = matrix[:filled]
    else:
        matrix = np.concatenate(parts) if parts else np.empty((0, source.dim), dtype=np.float32)
    vocab = Vocab(tuple(words), np.concatenate(counts) if counts else None)
    return Embeddings(vocab, matrix, source.subwords, source.metadata)


def allocate_rows(n_rows: int, dim: int) -> NDArray[np.float32]:
    """A writable float32 ``(n_rows, dim)`` matrix for a whole vector file.

    Large ones come from an anonymous memory mapping rather than ``np.empty``: NumPy advises
    transparent huge pages for big arrays, and where the kernel compacts memory on demand (as
    on these VMs) faulting in 240 MB that way took 0.52 s against 0.17 s for plain pages, more
    than the whole binary parse."""
    nbytes = n_rows * dim * 4
    if nbytes < 1 << 26:
        return np.empty((n_rows, dim), dtype=np.float32)
    import mmap

    # Pre-faulting the whole mapping at once (Linux) halved the time of touching it page by
    # page (0.16 s against 0.33 s for 240 MB).
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate
        memory = mmap.mmap(-1, nbytes, flags=flags)
    else:
        memory = mmap.mmap(-1, nbytes)
    return np.frombuffer(memory, dtype=np.float32).reshape(n_rows, dim)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it is renamed to ``path``, on any
    error it is removed, so no partial output is ever left behind."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FormatError(target, "cannot write: the folder does not exist")
    handle, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
    )
    os.close(handle)
    from wordvec.formats.store import apply_umask

    apply_umask(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class DuplicateFilter:
    """The duplicate-word policy of every reader: keep the first occurrence, drop later ones,
    and warn once at the end with how many were dropped (gensim does the same)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[str] = set()
        self.dropped: list[tuple[str, int]] = []

    def keep(self, words: Sequence[str], first_record: int) -> NDArray[np.bool_] | None:
        """A mask of the rows to keep, or ``None`` if all are new."""
        block = set(words)
        if len(block) == len(words) and self.seen.isdisjoint(block):
            self.seen |= block  # the common case, at C speed
            return None
        mask = np.ones(len(words), dtype=bool)
        seen = self.seen
        for i, word in enumerate(words):
            if word in seen:
                mask[i] = False
                self.dropped.append((word, first_record + i))
            else:
                seen.add(word)
        return mask

    def report(self) -> None:
        if self.dropped:
            examples = ", ".join(f"{w!r} (record {r})" for w, r in self.dropped[:3])
            warnings.warn(
                f"{self.path}: {len(self.dropped)} duplicate word(s) dropped, the first "
                f"occurrence kept: {examples}",
                DuplicateWordWarning,
                stacklevel=3,
            )


class DuplicateWordWarning(UserWarning):
    """A vector file repeats a word; only its first vector was kept."""


def check_finite(
    path: str, vectors: NDArray[np.float32], first_record: int, *, line_based: bool
) -> None:
    """Raise :class:`FormatError` at the first row holding NaN or infinity."""
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = {"line": first_record + row} if line_based else {"record": first_record + row}
        raise FormatError(
            path, "NaN or infinite value in vector (expected finite numbers)", **where
        )


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1 (got {limit})")
