"""Numba kernel parsing the numeric part of word2vec / GloVe text lines.

Numbers are parsed with Clinger's fast path: a decimal with at most 15 significant digits and a
power of ten within 10**±22 is converted by one correctly rounded double multiplication or
division, which is exactly what ``strtod`` returns; the double is then rounded to float32, as
gensim and NumPy do. Anything else (more digits, ``nan``, a malformed field) is flagged and left
to the exact Python slow path, which also writes the error message.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

LINE_OK = 0
LINE_FIELDS = 1  # wrong number of fields
LINE_SLOW = 2  # a number the fast path does not take: let Python decide
LINE_BLANK = 3

_POWERS_OF_TEN = np.array([10.0**i for i in range(23)], dtype=np.float64)
_SPACE = 32
_TAB = 9
_CR = 13


@numba.njit(cache=True, nogil=True, inline="always")
def _is_blank(byte: np.uint8) -> bool:
    return byte == _SPACE or byte == _TAB or byte == _CR


@numba.njit(cache=True, nogil=True)
def _parse_number(
    buf: NDArray[np.uint8], pos: int, end: int, powers: NDArray[np.float64]
) -> tuple[float, int, bool]:
    """Parse one number starting at ``pos``; return (value, position after it, ok)."""
    negative = False
    if pos < end and (buf[pos] == 45 or buf[pos] == 43):  # '-' or '+'
        negative = buf[pos] == 45
        pos += 1
    mantissa = 0
    significant = 0
    exponent = 0
    digits = 0
    while pos < end and 48 <= buf[pos] <= 57:
        if mantissa or buf[pos] != 48:
            significant += 1
            if significant <= 15:
                mantissa = mantissa * 10 + (buf[pos] - 48)
            else:
                exponent += 1
        digits += 1
        pos += 1
    if pos < end and buf[pos] == 46:  # '.'
        pos += 1
        while pos < end and 48 <= buf[pos] <= 57:
            if mantissa or buf[pos] != 48:
                significant += 1
                if significant <= 15:
                    mantissa = mantissa * 10 + (buf[pos] - 48)
                    exponent -= 1
            else:
                exponent -= 1
            digits += 1
            pos += 1
    if digits == 0 or significant > 15:
        return 0.0, pos, False
    if pos < end and (buf[pos] == 101 or buf[pos] == 69):  # 'e' or 'E'
        pos += 1
        exp_negative = False
        if pos < end and (buf[pos] == 45 or buf[pos] == 43):
            exp_negative = buf[pos] == 45
            pos += 1
        exp_digits = 0
        exp_value = 0
        while pos < end and 48 <= buf[pos] <= 57:
            if exp_value < 100000:
                exp_value = exp_value * 10 + (buf[pos] - 48)
            exp_digits += 1
            pos += 1
        if exp_digits == 0:
            return 0.0, pos, False
        exponent += -exp_value if exp_negative else exp_value
    if pos < end and not _is_blank(buf[pos]):
        return 0.0, pos, False
    if mantissa == 0:
        value = 0.0
    elif 0 <= exponent <= 22:
        value = float(mantissa) * powers[exponent]
    elif -22 <= exponent < 0:
        value = float(mantissa) / powers[-exponent]
    else:
        return 0.0, pos, False
    return (-value if negative else value), pos, True


@numba.njit(cache=True, nogil=True)
def parse_vector_lines(
    buf: NDArray[np.uint8],
    dim: int,
    glove: bool,
    word_starts: NDArray[np.int64],
    word_ends: NDArray[np.int64],
    vectors: NDArray[np.float32],
    status: NDArray[np.int8],
) -> int:
    """Split ``buf`` (whole lines) into lines; for each, record where the word is and parse the
    ``dim`` numbers after it into ``vectors``, with a :data:`LINE_OK`-style ``status``.

    word2vec lines are ``word<space>numbers``; GloVe words may contain spaces, so the word is
    everything before the last ``dim`` fields. Returns the number of lines (a final line without
    a newline counts). Output arrays need one slot per newline plus one.
    """
    powers = _POWERS_OF_TEN
    n = buf.shape[0]
    line = 0
    start = 0
    while start < n:
        stop = start
        while stop < n and buf[stop] != 10:
            stop += 1
        end = stop
        while end > start and _is_blank(buf[end - 1]):
            end -= 1
        first = start
        while first < end and _is_blank(buf[first]):
            first += 1
        word_starts[line] = start
        word_ends[line] = start
        if first == end:
            status[line] = LINE_BLANK
        else:
            if glove:
                # Walk back over dim fields; the word is what is left in front of them.
                pos = end
                fields = 0
                while fields < dim and pos > start:
                    while pos > start and not _is_blank(buf[pos - 1]):
                        pos -= 1
                    fields += 1
                    while pos > start and _is_blank(buf[pos - 1]) and fields < dim:
                        pos -= 1
                word_end = pos
                while word_end > start and _is_blank(buf[word_end - 1]):
                    word_end -= 1
                numbers = pos
            else:
                word_end = start
                while word_end < end and buf[word_end] != _SPACE:
                    word_end += 1
                numbers = word_end
            word_ends[line] = word_end
            code = LINE_OK
            if word_end == start:  # no word (or, in GloVe, fewer than dim + 1 fields)
                code = LINE_FIELDS
            pos = numbers
            for j in range(dim):
                while pos < end and _is_blank(buf[pos]):
                    pos += 1
                if pos >= end:
                    code = LINE_FIELDS
                    break
                value, pos, ok = _parse_number(buf, pos, end, powers)
                if not ok:
                    code = LINE_SLOW
                    break
                vectors[line, j] = value
            if code == LINE_OK:
                while pos < end and _is_blank(buf[pos]):
                    pos += 1
                if pos < end:
                    code = LINE_FIELDS
            status[line] = code
        line += 1
        start = stop + 1
    return line
