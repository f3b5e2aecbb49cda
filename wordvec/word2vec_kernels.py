"""Numba kernels of skip-gram and CBOW with negative sampling (Mikolov et al., 2013), with
optional fastText subwords (Bojanowski et al., 2017).

A kernel trains one *job*: a contiguous range of sentences of the encoded corpus. Signatures
carry only arrays, scalars and one :class:`Word2VecParams`; the driver (:mod:`wordvec.train`)
owns validation, the learning-rate schedule, threads and progress. The kernels release the GIL,
so several Python threads train at once on shared matrices (Hogwild), each with its own
random state and its own scratch buffers, and nothing is allocated inside the loops.

Input rows: ``[0, n_words)`` are words; with subwords, ``[n_words, n_words + n_buckets)`` are
hashed character n-grams, and the input of a word is the mean of its "bag" of rows (its own row
and its n-gram rows), listed in CSR form by ``bag_offsets``/``bag_ids``. Without subwords every
bag is the single word row.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from wordvec.sampling_kernels import draw_alias, next_below, next_uniform

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000


class Word2VecParams(NamedTuple):
    """Hyper-parameters the kernels read (a NamedTuple: Numba accepts it as an argument)."""

    window: int
    n_negatives: int
    center_as_input: bool  # skip-gram: True predicts context words from the center word's input
    cbow_mean: bool
    shared_negatives: bool  # skip-gram without subwords: one draw of negatives per window
    cbow_batch: int  # CBOW: consecutive positions that share one draw of negatives
    freeze_output: bool = False  # compass slices (CADE): output rows are read, never updated


def build_sigmoid_table() -> NDArray[np.float32]:
    """sigmoid(x) for x in [-MAX_EXP, MAX_EXP) at EXP_TABLE_SIZE points, as word2vec tabulates."""
    x = (np.arange(EXP_TABLE_SIZE, dtype=np.float64) / EXP_TABLE_SIZE * 2 - 1) * MAX_EXP
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _sigmoid(f: float, table: NDArray[np.float32]) -> float:
    # Saturated scores keep their clipped value (word2vec C does the same; gensim skips the
    # update instead, which loses the gradient of confidently wrong negatives).
    if f >= MAX_EXP:
        return 1.0
    if f <= -MAX_EXP:
        return 0.0
    return table[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))]


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _log_sigmoid_loss(f: float, label: float) -> float:
    x = f if label > 0 else -f
    if x < -30.0:
        return -x
    return math.log1p(math.exp(-x))


@numba.njit(cache=True, nogil=True)
def _subsample(
    token_ids: NDArray[np.int32],
    start: int,
    stop: int,
    keep_probs: NDArray[np.float32],
    state: NDArray[np.uint64],
    slot: int,
    out: NDArray[np.int32],
) -> int:
    n = 0
    for k in range(start, stop):
        word = token_ids[k]
        if keep_probs[word] < 1.0 and next_uniform(state, slot) >= keep_probs[word]:
            continue
        out[n] = word
        n += 1
    return n


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _bag_mean(
    word: int,
    bag_offsets: NDArray[np.int64],
    bag_ids: NDArray[np.int32],
    input_vectors: NDArray[np.float32],
    hidden: NDArray[np.float32],
    accumulate: bool,
) -> int:
    """Set ``hidden`` to the mean of the word's bag rows, or add that mean to it when
    ``accumulate``; returns the bag size."""
    first = bag_offsets[word]
    size = bag_offsets[word + 1] - first
    dim = hidden.shape[0]
    if not accumulate:
        for d in range(dim):
            hidden[d] = 0.0
    scale = 1.0 / size
    for k in range(first, first + size):
        row = input_vectors[bag_ids[k]]
        for d in range(dim):
            hidden[d] += row[d] * scale
    return size


@numba.njit(cache=True, nogil=True, fastmath=True)
def _negative_sampling_step(
    hidden: NDArray[np.float32],
    target: int,
    negatives: NDArray[np.int64],
    n_negatives: int,
    output_vectors: NDArray[np.float32],
    gradient: NDArray[np.float32],
    sigmoid_table: NDArray[np.float32],
    learning_rate: float,
    track_loss: bool,
    update_output: bool,
) -> float:
    """One positive ``target`` and the noise words ``negatives[:n_negatives]`` (those equal to
    the target skipped) for ``hidden``; updates output rows (unless not ``update_output``) and
    accumulates the input gradient into ``gradient``; returns the loss (if tracked)."""
    dim = hidden.shape[0]
    loss = 0.0
    for t in range(n_negatives + 1):
        if t == 0:
            word = target
            label = 1.0
        else:
            word = negatives[t - 1]
            if word == target:
                continue
            label = 0.0
        row = output_vectors[word]
        f = 0.0
        for k in range(dim):
            f += hidden[k] * row[k]
        if track_loss:
            loss += _log_sigmoid_loss(f, label)
        g = (label - _sigmoid(f, sigmoid_table)) * learning_rate
        if update_output:
            for k in range(dim):
                gradient[k] += g * row[k]
                row[k] += g * hidden[k]
        else:
            for k in range(dim):
                gradient[k] += g * row[k]
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True)
def _skipgram_window_step(
    sentence: NDArray[np.int32],
    i: int,
    lo: int,
    hi: int,
    input_vectors: NDArray[np.float32],
    output_vectors: NDArray[np.float32],
    noise_accept: NDArray[np.float64],
    noise_alias: NDArray[np.int32],
    sigmoid_table: NDArray[np.float32],
    state: NDArray[np.uint64],
    slot: int,
    n_negatives: int,
    learning_rate: float,
    targets: NDArray[np.int64],
    scores: NDArray[np.float32],
    input_gradients: NDArray[np.float32],
    track_loss: bool,
    update_output: bool,
) -> float:
    """All context words of center ``sentence[i]`` at once, sharing one draw of negatives
    (Ji et al., "Parallelizing Word2Vec in Shared and Distributed Memory", 2016: HogBatch).

    word2vec's skip-gram direction: each context word's input row predicts the center's output
    row against the negatives. The (contexts x targets) scores form a small matrix product, and
    each output row is read once per window instead of once per pair.
    """
    dim = input_vectors.shape[1]
    center = sentence[i]
    n_targets = 1
    targets[0] = center
    for _ in range(n_negatives):
        word = draw_alias(noise_accept, noise_alias, state, slot)
        if word != center:
            targets[n_targets] = word
            n_targets += 1
    loss = 0.0
    n_contexts = 0
    for j in range(lo, hi):
        if j == i:
            continue
        row_in = input_vectors[sentence[j]]
        for t in range(n_targets):
            row_out = output_vectors[targets[t]]
            f = 0.0
            for d in range(dim):
                f += row_in[d] * row_out[d]
            label = 1.0 if t == 0 else 0.0
            if track_loss:
                loss += _log_sigmoid_loss(f, label)
            scores[n_contexts, t] = (label - _sigmoid(f, sigmoid_table)) * learning_rate
        n_contexts += 1
    # Input gradients from the old output rows, then output updates from the old input rows.
    for c in range(n_contexts):
        grad = input_gradients[c]
        for d in range(dim):
            grad[d] = 0.0
        for t in range(n_targets):
            g = scores[c, t]
            row_out = output_vectors[targets[t]]
            for d in range(dim):
                grad[d] += g * row_out[d]
    for t in range(n_targets if update_output else 0):
        row_out = output_vectors[targets[t]]
        c = 0
        for j in range(lo, hi):
            if j == i:
                continue
            g = scores[c, t]
            row_in = input_vectors[sentence[j]]
            for d in range(dim):
                row_out[d] += g * row_in[d]
            c += 1
    c = 0
    for j in range(lo, hi):
        if j == i:
            continue
        row_in = input_vectors[sentence[j]]
        grad = input_gradients[c]
        for d in range(dim):
            row_in[d] += grad[d]
        c += 1
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True)
def _cbow_batch_step(
    sentence: NDArray[np.int32],
    length: int,
    first: int,
    n_batch: int,
    window: int,
    input_vectors: NDArray[np.float32],
    output_vectors: NDArray[np.float32],
    bag_offsets: NDArray[np.int64],
    bag_ids: NDArray[np.int32],
    noise_accept: NDArray[np.float64],
    noise_alias: NDArray[np.int32],
    sigmoid_table: NDArray[np.float32],
    state: NDArray[np.uint64],
    slot: int,
    n_negatives: int,
    learning_rate: float,
    cbow_mean: bool,
    negatives: NDArray[np.int64],
    hidden: NDArray[np.float32],
    gradient: NDArray[np.float32],
    track_loss: bool,
    update_output: bool,
) -> float:
    """word2vec's CBOW step for the ``n_batch`` positions from ``first`` in turn, against one
    draw of negatives shared by the batch.

    Each position still predicts its center from the mean of its context bags as updated by
    the position before (no stale reads), but the few negative output rows stay in cache for
    the whole batch: a CBOW step touches little else, so most of its memory traffic and its
    random draws go (the idea of HogBatch, Ji et al. 2016, which shares negatives across a
    skip-gram window). With ``n_batch == 1`` this is word2vec's step exactly.
    """
    dim = input_vectors.shape[1]
    loss = 0.0
    for k in range(n_negatives):
        negatives[k] = draw_alias(noise_accept, noise_alias, state, slot)
    for b in range(n_batch):
        i = first + b
        reduced = next_below(state, slot, window)
        lo = max(0, i - window + reduced)
        hi = min(length, i + window + 1 - reduced)
        for d in range(dim):
            hidden[d] = 0.0
        count = 0
        for j in range(lo, hi):
            if j != i:
                word = sentence[j]
                if bag_offsets[word + 1] - bag_offsets[word] == 1:
                    row = input_vectors[bag_ids[bag_offsets[word]]]
                    for d in range(dim):
                        hidden[d] += row[d]
                else:
                    _bag_mean(word, bag_offsets, bag_ids, input_vectors, hidden, True)
                count += 1
        if count == 0:
            continue
        if cbow_mean:
            for d in range(dim):
                hidden[d] /= count
        for d in range(dim):
            gradient[d] = 0.0
        loss += _negative_sampling_step(
            hidden,
            sentence[i],
            negatives,
            n_negatives,
            output_vectors,
            gradient,
            sigmoid_table,
            learning_rate,
            track_loss,
            update_output,
        )
        for j in range(lo, hi):
            if j != i:
                word = sentence[j]
                for k in range(bag_offsets[word], bag_offsets[word + 1]):
                    row = input_vectors[bag_ids[k]]
                    for d in range(dim):
                        row[d] += gradient[d]
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def train_job(
    token_ids: NDArray[np.int32],
    sentence_offsets: NDArray[np.int64],
    first_sentence: int,
    last_sentence: int,
    input_vectors: NDArray[np.float32],
    output_vectors: NDArray[np.float32],
    bag_offsets: NDArray[np.int64],
    bag_ids: NDArray[np.int32],
    keep_probs: NDArray[np.float32],
    noise_accept: NDArray[np.float64],
    noise_alias: NDArray[np.int32],
    sigmoid_table: NDArray[np.float32],
    state: NDArray[np.uint64],
    slot: int,
    learning_rate_start: float,
    learning_rate_end: float,
    params: Word2VecParams,
    skipgram: bool,
    sentence_buffer: NDArray[np.int32],
    hidden: NDArray[np.float32],
    gradient: NDArray[np.float32],
    targets: NDArray[np.int64],
    scores: NDArray[np.float32],
    input_gradients: NDArray[np.float32],
) -> tuple[int, int, float, int]:
    """Train on sentences ``[first_sentence, last_sentence)``.

    Returns ``(raw_tokens, trained_tokens, loss_sum, loss_terms)``; the loss is sampled on one
    position (CBOW: batch) in 16 to keep logarithms out of most of the loop.
    ``sentence_buffer`` must hold the longest sentence; ``hidden`` and ``gradient`` have
    ``dim`` entries; ``targets`` ``n_negatives + 1``, ``scores`` ``(2 * window,
    n_negatives + 1)`` and ``input_gradients`` ``(2 * window, dim)`` are the scratch of the
    shared-negatives skip-gram.
    """
    dim = hidden.shape[0]
    window = params.window
    raw_total = sentence_offsets[last_sentence] - sentence_offsets[first_sentence]
    raw_done = 0
    trained = 0
    loss_sum = 0.0
    loss_terms = 0
    position_counter = 0
    for s in range(first_sentence, last_sentence):
        start = sentence_offsets[s]
        stop = sentence_offsets[s + 1]
        length = _subsample(token_ids, start, stop, keep_probs, state, slot, sentence_buffer)
        progress = raw_done / max(raw_total, 1)
        learning_rate = learning_rate_start + (learning_rate_end - learning_rate_start) * progress
        raw_done += stop - start
        if not skipgram:
            first = 0
            while first < length:
                n_batch = min(params.cbow_batch, length - first)
                position_counter += 1
                track = (position_counter & 15) == 0
                loss = _cbow_batch_step(
                    sentence_buffer,
                    length,
                    first,
                    n_batch,
                    window,
                    input_vectors,
                    output_vectors,
                    bag_offsets,
                    bag_ids,
                    noise_accept,
                    noise_alias,
                    sigmoid_table,
                    state,
                    slot,
                    params.n_negatives,
                    learning_rate,
                    params.cbow_mean,
                    targets,
                    hidden,
                    gradient,
                    track,
                    not params.freeze_output,
                )
                if track:
                    loss_sum += loss / n_batch
                    loss_terms += 1
                first += n_batch
            trained += length
            continue
        for i in range(length):
            center = sentence_buffer[i]
            reduced = next_below(state, slot, window)
            lo = max(0, i - window + reduced)
            hi = min(length, i + window + 1 - reduced)
            position_counter += 1
            track = (position_counter & 15) == 0
            if skipgram and params.shared_negatives:
                loss = _skipgram_window_step(
                    sentence_buffer,
                    i,
                    lo,
                    hi,
                    input_vectors,
                    output_vectors,
                    noise_accept,
                    noise_alias,
                    sigmoid_table,
                    state,
                    slot,
                    params.n_negatives,
                    learning_rate,
                    targets,
                    scores,
                    input_gradients,
                    track,
                    not params.freeze_output,
                )
                if track:
                    loss_sum += loss
                    loss_terms += 1
            else:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    context = sentence_buffer[j]
                    if params.center_as_input:
                        source, target = center, context
                    else:
                        source, target = context, center
                    _bag_mean(source, bag_offsets, bag_ids, input_vectors, hidden, False)
                    for k in range(dim):
                        gradient[k] = 0.0
                    for k in range(params.n_negatives):
                        targets[k] = draw_alias(noise_accept, noise_alias, state, slot)
                    loss = _negative_sampling_step(
                        hidden,
                        target,
                        targets,
                        params.n_negatives,
                        output_vectors,
                        gradient,
                        sigmoid_table,
                        learning_rate,
                        track,
                        not params.freeze_output,
                    )
                    if track:
                        loss_sum += loss
                        loss_terms += 1
                    for k in range(bag_offsets[source], bag_offsets[source + 1]):
                        row = input_vectors[bag_ids[k]]
                        for d in range(dim):
                            row[d] += gradient[d]
        trained += length
    return raw_done, trained, loss_sum, loss_terms
