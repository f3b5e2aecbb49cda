"""Compass alignment of several corpora into one space, and semantic shift between them.

CADE, "Compass-aligned Distributional Embeddings" (Di Carlo, Bianchi and Palmonari, "Training
Temporal Word Embeddings with a Compass", AAAI 2019; Bianchi et al., 2020): a CBOW model, the
*compass*, is trained on the concatenation of all slices. Each slice is then trained on its own
text with the compass's output (target-word) matrix copied and frozen, so only the input
(context) vectors move. Since every slice predicts the same fixed output vectors, the slices'
input vectors land in one space with no mapping, and the cosine of a word's vectors in two
slices measures how much its usage differs between them (semantic shift).

Vocabulary policy: the compass vocabulary is built from the concatenation with ``min_count`` and
``max_vocab_size`` of the :class:`~wordvec.train.Word2VecConfig`. A slice keeps the compass
words it contains at least ``slice_min_count`` times (default: ``min_count``), with its own
counts (which drive its subsampling and its noise distribution); rarer words are left out of
the slice, since a handful of occurrences gives a vector that is mostly initialisation noise
and would look like a large shift. (CADE keeps every compass word a slice contains, even once.)

Initialisation of a slice's input vectors: ``"random"`` (CADE's default ``init_mode="hidden"``:
word2vec's random start, only the output matrix comes from the compass) or ``"compass"``
(CADE's ``"both"``: start from the compass's input vectors too).

The comparison helpers (:func:`cross_slice_cosines`, :func:`rank_shifted`) need only NumPy;
training imports the Numba trainer lazily.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError
from wordvec.textio import PathLike

if TYPE_CHECKING:  # the trainer (and Numba) load only when training
    from wordvec.train import Word2VecConfig

COMPASS_NAME = "compass"
INIT_MODES = ("random", "compass")
_COMPRESSED = (".gz", ".bz2", ".xz")


def _default_word2vec() -> Word2VecConfig:
    from wordvec.train import Word2VecConfig

    # The exact word2vec step (no negatives shared across positions): on the planted test,
    # sharing them left unchanged words less stable across slices (least cosine 0.92-0.96
    # against 0.99).
    return Word2VecConfig(model="cbow", cbow_batch=1)


@dataclass(frozen=True)
class CompassConfig:
    """How the compass and the slices are trained.

    ``word2vec`` applies to the compass and to every slice (CBOW by default, as in CADE);
    ``slice_min_count`` (``None``: the compass's ``min_count``) is the least number of times a
    word must occur in a slice to get a vector there; ``init`` is ``"random"`` or
    ``"compass"`` (see the module docstring).
    """

    word2vec: Word2VecConfig = field(default_factory=_default_word2vec)
    slice_min_count: int | None = None
    init: Literal["random", "compass"] = "random"

    def __post_init__(self) -> None:
        if self.init not in INIT_MODES:
            raise ConfigError(f"init must be one of {', '.join(INIT_MODES)} (got {self.init!r})")
        if self.slice_min_count is not None and self.slice_min_count < 1:
            raise ConfigError(f"slice_min_count must be at least 1 (got {self.slice_min_count})")

    @property
    def effective_slice_min_count(self) -> int:
        if self.slice_min_count is not None:
            return self.slice_min_count
        return int(self.word2vec.min_count)

    def to_json(self) -> dict[str, Any]:
        return {
            "slice_min_count": self.effective_slice_min_count,
            "init": self.init,
            "word2vec": self.word2vec.to_json(),
        }


@dataclass(frozen=True)
class CompassResult:
    """The compass's embeddings and one :class:`Embeddings` per slice, in the order given,
    keyed by slice name (:func:`slice_name`); all in one space."""

    compass: Embeddings
    slices: dict[str, Embeddings]


def slice_name(path: PathLike) -> str:
    """A slice's name: its file name without directory, compression and text extensions
    (``data/kjv.txt.xz`` -> ``kjv``)."""
    name = os.path.basename(os.fspath(path))
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem, ext = os.path.splitext(name)
    return stem if stem and ext else name


def slice_names(paths: Sequence[PathLike]) -> list[str]:
    """Names of the slices; raises :class:`ConfigError` if two coincide or one is
    ``"compass"`` (the outputs would collide)."""
    names = [slice_name(p) for p in paths]
    seen: dict[str, PathLike] = {}
    for path, name in zip(paths, names, strict=True):
        if not name:
            raise ConfigError(f"{path}: cannot name a slice after this path")
        if name == COMPASS_NAME:
            raise ConfigError(f"{path}: a slice cannot be named {COMPASS_NAME!r} (rename the file)")
        if name in seen:
            raise ConfigError(
                f"slices {seen[name]} and {path} would both be named {name!r}; rename one"
            )
        seen[name] = path
    return names


def train_compass(
    slices: Sequence[PathLike],
    config: CompassConfig | None = None,
    *,
    progress: bool | None = False,
    workdir: str | None = None,
) -> CompassResult:
    """Train the compass on all ``slices`` (text files) together, then each slice with the
    compass's output matrix frozen. Returns the compass and the slices' embeddings, all in one
    space. One thread and a seed give identical results.

    Raises :class:`ConfigError` for fewer than two slices, colliding slice names, or a slice
    that keeps no word at ``slice_min_count``; errors of reading the corpora propagate.
    """
    from wordvec.train import TrainingState, embeddings_from_state, initial_state, train_state
    from wordvec.vocab import Vocab, build_vocab

    config = config or CompassConfig()
    paths = list(slices)
    if len(paths) < 2:
        raise ConfigError(f"compass alignment needs at least two slices (got {len(paths)})")
    names = slice_names(paths)
    w2v = config.word2vec
    compass_state, compass_vocab = train_state(paths, w2v, progress=progress, workdir=workdir)
    compass = _with_metadata(
        embeddings_from_state(compass_state, compass_vocab, w2v),
        {"role": "compass", "slices": names, **config.to_json()},
    )
    n_compass = len(compass_vocab)
    result: dict[str, Embeddings] = {}
    for path, name in zip(paths, names, strict=True):
        counted = build_vocab(
            path,
            min_count=config.effective_slice_min_count,
            lowercase=w2v.lowercase,
            progress=progress,
        )
        kept = {
            w: int(c)
            for w, c in zip(counted.words, counted.require_counts().tolist(), strict=True)
            if w in compass_vocab
        }
        if not kept:
            raise ConfigError(
                f"{path}: no compass word occurs {config.effective_slice_min_count} times in "
                "this slice; lower slice_min_count"
            )
        vocab = Vocab.from_counts(kept)
        rows = compass_vocab.ids_of(vocab.words)
        start = initial_state(len(vocab), w2v)
        if config.init == "compass":
            start.input_vectors[: len(vocab)] = compass_state.input_vectors[rows]
            start.input_vectors[len(vocab) :] = compass_state.input_vectors[n_compass:]
        start = TrainingState(start.input_vectors, compass_state.output_vectors[rows].copy())
        state, _ = train_state(
            path,
            w2v,
            vocab=vocab,
            initial=start,
            freeze_output=True,
            progress=progress,
            workdir=workdir,
        )
        result[name] = _with_metadata(
            embeddings_from_state(state, vocab, w2v),
            {"role": "slice", "slice": name, "slices": names, **config.to_json()},
        )
    return CompassResult(compass, result)


def _with_metadata(embeddings: Embeddings, compass: dict[str, Any]) -> Embeddings:
    metadata = {**embeddings.metadata, "trainer": "word2vec-compass", "compass": compass}
    return dataclasses.replace(embeddings, metadata=metadata)


# --- comparing slices -------------------------------------------------------------------------


def _unit(matrix: NDArray[Any]) -> NDArray[np.float32]:
    out = np.array(matrix, dtype=np.float32, copy=True)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out /= norms
    return out


def cross_slice_cosines(
    first: Embeddings, second: Embeddings, words: Sequence[str]
) -> NDArray[np.float64]:
    """Cosine between each word's vector in ``first`` and in ``second`` (two slices of one
    space); NaN where a word is missing from either. Raises :class:`ConfigError` if the
    dimensions differ."""
    _check_same_space(first, second)
    a_ids = first.vocab.ids_of(words)
    b_ids = second.vocab.ids_of(words)
    out = np.full(len(words), np.nan, dtype=np.float64)
    both = (a_ids >= 0) & (b_ids >= 0)
    if both.any():
        a = _unit(first.vectors[a_ids[both]])
        b = _unit(second.vectors[b_ids[both]])
        out[both] = np.einsum("ij,ij->i", a, b, dtype=np.float64)
    return out


@dataclass(frozen=True)
class ShiftedWord:
    """A word of both slices, its cross-slice cosine and its counts in each (``None`` when a
    store has no counts)."""

    word: str
    cosine: float
    first_count: int | None
    second_count: int | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def rank_shifted(
    first: Embeddings,
    second: Embeddings,
    *,
    topn: int | None = 20,
    min_count: int = 1,
    most_shifted: bool = True,
) -> list[ShiftedWord]:
    """Words of both slices ordered by cross-slice cosine: lowest first (the most shifted) or,
    with ``most_shifted=False``, highest first (the most stable). Only words counted at least
    ``min_count`` times in both slices take part (counts unknown: all words). ``topn=None``
    returns them all. Ties are broken by the word's order in ``first``."""
    _check_same_space(first, second)
    if topn is not None and topn < 1:
        raise ConfigError(f"topn must be at least 1 (got {topn})")
    b_ids_all = second.vocab.ids_of(first.vocab.words)
    a_ids = np.flatnonzero(b_ids_all >= 0)
    b_ids = b_ids_all[a_ids].astype(np.int64)
    a_counts, b_counts = first.vocab.counts, second.vocab.counts
    if a_counts is not None and b_counts is not None:
        frequent = (a_counts[a_ids] >= min_count) & (b_counts[b_ids] >= min_count)
        a_ids, b_ids = a_ids[frequent], b_ids[frequent]
    cosines = np.einsum(
        "ij,ij->i", _unit(first.vectors[a_ids]), _unit(second.vectors[b_ids]), dtype=np.float64
    )
    order = np.argsort(cosines if most_shifted else -cosines, kind="stable")
    if topn is not None:
        order = order[:topn]
    return [
        ShiftedWord(
            first.vocab.words[int(a_ids[i])],
            float(cosines[i]),
            None if a_counts is None else int(a_counts[a_ids[i]]),
            None if b_counts is None else int(b_counts[b_ids[i]]),
        )
        for i in order
    ]


def _check_same_space(first: Embeddings, second: Embeddings) -> None:
    if first.dim != second.dim:
        raise ConfigError(
            f"the slices have dimensions {first.dim} and {second.dim}: compare stores trained "
            "together (wordvec train --compass) or aligned into one space"
        )
