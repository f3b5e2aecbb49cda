"""Post-hoc compression of any store: scalar quantization, product and residual codes, pruning.

Methods (``CompressConfig.method``):

* ``float16``: half precision (2x smaller).
* ``int8``: one signed byte per value and one float32 scale per row (the row's largest
  absolute value / 127), about 4x smaller.
* ``pq``, product quantization (Jegou, Douze & Schmid, TPAMI 2011): the dimensions are split into
  ``M`` sub-spaces; k-means learns ``K`` codewords in each, and a row becomes ``M`` codeword ids
  (``M`` bytes for ``K <= 256``).
* ``rq``, residual (additive) quantization (Chen, Guan & Wang, Sensors 2010; the compositional
  codes of Shu & Nakayama, ICLR 2018, learn the same form with a neural network): ``M``
  full-dimensional codebooks learned greedily, each by k-means on what the previous ones left
  unexplained; ``refine`` passes then re-fit every codebook given the others' codes (least
  squares) and re-assign its codes, which never increases the error.
* ``prune`` (spaCy's ``--prune``): keep the vectors of the ``keep`` most frequent words and
  give every other word the row of its nearest kept word (cosine).

``keep`` combines with every method (prune first, then encode the kept rows). The store reads
all of them transparently (:mod:`wordvec.quantized`). Codebooks are learned on at most
``train_rows`` rows (a seeded sample), then every row is encoded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError
from wordvec.progress import Progress
from wordvec.quantized import (
    AdditiveCodes,
    DenseRows,
    Int8Rows,
    ProductCodes,
    RowCodec,
    subspace_sizes,
)

METHODS = ("pq", "rq", "float16", "int8", "prune")
INITS = ("kmeans++", "random")
DEFAULT_CODEBOOKS = {"pq": 32, "rq": 16}
# A compressed store keeps its OOV n-gram index as parameters only: the posting lists cost
# more than the codes at a few bytes a word, and rebuilding them from the words on the first
# unknown word takes about as long as unpacking the stored ones (README, "Compression").
DEFAULT_OOV_INDEX = "derived"
_BLOCK_ROWS = 1 << 13


@dataclass(frozen=True)
class CompressConfig:
    """How to compress. ``n_codebooks`` (M) and ``n_codewords`` (K) apply to ``pq``/``rq``
    (M defaults to 32 for pq, 16 for rq); ``rotate`` (pq) first rotates the vectors onto their
    principal axes with the variance spread evenly over the sub-spaces; ``keep`` prunes to the
    ``keep`` most frequent words (required for ``prune``, optional with every other method)."""

    method: str = "pq"
    n_codebooks: int | None = None
    n_codewords: int = 256
    keep: int | None = None
    iterations: int = 20
    refine: int = 1
    rotate: bool = True
    train_rows: int = 50_000
    init: str = "kmeans++"
    seed: int = 1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)} (got {self.method!r})")
        if self.init not in INITS:
            raise ConfigError(f"init must be one of {', '.join(INITS)} (got {self.init!r})")
        if self.n_codebooks is not None and self.n_codebooks < 1:
            raise ConfigError(
                f"the number of codebooks must be at least 1 (got {self.n_codebooks})"
            )
        if not 2 <= self.n_codewords <= 65536:
            raise ConfigError(
                f"the number of codewords must be between 2 and 65536 (got {self.n_codewords})"
            )
        if self.method == "prune" and self.keep is None:
            raise ConfigError("method 'prune' needs keep (the number of rows to keep)")
        if self.keep is not None and self.keep < 1:
            raise ConfigError(f"keep must be at least 1 (got {self.keep})")
        if self.iterations < 1:
            raise ConfigError(f"iterations must be at least 1 (got {self.iterations})")
        if self.refine < 0:
            raise ConfigError(f"refine must be at least 0 (got {self.refine})")
        if self.train_rows < 1:
            raise ConfigError(f"train_rows must be at least 1 (got {self.train_rows})")

    @property
    def codebooks(self) -> int:
        """M for pq/rq (the explicit value or the method's default)."""
        return self.n_codebooks or DEFAULT_CODEBOOKS.get(self.method, 1)


@dataclass(frozen=True)
class Compressed:
    """Encoded rows and, when pruned, the row of every word (``None``: word i is row i)."""

    codec: RowCodec
    word_rows: NDArray[np.int32] | None = None


# --- k-means ----------------------------------------------------------------------------------


def assign_nearest(
    points: NDArray[np.float32], centroids: NDArray[np.float32]
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Index of the nearest centroid of every point and the squared distance to it, computed
    with one matrix product per block of points (``|x|^2 - 2 x.c + |c|^2``)."""
    n = points.shape[0]
    labels = np.empty(n, dtype=np.int64)
    dists = np.empty(n, dtype=np.float32)
    centroid_norms = np.einsum("ij,ij->i", centroids, centroids)
    for start in range(0, n, _BLOCK_ROWS):
        block = points[start : start + _BLOCK_ROWS]
        d2 = centroid_norms[None, :] - 2.0 * (block @ centroids.T)
        best = np.argmin(d2, axis=1)
        labels[start : start + block.shape[0]] = best
        point_norms = np.einsum("ij,ij->i", block, block)
        dists[start : start + block.shape[0]] = np.maximum(
            d2[np.arange(block.shape[0]), best] + point_norms, 0.0
        )
    return labels, dists


def kmeans(
    points: NDArray[np.float32],
    n_clusters: int,
    *,
    iterations: int,
    init: str,
    seed: int,
) -> NDArray[np.float32]:
    """Lloyd's k-means on ``points`` ``(n, d)``; returns float32 centroids ``(n_clusters, d)``.

    Seeds by k-means++ or a uniform sample of distinct points; an empty cluster is re-seeded
    with the point farthest from its centroid. Stops early when no label changes. With fewer
    distinct points than clusters the surplus centroids duplicate points (harmless: their codes
    are simply never the unique nearest)."""
    from wordvec.compress_kernels import accumulate_centroids, kmeans_plusplus
    from wordvec.sampling_kernels import seed_states

    points = np.ascontiguousarray(points, dtype=np.float32)
    n, dim = points.shape
    state = seed_states(seed, 1)
    centroids = np.empty((n_clusters, dim), dtype=np.float32)
    if init == "kmeans++":
        kmeans_plusplus(points, n_clusters, state, centroids, np.empty(n, dtype=np.float64))
    else:
        rng = np.random.default_rng(seed)
        chosen = rng.choice(n, size=n_clusters, replace=n < n_clusters)
        centroids[:] = points[chosen]
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        new_labels, dists = assign_nearest(points, centroids)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        sums = np.zeros((n_clusters, dim), dtype=np.float64)
        counts = np.zeros(n_clusters, dtype=np.int64)
        accumulate_centroids(points, labels, sums, counts)
        filled = counts > 0
        centroids[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
        empty = np.flatnonzero(~filled)
        if empty.size:
            far = np.argsort(-dists, kind="stable")[: empty.size]
            centroids[empty[: far.size]] = points[far]
    return centroids


# --- encoders ---------------------------------------------------------------------------------


def _training_rows(matrix: NDArray[np.float32], config: CompressConfig) -> NDArray[np.float32]:
    n = matrix.shape[0]
    if n <= config.train_rows:
        return matrix
    rows = np.sort(np.random.default_rng(config.seed).choice(n, config.train_rows, replace=False))
    return np.ascontiguousarray(matrix[rows])


def _code_dtype(n_codewords: int) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if n_codewords <= 256 else np.uint16


def _check_codebooks(config: CompressConfig, n_rows: int, dim: int) -> None:
    if config.codebooks > dim:
        raise ConfigError(
            f"{config.codebooks} codebooks for {dim} dimensions: at most one per dimension"
        )
    if config.n_codewords > n_rows:
        raise ConfigError(
            f"{config.n_codewords} codewords but only {n_rows} rows to learn them from: "
            f"use at most {n_rows} codewords"
        )


def balanced_rotation(matrix: NDArray[np.float32], sizes: NDArray[np.int64]) -> NDArray[np.float32]:
    """An orthogonal ``(dim, dim)`` rotation onto the principal axes of ``matrix``, its columns
    ordered so that consecutive groups of ``sizes`` dimensions get similar variance: axes in
    falling variance are dealt to the groups back and forth (1..M, M..1, ...). Word vectors
    have a few axes with a thousand times the variance of others; grouped together they would
    leave some codebooks all the error and others nothing to do (the idea of optimized PQ's
    eigenvalue allocation, Ge et al., CVPR 2013)."""
    centered = matrix.astype(np.float64) - matrix.mean(axis=0, dtype=np.float64)
    _, axes = np.linalg.eigh(centered.T @ centered)
    axes = axes[:, ::-1]  # falling variance
    groups: list[list[int]] = [[] for _ in sizes]
    order = list(range(len(sizes)))
    axis = 0
    while axis < axes.shape[1]:
        for m in order:
            if len(groups[m]) < sizes[m] and axis < axes.shape[1]:
                groups[m].append(axis)
                axis += 1
        order.reverse()
    return np.ascontiguousarray(axes[:, np.concatenate(groups)], dtype=np.float32)


def encode_pq(
    matrix: NDArray[np.float32], config: CompressConfig, bar: Progress | None = None
) -> ProductCodes:
    """Product quantization of ``matrix`` ``(n, dim)`` with ``config.codebooks`` sub-spaces
    (after :func:`balanced_rotation` when ``config.rotate``)."""
    n, dim = matrix.shape
    _check_codebooks(config, n, dim)
    n_books, n_words_k = config.codebooks, config.n_codewords
    sizes = subspace_sizes(dim, n_books)
    rotation = None
    if config.rotate:
        rotation = balanced_rotation(_training_rows(matrix, config), sizes)
        matrix = np.asarray(matrix @ rotation, dtype=np.float32)
    width = int(sizes.max())
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    codebooks = np.zeros((n_books, n_words_k, width), dtype=np.float32)
    codes = np.empty((n, n_books), dtype=_code_dtype(n_words_k))
    train = _training_rows(matrix, config)
    for m in range(n_books):
        lo, hi = int(bounds[m]), int(bounds[m + 1])
        centroids = kmeans(
            train[:, lo:hi],
            n_words_k,
            iterations=config.iterations,
            init=config.init,
            seed=config.seed + m,
        )
        codebooks[m, :, : hi - lo] = centroids
        codes[:, m] = assign_nearest(np.ascontiguousarray(matrix[:, lo:hi]), centroids)[0]
        if bar is not None:
            bar.update(1)
    return ProductCodes(codes, codebooks, dim, rotation)


def encode_rq(
    matrix: NDArray[np.float32], config: CompressConfig, bar: Progress | None = None
) -> AdditiveCodes:
    """Residual quantization of ``matrix`` with ``config.codebooks`` codebooks, then
    ``config.refine`` passes of codebook re-fitting and code re-assignment on all rows."""
    from wordvec.compress_kernels import accumulate_centroids

    n, dim = matrix.shape
    _check_codebooks(config, n, dim)
    n_books, n_words_k = config.codebooks, config.n_codewords
    codebooks = np.zeros((n_books, n_words_k, dim), dtype=np.float32)
    codes = np.empty((n, n_books), dtype=_code_dtype(n_words_k))
    residual = np.array(matrix, dtype=np.float32)
    train_ids = (
        None
        if n <= config.train_rows
        else np.sort(np.random.default_rng(config.seed).choice(n, config.train_rows, False))
    )
    for m in range(n_books):
        train = residual if train_ids is None else residual[train_ids]
        codebooks[m] = kmeans(
            train,
            n_words_k,
            iterations=config.iterations,
            init=config.init,
            seed=config.seed + m,
        )
        labels = assign_nearest(residual, codebooks[m])[0]
        codes[:, m] = labels
        residual -= codebooks[m][labels]
        if bar is not None:
            bar.update(1)
    for _ in range(config.refine):
        for m in range(n_books):
            # What codebook m must explain given all the others' codes.
            target = residual + codebooks[m][codes[:, m]]
            sums = np.zeros((n_words_k, dim), dtype=np.float64)
            counts = np.zeros(n_words_k, dtype=np.int64)
            accumulate_centroids(target, codes[:, m].astype(np.int64), sums, counts)
            used = counts > 0
            codebooks[m, used] = (sums[used] / counts[used, None]).astype(np.float32)
            labels = assign_nearest(target, codebooks[m])[0]
            codes[:, m] = labels
            residual = target - codebooks[m][labels]
            if bar is not None:
                bar.update(1)
    return AdditiveCodes(codes, codebooks, dim)


def prune_rows(
    matrix: NDArray[np.float32], keep: int, bar: Progress | None = None
) -> NDArray[np.int32]:
    """The row of every word when only the first ``keep`` rows are kept: itself for the first
    ``keep``, else the kept row with the highest cosine (ties: the lower id). int32 ``(n,)``."""
    n = matrix.shape[0]
    word_rows = np.arange(n, dtype=np.int32)
    if keep >= n:
        return word_rows
    kept = _unit(np.array(matrix[:keep], dtype=np.float32))
    for start in range(keep, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        block = _unit(np.array(matrix[start:stop], dtype=np.float32))
        word_rows[start:stop] = np.argmax(block @ kept.T, axis=1)
        if bar is not None:
            bar.update(stop - start)
    return word_rows


def _unit(matrix: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def compress_matrix(
    matrix: NDArray[np.floating[Any]], config: CompressConfig, *, progress: bool | None = False
) -> Compressed:
    """Encode ``matrix`` ``(n_words, dim)`` (rows by falling frequency, so pruning keeps the
    most frequent words) as ``config`` says."""
    if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] < 1:
        raise ConfigError(f"expected a non-empty (n_words, dim) matrix (got {matrix.shape})")
    dense = np.ascontiguousarray(matrix, dtype=np.float32)
    if not np.isfinite(dense).all():
        bad = int(np.flatnonzero(~np.isfinite(dense).all(axis=1))[0])
        raise ConfigError(f"row {bad} has a NaN or infinite value: cannot compress")
    word_rows = None
    if config.keep is not None and config.keep < dense.shape[0]:
        with Progress(
            "pruning", total=dense.shape[0] - config.keep, unit="words", enabled=progress
        ) as bar:
            word_rows = prune_rows(dense, config.keep, bar)
        dense = dense[: config.keep]
    method = config.method
    codec: RowCodec
    if method in ("pq", "rq"):
        steps = config.codebooks * (1 + (config.refine if method == "rq" else 0))
        with Progress(
            f"learning {method} codebooks", total=steps, unit="codebooks", enabled=progress
        ) as bar:
            codec = (encode_pq if method == "pq" else encode_rq)(dense, config, bar)
    elif method == "int8":
        codec = Int8Rows.encode(dense)
    elif method == "float16":
        if np.abs(dense).max() > np.finfo(np.float16).max:
            raise ConfigError("values beyond the float16 range (65504): use int8 or pq")
        codec = DenseRows(dense.astype(np.float16))
    else:
        codec = DenseRows(dense)
    return Compressed(codec, word_rows)


# --- stores -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompressReport:
    """What compression did: sizes (whole files, and the vector matrix alone), fidelity (mean
    relative squared error and mean cosine between each word's vector and its compressed
    version) and neighbour recall (share of the dense top-10 neighbours of sample words that
    the compressed store also returns)."""

    source: str
    target: str
    method: str
    n_words: int
    n_rows: int
    dim: int
    source_bytes: int
    target_bytes: int
    ratio: float
    matrix_bytes_before: int
    matrix_bytes_after: int
    matrix_ratio: float
    relative_error: float
    mean_cosine: float
    neighbour_recall_at_10: float
    seconds: float
    encoding: dict[str, Any] = field(default_factory=dict)
    oov_index: str = "none"  # how the output keeps the OOV n-gram index (OOV_INDEX_MODES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compress_store(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    config: CompressConfig,
    *,
    oov_index: bool | str = DEFAULT_OOV_INDEX,
    progress: bool | None = False,
) -> CompressReport:
    """Compress the store ``source`` into a new store ``target`` (written atomically; words,
    counts and metadata are kept, the configuration is added to the metadata under
    ``"compression"``). Subword buckets are kept, in float16 for every method but a dense
    float32 ``prune``. ``oov_index`` (``"stored"``, ``"derived"`` or ``"none"``, see
    :data:`~wordvec.formats.store.OOV_INDEX_MODES`) says how a store without subword buckets
    keeps the n-gram index of its OOV fallback. Returns sizes and fidelity measures."""
    from wordvec.store import VectorStore

    start_time = time.perf_counter()
    source_path, target_path = os.fspath(source), os.fspath(target)
    if os.path.abspath(source_path) == os.path.abspath(target_path):
        raise ConfigError("the output must be a different file from the input")
    with VectorStore(source_path) as store:
        if store.codec.encoding != "dense" or store.word_rows is not None:
            raise ConfigError(
                f"{source_path} is already compressed ({store.codec.encoding}"
                f"{', pruned' if store.word_rows is not None else ''}): compress the original"
            )
        n_words, dim = len(store), store.dim
        matrix = np.asarray(store.vectors, dtype=np.float32)
        compressed = compress_matrix(matrix, config, progress=progress)
        # The writer's dtype is that of dense rows and subword buckets: float16 rows stay so,
        # buckets of a compressed store shrink to float16, a dense pruned store keeps float32.
        has_subwords = store.subword_vectors is not None
        half = config.method == "float16" or (has_subwords and config.method != "prune")
        sub_dtype = "float16" if half else "float32"
        settings = {**asdict(config), "n_codebooks": config.codebooks}
        _write_rows_of(
            store,
            target_path,
            compressed.codec,
            compressed.word_rows,
            dtype=sub_dtype,
            metadata={**store.metadata, "compression": settings},
            oov_index=oov_index,
            progress=progress,
        )
        source_matrix_bytes = n_words * dim * np.dtype(store.vectors.dtype).itemsize
        source_matrix_bytes += int(store.norms.nbytes)
    with VectorStore(target_path) as compressed_store:
        fidelity = measure_fidelity(matrix, compressed_store.vectors.__getitem__)
        after = compressed_store.codec.nbytes + int(compressed_store.norms.nbytes)
        if compressed_store.word_rows is not None:
            after += int(compressed_store.word_rows.nbytes)
        encoding = {**compressed_store.codec.describe(), "pruned": compressed.word_rows is not None}
        target_oov_index = compressed_store.layout.oov_index
    with VectorStore(source_path) as store:
        recall = neighbour_recall(store, target_path)
    source_bytes, target_bytes = os.path.getsize(source_path), os.path.getsize(target_path)
    return CompressReport(
        source=source_path,
        target=target_path,
        method=config.method,
        n_words=n_words,
        n_rows=compressed.codec.n_rows,
        dim=dim,
        source_bytes=source_bytes,
        target_bytes=target_bytes,
        ratio=source_bytes / target_bytes,
        matrix_bytes_before=source_matrix_bytes,
        matrix_bytes_after=after,
        matrix_ratio=source_matrix_bytes / after,
        relative_error=fidelity[0],
        mean_cosine=fidelity[1],
        neighbour_recall_at_10=recall,
        seconds=time.perf_counter() - start_time,
        encoding=encoding,
        oov_index=target_oov_index,
    )


def _write_rows_of(
    store: Any,
    target: str,
    codec: RowCodec,
    word_rows: NDArray[np.int32] | None,
    *,
    dtype: str,
    metadata: dict[str, Any],
    oov_index: bool | str,
    progress: bool | None,
) -> None:
    """Write a compact store with the words, counts and subword buckets of the open ``store``
    and the rows ``codec`` (``word_rows``: the row of every word when pruned)."""
    from wordvec.embeddings import SubwordTable
    from wordvec.formats.store import StoreWriter

    n_words = len(store)
    with StoreWriter(
        target,
        store.dim,
        n_words=n_words,
        dtype=dtype,
        metadata=metadata,
        oov_index=oov_index,
        progress=progress,
        codec=codec,
        word_rows=word_rows,
        compact=True,
    ) as writer:
        step = 1 << 16
        counts = store.counts
        for first in range(0, n_words, step):
            last = min(first + step, n_words)
            block = None if counts is None else np.array(counts[first:last])
            writer.add(store.words_at(first, last), None, block)
        if store.subword_vectors is not None and store.layout.subword_range is not None:
            writer.set_subwords(SubwordTable(store.subword_vectors, *store.layout.subword_range))


def repack_store(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    oov_index: bool | str = DEFAULT_OOV_INDEX,
    progress: bool | None = False,
) -> None:
    """Rewrite any store (dense or compressed, any format version) in the compact layout
    (format version 3, see :class:`~wordvec.formats.store.StoreWriter`), keeping its rows as
    they are encoded (codebooks and rotation are rounded to float16). ``oov_index`` chooses
    how the n-gram index of the OOV fallback is kept (``"stored"``, ``"derived"``: format
    version 4, or ``"none"``; ``True``/``False`` mean stored/none). Hash-embedding stores are
    not repacked."""
    from wordvec.store import VectorStore

    source_path, target_path = os.fspath(source), os.fspath(target)
    if os.path.abspath(source_path) == os.path.abspath(target_path):
        raise ConfigError("the output must be a different file from the input")
    with VectorStore(source_path) as store:
        if store.codec.encoding == "hash":
            raise ConfigError(f"{source_path} holds hash embeddings: already only a table")
        # One dtype serves dense rows and subword buckets: dense rows keep theirs (buckets are
        # converted losslessly or already match); encoded rows leave it to the buckets.
        dtype = store.layout.vector_dtype
        if store.codec.encoding != "dense" and store.subword_vectors is not None:
            dtype = str(store.subword_vectors.dtype)
        _write_rows_of(
            store,
            target_path,
            store.codec,
            store.word_rows,
            dtype=dtype,
            metadata=dict(store.metadata),
            oov_index=oov_index,
            progress=progress,
        )


def measure_fidelity(
    original: NDArray[np.float32],
    decoded_rows: Callable[[slice], NDArray[np.float32]],
) -> tuple[float, float]:
    """Mean over words of ``|x - x'|^2 / |x|^2`` and of ``cos(x, x')`` (zero rows excluded)."""
    errors, cosines, count = 0.0, 0.0, 0
    for start in range(0, original.shape[0], _BLOCK_ROWS):
        x = original[start : start + _BLOCK_ROWS].astype(np.float64)
        y = decoded_rows(slice(start, start + x.shape[0])).astype(np.float64)
        sq = np.einsum("ij,ij->i", x, x)
        live = sq > 0
        diff = x - y
        errors += float((np.einsum("ij,ij->i", diff, diff)[live] / sq[live]).sum())
        y_norm = np.sqrt(np.einsum("ij,ij->i", y, y))
        cos = np.einsum("ij,ij->i", x, y)[live] / np.maximum(
            np.sqrt(sq[live]) * y_norm[live], 1e-30
        )
        cosines += float(cos.sum())
        count += int(live.sum())
    return errors / max(count, 1), cosines / max(count, 1)


def neighbour_recall(dense_store: Any, compressed_path: str, n_queries: int = 100) -> float:
    """Share of the dense store's top-10 neighbours of ``n_queries`` frequent words (evenly
    spaced among the first 10,000) that the compressed store's ``most_similar`` also returns."""
    from wordvec.store import VectorStore

    limit = min(len(dense_store), 10_000)
    ids = np.unique(np.linspace(0, limit - 1, num=min(n_queries, limit)).astype(np.int64))
    words = [dense_store.word_at(int(i)) for i in ids]
    hits, total = 0, 0
    with VectorStore(compressed_path) as small:
        for word in words:
            want = {w for w, _ in dense_store.most_similar(word, topn=10)}
            got = {w for w, _ in small.most_similar(word, topn=10)}
            hits += len(want & got)
            total += len(want)
    return hits / max(total, 1)
