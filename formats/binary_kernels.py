"""Numba kernels for word2vec binary records: finding them in a buffer and gathering them.

A record is a word's UTF-8 bytes, a space and ``dim`` little-endian float32 (optionally preceded
by the newline the C tool writes after each vector). Finding the record boundaries one
``bytes.find`` at a time in Python cost more than reading the file; these loops do it at memory
speed. They only locate and copy bytes: every judgement (what an incomplete record means, which
error to raise) stays in the Python reader.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

SCAN_DONE = 0  # found all the records asked for
SCAN_MORE = 1  # the next record is incomplete: more data is needed
SCAN_NO_SPACE = 2  # no word terminator within the longest allowed word: not this format
SCAN_EMPTY_WORD = 3

_SPACE = 32
_NEWLINE = 10


@numba.njit(cache=True, nogil=True)
def scan_binary_records(
    buffer: NDArray[np.uint8],
    position: int,
    record_bytes: int,
    wanted: int,
    max_word_bytes: int,
    word_starts: NDArray[np.int64],
    word_ends: NDArray[np.int64],
) -> tuple[int, int, int]:
    """Find up to ``wanted`` complete records from ``position``; ``word_starts[i]`` and
    ``word_ends[i]`` (exclusive, the space) delimit the i-th word, its vector follows the space.

    Returns ``(found, new_position, status)`` with ``status`` one of the ``SCAN_*`` codes;
    ``new_position`` is just after the last complete record."""
    size = buffer.size
    found = 0
    while found < wanted:
        start = position
        if start < size and buffer[start] == _NEWLINE:
            start += 1
        limit = min(size, start + max_word_bytes)
        space = -1
        for i in range(start, limit):
            if buffer[i] == _SPACE:
                space = i
                break
        if space < 0:
            status = SCAN_NO_SPACE if size - start >= max_word_bytes else SCAN_MORE
            return found, position, status
        end = space + 1 + record_bytes
        if end > size:
            return found, position, SCAN_MORE
        if space == start:
            return found, position, SCAN_EMPTY_WORD
        word_starts[found] = start
        word_ends[found] = space
        found += 1
        position = end
    return found, position, SCAN_DONE


@numba.njit(cache=True, nogil=True)
def gather_binary_records(
    buffer: NDArray[np.uint8],
    word_starts: NDArray[np.int64],
    word_ends: NDArray[np.int64],
    found: int,
    rows: NDArray[np.uint8],
    joined_words: NDArray[np.uint8],
) -> int:
    """Copy the vectors of the first ``found`` records into the byte rows ``rows`` (``found`` x
    ``4 * dim``) and their words, separated by single spaces, into ``joined_words``; returns
    the number of bytes written to ``joined_words``."""
    record_bytes = rows.shape[1]
    written = 0
    for r in range(found):
        vector = word_ends[r] + 1
        rows[r, :] = buffer[vector : vector + record_bytes]  # a slice copy: twice a byte loop
        if r:
            joined_words[written] = _SPACE
            written += 1
        for i in range(word_starts[r], word_ends[r]):
            joined_words[written] = buffer[i]
            written += 1
    return written
