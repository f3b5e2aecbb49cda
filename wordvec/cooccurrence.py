"""Word-word co-occurrence matrices for the matrix-factorization trainers, and their PPMI.

:func:`count_cooccurrences` counts, over an :class:`~wordvec.corpus.EncodedCorpus`, how often
word ``j`` appears within ``window`` tokens of word ``i`` (both sides, so the matrix is
symmetric), optionally with word2vec's dynamic window and subsampling and GloVe's ``1/d``
distance weighting. Memory is bounded by the number of distinct pairs, not by the corpus
length: pairs go into a buffer of ``buffer_pairs`` entries; each full buffer is summed into an
upper-triangular CSR block (a counting sort by row, then each row summed in a dense
accumulator: no hashing, no general sort) and merged into the running upper-triangular sum;
the symmetric matrix is formed once at the end.

:func:`ppmi` turns counts into positive pointwise mutual information with context-distribution
smoothing (Levy, Goldberg and Dagan, "Improving Distributional Similarity with Lessons Learned
from Word Embeddings", TACL 2015), the target of the PU-learning trainer (:mod:`wordvec.pu`).
SciPy is imported lazily so the lookup path does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from wordvec.corpus import EncodedCorpus
from wordvec.errors import ConfigError
from wordvec.progress import Progress

if TYPE_CHECKING:
    import scipy.sparse

DEFAULT_BUFFER_PAIRS = 2_000_000


def count_cooccurrences(
    corpus: EncodedCorpus,
    n_words: int,
    *,
    window: int = 15,
    dynamic_window: bool = False,
    distance_weighting: bool = False,
    keep_probs: NDArray[np.float32] | None = None,
    seed: int = 1,
    dtype: type[np.floating[Any]] = np.float64,
    buffer_pairs: int = DEFAULT_BUFFER_PAIRS,
    progress: bool | None = False,
) -> scipy.sparse.csr_matrix:
    """Symmetric ``(n_words, n_words)`` CSR matrix of windowed co-occurrence counts.

    ``X[i, j]`` sums, over every token of word ``i`` and every token of word ``j`` at distance
    ``1 <= d <= window`` in the same sentence (either side), the weight ``1`` (or ``1/d`` with
    ``distance_weighting``). With ``dynamic_window`` the left token of each pair draws its reach
    uniformly in ``[1, window]`` and the pair counts for both words when it falls inside, so a
    pair at distance ``d`` is kept with probability ``(window - d + 1) / window`` as in word2vec
    and the matrix stays symmetric. ``keep_probs`` (from
    :func:`wordvec.vocab.keep_probabilities`) drops tokens before windowing. The same
    ``seed`` gives the same matrix. Indices are sorted and duplicates summed.

    Raises :class:`ConfigError` on a bad window, buffer size or ``keep_probs`` shape.
    """
    import scipy.sparse

    from wordvec.cooccurrence_kernels import (
        CooccurrenceParams,
        compress_pairs,
        count_diagonal,
        count_pairs,
        merge_csr,
        symmetrize_upper,
    )
    from wordvec.sampling_kernels import seed_states

    if window < 1:
        raise ConfigError(f"window must be at least 1 (got {window})")
    if buffer_pairs < 1:
        raise ConfigError(f"buffer_pairs must be at least 1 (got {buffer_pairs})")
    if n_words < 1:
        raise ConfigError(f"n_words must be at least 1 (got {n_words})")
    if keep_probs is None:
        keep_probs = np.ones(n_words, dtype=np.float32)
    keep_probs = np.ascontiguousarray(keep_probs, dtype=np.float32)
    if keep_probs.shape != (n_words,):
        raise ConfigError(f"keep_probs must have shape ({n_words},) (got {keep_probs.shape})")
    offsets = np.ascontiguousarray(corpus.sentence_offsets, dtype=np.int64)
    n_sentences = corpus.n_sentences
    longest = int(np.diff(offsets).max()) if n_sentences else 1
    # A whole sentence must fit an empty buffer.
    capacity = max(buffer_pairs, longest * window)
    rows = np.empty(capacity, dtype=np.int32)
    cols = np.empty(capacity, dtype=np.int32)
    weights = np.empty(capacity, dtype=np.float64)
    kept = np.empty(max(longest, 1), dtype=np.int32)
    block_indptr = np.empty(n_words + 1, dtype=np.int64)
    block_cols = np.empty(capacity, dtype=np.int32)
    block_values = np.empty(capacity, dtype=np.float64)
    accumulator = np.zeros(n_words, dtype=np.float64)
    touched = np.empty(n_words, dtype=np.int32)
    state = seed_states(seed, 1)
    params = CooccurrenceParams(window, dynamic_window, distance_weighting)
    # The running sum of the upper triangle, CSR.
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    indices = np.empty(0, dtype=np.int32)
    values = np.empty(0, dtype=np.float64)
    first = 0
    with Progress(
        "counting co-occurrences", total=corpus.n_tokens, unit="tokens", enabled=progress
    ) as bar:
        while first < n_sentences:
            nxt, n = count_pairs(
                corpus.token_ids,
                offsets,
                first,
                n_sentences,
                keep_probs,
                state,
                params,
                kept,
                rows,
                cols,
                weights,
            )
            size = compress_pairs(
                rows,
                cols,
                weights,
                n,
                block_indptr,
                block_cols,
                block_values,
                accumulator,
                touched,
            )
            merged_indptr = np.empty(n_words + 1, dtype=np.int64)
            total = merge_csr(
                indptr,
                indices,
                values,
                block_indptr,
                block_cols,
                block_values,
                merged_indptr,
                indices,
                values,
                True,
            )
            merged_indices = np.empty(total, dtype=np.int32)
            merged_values = np.empty(total, dtype=np.float64)
            merge_csr(
                indptr,
                indices,
                values,
                block_indptr,
                block_cols[:size],
                block_values[:size],
                merged_indptr,
                merged_indices,
                merged_values,
                False,
            )
            indptr, indices, values = merged_indptr, merged_indices, merged_values
            bar.update(int(offsets[nxt] - offsets[first]))
            first = nxt
    del rows, cols, weights, accumulator, touched, block_cols, block_values
    # Left-to-right pairs plus their mirror images: every token sees both sides.
    full_indptr = np.zeros(n_words + 1, dtype=np.int64)
    n_full = 2 * int(indices.shape[0]) - count_diagonal(indptr, indices)
    full_indices = np.empty(n_full, dtype=np.int32)
    full_values = np.empty(n_full, dtype=dtype)
    symmetrize_upper(indptr, indices, values, full_indptr, full_indices, full_values)
    counts = scipy.sparse.csr_matrix(
        (full_values, full_indices, full_indptr), shape=(n_words, n_words)
    )
    counts.has_sorted_indices = True
    return counts


def ppmi(
    counts: scipy.sparse.spmatrix | scipy.sparse.sparray,
    *,
    context_smoothing: float = 0.75,
) -> scipy.sparse.csr_matrix:
    """Positive PMI of a co-occurrence matrix, keeping only the positive entries.

    ``PMI(i, j) = log(X_ij * S / (X_i* * P_a(j)))`` with ``S = sum X``,
    ``P_a(j) = X_*j**a / sum_k X_*k**a`` (``a = context_smoothing``; 1 is plain PMI). The
    result holds exactly the entries with ``PMI > 0`` (the observed set Omega of PU learning),
    as a float64 CSR matrix with sorted indices. Raises :class:`ConfigError` on an empty matrix
    or a smoothing exponent outside ``(0, 1]``.
    """
    import scipy.sparse

    if not 0 < context_smoothing <= 1:
        raise ConfigError(f"context_smoothing must be in (0, 1] (got {context_smoothing})")
    x = scipy.sparse.csr_matrix(counts, dtype=np.float64)
    x.sum_duplicates()
    x.eliminate_zeros()
    total = float(x.sum())
    if not total > 0:
        raise ConfigError("cannot compute PMI: the co-occurrence matrix is empty")
    row_sums = np.asarray(x.sum(axis=1)).ravel()
    col_sums = np.asarray(x.sum(axis=0)).ravel() ** context_smoothing
    col_probs = col_sums / col_sums.sum()
    row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    # log(X_ij / S) - log(X_i* / S) - log(P_a(j)): the two log(S) cancel.
    pmi = np.log(x.data) - np.log(row_sums[row_of]) - np.log(col_probs[x.indices])
    result = scipy.sparse.csr_matrix((pmi, x.indices.copy(), x.indptr.copy()), shape=x.shape)
    result.data[result.data <= 0] = 0.0
    result.eliminate_zeros()
    result.sort_indices()
    return result
