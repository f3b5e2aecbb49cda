"""The wordvec store as one format among others, for ``wordvec convert``: a
:class:`~wordvec.formats.base.VectorSource` read from a store and one written to it.

Kept apart from :mod:`wordvec.formats.store` (the file layout, below the lookup object) because
reading goes through the lookup object, :class:`wordvec.store.VectorStore`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from wordvec.embeddings import SubwordTable
from wordvec.formats.base import BLOCK_ROWS, VectorSource, WordBlock, check_limit
from wordvec.formats.store import StoreWriter
from wordvec.store import VectorStore


def read_store_source(
    path: str | os.PathLike[str], *, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorSource:
    """A :class:`~wordvec.formats.base.VectorSource` over a store (words, vectors, counts and
    subword buckets), streamed block by block from the memory map."""
    check_limit(limit)
    store = VectorStore(path)
    n = len(store) if limit is None else min(len(store), limit)

    def blocks() -> Iterator[WordBlock]:
        for start in range(0, n, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, n)
            counts = None if store.counts is None else np.array(store.counts[start:stop])
            yield WordBlock(
                store.words_at(start, stop),
                np.asarray(store.vectors[start:stop], np.float32),
                counts,
            )

    subwords = None
    if store.subword_vectors is not None and store.layout.subword_range is not None:
        subwords = SubwordTable(store.subword_vectors, *store.layout.subword_range)
    metadata = {**store.metadata, "source": store.path, "source_format": "store"}
    return VectorSource(store.path, store.dim, n, blocks(), subwords, metadata, store.close)


def write_store_source(
    path: str | os.PathLike[str],
    source: VectorSource,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
) -> int:
    """Write a :class:`~wordvec.formats.base.VectorSource` as a store; returns rows written."""
    with (
        source,
        StoreWriter(
            path,
            source.dim,
            n_words=source.n_words,
            dtype=dtype,
            metadata=source.metadata,
            progress=progress,
            allow_fewer=True,  # readers drop duplicate words after announcing the count
        ) as writer,
    ):
        for block in source.blocks:
            writer.add(block.words, block.vectors, block.counts)
        if source.subwords is not None:
            writer.set_subwords(source.subwords)
        return writer.rows
