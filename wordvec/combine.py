"""Meta-embeddings: one space made from several embedding sets of one language (or of several
languages already mapped into one space by :mod:`wordvec.align`).

Methods (``CombineConfig.method``):

- ``concat`` (Yin and Schütze, ACL 2016, "Learning word meta-embeddings"): every source
  normalized (rows to length 1; with ``center`` also centred and re-normalized), multiplied by
  its weight, and the sources concatenated (dimension: the sum of theirs).
- ``avg`` (Coates and Bollegala, NAACL 2018, "Frustratingly easy meta-embedding"): the same
  normalized sources zero-padded to the largest dimension and averaged (weighted mean).
- ``svd``: PCA of the normalized concatenation to ``dim`` dimensions (Yin and Schütze's SVD
  baseline, centred). The covariance of the concatenated columns is summed block by block, so
  only a (D, D) matrix is held (D: the sum of the source dimensions).
- ``css``, the common semantic space of García-Ferrero, Agerri and Rigau ("A Common Semantic
  Space for Monolingual and Cross-Lingual Meta-Embeddings", 2020): every source normalized
  ``unit, center, unit`` (VecMap's), mapped into the space of the ``target`` source by
  orthogonal Procrustes over the words both have (:func:`wordvec.align.orthogonal_from_cross`,
  from cross-products summed block by block), optionally refined by generalized Procrustes
  analysis (every map re-fitted to the mean of all, as in the orthogonal ensembles of
  Muromägi, Sirts and Laur, 2017, "Linear ensembles of word embedding models"), and the
  mapped vectors averaged. The result has the target's dimension.

**Vocabulary.** ``"union"`` keeps every word of any source, ``"intersection"`` the words of all.
Words are ordered by their *mean relative frequency* over the sources: a source with counts
gives ``count / total``, one without counts (vectors converted from a file) gives Zipf's
estimate from the word's rank, ``1 / ((rank + 1) H_n)``; a source lacking the word gives 0;
ties keep first appearance (source order, then rank). So the order is frequency order when
the sources agree, and words known to several sources come before those known to one. When
every source has counts, the store's counts are ``round(mean relative frequency x mean corpus
size)`` (at least 1): estimated counts in a corpus of average size, falling with the order.

**Missing words** (union only). With ``oov_fill = k > 0``, a word missing from source ``s``
gets, in ``s``, the mean of the normalized vectors of its ``k`` nearest neighbours, found by
cosine in the first source that has the word among the (at most ``fill_candidates`` most
frequent) words both sources share, as García-Ferrero et al. do; every output row then has
full information from every source. With ``oov_fill = 0`` a missing source contributes zeros
(``concat``, ``svd``) or is left out of the mean (``avg``, ``css``).

**Memory.** Sources are memory-mapped stores read a block of rows at a time; what is held is
the merged vocabulary, the filled rows of missing words, the neighbour candidates of the fill
and one block per source. :func:`write_combined` streams the result into a store, so the
meta-embedding never has to fit in memory either; :func:`combine` returns it as
:class:`~wordvec.embeddings.Embeddings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError
from wordvec.progress import Progress
from wordvec.quantized import WordMatrix
from wordvec.store import VectorStore
from wordvec.vocab import Vocab

METHODS = ("concat", "avg", "svd", "css")
VOCABULARY_MODES = ("union", "intersection")
Method = Literal["concat", "avg", "svd", "css"]
VocabularyMode = Literal["union", "intersection"]
SourceLike = str | os.PathLike[str] | VectorStore | Embeddings
Matrix = NDArray[np.float32]
_FILL_QUERIES = 1024  # missing words per neighbour search: (1024, k, dim) gathered at once

__all__ = [
    "METHODS",
    "VOCABULARY_MODES",
    "CombineConfig",
    "MergedVocabulary",
    "combine",
    "merge_vocabularies",
    "write_combined",
]


@dataclass(frozen=True)
class CombineConfig:
    """How to combine; see the module docstring for the methods.

    ``weights`` (one positive number per source, default all 1) scale each normalized source
    (``concat``, ``svd``) or weight its share of the mean (``avg``, ``css``). ``dim`` is the
    output dimension of ``svd`` (default: the largest source dimension) and is refused by the
    other methods. ``center`` centres ``concat``/``avg``/``svd`` sources (``css`` always
    does). ``target`` is the index of the source whose space ``css`` maps into;
    ``refine_iterations`` generalized-Procrustes rounds follow. ``oov_fill`` is the number of
    neighbours that fill a missing word (0: no fill), among at most ``fill_candidates`` shared
    words. ``block_rows`` rows of every source are read at a time.

    Raises :class:`ConfigError` for out-of-range values.
    """

    method: Method = "css"
    weights: tuple[float, ...] | None = None
    dim: int | None = None
    vocabulary: VocabularyMode = "union"
    oov_fill: int = 10
    center: bool = False
    target: int = 0
    refine_iterations: int = 0
    fill_candidates: int = 100_000
    block_rows: int = 16_384

    def __post_init__(self) -> None:
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        checks = [
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)}"),
            (
                self.vocabulary in VOCABULARY_MODES,
                f"vocabulary must be one of {', '.join(VOCABULARY_MODES)}",
            ),
            (
                self.weights is None or all(np.isfinite(w) and w > 0 for w in self.weights),
                "weights must be positive finite numbers",
            ),
            (self.dim is None or self.dim >= 1, "dim must be at least 1"),
            (
                self.dim is None or self.method == "svd",
                "dim applies only to method 'svd' (the others keep the sources' dimensions)",
            ),
            (self.oov_fill >= 0, "oov_fill must be >= 0 (0: no fill)"),
            (self.target >= 0, "target must be a source index >= 0"),
            (self.refine_iterations >= 0, "refine_iterations must be >= 0"),
            (self.fill_candidates >= 1, "fill_candidates must be at least 1"),
            (self.block_rows >= 1, "block_rows must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"{message} (got {self._values()})")

    def _values(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.to_json().items())

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        if self.weights is not None:
            values["weights"] = list(self.weights)
        return values

    def normalization(self) -> tuple[str, ...]:
        """Normalization steps applied to every source (see :mod:`wordvec.align_mapping`)."""
        if self.method == "css" or self.center:
            return ("unit", "center", "unit")
        return ("unit",)


# --- sources ----------------------------------------------------------------------------------


@dataclass
class _Source:
    """One input: its name, vocabulary, vectors (a memory map for a store) and normalization."""

    name: str
    words: list[str]
    counts: NDArray[np.int64] | None
    vectors: NDArray[Any] | WordMatrix  # a compressed store decodes rows on access
    metadata: dict[str, Any]
    statistics: tuple[NDArray[np.float64] | None, ...] = ()

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def _open(source: SourceLike, position: int, opened: list[VectorStore]) -> _Source:
    if isinstance(source, Embeddings):
        return _Source(
            f"<embeddings {position}>",
            list(source.vocab.words),
            source.vocab.counts,
            source.vectors,
            dict(source.metadata),
        )
    store = source if isinstance(source, VectorStore) else VectorStore(source)
    if store is not source:
        opened.append(store)
    counts = None if store.counts is None else np.asarray(store.counts)
    return _Source(
        str(store.path), store.words_at(0, len(store)), counts, store.vectors, store.metadata
    )


# --- vocabulary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergedVocabulary:
    """The output vocabulary: ``words`` in output order, estimated ``counts`` (``None`` unless
    every source has counts) and ``source_rows[s, i]``, the row of word ``i`` in source ``s``
    (-1 where the source lacks it), int64 (n_sources, n_words)."""

    words: tuple[str, ...]
    counts: NDArray[np.int64] | None
    source_rows: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.words)


def _relative_frequencies(counts: NDArray[np.int64] | None, n: int) -> NDArray[np.float64]:
    if counts is not None and counts.sum() > 0:
        return np.asarray(counts, dtype=np.float64) / float(counts.sum())
    # Zipf's law: frequency ~ 1 / rank; normalized to sum to 1 like the counted case.
    zipf = 1.0 / np.arange(1, n + 1, dtype=np.float64)
    return zipf / zipf.sum()


def merge_vocabularies(
    word_lists: Sequence[Sequence[str]],
    count_lists: Sequence[NDArray[np.int64] | None],
    mode: VocabularyMode = "union",
) -> MergedVocabulary:
    """Merge the sources' vocabularies (``"union"`` or ``"intersection"``) in order of mean
    relative frequency (module docstring). Raises :class:`ConfigError` if the intersection is
    empty."""
    if mode not in VOCABULARY_MODES:
        raise ConfigError(f"vocabulary must be one of {', '.join(VOCABULARY_MODES)} (got {mode!r})")
    index: dict[str, int] = {}
    word_ids = [
        np.fromiter((index.setdefault(w, len(index)) for w in words), np.int64, len(words))
        for words in word_lists
    ]
    n_all = len(index)
    rows = np.full((len(word_lists), n_all), -1, dtype=np.int64)
    score = np.zeros(n_all, dtype=np.float64)
    for s, ids in enumerate(word_ids):
        rows[s, ids] = np.arange(ids.size)
        score[ids] += _relative_frequencies(count_lists[s], ids.size)
    score /= len(word_lists)
    keep = np.ones(n_all, dtype=bool) if mode == "union" else (rows >= 0).all(axis=0)
    if not keep.any():
        raise ConfigError("the sources share no word: the intersection vocabulary is empty")
    kept = np.flatnonzero(keep)
    # Falling score; ties by first appearance (the index's insertion order).
    order = kept[np.lexsort((kept, -score[kept]))]
    all_words = list(index)
    words = tuple(all_words[i] for i in order)
    counts = None
    if all(c is not None and c.sum() > 0 for c in count_lists):
        mean_total = float(np.mean([c.sum() for c in count_lists if c is not None]))
        counts = np.maximum(1, np.rint(score[order] * mean_total)).astype(np.int64)
    return MergedVocabulary(words, counts, np.ascontiguousarray(rows[:, order]))


# --- reading normalized blocks ----------------------------------------------------------------


def _normalize(source: _Source, rows: NDArray[Any], steps: tuple[str, ...]) -> Matrix:
    from wordvec.align_mapping import apply_normalization

    return apply_normalization(rows, steps, source.statistics)


def _fit_statistics(source: _Source, steps: tuple[str, ...], block_rows: int) -> None:
    """The mean for a ``center`` step, over every word of the source, one block at a time."""
    statistics: list[NDArray[np.float64] | None] = [None] * len(steps)
    if "center" in steps:
        position = steps.index("center")
        before = steps[:position]
        total = np.zeros(source.dim, dtype=np.float64)
        n = source.vectors.shape[0]
        source.statistics = tuple(statistics[:position])
        for start in range(0, n, block_rows):
            block = _normalize(source, source.vectors[start : start + block_rows], before)
            total += block.sum(axis=0, dtype=np.float64)
        statistics[position] = total / max(1, n)
    source.statistics = tuple(statistics)


def _read(source: _Source, rows: NDArray[np.int64], steps: tuple[str, ...]) -> Matrix:
    """Normalized vectors of ``rows`` (all >= 0) of ``source``, float32."""
    if rows.size == 0:
        return np.zeros((0, source.dim), dtype=np.float32)
    return _normalize(source, np.asarray(source.vectors[rows], dtype=np.float32), steps)


@dataclass
class _Fill:
    """Filled vectors of the output words ``word_ids`` (ascending) missing from a source."""

    word_ids: NDArray[np.int64]
    vectors: Matrix
    unfilled: int = 0


def _fill_missing(
    sources: list[_Source],
    vocab: MergedVocabulary,
    config: CombineConfig,
    steps: tuple[str, ...],
    bar: Progress,
) -> list[_Fill]:
    """For every source, the vectors of the output words it lacks: the mean of the ``k``
    nearest neighbours' normalized vectors, neighbours found in the first source having the
    word among the words both share (module docstring)."""
    present = vocab.source_rows >= 0
    fills = []
    for s, source in enumerate(sources):
        missing = np.flatnonzero(~present[s])
        vectors = np.zeros((missing.size, source.dim), dtype=np.float32)
        fill = _Fill(missing, vectors)
        fills.append(fill)
        if missing.size == 0 or config.oov_fill == 0:
            fill.unfilled = int(missing.size)
            continue
        from wordvec.align_retrieval import nearest  # Numba: only when there is work

        donors = np.argmax(present[:, missing], axis=0)  # first source having the word
        for d in np.unique(donors).tolist():
            positions = np.flatnonzero(donors == d)
            shared = np.flatnonzero(present[s] & present[d])[: config.fill_candidates]
            if shared.size == 0:
                fill.unfilled += int(positions.size)
                continue
            donor_rows = vocab.source_rows[d]
            candidates = _read(sources[d], donor_rows[shared], steps)
            own = _read(source, vocab.source_rows[s, shared], steps)
            for start in range(0, positions.size, _FILL_QUERIES):
                chunk = positions[start : start + _FILL_QUERIES]
                queries = _read(sources[d], donor_rows[missing[chunk]], steps)
                neighbours, _ = nearest(queries, candidates, config.oov_fill)
                vectors[chunk] = own[neighbours].mean(axis=1)
                bar.update(chunk.size)
    return fills


def _blocks(
    sources: list[_Source],
    vocab: MergedVocabulary,
    fills: list[_Fill],
    steps: tuple[str, ...],
    block_rows: int,
) -> Iterator[tuple[int, int, list[Matrix], NDArray[np.bool_]]]:
    """``(start, stop, per-source normalized blocks, has)`` over the output rows; ``has[s, i]``
    tells whether row ``i`` of source ``s``'s block holds a vector (own or filled)."""
    n = len(vocab)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        rows = vocab.source_rows[:, start:stop]
        has = rows >= 0
        blocks = []
        for s, source in enumerate(sources):
            block = np.zeros((stop - start, source.dim), dtype=np.float32)
            block[has[s]] = _read(source, rows[s, has[s]], steps)
            fill = fills[s]
            lo, hi = np.searchsorted(fill.word_ids, [start, stop]).tolist()
            if hi > lo:
                filled = fill.word_ids[lo:hi] - start
                block[filled] = fill.vectors[lo:hi]
                has[s, filled] = np.abs(fill.vectors[lo:hi]).sum(axis=1) > 0
            blocks.append(block)
        yield start, stop, blocks, has


