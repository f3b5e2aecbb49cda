"""Probing tasks for sentence encoders built from word vectors, generated from any corpus.

Conneau, Kruszewski, Lample, Barrault and Baroni, 2018, "What you can cram into a single
$&!#* vector: Probing sentence embeddings for linguistic properties" (ACL). A probing task asks
a small classifier to read one property off a sentence vector; two of theirs are generated here
from a plain text corpus (one sentence per line, tokens split on whitespace):

- **bigram shift** (word order): in half of the sentences two adjacent (different) words are
  swapped; predict whether the sentence was changed. An order-blind encoder such as the mean
  of word vectors stays at the 50% baseline by construction; an order-aware one (CMOW, Mai et
  al., 2019) should not.
- **word content**: a fixed set of target words of middle corpus frequency (the paper uses
  ranks 2,000-3,000 of its corpus; here ``n_targets`` words after the ``skip_top`` most frequent
  ones); keep the sentences that contain exactly one distinct target word and predict which.

The classifier is multinomial logistic regression with an L2 penalty on the weights, fitted
with L-BFGS (``scipy.optimize``) on standardized features; the split into training and test
sentences is random with a seed. The result reports test accuracy and the majority-class
baseline (the most frequent training label, scored on the test set).

A sentence encoder is any function from the ``(n_tokens, dim)`` float32 matrix of a sentence's
word vectors to one vector (:func:`mean_encoder` by default); tokens unknown to the vectors are
left out (or given the source's fallback vector with ``oov="fallback"``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError, FormatError
from wordvec.eval.errors import EvaluationError
from wordvec.eval.vectors import VectorsLike, as_eval_vectors

SentenceEncoder = Callable[[NDArray[np.float32]], NDArray[np.floating[Any]]]
PROBING_TASKS = ("bigram_shift", "word_content")


@dataclass(frozen=True)
class ProbingDataset:
    """Sentences (token tuples) with integer labels ``0..len(label_names)-1``."""

    task: str
    sentences: tuple[tuple[str, ...], ...]
    labels: NDArray[np.int64] = field(repr=False, compare=False)
    label_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sentences)


@dataclass(frozen=True)
class ProbingResult:
    """Test accuracy of the probe and the majority-class baseline on the same test set."""

    task: str
    accuracy: float
    majority_baseline: float
    n_train: int
    n_test: int
    n_classes: int
    token_coverage: float
    l2: float = 1e-3

    @property
    def score(self) -> float:
        return self.accuracy

    @property
    def coverage(self) -> float:
        """Fraction of the sentences' tokens that have a vector."""
        return self.token_coverage

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "probing",
            "dataset": self.task,
            "score": self.score,
            "accuracy": self.accuracy,
            "majority_baseline": self.majority_baseline,
            "coverage": self.coverage,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_classes": self.n_classes,
            "l2": self.l2,
        }


