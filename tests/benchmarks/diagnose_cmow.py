"""Diagnosis: why CMOW's bigram-shift probe stays near chance on the benchmark corpus.

Not part of the test suite. Needs the shared data (reuses ``bench_cmow.py``'s held-out split of
the English man pages). Run from the project root::

    python tests/benchmarks/diagnose_cmow.py --json /tmp/diagnose_cmow.json

Three questions, each answered by a measurement:

1. **Is the probe able to see word order at all?** The bigram-shift task of
   ``wordvec.eval.probing`` on the held-out man-page sentences, with hand-made order features:
   for each adjacent pair ``(a, b)`` of a sentence, ``log (c(a b) + 1) / (c(b a) + 1)`` and the
   smoothed bigram log-probability, counted on the *training* text (sum, minimum, count of
   pairs seen only the other way round). If the probe scores far above 50% with these, the
   task and the classifier work, and the training text holds the order information. Also a
   CMOW encoder with untrained identity + N(0, 0.1^2) matrices (it distinguishes orders but
   does not know which one is natural: chance expected).
2. **Does the trained model know word order, whatever the probe reads?** An intrinsic test
   that needs no classifier: for held-out sentences and their copy with one adjacent pair
   swapped, the model's own pseudo-log-likelihood (every word scored by the output table
   against the encoding of the other words of its centred window, in order, as in training);
   the share of sentences whose original scores above the swapped copy. CBOW (sum) is at
   chance by construction up to window-edge effects.
3. **Does the trainer learn order when the data carry a strong order signal?** A control
   corpus from a first-order Markov chain (300 words, 3 successors each: a swapped pair is
   almost never a valid transition), where the same trainer must reach high intrinsic and
   probe accuracy; then the real corpus with growing numbers of epochs (one run, constant
   learning rate, measured after selected epochs) to show the trend with the token budget.

Probes: logistic regression on standardized features, L2 penalty chosen on a validation
split (``evaluate_probing(..., l2=L2_GRID)``), accuracy on a held-out 20%.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from bench_cmow import make_data

from wordvec.cmow import CMOWConfig, CMOWState, _train_epochs, finish, initial_state
from wordvec.corpus import encode_corpus
from wordvec.eval.probing import (
    ProbingDataset,
    evaluate_probing,
    make_bigram_shift,
    read_sentences,
)
from wordvec.sentences import sentence_encoder
from wordvec.vocab import (
    Vocab,
    build_alias_table,
    build_vocab,
    keep_probabilities,
    noise_distribution,
)

L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def probe_features(features: np.ndarray, data: ProbingDataset) -> float:
    """Bigram-shift probe accuracy (percent) on ready-made features."""
    from wordvec.embeddings import Embeddings

    # One "word" per sentence whose vector is that sentence's features: the probe machinery
    # then sees exactly these features.
    names = [f"s{i}" for i in range(len(data))]
    vocab = Vocab(tuple(names))
    emb = Embeddings(vocab, features.astype(np.float32))
    keyed = dataclasses.replace(data, sentences=tuple((n,) for n in names))
    return 100 * evaluate_probing(emb, keyed, l2=L2_GRID).accuracy


def bigram_features(train_path: Path, data: ProbingDataset) -> np.ndarray:
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    with open(train_path, encoding="utf-8") as f:
        for line in f:
            tokens = line.split()
            unigrams.update(tokens)
            bigrams.update(itertools.pairwise(tokens))
    n_types = len(unigrams)
    rows = []
    for sentence in data.sentences:
        pairs = list(itertools.pairwise(sentence))
        ratio = [math.log((bigrams[(a, b)] + 1) / (bigrams[(b, a)] + 1)) for a, b in pairs]
        logp = [math.log((bigrams[(a, b)] + 0.1) / (unigrams[a] + 0.1 * n_types)) for a, b in pairs]
        reversed_only = sum(1 for a, b in pairs if bigrams[(a, b)] == 0 < bigrams[(b, a)])
        rows.append([sum(ratio), min(ratio), sum(logp) / len(logp), min(logp), reversed_only])
    return np.array(rows)


def train_state(
    path: Path, config: CMOWConfig, epochs: Sequence[int], on_epoch: Any
) -> tuple[Vocab, CMOWState]:
    """Train epoch by epoch at a constant learning rate; ``on_epoch(epoch, vocab, state,
    cpu_seconds)`` after each epoch listed in ``epochs``."""
    vocab = build_vocab(path, min_count=config.min_count)
    counts = vocab.require_counts()
    state = initial_state(len(vocab), config)
    noise = build_alias_table(noise_distribution(counts, config.noise_power))
    keep = keep_probabilities(counts, config.sample)
    cpu = 0.0
    with encode_corpus([path], vocab, max_sentence_length=10_000) as corpus:
        for epoch in range(1, max(epochs) + 1):
            one = dataclasses.replace(config, epochs=1, seed=config.seed + epoch)
            start = time.process_time()
            _train_epochs(corpus.token_ids, corpus.sentence_offsets, state, keep, noise, one, False)
            cpu += time.process_time() - start
            if epoch in epochs:
                on_epoch(epoch, int(corpus.token_ids.shape[0]), vocab, state, cpu)
    return vocab, state


def encode_window(state: CMOWState, config: CMOWConfig, ids: list[int]) -> np.ndarray:
    parts = []
    if config.cbow_dim:
        parts.append(state.cbow_vectors[ids].sum(0).astype(np.float64))
    m = config.matrix_dim
    if m:
        product = np.eye(m)
        for w in ids:
            product = product @ state.matrices[w].reshape(m, m)
        parts.append(product.reshape(-1))
    return np.concatenate(parts)


def pseudo_log_likelihood(state: CMOWState, config: CMOWConfig, ids: list[int]) -> float:
    c, n, total = config.window, len(ids), 0.0
    for i in range(n):
        context = [ids[j] for j in range(max(0, i - c), min(n, i + c + 1)) if j != i]
        score = float(encode_window(state, config, context) @ state.output_vectors[ids[i]])
        total += -math.log1p(math.exp(-score)) if score > -30 else score
    return total / n


def intrinsic_order(
    vocab: Vocab, state: CMOWState, config: CMOWConfig, sentences: list[tuple[str, ...]]
) -> float:
    """Percent of sentences whose original order the model scores above one adjacent swap
    (ties count half)."""
    rng = np.random.default_rng(1)
    wins = total = 0.0
    for sentence in sentences:
        ids = [int(x) for x in vocab.ids_of(list(sentence)) if x >= 0]
        swappable = [i for i in range(len(ids) - 1) if ids[i] != ids[i + 1]]
        if not swappable:
            continue
        k = swappable[int(rng.integers(len(swappable)))]
        swapped = list(ids)
        swapped[k], swapped[k + 1] = swapped[k + 1], swapped[k]
        a = pseudo_log_likelihood(state, config, ids)
        b = pseudo_log_likelihood(state, config, swapped)
        wins += 1.0 if a > b else 0.5 if a == b else 0.0
        total += 1
    return 100 * wins / total


def measure(
    label: str,
    path: Path,
    config: CMOWConfig,
    epochs: Sequence[int],
    data: ProbingDataset,
    sentences: list[tuple[str, ...]],
    rows: list[dict[str, Any]],
) -> None:
    def on_epoch(epoch: int, n_tokens: int, vocab: Vocab, state: CMOWState, cpu: float) -> None:
        emb = finish(state, vocab, config)
        encoder = sentence_encoder(emb.metadata, emb.dim)
        row = {
            "run": label,
            "model": config.model,
            "learning_rate": config.initial_learning_rate,
            "epoch": epoch,
            "tokens_seen": n_tokens * epoch,
            "train_cpu_s": round(cpu, 1),
            "intrinsic_order": intrinsic_order(vocab, state, config, sentences),
            "bigram_shift": 100 * evaluate_probing(emb, data, encoder=encoder, l2=L2_GRID).accuracy,
        }
        if config.matrix_dim:
            m = config.matrix_dim
            dev = np.linalg.norm(state.matrices.reshape(-1, m, m) - np.eye(m), axis=(1, 2))
            row["matrix_change_top100"] = float(dev[:100].mean())
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    train_state(path, config, epochs, on_epoch)


def markov_corpus(path: Path, n_sentences: int, seed: int) -> None:
    """Sentences of 8-24 words from a first-order Markov chain over 300 words with 3
    successors each (the chain is fixed; ``seed`` draws the sentences)."""
    successors = np.random.default_rng(0).integers(0, 300, size=(300, 3))
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(n_sentences):
            word = int(rng.integers(300))
            words = [word]
            for _ in range(int(rng.integers(8, 25)) - 1):
                word = int(successors[word, rng.integers(3)])
                words.append(word)
            out.write(" ".join(f"w{w}" for w in words) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-cmow"
    )
    parser.add_argument("--epochs", default="1,2,4,8", help="real corpus: measure after these")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--order-weight", type=float, default=0.0)
    parser.add_argument("--model", default="cmow", choices=["cmow", "hybrid"])
    parser.add_argument("--intrinsic-sentences", type=int, default=500)
    parser.add_argument("--skip", nargs="*", default=[], choices=["probe", "markov", "real"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"load at start {os.getloadavg()[0]:.2f}", file=sys.stderr)
    out: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}

    # The man pages only: the probe's domain (bench_cmow's split, no en/ text).
    train_path, heldout_path = make_data(args.workdir, 0)
    sentences = read_sentences(heldout_path, max_sentences=None)
    data = make_bigram_shift(sentences, seed=0)
    intrinsic_set = sentences[: args.intrinsic_sentences]

    if "probe" not in args.skip:
        vocab = build_vocab(train_path, min_count=5)
        config = CMOWConfig(model="cmow")
        untrained = finish(initial_state(len(vocab), config), vocab, config)
        encoder = sentence_encoder(untrained.metadata, untrained.dim)
        out["probe_sanity"] = {
            "n_sentences": len(data),
            "bigram_count_features": probe_features(bigram_features(train_path, data), data),
            "untrained_cmow": 100
            * evaluate_probing(untrained, data, encoder=encoder, l2=L2_GRID).accuracy,
        }
        print(json.dumps(out["probe_sanity"]), file=sys.stderr, flush=True)

    rows: list[dict[str, Any]] = []
    if "markov" not in args.skip:
        markov_train = args.workdir / "markov_train.txt"
        markov_held = args.workdir / "markov_heldout.txt"
        markov_corpus(markov_train, 20_000, seed=1)
        markov_corpus(markov_held, 30_000, seed=2)
        held = read_sentences(markov_held, max_sentences=None)
        held_data = make_bigram_shift(held, seed=0)
        for model, lr, epochs in (
            ("cbow", 1e-3, (2,)),
            ("cmow", 1e-3, (2, 8)),
            ("cmow", 4e-3, (4,)),
        ):
            config = CMOWConfig(
                model=model,  # type: ignore[arg-type]
                min_count=1,
                learning_rate=lr,
                min_learning_rate_ratio=1.0,
                threads=2,
            )
            measure("markov", markov_train, config, epochs, held_data, held[:300], rows)

    if "real" not in args.skip:
        checkpoints = tuple(int(x) for x in args.epochs.split(","))
        config = CMOWConfig(
            model=args.model,
            order_weight=args.order_weight,
            learning_rate=args.learning_rate,
            min_learning_rate_ratio=1.0,
            threads=2,
        )
        measure("man pages", train_path, config, checkpoints, data, intrinsic_set, rows)
    out["runs"] = rows

    if "probe_sanity" in out:
        p = out["probe_sanity"]
        print(
            f"bigram shift on {p['n_sentences']:,} held-out man-page sentences: bigram-count "
            f"features {p['bigram_count_features']:.1f}%, untrained CMOW {p['untrained_cmow']:.1f}%"
        )
    print(
        f"{'run':<10}{'model':>6}{'lr':>8}{'epoch':>6}{'tokens':>12}{'intrinsic':>10}{'BShift':>8}"
    )
    for r in rows:
        print(
            f"{r['run']:<10}{r['model']:>6}{r['learning_rate']:>8.0e}{r['epoch']:>6}"
            f"{r['tokens_seen']:>12,}{r['intrinsic_order']:>10.1f}{r['bigram_shift']:>8.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
