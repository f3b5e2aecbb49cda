"""Training skip-gram and CBOW embeddings: configuration, the epoch loop, threads, progress.

The kernels are in :mod:`wordvec.word2vec_kernels`; this driver validates the configuration,
builds the vocabulary and the encoded corpus, schedules jobs (contiguous sentence ranges) on
Python threads that run the GIL-free kernels on shared matrices, decays the learning rate
linearly with the tokens processed, reports words/s, ETA and loss, stops on divergence, and
checkpoints between epochs so an interrupted run resumes where it stopped.

References: Mikolov et al., "Distributed Representations of Words and Phrases and their
Compositionality" (NeurIPS 2013); Bojanowski et al., "Enriching Word Vectors with Subword
Information" (TACL 2017).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.corpus import EncodedCorpus, build_and_encode, encode_corpus
from wordvec.embeddings import Embeddings, SubwordTable
from wordvec.errors import ConfigError, TrainingDivergedError
from wordvec.hash_embeddings import (
    HashParams,
    HashTable,
    bag_vectors,
    center_table,
    hash_bags,
)
from wordvec.progress import Progress
from wordvec.textio import PathLike
from wordvec.training import RunJob, run_epoch_threads, sentence_jobs
from wordvec.vocab import (
    Vocab,
    build_alias_table,
    keep_probabilities,
    noise_distribution,
)

JOB_TOKENS = 20_000
CONFIG_VERSION = 1
# Settings added after checkpoints were first written, as those older checkpoints ran.
_LEGACY_DEFAULTS: dict[str, Any] = {"shuffle": False}


@dataclass(frozen=True)
class Word2VecConfig:
    """Skip-gram / CBOW hyper-parameters, saved with the vectors as JSON.

    Where word2vec, gensim and fastText disagree, the defaults were chosen by measured quality
    on the shared English benchmark corpus (WordSim-353, SimLex-999, Google analogies; see
    ``tests/benchmarks/bench_train.py``): learning rate 0.05 for skip-gram (fastText's; gensim
    uses 0.025, which cost skip-gram 0.13 WordSim-353 Spearman; 0.075 and 0.1 gained nothing)
    and 0.075 for CBOW (means of three seeds, 0.05 / 0.075 / 0.1: WordSim-353 .516 / .562 /
    .581, SimLex-999 .264 / .301 / .294, analogy .148 / .149 / .131), 0.055 for skip-gram
    with subwords (medians of three seeds, shuffled jobs, 2 threads, learning rate 0.035 /
    0.05 / 0.055 / 0.06 / 0.075: WordSim-353 .528 / .608 / .614 / .633 / .660, SimLex-999
    .314 / .336 / .336 / .340 / .347, analogy .658 / .644 / .638 / .624 / .582: a higher
    rate trades the spelling-driven analogies for relatedness; fastText's 0.05 gave it
    .619 / .340 / .633, and 0.055 is the rate within 0.01 of that on all three), 0.05 for
    CBOW with subwords and for hash embeddings (fastText's; not swept), negative-sampling noise
    ``count**0.5`` for skip-gram (fastText's: +0.06 SimLex-999 over 0.75) and ``count**0.75``
    for CBOW (word2vec's: better on all three measures there), saturated scores clipped rather
    than skipped (word2vec C, not gensim), and in skip-gram the context word's input predicts
    the center word (word2vec), with the negatives drawn once per window and shared by its
    context words (HogBatch, Ji et al. 2016), which is faster at equal quality. CBOW shares
    one draw of negatives among ``cbow_batch`` consecutive positions (still updated one after
    the other). Means of three seeds on that corpus, batch 1 / 2 / 4: CPU 26 / 18 / 15 s,
    WordSim-353 .510 / .516 / .509, SimLex-999 .276 / .264 / .266, analogy .150 / .148 / .128;
    2 is the default (4 cost two points of analogy accuracy).

    ``shuffle`` visits the corpus's jobs (runs of about 20,000 tokens) in a fresh order each
    epoch, drawn from ``seed`` and the epoch number (so one thread stays deterministic and a
    resumed run repeats the uninterrupted one). Corpora are often concatenations of sources;
    read in file order, every epoch sweeps them in the same sequence and ends on the same one,
    which then dominates the most recent updates (word2vec C and fastText soften this by
    starting each thread at its own offset in the file). On the benchmark corpus (dictionary
    text, then glosses, then two Bibles; medians of three seeds, 2 threads), shuffled against
    file order: skip-gram with subwords WordSim-353
    .608 against .512 and SimLex-999 .336 against .298; plain skip-gram .634 / .382 / analogy
    .153 against .625 / .362 / .140; CBOW .563 / .290 / .151 against .549 / .291 / .153.

    ``hash_center`` (hash embeddings only) subtracts the mean vector of the vocabulary from
    the finished table (:func:`wordvec.hash_embeddings.center_table`).
    """

    model: Literal["skipgram", "cbow"] = "skipgram"
    dim: int = 100
    window: int = 5
    n_negatives: int = 5
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 1e-3
    epochs: int = 5
    learning_rate: float | None = None
    min_learning_rate_ratio: float = 1e-4
    noise_power: float | None = None
    center_as_input: bool = False
    shuffle: bool = True
    cbow_mean: bool = True
    shared_negatives: bool = True
    cbow_batch: int = 2
    threads: int = 0
    seed: int = 1
    lowercase: bool = False
    subwords: bool = False
    subword_min_n: int = 3
    subword_max_n: int = 6
    n_buckets: int = 2_000_000
    hash_embeddings: bool = False
    hash_rows: int = 50_000
    n_hashes: int = 3
    hash_seed: int = 0
    hash_center: bool = False
    max_sentence_length: int = 10_000

    def __post_init__(self) -> None:
        checks = [
            (
                self.model in ("skipgram", "cbow"),
                f"model must be skipgram or cbow (got {self.model!r})",
            ),
            (self.dim >= 1, f"dim must be at least 1 (got {self.dim})"),
            (self.window >= 1, f"window must be at least 1 (got {self.window})"),
            (self.n_negatives >= 1, f"n_negatives must be at least 1 (got {self.n_negatives})"),
            (
                1 <= self.cbow_batch <= 64,
                f"cbow_batch must be between 1 and 64 (got {self.cbow_batch})",
            ),
            (self.min_count >= 1, f"min_count must be at least 1 (got {self.min_count})"),
            (self.sample >= 0, f"sample must be >= 0 (got {self.sample})"),
            (self.epochs >= 1, f"epochs must be at least 1 (got {self.epochs})"),
            (
                self.learning_rate is None or self.learning_rate > 0,
                f"learning_rate must be positive (got {self.learning_rate})",
            ),
            (
                self.noise_power is None or self.noise_power >= 0,
                f"noise_power must be >= 0 (got {self.noise_power})",
            ),
            (self.threads >= 0, f"threads must be >= 0 (0: all cores) (got {self.threads})"),
            (
                not self.subwords or 1 <= self.subword_min_n <= self.subword_max_n,
                f"subword n-gram range {self.subword_min_n}..{self.subword_max_n} is invalid",
            ),
            (not self.subwords or self.n_buckets >= 1, "n_buckets must be positive"),
            (
                not (self.subwords and self.hash_embeddings),
                "hash embeddings already hash every word's character n-grams into their table: "
                "use either subwords or hash_embeddings, not both",
            ),
            (
                self.hash_embeddings or not self.hash_center,
                "hash_center applies to hash embeddings only",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.hash_embeddings:
            self.hash_params  # noqa: B018  (validates the hashing parameters)

    @property
    def hash_params(self) -> HashParams:
        """The hashing of a hash-embedding run (n-grams of ``subword_min_n..subword_max_n``
        characters are always part of the bags)."""
        return HashParams(
            self.hash_rows, self.n_hashes, self.subword_min_n, self.subword_max_n, self.hash_seed
        )

    @property
    def uses_bags(self) -> bool:
        """Whether a word's input is the mean of several rows (subwords or hash embeddings)."""
        return self.subwords or self.hash_embeddings

    @property
    def initial_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        if self.model == "cbow":
            return 0.05 if self.uses_bags else 0.075
        return 0.055 if self.subwords else 0.05

    @property
    def effective_noise_power(self) -> float:
        if self.noise_power is not None:
            return self.noise_power
        return 0.5 if self.model == "skipgram" else 0.75

    @property
    def n_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def to_json(self) -> dict[str, Any]:
        return {"config_version": CONFIG_VERSION, **dataclasses.asdict(self)}


@dataclass
class TrainingState:
    """Everything needed to continue training: both matrices and where the run stands."""

    input_vectors: NDArray[np.float32]
    output_vectors: NDArray[np.float32]
    epochs_done: int = 0


def subword_bags(
    vocab: Vocab, config: Word2VecConfig
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """CSR of each word's input rows: its own row, then (with subwords) its n-gram buckets;
    with hash embeddings, the table rows of its pieces (:mod:`wordvec.hash_embeddings`)."""
    n = len(vocab)
    if config.hash_embeddings:
        blob, offsets = vocab.to_arrays()
        return hash_bags(blob, offsets, config.hash_params)
    if not config.subwords:
        return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32)
    from wordvec.subword_kernels import vocab_ngram_hashes

    blob, offsets = vocab.to_arrays()
    hash_offsets, hashes = vocab_ngram_hashes(
        blob, offsets, config.subword_min_n, config.subword_max_n
    )
    counts = np.diff(hash_offsets) + 1
    bag_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=bag_offsets[1:])
    bag_ids = np.empty(int(bag_offsets[-1]), dtype=np.int32)
    bag_ids[bag_offsets[:-1]] = np.arange(n, dtype=np.int32)
    ngram_rows = (hashes.astype(np.int64) % config.n_buckets + n).astype(np.int32)
    owner = np.repeat(np.arange(n), counts - 1)
    position = bag_offsets[owner] + 1 + (np.arange(hashes.size) - hash_offsets[owner])
    bag_ids[position] = ngram_rows
    return bag_offsets, bag_ids


def initial_state(n_words: int, config: Word2VecConfig) -> TrainingState:
    """word2vec's initialisation: inputs uniform in ±0.5/dim, outputs zero. The inputs are the
    word rows then the subword buckets, or only the hash table with hash embeddings."""
    if config.hash_embeddings:
        rows = config.hash_rows
    else:
        rows = n_words + (config.n_buckets if config.subwords else 0)
    rng = np.random.default_rng(config.seed)
    # In place: with 2M subword buckets each temporary would be another 800 MB at peak.
    inputs = rng.random((rows, config.dim), dtype=np.float32)
    inputs -= np.float32(0.5)
    inputs /= np.float32(config.dim)
    return TrainingState(inputs, np.zeros((n_words, config.dim), dtype=np.float32))


def save_checkpoint(path: str, state: TrainingState, vocab: Vocab, config: Word2VecConfig) -> None:
    """Write the training state next to the output (atomically), after each epoch."""
    tmp = f"{path}.tmp"
    blob, offsets = vocab.to_arrays()
    with open(tmp, "wb") as f:
        np.savez(
            f,
            input_vectors=state.input_vectors,
            output_vectors=state.output_vectors,
            epochs_done=np.int64(state.epochs_done),
            words_utf8=blob,
            word_offsets=offsets,
            counts=vocab.require_counts(),
            config=np.frombuffer(json.dumps(config.to_json()).encode(), dtype=np.uint8),
        )
    os.replace(tmp, path)


def _epoch_order(
    jobs: list[tuple[int, int]], config: Word2VecConfig, epoch: int
) -> list[tuple[int, int]]:
    """The jobs in the order of this epoch (see ``Word2VecConfig.shuffle``)."""
    if not config.shuffle:
        return jobs
    order = np.random.default_rng([config.seed, epoch, 0x5EED]).permutation(len(jobs))
    return [jobs[i] for i in order.tolist()]


def load_checkpoint(path: str, config: Word2VecConfig) -> tuple[TrainingState, Vocab]:
    from wordvec.errors import FormatError

    try:
        with np.load(path, allow_pickle=False) as data:
            saved = json.loads(data["config"].tobytes())
            vocab = Vocab.from_arrays(data["words_utf8"], data["word_offsets"], data["counts"])
            state = TrainingState(
                np.array(data["input_vectors"]),
                np.array(data["output_vectors"]),
                int(data["epochs_done"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(path, f"not a usable training checkpoint: {exc}") from exc
    mine = config.to_json()
    differing = [
        k
        for k in mine
        if k not in ("epochs", "threads") and saved.get(k, _LEGACY_DEFAULTS.get(k)) != mine[k]
    ]
    if differing:
        raise ConfigError(
            f"checkpoint {path} was made with other settings ({', '.join(differing)}); "
            "resume with the same options"
        )
    return state, vocab


def train_word2vec(
    corpus_paths: PathLike | Sequence[PathLike],
    config: Word2VecConfig | None = None,
    *,
    checkpoint: str | None = None,
    resume: bool = False,
    init_vectors: Embeddings | None = None,
    progress: bool | None = False,
    workdir: str | None = None,
    checkpoint_interval: float = 60.0,
) -> Embeddings:
    """Train skip-gram or CBOW embeddings on text files; returns the finished embeddings.

    ``checkpoint``: a path where the state is saved after an epoch (at most once every
    ``checkpoint_interval`` seconds: with 2M subword buckets the state is about a gigabyte, and a
    run of a few minutes needs no resume point); with ``resume``, training
    continues from it. ``init_vectors`` starts from existing vectors for the words they share
    (continued training; output weights start at zero as the store does not keep them).
    Raises :class:`TrainingDivergedError` if the loss becomes non-finite.
    """
    config = config or Word2VecConfig()
    state, vocab = train_state(
        corpus_paths,
        config,
        checkpoint=checkpoint,
        resume=resume,
        init_vectors=init_vectors,
        progress=progress,
        workdir=workdir,
        checkpoint_interval=checkpoint_interval,
    )
    return embeddings_from_state(state, vocab, config, share=True)


def train_state(
    corpus_paths: PathLike | Sequence[PathLike],
    config: Word2VecConfig,
    *,
    vocab: Vocab | None = None,
    initial: TrainingState | None = None,
    freeze_output: bool = False,
    checkpoint: str | None = None,
    resume: bool = False,
    init_vectors: Embeddings | None = None,
    progress: bool | None = False,
    workdir: str | None = None,
    checkpoint_interval: float = 60.0,
) -> tuple[TrainingState, Vocab]:
    """:func:`train_word2vec` returning both matrices and the vocabulary instead of the
    finished embeddings (:func:`embeddings_from_state` finishes them).

    For compass training (:mod:`wordvec.compass`): ``vocab`` replaces the vocabulary built from
    the corpus (its counts drive subsampling and noise; corpus words outside it are skipped),
    ``initial`` gives the starting matrices (input rows as :func:`initial_state` lays them out,
    output rows one per word of ``vocab``; trained in place), and ``freeze_output`` keeps the
    output matrix fixed. Raises :class:`ConfigError` for shapes that do not fit, ``resume``
    combined with ``vocab`` or ``initial``, or ``initial`` with ``init_vectors``.
    """
    from wordvec.word2vec_kernels import Word2VecParams, build_sigmoid_table

    paths = [corpus_paths] if isinstance(corpus_paths, (str, os.PathLike)) else list(corpus_paths)
    state: TrainingState | None = None
    if resume and (vocab is not None or initial is not None):
        raise ConfigError("resume continues a checkpoint: it takes no vocab or initial state")
    if initial is not None and init_vectors is not None:
        raise ConfigError("give initial matrices or init_vectors, not both")
    if resume:
        if checkpoint is None or not os.path.exists(checkpoint):
            raise ConfigError(f"cannot resume: no checkpoint at {checkpoint}")
        state, vocab = load_checkpoint(checkpoint, config)
    if vocab is not None:
        corpus = encode_corpus(
            paths,
            vocab,
            lowercase=config.lowercase,
            max_sentence_length=config.max_sentence_length,
            workdir=workdir,
            progress=progress,
        )
    else:  # one pass over the text builds the vocabulary and encodes the corpus
        vocab, corpus = build_and_encode(
            paths,
            min_count=config.min_count,
            max_size=config.max_vocab_size,
            lowercase=config.lowercase,
            max_sentence_length=config.max_sentence_length,
            workdir=workdir,
            progress=progress,
        )
    try:  # the encoded corpus is a temporary file: remove it if setting up fails
        if len(vocab) == 0:
            raise ConfigError(
                f"no word occurs at least min_count={config.min_count} times in the corpus"
            )
        counts = vocab.require_counts()
        if initial is not None:
            _check_initial(initial, len(vocab), config)
            state = initial
        if state is None:
            state = initial_state(len(vocab), config)
            if init_vectors is not None:
                if config.hash_embeddings:
                    raise ConfigError(
                        "continued training (init vectors) needs per-word rows: "
                        "not available with hash embeddings"
                    )
                _copy_shared_rows(state, vocab, init_vectors, config)
        noise = build_alias_table(noise_distribution(counts, config.effective_noise_power))
        keep = keep_probabilities(counts, config.sample)
        bag_offsets, bag_ids = subword_bags(vocab, config)
        params = Word2VecParams(
            config.window,
            config.n_negatives,
            config.center_as_input,
            config.cbow_mean,
            config.shared_negatives and not config.uses_bags and not config.center_as_input,
            config.cbow_batch,
            freeze_output,
        )
        sigmoid_table = build_sigmoid_table()
        from wordvec.sampling_kernels import seed_states

        n_threads = config.n_threads
    except BaseException:
        corpus.close()
        raise

    with corpus:
        jobs = sentence_jobs(corpus.sentence_offsets, JOB_TOKENS)
        total = corpus.n_tokens * config.epochs
        longest = int(np.diff(corpus.sentence_offsets).max()) if corpus.n_sentences else 1
        lr0 = config.initial_learning_rate
        lr_min = lr0 * config.min_learning_rate_ratio
        done = corpus.n_tokens * state.epochs_done
        last_saved = time.monotonic()
        with Progress("training", total=total, unit="words", enabled=progress) as bar:
            bar.update(done)
            for epoch in range(state.epochs_done, config.epochs):
                # Seeded per epoch, so a resumed run draws what the uninterrupted one would have.
                states = [
                    s.reshape(1).copy() for s in seed_states(config.seed * 7919 + epoch, n_threads)
                ]
                run_job = _job_runner(
                    corpus,
                    state,
                    bag_offsets,
                    bag_ids,
                    keep,
                    noise.accept,
                    noise.alias,
                    sigmoid_table,
                    states,
                    params,
                    config.model == "skipgram",
                    longest,
                    config.dim,
                )
                loss = run_epoch_threads(
                    _epoch_order(jobs, config, epoch),
                    corpus.sentence_offsets,
                    len(states),
                    run_job,
                    lr0=lr0,
                    lr_min=lr_min,
                    done_before=done,
                    total=total,
                    bar=bar,
                )
                done += corpus.n_tokens
                if (
                    not np.isfinite(loss)
                    or not np.isfinite(state.input_vectors[: max(len(vocab), 1)]).all()
                ):
                    raise TrainingDivergedError(
                        f"training diverged in epoch {epoch + 1} (loss {loss}); lower the "
                        "learning rate"
                    )
                state.epochs_done = epoch + 1
                last_epoch = state.epochs_done == config.epochs
                due = time.monotonic() - last_saved >= checkpoint_interval
                if checkpoint is not None and due and not last_epoch:
                    save_checkpoint(checkpoint, state, vocab, config)
                    last_saved = time.monotonic()
    return state, vocab


def _check_initial(initial: TrainingState, n_words: int, config: Word2VecConfig) -> None:
    rows = n_words + (config.n_buckets if config.subwords else 0)
    expected = {"input": (rows, config.dim), "output": (n_words, config.dim)}
    for name, matrix in (("input", initial.input_vectors), ("output", initial.output_vectors)):
        if matrix.shape != expected[name] or matrix.dtype != np.float32:
            raise ConfigError(
                f"initial {name} matrix is {matrix.dtype} {matrix.shape}, expected float32 "
                f"{expected[name]}"
            )
        if not matrix.flags.c_contiguous or not matrix.flags.writeable:
            raise ConfigError(f"initial {name} matrix must be C-contiguous and writeable")


def _job_runner(
    corpus: EncodedCorpus,
    state: TrainingState,
    bag_offsets: NDArray[np.int64],
    bag_ids: NDArray[np.int32],
    keep: NDArray[np.float32],
    noise_accept: NDArray[np.float64],
    noise_alias: NDArray[np.int32],
    sigmoid_table: NDArray[np.float32],
    states: list[NDArray[np.uint64]],
    params: Any,
    skipgram: bool,
    longest: int,
    dim: int,
) -> RunJob:
    """The per-job call of :func:`wordvec.training.run_epoch_threads`: the kernel on sentences
    ``[first, last)`` with thread ``slot``'s RNG state and its own scratch arrays."""
    from wordvec.word2vec_kernels import train_job

    scratch = [
        (
            np.empty(longest, dtype=np.int32),
            np.empty(dim, dtype=np.float32),
            np.empty(dim, dtype=np.float32),
            np.empty(params.n_negatives + 1, dtype=np.int64),
            np.empty((2 * params.window, params.n_negatives + 1), dtype=np.float32),
            np.empty((2 * params.window, dim), dtype=np.float32),
        )
        for _ in states
    ]

    def run_job(
        first: int, last: int, slot: int, lr_start: float, lr_end: float
    ) -> tuple[int, float, int]:
        raw, _, loss, terms = train_job(
            corpus.token_ids,
            corpus.sentence_offsets,
            first,
            last,
            state.input_vectors,
            state.output_vectors,
            bag_offsets,
            bag_ids,
            keep,
            noise_accept,
            noise_alias,
            sigmoid_table,
            states[slot],
            0,
            lr_start,
            lr_end,
            params,
            skipgram,
            *scratch[slot],
        )
        return int(raw), float(loss), int(terms)

    return run_job


def _copy_shared_rows(
    state: TrainingState, vocab: Vocab, init: Embeddings, config: Word2VecConfig
) -> None:
    if init.dim != config.dim:
        raise ConfigError(
            f"initial vectors have dimension {init.dim}, the config says {config.dim}"
        )
    ids = init.vocab.ids_of(vocab.words)
    shared = ids >= 0
    state.input_vectors[: len(vocab)][shared] = init.vectors[ids[shared]]


def embeddings_from_state(
    state: TrainingState, vocab: Vocab, config: Word2VecConfig, *, share: bool = False
) -> Embeddings:
    """The finished embeddings of a training state: input vectors (with subwords, each word's
    mean bag vector and the n-gram table), the vocabulary and the configuration as metadata.

    With ``share`` the n-gram table is a view of the state's input matrix instead of a copy
    (for a caller that drops the state: with 2M buckets the copy doubled the peak memory)."""
    n = len(vocab)
    metadata = {"trainer": "word2vec", "config": config.to_json(), "epochs_done": state.epochs_done}
    if config.hash_embeddings:
        # The store recomputes these bag means from the table with the same function: the
        # vectors returned here are the ones every lookup gives, bit for bit.
        hashed = HashTable(state.input_vectors.copy(), config.hash_params)
        bag_offsets, bag_ids = subword_bags(vocab, config)
        if config.hash_center:
            hashed = center_table(hashed, bag_offsets, bag_ids)
        vectors = bag_vectors(hashed.vectors, bag_offsets, bag_ids)
        return Embeddings(vocab, vectors, None, metadata, hashing=hashed)
    if not config.subwords:
        return Embeddings(vocab, state.input_vectors[:n].copy(), None, metadata)
    # fastText's word vector: the mean of the word's bag (its row and its n-gram rows).
    bag_offsets, bag_ids = subword_bags(vocab, config)
    vectors = np.empty((n, config.dim), dtype=np.float32)
    step = 4096  # words per gather: the rows of all bags at once would be ~25x the vectors
    for first in range(0, n, step):
        last = min(first + step, n)
        lo, hi = bag_offsets[first], bag_offsets[last]
        sums = np.add.reduceat(
            state.input_vectors[bag_ids[lo:hi]], bag_offsets[first:last] - lo, axis=0
        )
        vectors[first:last] = sums / np.diff(bag_offsets[first : last + 1])[:, None]
    buckets = state.input_vectors[n:]
    table = SubwordTable(
        buckets if share else buckets.copy(), config.subword_min_n, config.subword_max_n
    )
    return Embeddings(vocab, vectors, table, metadata)
