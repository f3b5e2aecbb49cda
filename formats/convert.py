"""``convert``: any readable format to any writable one, streamed block by block."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from wordvec.errors import ConfigError
from wordvec.formats.base import VectorSource, WordBlock
from wordvec.formats.registry import detect_format, format_for_output, get_format
from wordvec.types import VECTOR_DTYPES


@dataclass(frozen=True)
class ConversionReport:
    source: str
    target: str
    source_format: str
    target_format: str
    n_words: int
    dim: int
    subwords_kept: bool
    seconds: float


class SubwordsDroppedWarning(UserWarning):
    """The input carries fastText subword buckets that the output format cannot hold."""


def _normalized(blocks: Iterator[WordBlock]) -> Iterator[WordBlock]:
    for block in blocks:
        norms = np.linalg.norm(block.vectors, axis=1, keepdims=True)
        unit = np.divide(block.vectors, norms, out=np.zeros_like(block.vectors), where=norms > 0)
        yield WordBlock(block.words, unit, block.counts)


def convert(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    from_format: str | None = None,
    to_format: str | None = None,
    limit: int | None = None,
    dtype: str = "float32",
    normalize: bool = False,
    unicode_errors: str = "strict",
    progress: bool | None = False,
) -> ConversionReport:
    """Convert vectors between formats (names in :data:`wordvec.formats.registry.FORMATS`).

    The input format is sniffed from content unless ``from_format`` is given, the output format
    taken from ``target``'s extension unless ``to_format`` is given. ``limit`` keeps the first
    N words, ``normalize`` scales every vector to unit length (subword buckets are dropped then,
    since fastText's OOV vectors are means of unnormalised rows). The output appears only when
    complete.
    """
    if dtype not in VECTOR_DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(VECTOR_DTYPES)} (got {dtype!r})")
    source_path, target_path = os.fspath(source), os.fspath(target)
    if os.path.abspath(source_path) == os.path.abspath(target_path):
        raise ConfigError("the input and output are the same file")
    input_format = get_format(from_format or detect_format(source_path))
    output_format = get_format(to_format or format_for_output(target_path))
    reader, writer = input_format.load_reader(), output_format.load_writer()
    started = time.perf_counter()
    vectors: VectorSource = reader(source_path, limit=limit, unicode_errors=unicode_errors)
    with vectors:
        subwords = vectors.subwords
        if subwords is not None and (normalize or not output_format.subwords):
            reason = "--normalize" if normalize else f"the {output_format.name} format"
            warnings.warn(
                f"{source_path}: the subword buckets are dropped by {reason}: out-of-vocabulary "
                "words will not get fastText vectors from the output",
                SubwordsDroppedWarning,
                stacklevel=2,
            )
            vectors.subwords = None
        if normalize:
            vectors.blocks = _normalized(iter(vectors.blocks))
            vectors.metadata = {**vectors.metadata, "normalized": True}
        rows = writer(target_path, vectors, dtype=dtype, progress=progress)
    return ConversionReport(
        source=source_path,
        target=target_path,
        source_format=input_format.name,
        target_format=output_format.name,
        n_words=int(rows),
        dim=vectors.dim,
        subwords_kept=vectors.subwords is not None,
        seconds=time.perf_counter() - started,
    )