# --- the methods ------------------------------------------------------------------------------


def _css_maps(
    sources: list[_Source],
    vocab: MergedVocabulary,
    config: CombineConfig,
    steps: tuple[str, ...],
    weights: NDArray[np.float64],
    bar: Progress,
) -> tuple[list[NDArray[np.float64]], list[int]]:
    """Orthogonal maps of every source into the target's space (and the number of words each
    shares with the target): Procrustes on the cross-products ``X_s^T X_t`` over the words both
    have, summed block by block, then ``refine_iterations`` rounds of generalized Procrustes
    (``W_s = polar(sum_u w_u X_s^T X_u W_u)`` over pairwise shared words)."""
    from wordvec.align import orthogonal_from_cross

    n_sources, t = len(sources), config.target
    cross = [[np.zeros((a.dim, b.dim)) for b in sources] for a in sources]
    shared = np.zeros((n_sources, n_sources), dtype=np.int64)
    no_fills = [_Fill(np.zeros(0, np.int64), np.zeros((0, s.dim), np.float32)) for s in sources]
    for start, stop, blocks, has in _blocks(sources, vocab, no_fills, steps, config.block_rows):
        for a in range(n_sources):
            for b in range(a, n_sources):
                both = has[a] & has[b]
                if config.refine_iterations == 0 and b != t and a != t:
                    continue
                # Both float64: a mixed-precision product would bypass BLAS.
                product = blocks[a][both].astype(np.float64).T @ blocks[b][both].astype(np.float64)
                cross[a][b] += product
                if a != b:
                    cross[b][a] += product.T
                shared[a, b] = shared[b, a] = shared[a, b] + int(both.sum())
        bar.update(stop - start)
    for s in range(n_sources):
        if s != t and shared[s, t] == 0:
            raise ConfigError(
                f"{sources[s].name} shares no word with the css target {sources[t].name}: "
                "nothing to map it by"
            )
    maps = [
        np.eye(sources[t].dim) if s == t else orthogonal_from_cross(cross[s][t])
        for s in range(n_sources)
    ]
    for _ in range(config.refine_iterations):
        maps = [
            orthogonal_from_cross(sum(weights[u] * cross[s][u] @ maps[u] for u in range(n_sources)))
            for s in range(n_sources)
        ]
    return maps, [int(shared[s, t]) for s in range(n_sources)]


