"""The formats wordvec reads and writes, in a plain dict, and format sniffing.

Each entry names its reader and writer as ``"module:function"`` inside :mod:`wordvec.formats`,
imported only when used, so listing formats (or opening a store) loads no parser or gensim.

Reader contract: ``read(path, *, limit=None, unicode_errors="strict") -> VectorSource``.
Writer contract: ``write(path, source, *, dtype="float32", progress=False) -> int`` (rows
written); writers produce their output through :func:`wordvec.formats.base.atomic_output`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wordvec.errors import ConfigError, FormatError


@dataclass(frozen=True)
class FormatSpec:
    name: str
    description: str
    extensions: tuple[str, ...]
    reader: str | None
    writer: str | None
    subwords: bool  # can carry fastText subword buckets (exact OOV vectors)

    def load_reader(self) -> Callable[..., Any]:
        if self.reader is None:
            raise ConfigError(f"format {self.name!r} cannot be read")
        return _resolve(self.reader)

    def load_writer(self) -> Callable[..., Any]:
        if self.writer is None:
            raise ConfigError(f"format {self.name!r} cannot be written")
        return _resolve(self.writer)


def _resolve(target: str) -> Callable[..., Any]:
    module_name, function = target.split(":")
    module = importlib.import_module(f"wordvec.formats.{module_name}")
    reader_or_writer: Callable[..., Any] = getattr(module, function)
    return reader_or_writer


FORMATS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        FormatSpec(
            "store",
            "wordvec HDF5 store (memory-mapped, with OOV fallback)",
            (".h5", ".hdf5", ".wv"),
            "store_source:read_store_source",
            "store_source:write_store_source",
            True,
        ),
        FormatSpec(
            "word2vec-text",
            "word2vec text: a 'count dim' header, then 'word v1 ... vdim' lines (.txt, .vec)",
            (".vec", ".txt"),
            "word2vec:read_word2vec_text",
            "word2vec:write_word2vec_text",
            False,
        ),
        FormatSpec(
            "glove",
            "GloVe text: no header; the last dim fields of a line are the vector",
            (".txt",),
            "word2vec:read_glove_text",
            "word2vec:write_glove_text",
            False,
        ),
        FormatSpec(
            "word2vec-binary",
            "word2vec binary: a text header, then 'word ' and dim little-endian float32",
            (".bin",),
            "word2vec:read_word2vec_binary",
            "word2vec:write_word2vec_binary",
            False,
        ),
        FormatSpec(
            "fasttext-bin",
            "fastText .bin model: words and subword buckets (read only; .ftz is refused)",
            (".bin",),
            "fasttext:read_fasttext_bin",
            None,
            True,
        ),
        FormatSpec(
            "gensim",
            "gensim native save of KeyedVectors, Word2Vec or FastText (through gensim)",
            (".model", ".kv", ".wv", ".gensim"),
            "gensim_native:read_gensim",
            "gensim_native:write_gensim",
            True,
        ),
        FormatSpec(
            "npy",
            "NumPy .npy matrix with the words, one per line, in NAME.words beside it",
            (".npy",),
            "npy:read_npy",
            "npy:write_npy",
            False,
        ),
    )
}

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NPY_MAGIC = b"\x93NUMPY"
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")


def _looks_like_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _looks_like_old_fasttext(head: bytes) -> bool:
    """fastText files from before the magic number (2016-17) start straight with the model
    arguments: dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn,
    lr_update_rate as int32. Accept only plausible values for all of them."""
    if len(head) < 48:
        return False
    args = [int.from_bytes(head[i : i + 4], "little", signed=True) for i in range(0, 48, 4)]
    dim, ws, epoch, min_count, neg, ngrams, loss, model, bucket, minn, maxn, lr_update = args
    return (
        1 <= dim <= 100_000
        and 1 <= ws <= 1000
        and 1 <= epoch <= 100_000
        and min_count >= 0
        and 0 <= neg <= 1000
        and 1 <= ngrams <= 100
        and 1 <= loss <= 4
        and 1 <= model <= 3
        and 0 <= bucket <= 1 << 30
        and 0 <= minn <= maxn <= 64
        and lr_update >= 1
    )


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name the format of an existing file from its content (magic bytes, header shape),
    using the extension only to break ties. Raises :class:`FormatError` if unrecognisable."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FormatError(path, "no such file")
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head:
        raise FormatError(path, "the file is empty")
    if head.startswith(_HDF5_MAGIC):
        return "store"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_FASTTEXT_MAGIC) or _looks_like_old_fasttext(head):
        return "fasttext-bin"
    if head[:1] == b"\x80" or head.startswith(b"PK\x03\x04"):
        return "gensim"  # a pickle (or zipped pickle) as gensim's save() writes
    first, sep, rest = head.partition(b"\n")
    fields = first.split()
    if sep and len(fields) == 2 and all(f.isdigit() for f in fields):
        # word2vec header: text if the next record is "word number number ...".
        dim = int(fields[1])
        record = rest.lstrip(b"\n")
        word_end = record.find(b" ")
        after = record[word_end + 1 : word_end + 1 + 4 * max(dim, 1)] if word_end >= 0 else b""
        tokens = after.split(b"\n", 1)[0].split()
        if tokens and all(_looks_like_number(t) for t in tokens[: min(len(tokens), 4)]):
            try:
                after.decode("ascii")
                return "word2vec-text"
            except UnicodeDecodeError:
                pass
        return "word2vec-binary"
    if len(fields) >= 2 and all(_looks_like_number(t) for t in fields[-min(len(fields) - 1, 5) :]):
        return "glove"
    raise FormatError(
        path,
        "unrecognised vector format (expected a word2vec/GloVe text or binary file, a fastText "
        ".bin, a gensim save, a .npy matrix or a wordvec store); name it with --from",
    )


def format_for_output(path: str | os.PathLike[str]) -> str:
    """The output format implied by a file name's extension."""
    name = os.fspath(path).lower()
    by_extension = {
        ".h5": "store",
        ".hdf5": "store",
        ".vec": "word2vec-text",
        ".txt": "word2vec-text",
        ".bin": "word2vec-binary",
        ".npy": "npy",
        ".model": "gensim",
        ".kv": "gensim",
    }
    for extension, format_name in by_extension.items():
        if name.endswith(extension):
            return format_name
    raise ConfigError(
        f"cannot tell the output format from {os.fspath(path)!r}; give --to "
        f"({', '.join(n for n, s in FORMATS.items() if s.writer)})"
    )


def get_format(name: str) -> FormatSpec:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}") from None
