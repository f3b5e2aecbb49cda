"""Numba kernels of CMOW and the hybrid CBOW-CMOW model (Mai, Galke and Scherp, "CBOW Is Not All
You Need: Combining CBOW with the Compositional Matrix Space Model", ICLR 2019).

Each word has a CBOW vector of ``cbow_dim`` entries and/or an ``m x m`` matrix, stored
row-major as ``m * m`` entries (two separate tables; either may have zero columns). A sequence
of context words ``w_1 .. w_n`` is encoded as the concatenation of the sum of its CBOW vectors
and the ordered product ``Y = X_1 X_2 ... X_n`` of its matrices; a shared output table scores
that concatenation against the word to predict (negative sampling). Optionally (hybrid,
``CMOWParams.cmow_weight``) the CMOW columns of the output rows also score the product alone.

Gradients through the product: with ``P_i = X_1 ... X_{i-1}`` (prefix) and
``S_i = X_{i+1} ... X_n`` (suffix), ``dL/dX_i = P_i^T G S_i^T`` for ``G = dL/dY``. The forward
pass keeps the prefixes; the backward pass builds ``R_i = G S_i^T`` from the right
(``R_n = G``, ``R_{i-1} = R_i X_i^T``), so the whole gradient costs about ``3n`` small matrix
products and no suffix table. All gradients of a window are computed from the old matrices
before any is applied, so a word occurring twice in a window gets its exact gradient.

Kernels take arrays, scalars and one :class:`CMOWParams`; the driver (:mod:`wordvec.cmow`) owns
validation, the learning-rate schedule, threads and progress. They release the GIL, so several
Python threads train the shared tables at once (Hogwild), each with its own random state and
scratch buffers; nothing is allocated inside the loops.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from wordvec.sampling_kernels import draw_alias, next_below, next_uniform

MAX_SCORE = 30.0  # sigmoid saturates in float32 well before; keeps exp() finite


class CMOWParams(NamedTuple):
    """Hyper-parameters the kernels read (a NamedTuple: Numba accepts it as an argument)."""

    window: int  # c: windows span 2c + 1 positions
    n_negatives: int
    negative_weight: float  # weight of each negative's loss (the reference averages them: 1/K)
    matrix_dim: int  # m; 0 without a CMOW part
    cbow_dim: int  # 0 without a CBOW part
    adaptive: bool  # False: SGD; True: row-wise AdaGrad / RMSProp step sizes
    moment_decay: float  # 1: AdaGrad (sum of squared gradients); below 1: RMSProp average
    order_weight: float  # weight of the pairwise order-ranking term (0: off)
    cmow_weight: float = 0.0  # hybrid: weight of the CMOW half's own prediction loss (0: off)


# --- the composition ----------------------------------------------------------------------------
# The m x m products go through BLAS (np.dot on 2-d views of the flat rows, no copies): at m = 28
# it ran 6x faster than hand-written loops, whose inner loops of 28 do not fill the vector units.
# Transposed left operands are cheap for BLAS, transposed right operands were not (about 2x), so
# the backward pass keeps R_i transposed (Q_i = R_i^T = S_i G^T, Q_{i-1} = X_i Q_i).


@numba.njit(cache=True, nogil=True)
def compose_forward(
    matrices: NDArray[np.floating[Any]],
    context: NDArray[np.int32],
    n: int,
    prefixes: NDArray[np.floating[Any]],
) -> None:
    """Prefix products of the matrices of ``context[:n]`` (``n >= 1``): ``prefixes[k]`` is
    ``X_1 ... X_{k+1}`` (flat), so ``prefixes[n - 1]`` is the ordered product."""
    m2 = matrices.shape[1]
    m = round(math.sqrt(m2))
    prefixes[0, :] = matrices[context[0]]
    for k in range(1, n):
        np.dot(
            prefixes[k - 1].reshape((m, m)),
            matrices[context[k]].reshape((m, m)),
            prefixes[k].reshape((m, m)),
        )


@numba.njit(cache=True, nogil=True)
def compose_backward(
    matrices: NDArray[np.floating[Any]],
    context: NDArray[np.int32],
    n: int,
    prefixes: NDArray[np.floating[Any]],
    grad_product: NDArray[np.floating[Any]],
    grads: NDArray[np.floating[Any]],
    q_current: NDArray[np.floating[Any]],
    q_next: NDArray[np.floating[Any]],
) -> None:
    """``grads[k] = dL/dX_{k+1} = P^T G S^T`` (flat) for every context position, given
    ``G = grad_product`` (flat) and the prefixes of :func:`compose_forward` (old matrices)."""
    m2 = matrices.shape[1]
    m = round(math.sqrt(m2))
    q = q_current.reshape((m, m))
    q_new = q_next.reshape((m, m))
    q[:, :] = grad_product.reshape((m, m)).T  # Q_n = G^T
    for k in range(n - 1, 0, -1):
        # grad_k = P_{k-1}^T R_k = P_{k-1}^T Q_k^T
        np.dot(prefixes[k - 1].reshape((m, m)).T, q.T, grads[k].reshape((m, m)))
        np.dot(matrices[context[k]].reshape((m, m)), q, q_new)
        q[:, :] = q_new
    grads[0].reshape((m, m))[:, :] = q.T


def encode_product(
    matrices: NDArray[np.floating[Any]], ids: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The ordered product of ``matrices[ids]`` (flat rows), accumulated in float64; the
    identity for no ids. (The lookup path has the same in :mod:`wordvec.encode`.)"""
    m = round(math.sqrt(matrices.shape[1]))
    product = np.eye(m)
    for w in ids.tolist():
        product = product @ matrices[w].reshape(m, m)
    return product.reshape(-1)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _sigmoid(x: float) -> float:
    if x > MAX_SCORE:
        x = MAX_SCORE
    elif x < -MAX_SCORE:
        x = -MAX_SCORE
    return 1.0 / (1.0 + math.exp(-x))


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _row_step(
    moments: NDArray[np.float32],
    table: int,
    row: int,
    norm2: float,
    size: int,
    learning_rate: float,
    params: CMOWParams,
) -> float:
    """The step size of one row's update: the learning rate (SGD), or divided by the root of
    the row's mean squared gradient, accumulated (AdaGrad) or averaged (RMSProp) in
    ``moments[table, row]`` (row-wise: one number per row, updated when the row is)."""
    if not params.adaptive:
        return learning_rate
    mean2 = norm2 / size
    old = moments[table, row]
    if params.moment_decay >= 1.0:
        new = old + mean2
    elif old == 0.0:
        new = mean2  # the first gradient seen: no bias towards zero
    else:
        new = params.moment_decay * old + (1.0 - params.moment_decay) * mean2
    moments[table, row] = new
    return learning_rate / (math.sqrt(new) + 1e-6)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _step_matrices(
    matrices: NDArray[np.floating[Any]],
    moments: NDArray[np.float32],
    words: NDArray[np.int32],
    grads: NDArray[np.floating[Any]],
    n: int,
    learning_rate: float,
    params: CMOWParams,
) -> None:
    """``matrices[words[k]] += step * grads[k]`` for ``k < n``, each step by :func:`_row_step`."""
    m2 = matrices.shape[1]
    for k in range(n):
        grad = grads[k]
        norm2 = 0.0
        for d in range(m2):
            norm2 += grad[d] * grad[d]
        step = _row_step(moments, 1, words[k], norm2, m2, learning_rate, params)
        mat = matrices[words[k]]
        for d in range(m2):
            mat[d] += step * grad[d]


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _score_targets(
    hidden: NDArray[np.floating[Any]],
    grad_hidden: NDArray[np.floating[Any]],
    output_vectors: NDArray[np.floating[Any]],
    moments: NDArray[np.float32],
    targets: NDArray[np.int64],
    n_targets: int,
    start: int,
    width: int,
    weight: float,
    hidden_norm2: float,
    learning_rate: float,
    params: CMOWParams,
    track_loss: bool,
) -> float:
    """Negative sampling on columns ``[start, width)``: score ``targets[0]`` (label 1) and the
    negatives (label 0, each weighted ``params.negative_weight``) against ``hidden``, all
    weighted ``weight``; add minus the gradient by ``hidden`` to ``grad_hidden`` and update
    those columns of the output rows (step size from the whole encoding's norm). Returns the
    loss before the update (0 unless ``track_loss``)."""
    loss = 0.0
    for t in range(n_targets):
        word = targets[t]
        row = output_vectors[word]
        score = 0.0
        for d in range(start, width):
            score += hidden[d] * row[d]
        p = _sigmoid(score)
        # g: minus the derivative of the loss by the score
        if t == 0:
            if track_loss:
                loss -= weight * math.log(max(p, 1e-30))
            g = weight * (1.0 - p)
        else:
            w = weight * params.negative_weight
            if track_loss:
                loss -= w * math.log(max(1.0 - p, 1e-30))
            g = -p * w
        step = _row_step(moments, 2, word, g * g * hidden_norm2, width, learning_rate, params)
        for d in range(start, width):
            grad_hidden[d] += g * row[d]
            row[d] += step * g * hidden[d]
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True)
def window_step(
    cbow_vectors: NDArray[np.floating[Any]],
    matrices: NDArray[np.floating[Any]],
    output_vectors: NDArray[np.floating[Any]],
    moments: NDArray[np.float32],
    context: NDArray[np.int32],
    n: int,
    targets: NDArray[np.int64],
    n_targets: int,
    params: CMOWParams,
    learning_rate: float,
    hidden: NDArray[np.floating[Any]],
    grad_hidden: NDArray[np.floating[Any]],
    prefixes: NDArray[np.floating[Any]],
    grad_product: NDArray[np.floating[Any]],
    grads: NDArray[np.floating[Any]],
    q_current: NDArray[np.floating[Any]],
    q_next: NDArray[np.floating[Any]],
    track_loss: bool,
) -> float:
    """One step on one window: encode ``context[:n]`` (in order), score ``targets[0]`` (the
    word to predict, label 1) and ``targets[1:n_targets]`` (negatives, label 0, each weighted
    ``params.negative_weight``); with ``params.cmow_weight > 0`` (hybrid) score them again by
    the CMOW columns alone (loss weighted ``cmow_weight``); update the output rows, then every
    context word's vector and matrix (steps by :func:`_row_step`; ``moments`` ``(3, n_words)``:
    CBOW, matrix and output rows' second moments). Returns the window's loss before the update
    (0 unless ``track_loss``)."""
    cb = params.cbow_dim
    m = params.matrix_dim
    m2 = m * m
    width = cb + m2
    for d in range(cb):
        hidden[d] = 0.0
    for k in range(n):
        vec = cbow_vectors[context[k]]
        for d in range(cb):
            hidden[d] += vec[d]
    if m > 0:
        compose_forward(matrices, context, n, prefixes)
        product = prefixes[n - 1]
        for d in range(m2):
            hidden[cb + d] = product[d]
    for d in range(width):
        grad_hidden[d] = 0.0
    hidden_norm2 = 0.0
    for d in range(width):
        hidden_norm2 += hidden[d] * hidden[d]
    loss = _score_targets(
        hidden, grad_hidden, output_vectors, moments, targets, n_targets, 0, width, 1.0,
        hidden_norm2, learning_rate, params, track_loss,
    )  # fmt: skip
    if params.cmow_weight > 0.0 and cb > 0 and m > 0:
        # hybrid: the CMOW half must also predict the word on its own (its columns of the rows)
        loss += _score_targets(
            hidden, grad_hidden, output_vectors, moments, targets, n_targets, cb, width,
            params.cmow_weight, hidden_norm2, learning_rate, params, track_loss,
        )  # fmt: skip
    # grad_hidden: minus the gradient by the encoding; the sum passes it to every CBOW vector.
    if cb > 0:
        norm2 = 0.0
        for d in range(cb):
            norm2 += grad_hidden[d] * grad_hidden[d]
        for k in range(n):
            word = context[k]
            step = _row_step(moments, 0, word, norm2, cb, learning_rate, params)
            vec = cbow_vectors[word]
            for d in range(cb):
                vec[d] += step * grad_hidden[d]
    if m > 0:
        for d in range(m2):
            grad_product[d] = grad_hidden[cb + d]
        compose_backward(matrices, context, n, prefixes, grad_product, grads, q_current, q_next)
        _step_matrices(matrices, moments, context, grads, n, learning_rate, params)
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True)
def order_step(
    matrices: NDArray[np.floating[Any]],
    output_vectors: NDArray[np.floating[Any]],
    moments: NDArray[np.float32],
    context: NDArray[np.int32],
    swapped: NDArray[np.int32],
    n: int,
    k: int,
    target: int,
    params: CMOWParams,
    learning_rate: float,
    prefixes: NDArray[np.floating[Any]],
    prefixes2: NDArray[np.floating[Any]],
    diff: NDArray[np.floating[Any]],
    grad_product: NDArray[np.floating[Any]],
    grads: NDArray[np.floating[Any]],
    grads2: NDArray[np.floating[Any]],
    q_current: NDArray[np.floating[Any]],
    q_next: NDArray[np.floating[Any]],
) -> float:
    """Pairwise order ranking: the context in its order must score ``target`` above the same
    context with positions ``k, k + 1`` swapped. Loss ``-w log sigmoid(o . (Y - Y'))`` with
    ``o`` the CMOW part of the target's output row, ``Y`` and ``Y'`` the two ordered
    products (the CBOW sum is the same for both and cancels). Returns the loss."""
    cb = params.cbow_dim
    m = params.matrix_dim
    m2 = m * m
    for j in range(n):
        swapped[j] = context[j]
    swapped[k] = context[k + 1]
    swapped[k + 1] = context[k]
    compose_forward(matrices, context, n, prefixes)
    compose_forward(matrices, swapped, n, prefixes2)
    row = output_vectors[target]
    delta = 0.0
    for d in range(m2):
        diff[d] = prefixes[n - 1, d] - prefixes2[n - 1, d]
        delta += row[cb + d] * diff[d]
    p = _sigmoid(delta)
    loss = -params.order_weight * math.log(max(p, 1e-30))
    g = params.order_weight * (1.0 - p)
    for d in range(m2):
        grad_product[d] = g * row[cb + d]
    compose_backward(matrices, context, n, prefixes, grad_product, grads, q_current, q_next)
    for d in range(m2):
        grad_product[d] = -g * row[cb + d]
    compose_backward(matrices, swapped, n, prefixes2, grad_product, grads2, q_current, q_next)
    norm2 = 0.0
    for d in range(m2):
        norm2 += diff[d] * diff[d]
    step = _row_step(moments, 2, target, g * g * norm2, cb + m2, learning_rate, params)
    for d in range(m2):
        row[cb + d] += step * g * diff[d]
    _step_matrices(matrices, moments, context, grads, n, learning_rate, params)
    _step_matrices(matrices, moments, swapped, grads2, n, learning_rate, params)
    return loss


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def train_job(
    token_ids: NDArray[np.int32],
    sentence_offsets: NDArray[np.int64],
    first_sentence: int,
    last_sentence: int,
    cbow_vectors: NDArray[np.float32],
    matrices: NDArray[np.float32],
    output_vectors: NDArray[np.float32],
    moments: NDArray[np.float32],
    keep_probs: NDArray[np.float32],
    noise_accept: NDArray[np.float64],
    noise_alias: NDArray[np.int32],
    state: NDArray[np.uint64],
    slot: int,
    learning_rate_start: float,
    learning_rate_end: float,
    params: CMOWParams,
    context: NDArray[np.int32],
    targets: NDArray[np.int64],
    hidden: NDArray[np.float32],
    grad_hidden: NDArray[np.float32],
    prefixes: NDArray[np.float32],
    grad_product: NDArray[np.float32],
    grads: NDArray[np.float32],
    q_current: NDArray[np.float32],
    q_next: NDArray[np.float32],
    swapped: NDArray[np.int32],
    prefixes2: NDArray[np.float32],
    diff: NDArray[np.float32],
    grads2: NDArray[np.float32],
) -> tuple[int, int, float, int]:
    """Train on sentences ``[first_sentence, last_sentence)``.

    Every position ``i`` of a sentence centres a window ``[i - c, i + c]`` (cut at the sentence
    ends, as the reference pads with the neutral element); the word to predict is drawn
    uniformly among the window's positions and the other words, in order, are the context.
    With ``keep_probs`` below 1 a window is skipped with the subsampling probability of its
    target (the context is never subsampled: its order is what CMOW learns). With
    ``params.order_weight > 0`` each window with a matrix part then takes an
    :func:`order_step` for one random adjacent pair of its context (random draws happen only
    then, so runs without the term are unchanged).

    Returns ``(raw_tokens, windows, loss_sum, loss_terms)``; the loss (of the main objective,
    with the CMOW-half loss if on; not the order term) is sampled on one window in 16.
    Scratch: ``context`` and ``swapped`` ``2c``, ``targets``
    ``n_negatives + 1``, ``hidden`` and ``grad_hidden`` ``cbow_dim + m * m``, ``prefixes``,
    ``prefixes2``, ``grads`` and ``grads2`` ``(2c, m * m)``, ``grad_product``, ``q_current``,
    ``q_next`` and ``diff`` ``m * m``.
    """
    window = params.window
    raw_total = sentence_offsets[last_sentence] - sentence_offsets[first_sentence]
    raw_done = 0
    trained = 0
    loss_sum = 0.0
    loss_terms = 0
    counter = 0
    for s in range(first_sentence, last_sentence):
        start = sentence_offsets[s]
        stop = sentence_offsets[s + 1]
        length = stop - start
        progress = raw_done / max(raw_total, 1)
        learning_rate = learning_rate_start + (learning_rate_end - learning_rate_start) * progress
        raw_done += length
        if length < 2:
            continue
        for i in range(length):
            lo = max(0, i - window)
            hi = min(length, i + window + 1)
            target_pos = lo + next_below(state, slot, hi - lo)
            target = token_ids[start + target_pos]
            if keep_probs[target] < 1.0 and next_uniform(state, slot) >= keep_probs[target]:
                continue
            n = 0
            for j in range(lo, hi):
                if j != target_pos:
                    context[n] = token_ids[start + j]
                    n += 1
            targets[0] = target
            n_targets = 1
            for _ in range(params.n_negatives):
                word = draw_alias(noise_accept, noise_alias, state, slot)
                if word != target:
                    targets[n_targets] = word
                    n_targets += 1
            counter += 1
            track = (counter & 15) == 0
            loss = window_step(
                cbow_vectors,
                matrices,
                output_vectors,
                moments,
                context,
                n,
                targets,
                n_targets,
                params,
                learning_rate,
                hidden,
                grad_hidden,
                prefixes,
                grad_product,
                grads,
                q_current,
                q_next,
                track,
            )
            if params.order_weight > 0.0 and params.matrix_dim > 0 and n >= 2:
                k = int(next_below(state, slot, n - 1))
                if context[k] != context[k + 1]:
                    order_step(
                        matrices,
                        output_vectors,
                        moments,
                        context,
                        swapped,
                        n,
                        k,
                        int(target),
                        params,
                        learning_rate,
                        prefixes,
                        prefixes2,
                        diff,
                        grad_product,
                        grads,
                        grads2,
                        q_current,
                        q_next,
                    )
            trained += 1
            if track:
                loss_sum += loss
                loss_terms += 1
    return raw_done, trained, loss_sum, loss_terms