def _output_dim(sources: list[_Source], config: CombineConfig) -> int:
    dims = [s.dim for s in sources]
    if config.method == "concat":
        return sum(dims)
    if config.method == "avg":
        return max(dims)
    if config.method == "css":
        return dims[config.target]
    dim = config.dim if config.dim is not None else max(dims)
    if dim > sum(dims):
        raise ConfigError(f"svd dim {dim} exceeds the dimension of the concatenation ({sum(dims)})")
    return dim


@dataclass
class _Plan:
    """Everything the output blocks are computed from."""

    sources: list[_Source]
    vocab: MergedVocabulary
    config: CombineConfig
    steps: tuple[str, ...]
    weights: NDArray[np.float64]
    fills: list[_Fill]
    dim: int
    maps: list[NDArray[np.float64]] | None = None
    mean: NDArray[np.float64] | None = None
    projection: NDArray[np.float64] | None = None
    report: dict[str, Any] = dataclasses.field(default_factory=dict)

    def blocks(self) -> Iterator[tuple[int, int, list[Matrix], NDArray[np.bool_]]]:
        return _blocks(self.sources, self.vocab, self.fills, self.steps, self.config.block_rows)

    def concatenated(self, blocks: list[Matrix]) -> Matrix:
        scaled = [block * np.float32(w) for block, w in zip(blocks, self.weights, strict=True)]
        return np.hstack(scaled).astype(np.float32, copy=False)

    def combine(self, blocks: list[Matrix], has: NDArray[np.bool_]) -> Matrix:
        method = self.config.method
        if method == "concat":
            return self.concatenated(blocks)
        if method == "svd":
            assert self.mean is not None and self.projection is not None
            centred = self.concatenated(blocks) - self.mean.astype(np.float32)
            return centred @ self.projection.astype(np.float32)
        out = np.zeros((has.shape[1], self.dim), dtype=np.float32)
        share = self.weights[:, None] * has  # (n_sources, rows)
        for s, block in enumerate(blocks):
            mapped = block if self.maps is None else block @ self.maps[s].astype(np.float32)
            out[:, : mapped.shape[1]] += mapped * share[s, :, None].astype(np.float32)
        total = share.sum(axis=0)
        total[total == 0] = 1.0
        out /= total[:, None].astype(np.float32)
        return out


