"""Evaluation datasets: the ones bundled in gensim's wheel by name, any user file by path.

Formats (UTF-8 text, optionally gzip/bzip2/xz; blank lines and lines starting with ``#`` are
skipped everywhere):

- **word similarity**: ``word1 word2 score`` per line, separated by tabs or spaces
  (WordSim-353, SimLex-999, MEN, RW, ... in the usual three-column form).
- **analogy** (Google format, Mikolov et al. 2013): ``: section name`` header lines, then
  ``a b c d`` per line for "a is to b as c is to d". Questions before the first header go into a
  section called ``default``.
- **translation dictionary** (MUSE format, Conneau et al. 2018): ``source target`` per line; a
  source word may have several lines (several gold translations).

A malformed line raises :class:`~wordvec.errors.FormatError` with the file and line number
(gensim's evaluators skip such lines silently; on its bundled files the two agree, as those
have none).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wordvec.errors import ConfigError, FormatError
from wordvec.textio import open_binary

PathLike = str | os.PathLike[str]

# name -> (file in gensim's test_data, task)
BUNDLED_DATASETS: dict[str, tuple[str, str]] = {
    "wordsim353": ("wordsim353.tsv", "similarity"),
    "simlex999": ("simlex999.txt", "similarity"),
    "google": ("questions-words.txt", "analogy"),
}
DEFAULT_SIMILARITY = ("wordsim353", "simlex999")
DEFAULT_ANALOGY = "google"


@dataclass(frozen=True)
class SimilarityDataset:
    """Word pairs with human similarity scores, in file order (duplicates kept)."""

    name: str
    pairs: tuple[tuple[str, str, float], ...]

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass(frozen=True)
class AnalogySection:
    """One ``: section`` of an analogy file: questions ``(a, b, c, expected)``."""

    name: str
    questions: tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True)
class AnalogyDataset:
    name: str
    sections: tuple[AnalogySection, ...]

    @property
    def n_questions(self) -> int:
        return sum(len(s.questions) for s in self.sections)


@dataclass(frozen=True)
class TranslationDictionary:
    """``(source, target)`` pairs in file order; a source word may occur several times."""

    name: str
    pairs: tuple[tuple[str, str], ...]

    def __len__(self) -> int:
        return len(self.pairs)


def gensim_test_data_dir() -> Path:
    """The folder of data files that ships inside gensim's wheel, found without importing
    gensim (which takes a second). Raises :class:`ConfigError` if gensim is not installed."""
    from importlib.util import find_spec

    spec = find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the bundled datasets come with gensim: pip install gensim")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"


def dataset_path(name_or_path: PathLike, task: str | None = None) -> Path:
    """The file behind a bundled dataset name (``wordsim353``, ``simlex999``, ``google``) or a
    path (an existing file of the same name wins over the bundled dataset). Raises
    :class:`FormatError` for a missing file and :class:`ConfigError` for a bundled dataset of
    the wrong task (``task`` is ``"similarity"`` or ``"analogy"``)."""
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.exists():
        return path
    bundled = BUNDLED_DATASETS.get(text.lower())
    if bundled is None:
        names = ", ".join(BUNDLED_DATASETS)
        raise FormatError(text, f"no such file (and not a bundled dataset: {names})")
    filename, kind = bundled
    if task is not None and kind != task:
        raise ConfigError(f"{text} is a {kind} dataset, not a {task} dataset")
    return gensim_test_data_dir() / filename


def _dataset_name(name_or_path: PathLike, path: Path) -> str:
    text = os.fspath(name_or_path)
    return (
        text.lower() if text.lower() in BUNDLED_DATASETS and not Path(text).exists() else path.name
    )


def _content_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, whitespace-split fields)`` of every line that is neither blank nor a
    ``#`` comment. Raises :class:`FormatError` on bytes that are not UTF-8."""
    with open_binary(path) as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(
                    path, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", line=number
                ) from exc
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                yield number, stripped.split()


def read_similarity_dataset(name_or_path: PathLike) -> SimilarityDataset:
    """Read ``word1 word2 score`` lines. Raises :class:`FormatError` (with the line number) for
    a line without exactly three fields or with a score that is not a finite number, and for a
    file without any pair."""
    path = dataset_path(name_or_path, "similarity")
    pairs: list[tuple[str, str, float]] = []
    for number, fields in _content_lines(path):
        if len(fields) != 3:
            raise FormatError(
                path,
                f"expected 'word1 word2 score' (3 fields), found {len(fields)} "
                "(a header line must start with '#')",
                line=number,
            )
        try:
            score = float(fields[2])
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise FormatError(
                path,
                f"score {fields[2]!r} is not a finite number (a header line must start with '#')",
                line=number,
            ) from None
        pairs.append((fields[0], fields[1], score))
    if not pairs:
        raise FormatError(path, "no word pairs in the file")
    return SimilarityDataset(_dataset_name(name_or_path, path), tuple(pairs))


def read_analogy_dataset(name_or_path: PathLike) -> AnalogyDataset:
    """Read a Google-format analogy file. Raises :class:`FormatError` (with the line number)
    for a question line without exactly four words, and for a file without any question."""
    path = dataset_path(name_or_path, "analogy")
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    for number, fields in _content_lines(path):
        if fields[0].startswith(":"):
            # gensim's name: the header without its leading ':' and spaces.
            sections.append((" ".join(fields).lstrip(": ").strip(), []))
            continue
        if len(fields) != 4:
            raise FormatError(
                path,
                f"expected an analogy question 'a b c d' (4 words), found {len(fields)} fields",
                line=number,
            )
        if not sections:
            sections.append(("default", []))
        sections[-1][1].append((fields[0], fields[1], fields[2], fields[3]))
    if not any(questions for _, questions in sections):
        raise FormatError(path, "no analogy questions in the file")
    return AnalogyDataset(
        _dataset_name(name_or_path, path),
        tuple(AnalogySection(name, tuple(questions)) for name, questions in sections),
    )


def read_translation_dictionary(path: PathLike) -> TranslationDictionary:
    """Read ``source target`` lines. Raises :class:`FormatError` (with the line number) for a
    line without exactly two words, and for a file without any pair."""
    file = Path(os.fspath(path))
    if not file.exists():
        raise FormatError(file, "no such file")
    pairs: list[tuple[str, str]] = []
    for number, fields in _content_lines(file):
        if len(fields) != 2:
            raise FormatError(
                file,
                f"expected 'source target' (2 words), found {len(fields)} fields",
                line=number,
            )
        pairs.append((fields[0], fields[1]))
    if not pairs:
        raise FormatError(file, "no translation pairs in the file")
    return TranslationDictionary(file.name, tuple(pairs))


def as_similarity_dataset(dataset: SimilarityDataset | PathLike) -> SimilarityDataset:
    return dataset if isinstance(dataset, SimilarityDataset) else read_similarity_dataset(dataset)


def as_analogy_dataset(dataset: AnalogyDataset | PathLike) -> AnalogyDataset:
    return dataset if isinstance(dataset, AnalogyDataset) else read_analogy_dataset(dataset)


def as_translation_dictionary(
    dictionary: TranslationDictionary | PathLike,
) -> TranslationDictionary:
    if isinstance(dictionary, TranslationDictionary):
        return dictionary
    return read_translation_dictionary(dictionary)
