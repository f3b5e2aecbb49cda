"""Bilingual dictionaries for alignment: reading pair files and finding their words' ids.

A dictionary file holds one ``source target`` pair per line, the two words separated by
whitespace (MUSE's and VecMap's format). Empty lines and lines starting with ``#`` are skipped,
and so is anything after a ``#`` that follows whitespace. Pairs whose words are missing in a
vocabulary are never dropped silently: :func:`lookup_pairs` counts them and keeps examples, so
the caller can report the dictionary's coverage.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError, FormatError

_MISSING_EXAMPLES = 5


class WordIndex(Protocol):
    """Anything that maps words to row ids (-1 when unknown): a :class:`VectorStore` has
    ``indices_of``; :class:`Embeddings` are adapted by :func:`word_ids`."""

    def indices_of(self, words: Sequence[str]) -> NDArray[np.int64]: ...


@dataclass(frozen=True)
class TranslationPairs:
    """Distinct ``(source, target)`` word pairs in file order; ``name`` says where they came
    from (a path, or ``"identical strings"``)."""

    pairs: tuple[tuple[str, str], ...]
    name: str = "dictionary"

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]], name: str = "dictionary") -> TranslationPairs:
        """Pairs from any iterable, duplicates removed (first kept)."""
        return cls(tuple(dict.fromkeys((str(s), str(t)) for s, t in pairs)), name)


def read_dictionary(path: str | os.PathLike[str]) -> TranslationPairs:
    """Read a ``source target`` pair file (UTF-8).

    Raises :class:`FormatError` naming the line for a line without exactly two words or with
    invalid UTF-8, and when the file holds no pair at all; ``OSError`` if it cannot be read.
    """
    pairs: list[tuple[str, str]] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(path, f"not UTF-8 ({exc.reason})", line=number) from exc
            fields = _strip_comment(line).split()
            if not fields:
                continue
            if len(fields) != 2:
                raise FormatError(
                    path,
                    f"expected two words 'source target', found {len(fields)} field(s): "
                    f"{line.strip()[:80]!r}",
                    line=number,
                )
            pairs.append((fields[0], fields[1]))
    if not pairs:
        raise FormatError(path, "no 'source target' pair in the file")
    return TranslationPairs.of(pairs, os.fspath(path))


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    # A '#' inside a word ("c#") is part of it; only one after whitespace starts a comment.
    for position, char in enumerate(line):
        if char == "#" and position > 0 and line[position - 1].isspace():
            return line[:position]
    return line


def write_dictionary(path: str | os.PathLike[str], pairs: Iterable[tuple[str, str]]) -> None:
    """Write pairs as ``source target`` lines (the format :func:`read_dictionary` reads)."""
    with open(path, "w", encoding="utf-8") as handle:
        for source, target in pairs:
            handle.write(f"{source} {target}\n")


def word_ids(vectors: Any, words: Sequence[str]) -> NDArray[np.int64]:
    """Row ids of ``words`` (-1 where unknown) in a :class:`VectorStore` (``indices_of``),
    :class:`Embeddings` or :class:`Vocab` (``get``). Raises :class:`ConfigError` otherwise."""
    if hasattr(vectors, "indices_of"):
        return np.asarray(vectors.indices_of(list(words)), dtype=np.int64)
    vocab = getattr(vectors, "vocab", vectors)
    if hasattr(vocab, "get"):
        get = vocab.get
        return np.fromiter((get(w, -1) for w in words), dtype=np.int64, count=len(words))
    raise ConfigError(f"cannot look words up in a {type(vectors).__name__}")


@dataclass(frozen=True)
class DictionaryIds:
    """The pairs of a dictionary whose words both occur in the vocabularies, as row ids
    (``source_ids[i]``, ``target_ids[i]``; int64, in dictionary order), and what was missing.

    ``n_pairs`` counts all distinct pairs, ``n_found`` those kept; ``n_missing_source`` /
    ``n_missing_target`` the pairs whose source / target word is unknown (a pair can miss both).
    Source-word figures count distinct source words (a BLI query is a source word).
    """

    source_ids: NDArray[np.int64]
    target_ids: NDArray[np.int64]
    n_pairs: int
    n_found: int
    n_missing_source: int
    n_missing_target: int
    n_source_words: int
    n_source_words_found: int
    missing_examples: tuple[tuple[str, str], ...]

    @property
    def pair_coverage(self) -> float:
        return self.n_found / self.n_pairs if self.n_pairs else 0.0

    @property
    def source_coverage(self) -> float:
        return self.n_source_words_found / self.n_source_words if self.n_source_words else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.n_pairs,
            "pairs_found": self.n_found,
            "pairs_missing_source_word": self.n_missing_source,
            "pairs_missing_target_word": self.n_missing_target,
            "pair_coverage": self.pair_coverage,
            "source_words": self.n_source_words,
            "source_words_found": self.n_source_words_found,
            "source_coverage": self.source_coverage,
            "missing_examples": [list(p) for p in self.missing_examples],
        }


def lookup_pairs(pairs: TranslationPairs, source: Any, target: Any) -> DictionaryIds:
    """Row ids of the dictionary's words in ``source`` and ``target`` (stores, embeddings or
    vocabularies; see :func:`word_ids`), with the coverage counts."""
    source_words = list(dict.fromkeys(s for s, _ in pairs.pairs))
    target_words = list(dict.fromkeys(t for _, t in pairs.pairs))
    source_row = dict(zip(source_words, word_ids(source, source_words).tolist(), strict=True))
    target_row = dict(zip(target_words, word_ids(target, target_words).tolist(), strict=True))
    kept_source: list[int] = []
    kept_target: list[int] = []
    missing_source = missing_target = 0
    examples: list[tuple[str, str]] = []
    found_words: set[str] = set()
    for s, t in pairs.pairs:
        s_row, t_row = source_row[s], target_row[t]
        missing_source += s_row < 0
        missing_target += t_row < 0
        if s_row >= 0 and t_row >= 0:
            kept_source.append(s_row)
            kept_target.append(t_row)
            found_words.add(s)
        elif len(examples) < _MISSING_EXAMPLES:
            examples.append((s, t))
    return DictionaryIds(
        source_ids=np.array(kept_source, dtype=np.int64),
        target_ids=np.array(kept_target, dtype=np.int64),
        n_pairs=len(pairs),
        n_found=len(kept_source),
        n_missing_source=missing_source,
        n_missing_target=missing_target,
        n_source_words=len(source_words),
        n_source_words_found=len(found_words),
        missing_examples=tuple(examples),
    )


def identical_pairs(source_words: Sequence[str], target_words: Iterable[str]) -> TranslationPairs:
    """Every word spelled the same in both vocabularies, paired with itself (in source order):
    the seed dictionary of ``init="identical"`` (Artetxe et al., 2017; Smith et al., 2017)."""
    target_set = set(target_words)
    return TranslationPairs(tuple((w, w) for w in source_words if w in target_set), "identical")