def _plan(
    sources: list[_Source], config: CombineConfig, progress: bool | None, say: Callable[[str], None]
) -> _Plan:
    n_sources = len(sources)
    if n_sources < 2:
        raise ConfigError(f"combining needs at least two sources (got {n_sources})")
    weights = np.ones(n_sources) if config.weights is None else np.array(config.weights)
    if weights.size != n_sources:
        raise ConfigError(f"{weights.size} weights given for {n_sources} sources: give one each")
    if config.method == "css" and config.target >= n_sources:
        raise ConfigError(f"css target {config.target} is not a source index (0..{n_sources - 1})")
    dim = _output_dim(sources, config)
    steps = config.normalization()
    say(f"merging {n_sources} vocabularies ({config.vocabulary})")
    vocab = merge_vocabularies([s.words for s in sources], [s.counts for s in sources],
                               config.vocabulary)  # fmt: skip
    for source in sources:
        source.words = []  # merged; free them
        _fit_statistics(source, steps, config.block_rows)
    missing = int((vocab.source_rows < 0).sum())
    with Progress("filling missing words", total=missing, unit="words", enabled=progress) as bar:
        fills = _fill_missing(sources, vocab, config, steps, bar)
    plan = _Plan(sources, vocab, config, steps, weights, fills, dim)
    n = len(vocab)
    if config.method == "css":
        with Progress("procrustes", total=n, unit="words", enabled=progress) as bar:
            plan.maps, shared = _css_maps(sources, vocab, config, steps, weights, bar)
        plan.report["shared_with_target"] = shared
    elif config.method == "svd":
        width = sum(s.dim for s in sources)
        gram, total = np.zeros((width, width)), np.zeros(width)
        with Progress("covariance", total=n, unit="words", enabled=progress) as bar:
            for start, stop, blocks, _ in plan.blocks():
                x = plan.concatenated(blocks).astype(np.float64)
                gram += x.T @ x
                total += x.sum(axis=0)
                bar.update(stop - start)
        mean = total / n
        covariance = gram / n - np.outer(mean, mean)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        top = np.argsort(eigenvalues)[::-1][:dim]
        plan.mean, plan.projection = mean, eigenvectors[:, top]
        kept = float(eigenvalues[top].sum() / max(eigenvalues.clip(min=0).sum(), 1e-300))
        plan.report["explained_variance"] = kept
    return plan