def mean_encoder(word_vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """The mean of a sentence's word vectors (zeros for a sentence without known words)."""
    if word_vectors.shape[0] == 0:
        return np.zeros(word_vectors.shape[1], dtype=np.float32)
    return word_vectors.mean(axis=0, dtype=np.float32)


def read_sentences(
    path: str | os.PathLike[str],
    *,
    min_length: int = 5,
    max_length: int = 28,
    max_sentences: int | None = 20_000,
) -> list[tuple[str, ...]]:
    """The first ``max_sentences`` lines of ``path`` with ``min_length`` to ``max_length``
    tokens (the paper's sentences have 5 to 28), as token tuples; tokens are split on ASCII
    whitespace. Plain, gzip, bzip2 or xz text.
    Raises :class:`FormatError` for a missing file or bytes that are not UTF-8."""
    from wordvec.textio import open_binary

    if min_length < 2 or max_length < min_length:
        raise ConfigError(f"need 2 <= min_length <= max_length (got {min_length} and {max_length})")
    if not os.path.exists(path):
        raise FormatError(path, "no such file")
    sentences: list[tuple[str, ...]] = []
    with open_binary(path) as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(
                    path, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", line=number
                ) from exc
            # ASCII whitespace, as the corpus reader and word2vec split tokens
            tokens = [token.decode("utf-8") for token in raw.split()]
            if min_length <= len(tokens) <= max_length:
                sentences.append(tuple(tokens))
                if max_sentences is not None and len(sentences) >= max_sentences:
                    break
    return sentences


def make_bigram_shift(sentences: Sequence[Sequence[str]], *, seed: int = 0) -> ProbingDataset:
    """Bigram shift: each sentence with two different adjacent words is, with probability 1/2,
    changed by swapping one such pair chosen at random (label 1 "inverted", else 0
    "original"). Sentences whose adjacent words are all equal are left out."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, ...]] = []
    labels: list[int] = []
    for sentence in sentences:
        tokens = list(sentence)
        swappable = [i for i in range(len(tokens) - 1) if tokens[i] != tokens[i + 1]]
        if not swappable:
            continue
        label = int(rng.integers(2))
        if label:
            i = swappable[int(rng.integers(len(swappable)))]
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        out.append(tuple(tokens))
        labels.append(label)
    return ProbingDataset(
        "bigram_shift", tuple(out), np.array(labels, dtype=np.int64), ("original", "inverted")
    )


def make_word_content(
    sentences: Sequence[Sequence[str]],
    *,
    n_targets: int = 100,
    skip_top: int | None = None,
    max_per_target: int | None = None,
) -> ProbingDataset:
    """Word content: the target words are the ``n_targets`` most frequent words of the
    sentences after the ``skip_top`` most frequent ones (default ``n_targets``: function words
    are skipped); a sentence containing exactly one distinct target word is kept with that
    word as its label, at most ``max_per_target`` sentences per word (in order). Raises
    :class:`ConfigError` if the sentences have fewer than ``skip_top + n_targets`` words."""
    if n_targets < 2:
        raise ConfigError(f"n_targets must be at least 2 (got {n_targets})")
    skip = n_targets if skip_top is None else skip_top
    counts = Counter(w for sentence in sentences for w in set(sentence))
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    if len(ranked) < skip + n_targets:
        raise ConfigError(
            f"word content needs {skip + n_targets} distinct words to skip {skip} and take "
            f"{n_targets} targets; the sentences have {len(ranked)}"
        )
    targets = ranked[skip : skip + n_targets]
    label_of = {w: i for i, w in enumerate(targets)}
    per_target = Counter[int]()
    out: list[tuple[str, ...]] = []
    labels: list[int] = []
    for sentence in sentences:
        present = {label_of[w] for w in sentence if w in label_of}
        if len(present) != 1:
            continue
        label = present.pop()
        if max_per_target is not None and per_target[label] >= max_per_target:
            continue
        per_target[label] += 1
        out.append(tuple(sentence))
        labels.append(label)
    return ProbingDataset(
        "word_content", tuple(out), np.array(labels, dtype=np.int64), tuple(targets)
    )


def encode_sentences(
    vectors: VectorsLike,
    sentences: Sequence[Sequence[str]],
    *,
    encoder: SentenceEncoder = mean_encoder,
    oov: Literal["drop", "fallback"] = "drop",
) -> tuple[NDArray[np.float32], float]:
    """Sentence vectors ``(len(sentences), encoder output dim)`` float32 and the fraction of
    tokens that had a vector. Words are looked up by exact spelling in the whole vocabulary;
    unknown ones are left out, or with ``oov="fallback"`` get the source's own fallback
    vector (see :meth:`EvalVectors.fallback_vectors`) and count as covered."""
    view = as_eval_vectors(vectors)
    words = list(dict.fromkeys(w for s in sentences for w in s))
    rows = view.exact_ids(words)
    table = np.zeros((len(words), view.dim), dtype=np.float32)
    known = rows >= 0
    table[known] = view.rows(rows[known])
    if oov == "fallback":
        missing = np.flatnonzero(~known)
        if missing.size:
            table[missing] = view.fallback_vectors([words[i] for i in missing.tolist()])
        known[:] = True
    slot = {w: i for i, w in enumerate(words)}
    encoded: list[NDArray[np.floating[Any]]] = []
    n_tokens = n_known = 0
    for sentence in sentences:
        ids = np.array([slot[w] for w in sentence], dtype=np.int64)
        keep = ids[known[ids]]
        n_tokens += ids.shape[0]
        n_known += keep.shape[0]
        encoded.append(np.asarray(encoder(table[keep]), dtype=np.float32).reshape(-1))
    if not encoded:
        return np.zeros((0, view.dim), dtype=np.float32), 0.0
    return np.stack(encoded), n_known / max(1, n_tokens)


def evaluate_probing(
    vectors: VectorsLike,
    dataset: ProbingDataset,
    *,
    encoder: SentenceEncoder = mean_encoder,
    oov: Literal["drop", "fallback"] = "drop",
    test_fraction: float = 0.2,
    seed: int = 0,
    l2: float | Sequence[float] = 1e-3,
    validation_fraction: float = 0.1,
    max_iter: int = 500,
) -> ProbingResult:
    """Train the probe on a random ``1 - test_fraction`` of ``dataset`` (split by ``seed``)
    and report its accuracy on the rest, with the majority baseline.

    ``l2``: the penalty, or several to choose from as SentEval does: each is fitted on the
    training sentences minus a random ``validation_fraction`` of all sentences, the one with
    the best accuracy on those (ties: the larger penalty) is refitted on all training
    sentences; the result names it (``l2``).

    Raises :class:`ConfigError` for a bad ``test_fraction``, ``validation_fraction`` or
    ``l2`` and :class:`EvaluationError` if the split leaves no training or test sentence or
    only one class to learn.
    """
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be in (0, 1) (got {test_fraction})")
    penalties = [float(l2)] if isinstance(l2, (int, float)) else [float(x) for x in l2]
    if not penalties or min(penalties) < 0:
        raise ConfigError(f"l2 must be one or more non-negative numbers (got {l2})")
    if len(penalties) > 1 and not 0 < validation_fraction < 1 - test_fraction:
        raise ConfigError(
            f"validation_fraction must be in (0, 1 - test_fraction) (got {validation_fraction})"
        )
    features, token_coverage = encode_sentences(
        vectors, dataset.sentences, encoder=encoder, oov=oov
    )
    labels = dataset.labels
    order = np.random.default_rng(seed).permutation(len(dataset))
    n_test = round(len(dataset) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    if n_test == 0 or train.size == 0:
        raise EvaluationError(
            f"{dataset.task}: {len(dataset)} sentences are too few to split into training "
            f"and test sets"
        )
    n_classes = len(dataset.label_names)
    if np.unique(labels[train]).shape[0] < 2:
        raise EvaluationError(f"{dataset.task}: the training sentences have a single label")
    chosen = penalties[0]
    if len(penalties) > 1:
        n_validation = round(len(dataset) * validation_fraction)
        held, fit = train[:n_validation], train[n_validation:]
        if n_validation == 0 or np.unique(labels[fit]).shape[0] < 2:
            raise EvaluationError(
                f"{dataset.task}: {len(dataset)} sentences are too few to choose l2 on a "
                f"validation split"
            )
        best = -1.0
        for penalty in sorted(penalties, reverse=True):
            candidate = fit_logistic_regression(
                features[fit], labels[fit], n_classes=n_classes, l2=penalty, max_iter=max_iter
            )
            accuracy = float(np.mean(candidate.predict(features[held]) == labels[held]))
            if accuracy > best:
                best, chosen = accuracy, penalty
    classifier = fit_logistic_regression(
        features[train], labels[train], n_classes=n_classes, l2=chosen, max_iter=max_iter
    )
    predicted = classifier.predict(features[test])
    majority = int(np.bincount(labels[train], minlength=n_classes).argmax())
    return ProbingResult(
        task=dataset.task,
        accuracy=float(np.mean(predicted == labels[test])),
        majority_baseline=float(np.mean(labels[test] == majority)),
        n_train=int(train.size),
        n_test=int(n_test),
        n_classes=n_classes,
        token_coverage=token_coverage,
        l2=chosen,
    )


def evaluate_probing_corpus(
    vectors: VectorsLike,
    corpus: str | os.PathLike[str],
    *,
    tasks: Sequence[str] = PROBING_TASKS,
    encoder: SentenceEncoder = mean_encoder,
    max_sentences: int | None = 20_000,
    n_targets: int = 100,
    seed: int = 0,
) -> tuple[ProbingResult, ...]:
    """Generate ``tasks`` from the sentences of ``corpus`` and probe ``encoder`` on each."""
    unknown = [t for t in tasks if t not in PROBING_TASKS]
    if unknown:
        raise ConfigError(f"tasks must be among {', '.join(PROBING_TASKS)} (got {unknown})")
    sentences = read_sentences(corpus, max_sentences=max_sentences)
    view = as_eval_vectors(vectors)
    results = []
    for task in tasks:
        if task == "bigram_shift":
            data = make_bigram_shift(sentences, seed=seed)
        else:
            data = make_word_content(sentences, n_targets=n_targets)
        results.append(evaluate_probing(view, data, encoder=encoder, seed=seed))
    return tuple(results)


@dataclass(frozen=True)
class LogisticRegression:
    """A fitted multinomial logistic regression: ``softmax(((x - mean) / scale) @ weights +
    bias)``; ``weights`` (dim, n_classes), float64."""

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]

    def decision(self, features: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Class scores (logits), (n, n_classes)."""
        standardized = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        return standardized @ self.weights + self.bias

    def predict(self, features: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
        return self.decision(features).argmax(axis=1).astype(np.int64)


def fit_logistic_regression(
    features: NDArray[np.floating[Any]],
    labels: NDArray[np.int64],
    *,
    n_classes: int,
    l2: float = 1e-3,
    max_iter: int = 500,
) -> LogisticRegression:
    """Minimize mean cross-entropy + ``l2 / 2 * ||weights||^2`` (bias not penalized) with
    L-BFGS, on features standardized by their training mean and deviation. ``features`` (n,
    dim), ``labels`` (n,) in ``0..n_classes-1``."""
    from scipy.optimize import minimize

    x = np.asarray(features, dtype=np.float64)
    n, dim = x.shape
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0  # a constant feature carries nothing; keep it finite
    x = (x - mean) / scale
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), labels] = 1.0

    def loss_and_gradient(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        weights = theta[: dim * n_classes].reshape(dim, n_classes)
        bias = theta[dim * n_classes :]
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        log_prob = logits - log_norm
        loss = -np.sum(onehot * log_prob) / n + 0.5 * l2 * np.sum(weights * weights)
        residual = (np.exp(log_prob) - onehot) / n
        grad_w = x.T @ residual + l2 * weights
        grad_b = residual.sum(axis=0)
        return float(loss), np.concatenate([grad_w.ravel(), grad_b])

    theta0 = np.zeros(dim * n_classes + n_classes)
    solution = minimize(
        loss_and_gradient, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter}
    )
    theta = solution.x
    return LogisticRegression(
        mean, scale, theta[: dim * n_classes].reshape(dim, n_classes), theta[dim * n_classes :]
    )
