"""Training CMOW and hybrid CBOW-CMOW sentence encoders: configuration, epochs, threads, progress.

Mai, Galke and Scherp, "CBOW Is Not All You Need: Combining CBOW with the Compositional Matrix
Space Model" (ICLR 2019). CMOW gives each word a ``sqrt(d) x sqrt(d)`` matrix and encodes a text
by the ordered product of its words' matrices, so "dog bites man" and "man bites dog" differ;
the hybrid concatenates a CBOW encoder (sum of word vectors) and a CMOW encoder, trained jointly
with one output table that scores the concatenation.

Training objective (the reference's): every position of a sentence centres a window of
``2c + 1`` positions; one of them, drawn at random, is the word to predict from the other ``2c``
words in order, with negative sampling from the unigram distribution to the power 0.75 (the
negatives' losses are averaged, as in the reference). Matrices start at the identity plus
N(0, 0.1^2) noise: products of many plain random matrices vanish or explode.

Optimizer: the reference trains with Adam (learning rate 3e-4, batches of 1024) on a GPU. Here
training is Hogwild, one window at a time, every thread updating the shared tables, with
word2vec's linear learning-rate decay and, by default, row-wise RMSProp step sizes: each row of
each table keeps one number, the running mean of its squared gradient (decay 0.999, updated
only when the row is: lazy, as sparse Adam), and steps by ``lr / sqrt(that)``. Adam's
normalisation without its momentum, at 4 bytes per row instead of two copies of the tables.
Measured on 1.1M tokens of man pages (one epoch, held-out window loss of the training
objective): plain SGD reached 1.145 at learning rate 0.02 but diverged at 0.03 (a large step
on one matrix is amplified by the product of ten), RMSProp 1.156 at 1e-3 and 1.175 at 3e-4,
row-wise AdaGrad 1.253; RMSProp is the default as its steps stay bounded whatever the
gradient scale. ``optimizer="sgd"`` and ``"adagrad"`` remain available.

The kernels are in :mod:`wordvec.cmow_kernels`; vocabulary and corpus encoding are the same as
for skip-gram and CBOW (:mod:`wordvec.vocab`, :mod:`wordvec.corpus`). The trained embeddings
hold, per word, the CBOW vector followed by the flattened matrix; their metadata says how to
split them (``metadata["sentence_encoder"]``), which :func:`wordvec.encode.encode` reads.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.corpus import encode_corpus
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, TrainingDivergedError
from wordvec.progress import Progress
from wordvec.textio import PathLike
from wordvec.training import run_epoch_threads, sentence_jobs
from wordvec.vocab import (
    Vocab,
    build_alias_table,
    build_vocab,
    keep_probabilities,
    noise_distribution,
)

CONFIG_VERSION = 1
JOB_TOKENS = 10_000
DEFAULT_DIM = {"cmow": 784, "cbow": 784, "hybrid": 400}


@dataclass(frozen=True)
class CMOWConfig:
    """CMOW / hybrid / (reference-style) CBOW hyper-parameters, saved with the vectors as JSON.

    ``dim`` is the size of each encoder: a square (``28 * 28 = 784`` for CMOW, the reference's
    default); the hybrid has a CBOW and a CMOW half of ``dim`` each (reference: 400 + 400, so
    800 in all). ``model="cbow"`` is the reference's CBOW (sum of the context vectors, random
    target position), the baseline CMOW is compared with. ``sample`` subsamples the windows
    by their target word (the context keeps every word, in order); 0 (the reference) keeps all.

    ``order_weight`` adds a word-order ranking term to each window of a CMOW or hybrid model
    (not in the reference; 0, the default, trains the reference's objective alone): with one
    random adjacent pair of the context swapped, the model must score the window's word higher
    for the context in its own order, loss ``-order_weight * log sigmoid(o . (Y - Y'))`` with
    ``o`` the CMOW columns of the word's output row and ``Y``, ``Y'`` the two ordered products
    (the CBOW sum is the same for both and cancels). It costs one more forward and backward
    pass through the product per window. See the README ("CMOW") for what it changes.

    ``cmow_loss_weight`` (hybrid only; not in the reference; 0, the default, off) adds the CMOW
    half's own prediction loss to the joint one: the window's word and its negatives are also
    scored by the CMOW columns of their output rows against the ordered product alone, with
    this weight. In the joint loss alone the CBOW half predicts the word and the CMOW half
    learns little; with this term it learns as much order as a CMOW model of its size.
    """

    model: Literal["cmow", "hybrid", "cbow"] = "cmow"
    dim: int | None = None
    window: int = 5
    n_negatives: int = 20
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 0.0
    epochs: int = 5
    learning_rate: float | None = None
    min_learning_rate_ratio: float = 1e-4
    optimizer: Literal["sgd", "adagrad", "rmsprop"] = "rmsprop"
    moment_decay: float = 0.999
    noise_power: float = 0.75
    init_noise: float = 0.1
    order_weight: float = 0.0
    cmow_loss_weight: float = 0.0
    threads: int = 0
    seed: int = 1
    lowercase: bool = False
    max_sentence_length: int = 10_000

    def __post_init__(self) -> None:
        checks = [
            (
                self.model in ("cmow", "hybrid", "cbow"),
                f"model must be cmow, hybrid or cbow (got {self.model!r})",
            ),
            (self.dim is None or self.dim >= 1, f"dim must be at least 1 (got {self.dim})"),
            (self.window >= 1, f"window must be at least 1 (got {self.window})"),
            (self.n_negatives >= 1, f"n_negatives must be at least 1 (got {self.n_negatives})"),
            (self.min_count >= 1, f"min_count must be at least 1 (got {self.min_count})"),
            (self.sample >= 0, f"sample must be >= 0 (got {self.sample})"),
            (self.epochs >= 1, f"epochs must be at least 1 (got {self.epochs})"),
            (
                self.learning_rate is None or self.learning_rate > 0,
                f"learning_rate must be positive (got {self.learning_rate})",
            ),
            (
                self.optimizer in ("sgd", "adagrad", "rmsprop"),
                f"optimizer must be sgd, adagrad or rmsprop (got {self.optimizer!r})",
            ),
            (
                0 < self.moment_decay < 1,
                f"moment_decay must be in (0, 1) (got {self.moment_decay})",
            ),
            (self.noise_power >= 0, f"noise_power must be >= 0 (got {self.noise_power})"),
            (self.init_noise >= 0, f"init_noise must be >= 0 (got {self.init_noise})"),
            (
                self.order_weight >= 0 and math.isfinite(self.order_weight),
                f"order_weight must be >= 0 (got {self.order_weight})",
            ),
            (
                self.cmow_loss_weight >= 0 and math.isfinite(self.cmow_loss_weight),
                f"cmow_loss_weight must be >= 0 (got {self.cmow_loss_weight})",
            ),
            (
                self.cmow_loss_weight == 0 or self.model == "hybrid",
                f"cmow_loss_weight applies to the hybrid model only (got model {self.model!r})",
            ),
            (self.threads >= 0, f"threads must be >= 0 (0: all cores) (got {self.threads})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.model != "cbow" and math.isqrt(self.encoder_dim) ** 2 != self.encoder_dim:
            root = math.isqrt(self.encoder_dim)
            raise ConfigError(
                f"CMOW matrices are square: dim must be a square number such as "
                f"{root * root} or {(root + 1) ** 2} (got {self.encoder_dim})"
            )

    @property
    def encoder_dim(self) -> int:
        """Size of each encoder (the ``dim`` given or the model's default)."""
        return self.dim if self.dim is not None else DEFAULT_DIM[self.model]

    @property
    def cbow_dim(self) -> int:
        return 0 if self.model == "cmow" else self.encoder_dim

    @property
    def matrix_dim(self) -> int:
        return 0 if self.model == "cbow" else math.isqrt(self.encoder_dim)

    @property
    def output_dim(self) -> int:
        """Size of the sentence encoding and of each stored row."""
        return self.cbow_dim + self.matrix_dim**2

    @property
    def initial_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-3 if self.optimizer == "rmsprop" else 0.01

    @property
    def n_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def to_json(self) -> dict[str, Any]:
        return {"config_version": CONFIG_VERSION, **dataclasses.asdict(self)}


@dataclass
class CMOWState:
    """The three tables: CBOW vectors ``(n, cbow_dim)``, flattened matrices ``(n, m * m)``
    and output vectors ``(n, cbow_dim + m * m)``, all float32 (either input table may have
    zero columns); ``moments`` ``(3, n)``: each row's mean squared gradient (AdaGrad,
    RMSProp)."""

    cbow_vectors: NDArray[np.float32]
    matrices: NDArray[np.float32]
    output_vectors: NDArray[np.float32]
    moments: NDArray[np.float32]


def initial_state(n_words: int, config: CMOWConfig) -> CMOWState:
    """The reference's initialisation: CBOW vectors N(0, 0.1^2), matrices identity + N(0,
    0.1^2) (``init_noise`` is the 0.1); output vectors start at zero as in word2vec."""
    rng = np.random.default_rng(config.seed)
    sigma = config.init_noise
    cbow = (rng.standard_normal((n_words, config.cbow_dim), dtype=np.float32) * sigma).astype(
        np.float32
    )
    m = config.matrix_dim
    matrices = rng.standard_normal((n_words, m * m), dtype=np.float32) * np.float32(sigma)
    if m:
        matrices += np.eye(m, dtype=np.float32).reshape(-1)
    output = np.zeros((n_words, config.output_dim), dtype=np.float32)
    moments = np.zeros((3, n_words), dtype=np.float32)
    return CMOWState(cbow, matrices.astype(np.float32), output, moments)


def train_cmow(
    corpus_paths: PathLike | Sequence[PathLike],
    config: CMOWConfig | None = None,
    *,
    vocab: Vocab | None = None,
    progress: bool | None = False,
    workdir: str | None = None,
) -> Embeddings:
    """Train a CMOW, hybrid or reference-style CBOW encoder on text files (one sentence per
    line: windows never cross a line end); returns the embeddings, whose metadata describes
    the encoder (see :func:`wordvec.encode.encode`).

    ``vocab``: use this vocabulary instead of counting one (it needs counts).
    Raises :class:`ConfigError` for an empty vocabulary and :class:`TrainingDivergedError` if
    the tables become non-finite.
    """
    config = config or CMOWConfig()
    paths = [corpus_paths] if isinstance(corpus_paths, (str, os.PathLike)) else list(corpus_paths)
    if vocab is None:
        vocab = build_vocab(
            paths,
            min_count=config.min_count,
            max_size=config.max_vocab_size,
            lowercase=config.lowercase,
            progress=progress,
        )
    if len(vocab) == 0:
        raise ConfigError(
            f"no word occurs at least min_count={config.min_count} times in the corpus"
        )
    counts = vocab.require_counts()
    state = initial_state(len(vocab), config)
    noise = build_alias_table(noise_distribution(counts, config.noise_power))
    keep = keep_probabilities(counts, config.sample)
    with encode_corpus(
        paths,
        vocab,
        lowercase=config.lowercase,
        max_sentence_length=config.max_sentence_length,
        workdir=workdir,
        progress=progress,
    ) as corpus:
        _train_epochs(
            corpus.token_ids, corpus.sentence_offsets, state, keep, noise, config, progress
        )
    return finish(state, vocab, config)


def _train_epochs(
    token_ids: NDArray[np.int32],
    sentence_offsets: NDArray[np.int64],
    state: CMOWState,
    keep: NDArray[np.float32],
    noise: Any,
    config: CMOWConfig,
    progress: bool | None,
) -> None:
    from wordvec.cmow_kernels import CMOWParams, train_job
    from wordvec.sampling_kernels import seed_states

    params = CMOWParams(
        config.window,
        config.n_negatives,
        1.0 / config.n_negatives,
        config.matrix_dim,
        config.cbow_dim,
        config.optimizer != "sgd",
        1.0 if config.optimizer == "adagrad" else config.moment_decay,
        config.order_weight,
        config.cmow_loss_weight,
    )
    n_threads = config.n_threads
    width = config.output_dim
    m2 = config.matrix_dim**2
    span = 2 * config.window
    scratch = [
        (
            np.empty(span, dtype=np.int32),  # context
            np.empty(config.n_negatives + 1, dtype=np.int64),  # targets
            np.empty(width, dtype=np.float32),  # hidden
            np.empty(width, dtype=np.float32),  # grad_hidden
            np.empty((span, m2), dtype=np.float32),  # prefixes
            np.empty(m2, dtype=np.float32),  # grad_product
            np.empty((span, m2), dtype=np.float32),  # grads
            np.empty(m2, dtype=np.float32),  # q_current
            np.empty(m2, dtype=np.float32),  # q_next
            np.empty(span, dtype=np.int32),  # swapped
            np.empty((span, m2), dtype=np.float32),  # prefixes2
            np.empty(m2, dtype=np.float32),  # diff
            np.empty((span, m2), dtype=np.float32),  # grads2
        )
        for _ in range(n_threads)
    ]
    n_tokens = int(token_ids.shape[0])
    jobs = sentence_jobs(sentence_offsets, JOB_TOKENS)
    total = n_tokens * config.epochs
    lr0 = config.initial_learning_rate
    lr_min = lr0 * config.min_learning_rate_ratio
    with Progress("training", total=total, unit="words", enabled=progress) as bar:
        for epoch in range(config.epochs):
            # Seeded per epoch and thread: one thread and a seed give identical runs.
            states = [
                s.reshape(1).copy() for s in seed_states(config.seed * 7919 + epoch, n_threads)
            ]

            def run_job(
                first: int,
                last: int,
                slot: int,
                lr_start: float,
                lr_end: float,
                states: list[NDArray[np.uint64]] = states,
            ) -> tuple[int, float, int]:
                raw, _, loss, terms = train_job(
                    token_ids,
                    sentence_offsets,
                    first,
                    last,
                    state.cbow_vectors,
                    state.matrices,
                    state.output_vectors,
                    state.moments,
                    keep,
                    noise.accept,
                    noise.alias,
                    states[slot],
                    0,
                    lr_start,
                    lr_end,
                    params,
                    *scratch[slot],
                )
                return int(raw), float(loss), int(terms)

            loss = run_epoch_threads(
                jobs,
                sentence_offsets,
                n_threads,
                run_job,
                lr0=lr0,
                lr_min=lr_min,
                done_before=n_tokens * epoch,
                total=total,
                bar=bar,
            )
            finite = (
                np.isfinite(loss)
                and np.isfinite(state.matrices).all()
                and np.isfinite(state.cbow_vectors).all()
            )
            if not finite:
                raise TrainingDivergedError(
                    f"training diverged in epoch {epoch + 1} (loss {loss}); lower the learning rate"
                )


def encoder_metadata(config: CMOWConfig) -> dict[str, Any]:
    """How a stored row splits: ``cbow_dim`` columns of CBOW vector (sentences: the sum),
    then an ``m x m`` matrix, row-major (sentences: the ordered product)."""
    m = config.matrix_dim
    return {
        "model": config.model,
        "cbow_dim": config.cbow_dim,
        "cbow_pooling": "sum",
        "matrix_shape": [m, m],
    }


def finish(state: CMOWState, vocab: Vocab, config: CMOWConfig) -> Embeddings:
    """The embeddings: per word, its CBOW vector then its flattened matrix."""
    vectors = np.concatenate([state.cbow_vectors, state.matrices], axis=1)
    metadata = {
        "trainer": "cmow",
        "config": config.to_json(),
        "epochs_done": config.epochs,
        "sentence_encoder": encoder_metadata(config),
    }
    return Embeddings(vocab, vectors, None, metadata)