def _metadata(plan: _Plan) -> dict[str, Any]:
    vocab = plan.vocab
    present = (vocab.source_rows >= 0).sum(axis=1)
    sources = []
    for s, source in enumerate(plan.sources):
        entry = {
            "name": source.name,
            "n_words": int(source.vectors.shape[0]),
            "dim": source.dim,
            "weight": float(plan.weights[s]),
            "words_in_output": int(present[s]),
            "filled": int(plan.fills[s].word_ids.size - plan.fills[s].unfilled),
            "metadata": source.metadata,
        }
        if "shared_with_target" in plan.report:
            entry["shared_with_target"] = plan.report["shared_with_target"][s]
        sources.append(entry)
    metadata: dict[str, Any] = {
        "combiner": "wordvec.combine",
        "method": plan.config.method,
        "config": plan.config.to_json(),
        "normalization": list(plan.steps),
        "vocabulary_order": "mean relative frequency over the sources",
        "sources": sources,
    }
    if "explained_variance" in plan.report:
        metadata["explained_variance"] = plan.report["explained_variance"]
    return metadata


def _run(
    sources: Sequence[SourceLike],
    config: CombineConfig,
    progress: bool | None,
    say: Callable[[str], None] | None,
    consume: Callable[[_Plan, dict[str, Any]], Any],
) -> Any:
    opened: list[VectorStore] = []
    try:
        loaded = [_open(source, i, opened) for i, source in enumerate(sources)]
        plan = _plan(loaded, config, progress, say or (lambda _line: None))
        return consume(plan, _metadata(plan))
    finally:
        for store in opened:
            store.close()


