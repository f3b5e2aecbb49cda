"""Streaming tokens out of text files: plain, gzip, bzip2 or xz, one sentence per line or one
endless line (text8), never holding more than one chunk of the file in memory.

Tokens are split on ASCII whitespace, as word2vec and fastText split them, and kept as UTF-8
``bytes`` until the vocabulary is built: counting bytes and decoding only the distinct words is
several times faster than decoding every token. Each chunk is still validated as UTF-8 on the
way, so a bad byte is reported with its file and line.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from wordvec.errors import ConfigError, FormatError

PathLike = str | os.PathLike[str]
DEFAULT_CHUNK_BYTES = 1 << 20
MAX_TOKEN_BYTES = 1 << 26
UNICODE_ERRORS = ("strict", "replace")
_WHITESPACE = b" \t\n\r\x0b\x0c"

_MAGIC = (
    (b"\x1f\x8b", gzip.open),
    (b"BZh", bz2.open),
    (b"\xfd7zXZ\x00", lzma.open),
)


def open_binary(path: PathLike) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing gzip/bzip2/xz (recognised by their magic
    bytes, whatever the file is called). Raises :class:`FormatError` if it cannot be opened."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as exc:
        raise FormatError(path, f"cannot open: {exc.strerror or exc}") from exc
    head = raw.read(6)
    raw.seek(0)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            raw.close()
            return opener(path, "rb")  # type: ignore[return-value]
    return raw


@dataclass
class TokenBlock:
    """Consecutive tokens of one file; ``sentence_ends`` are indices into ``tokens`` at which a
    line (sentence) ends, exclusive, in increasing order."""

    tokens: list[bytes] = field(default_factory=list)
    sentence_ends: list[int] = field(default_factory=list)


def check_unicode_errors(unicode_errors: str) -> None:
    if unicode_errors not in UNICODE_ERRORS:
        raise ConfigError(
            f"unicode_errors must be one of {', '.join(UNICODE_ERRORS)} (got {unicode_errors!r})"
        )


def _validate_utf8(path: PathLike, data: bytes, first_line: int) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise FormatError(
            path,
            f"invalid UTF-8 byte 0x{data[exc.start]:02x} (pass unicode_errors='replace' to "
            "substitute U+FFFD)",
            line=line,
        ) from exc


def iter_token_blocks(
    path: PathLike,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    unicode_errors: str = "strict",
) -> Iterator[TokenBlock]:
    """Yield the tokens of one file in blocks of about ``chunk_bytes`` of text.

    A line longer than a chunk (text8 is one 100 MB line) is simply continued in the next block
    without a sentence end, so memory stays bounded by the chunk size.
    """
    check_unicode_errors(unicode_errors)
    line_number = 1
    carry = b""
    with open_binary(path) as stream:
        while True:
            try:
                chunk = stream.read(chunk_bytes)
            except (EOFError, OSError, lzma.LZMAError) as exc:
                raise FormatError(path, f"truncated or corrupt compressed data: {exc}") from exc
            at_end = not chunk
            data = carry + chunk
            if at_end:
                text, carry = data, b""
            else:
                cut = max(data.rfind(c, 0) for c in (b" ", b"\n", b"\t", b"\r"))
                if cut < 0:
                    if len(data) > MAX_TOKEN_BYTES:
                        raise FormatError(
                            path,
                            f"no whitespace in {len(data):,} bytes: a token longer than "
                            f"{MAX_TOKEN_BYTES:,} bytes is not text",
                            line=line_number,
                        )
                    carry = data
                    continue
                text, carry = data[: cut + 1], data[cut + 1 :]
            if unicode_errors == "strict":
                _validate_utf8(path, text, line_number)
            block = TokenBlock()
            lines = text.split(b"\n")
            for line in lines[:-1]:
                block.tokens.extend(line.split())
                block.sentence_ends.append(len(block.tokens))
            block.tokens.extend(lines[-1].split())
            if at_end and lines[-1].strip():
                block.sentence_ends.append(len(block.tokens))
            line_number += len(lines) - 1
            yield block
            if at_end:
                return


def iter_corpus_blocks(
    paths: Iterable[PathLike],
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    unicode_errors: str = "strict",
) -> Iterator[TokenBlock]:
    """:func:`iter_token_blocks` over several files in turn; a file always ends a sentence."""
    for path in paths:
        if not os.path.exists(path):
            raise FormatError(path, "no such file")
        last: TokenBlock | None = None
        for block in iter_token_blocks(
            path, chunk_bytes=chunk_bytes, unicode_errors=unicode_errors
        ):
            if last is not None:
                yield last
            last = block
        if last is not None:
            if last.tokens and (
                not last.sentence_ends or last.sentence_ends[-1] != len(last.tokens)
            ):
                last.sentence_ends.append(len(last.tokens))
            yield last


def decode_token(token: bytes, unicode_errors: str = "strict") -> str:
    return token.decode("utf-8", errors=unicode_errors)