def _output_blocks(plan: _Plan, progress: bool | None) -> Iterator[tuple[int, int, Matrix]]:
    with Progress("combining", total=len(plan.vocab), unit="words", enabled=progress) as bar:
        for start, stop, blocks, has in plan.blocks():
            yield start, stop, plan.combine(blocks, has)
            bar.update(stop - start)


def combine(
    sources: Sequence[SourceLike],
    config: CombineConfig | None = None,
    *,
    progress: bool | None = False,
    say: Callable[[str], None] | None = None,
) -> Embeddings:
    """Combine ``sources`` (store paths, open :class:`VectorStore`\\ s or :class:`Embeddings`)
    into one :class:`Embeddings` by ``config`` (module docstring); its metadata records the
    sources (with their own metadata), the method and the configuration.

    Raises :class:`ConfigError` for fewer than two sources, a wrong number of weights, an empty
    intersection, an svd ``dim`` beyond the concatenation or a css source sharing no word with
    the target; :class:`~wordvec.errors.StoreError` for a missing or broken store.
    """
    config = config or CombineConfig()

    def collect(plan: _Plan, metadata: dict[str, Any]) -> Embeddings:
        vectors = np.empty((len(plan.vocab), plan.dim), dtype=np.float32)
        for start, stop, block in _output_blocks(plan, progress):
            vectors[start:stop] = block
        vocab = Vocab(plan.vocab.words, plan.vocab.counts)
        return Embeddings(vocab, vectors, None, metadata)

    result: Embeddings = _run(sources, config, progress, say, collect)
    return result


def write_combined(
    path: str | os.PathLike[str],
    sources: Sequence[SourceLike],
    config: CombineConfig | None = None,
    *,
    dtype: str = "float32",
    progress: bool | None = False,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Like :func:`combine`, but stream the result block by block into a store at ``path``
    (appearing only when complete); returns the metadata written with it (plus ``n_words``
    and ``dim``)."""
    from wordvec.formats.store import StoreWriter

    config = config or CombineConfig()

    def write(plan: _Plan, metadata: dict[str, Any]) -> dict[str, Any]:
        words, counts = plan.vocab.words, plan.vocab.counts
        with StoreWriter(
            path, plan.dim, n_words=len(words), dtype=dtype, metadata=metadata
        ) as writer:
            for start, stop, block in _output_blocks(plan, progress):
                writer.add(words[start:stop], block, None if counts is None else counts[start:stop])
        return {**metadata, "n_words": len(words), "dim": plan.dim}

    summary: dict[str, Any] = _run(sources, config, progress, say, write)
    return summary
