"""Benchmark: CBOW, CMOW and hybrid CBOW-CMOW sentence encoders (Mai et al., ICLR 2019), same
corpus, same vocabulary, same token budget, same run; with word2vec-style CBOW-784 for speed.

Not part of the test suite. Needs the shared data (``../shared/data``). Run from the project
root::

    python tests/benchmarks/bench_cmow.py --json /tmp/bench_cmow.json

Corpus: the English man pages of ``xling/en.man.txt.xz`` (one sentence per line) split by line
position: the first 80% of the lines for training, the last 20% held out for probing (whole
pages are held out, so no sentence is seen twice); plus ``--en-tokens`` tokens of the ``en/``
corpora (every other 10,000-token block of gcide + wordnet + kjv + web, one block per line, as
in ``bench_train.py``) for training. All encoders share one vocabulary (min_count 5).

Probing (``wordvec.eval.probing``, Conneau et al. 2018): bigram shift and word content
generated from the held-out sentences with 5-28 tokens; logistic regression on a random 80%
(its L2 penalty chosen on a validation tenth, as SentEval does), accuracy on the rest.
``diagnose_cmow.py`` explains the bigram-shift figures. Word similarity (WordSim-353,
SimLex-999, Spearman) of the CBOW part.
Speed: training words/s (corpus tokens x epochs / training time, corpus encoding included,
vocabulary excluded: it is shared) and the encoder's sentences/s (``wordvec.encode`` on the
held-out sentences, from the store file). Reference numbers are the reference
implementation's rerun on UMBC (its README; 134M sentences, Adam, GPU).
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the probe's penalty, chosen on a validation split
REFERENCE = {  # word2mat README, rerun with the training-loss stopping criterion
    "cbow": {"bigram_shift": 49.65, "word_content": 89.11},
    "cmow": {"bigram_shift": 72.44, "word_content": 65.15},
    "hybrid": {"bigram_shift": 71.22, "word_content": 86.97},
}


def make_data(workdir: Path, en_tokens: int) -> tuple[Path, Path]:
    """``train.txt`` (en blocks, then the man-page training lines) and ``heldout.txt``."""
    train = workdir / f"train_{en_tokens}.txt"
    heldout = workdir / "heldout.txt"
    if train.exists() and heldout.exists():
        return train, heldout
    with lzma.open(DATA / "xling" / "en.man.txt.xz", "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    cut = int(len(lines) * 0.8)
    tokens: list[str] = []
    for name in ("gcide", "wordnet", "kjv", "web"):
        if len(tokens) >= 2 * en_tokens:
            break
        with lzma.open(DATA / "en" / f"{name}.txt.xz", "rt", encoding="utf-8") as f:
            tokens.extend(f.read().split())
    with open(train, "w", encoding="utf-8") as out:
        written = 0
        for block, start in enumerate(range(0, len(tokens), 10_000)):
            if written >= en_tokens:
                break
            if block % 2 == 0:
                chunk = tokens[start : start + min(10_000, en_tokens - written)]
                out.write(" ".join(chunk) + "\n")
                written += len(chunk)
        out.write("\n".join(lines[:cut]) + "\n")
    heldout.write_text("\n".join(lines[cut:]) + "\n", encoding="utf-8")
    return train, heldout


def probe(
    embeddings: Any, sentences: list[tuple[str, ...]], columns: slice | None = None, **kw: Any
) -> dict[str, float]:
    """Bigram shift and word content accuracies (percent) of the embeddings' encoder."""
    from wordvec.embeddings import Embeddings
    from wordvec.eval.probing import evaluate_probing, make_bigram_shift, make_word_content
    from wordvec.sentences import sentence_encoder

    metadata = dict(embeddings.metadata)
    vectors = embeddings.vectors
    if columns is not None:  # one half of the hybrid, as an encoder of its own
        spec = dict(metadata["sentence_encoder"])
        cb = spec["cbow_dim"]
        if columns.start == 0:
            spec.update(cbow_dim=cb, matrix_shape=[0, 0])
        else:
            spec.update(cbow_dim=0)
        metadata["sentence_encoder"] = spec
        vectors = vectors[:, columns]
    view = Embeddings(embeddings.vocab, np.ascontiguousarray(vectors), None, metadata)
    encoder = sentence_encoder(metadata, view.dim, **kw)
    out = {}
    for name, data in (
        ("bigram_shift", make_bigram_shift(sentences, seed=0)),
        ("word_content", make_word_content(sentences, n_targets=100)),
    ):
        result = evaluate_probing(view, data, encoder=encoder, seed=0, l2=L2_GRID)
        out[name] = 100 * result.accuracy
        out[f"{name}_n"] = len(data)
    return out


def similarity(embeddings: Any, stop: int) -> dict[str, float]:
    from wordvec.embeddings import Embeddings
    from wordvec.eval import EvalVectors, evaluate_similarity

    part = Embeddings(embeddings.vocab, np.ascontiguousarray(embeddings.vectors[:, :stop]))
    view = EvalVectors(part)
    return {name: evaluate_similarity(view, name).spearman for name in ("wordsim353", "simlex999")}


def encode_speed(embeddings: Any, lines: list[str], workdir: Path) -> float:
    import wordvec
    from wordvec.formats.store import write_store

    path = workdir / "encoder.h5"
    write_store(path, embeddings)
    with wordvec.load(path) as store:
        wordvec.encode(store, lines[:100])
        start = time.perf_counter()
        wordvec.encode(store, lines)
        seconds = time.perf_counter() - start
    path.unlink()
    return len(lines) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-cmow"
    )
    parser.add_argument("--en-tokens", type=int, default=3_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument(
        "--dim",
        type=int,
        default=None,
        help="Encoder size (a square for CMOW; each half of the hybrid). Default: the "
        "reference's (784 for CBOW and CMOW, 400 + 400 for the hybrid).",
    )
    parser.add_argument(
        "--order-weight",
        type=float,
        default=None,
        help="CMOWConfig.order_weight for cmow and hybrid (default: the config's default)",
    )
    parser.add_argument(
        "--cmow-loss-weight",
        type=float,
        default=None,
        help="Hybrid: weight of the CMOW half's own prediction loss (CMOWConfig.cmow_loss_weight).",
    )
    parser.add_argument("--only", nargs="*", default=["word2vec-cbow", "cbow", "cmow", "hybrid"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    from wordvec.cmow import CMOWConfig, train_cmow
    from wordvec.eval.probing import read_sentences
    from wordvec.train import Word2VecConfig, train_word2vec
    from wordvec.vocab import build_vocab

    train_path, heldout_path = make_data(args.workdir, args.en_tokens)
    sentences = read_sentences(heldout_path, max_sentences=None)
    lines = [" ".join(s) for s in sentences]
    vocab = build_vocab(train_path, min_count=5)
    n_tokens = int(vocab.require_counts().sum())
    load = os.getloadavg()
    print(
        f"corpus: {n_tokens:,} tokens, {len(vocab):,} words; {len(sentences):,} held-out "
        f"sentences; {args.epochs} epochs, {args.threads} threads; load {load[0]:.2f}",
        file=sys.stderr,
        flush=True,
    )
    # compile (or load the cached) kernels outside the timings
    tiny = args.workdir / "tiny.txt"
    tiny.write_text("a b c d e f g h\n" * 50)
    for model in ("cbow", "cmow", "hybrid"):
        train_cmow(tiny, CMOWConfig(model=model, dim=16, min_count=1, epochs=1, threads=1))  # type: ignore[arg-type]
    train_word2vec(tiny, Word2VecConfig(model="cbow", dim=16, min_count=1, epochs=1, threads=1))

    results: dict[str, dict[str, Any]] = {}
    for name in args.only:
        start = time.perf_counter()
        if name == "word2vec-cbow":
            emb = train_word2vec(
                train_path,
                Word2VecConfig(
                    model="cbow", dim=784, epochs=args.epochs, threads=args.threads, min_count=5
                ),
            )
        else:
            config = CMOWConfig(
                model=name,  # type: ignore[arg-type]
                epochs=args.epochs,
                threads=args.threads,
                learning_rate=args.learning_rate,
                dim=args.dim,
                **({} if args.order_weight is None else {"order_weight": args.order_weight}),
                **(
                    {"cmow_loss_weight": args.cmow_loss_weight}
                    if args.cmow_loss_weight is not None and name == "hybrid"
                    else {}
                ),
            )
            emb = train_cmow(train_path, config, vocab=vocab)
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {
            "train_seconds": seconds,
            "words_per_s": n_tokens * args.epochs / seconds,
            "load_after_training": os.getloadavg()[0],
        }
        row.update(probe(emb, sentences))
        if name == "hybrid":
            cb = emb.metadata["sentence_encoder"]["cbow_dim"]
            for half, cols in (("cbow_half", slice(0, cb)), ("cmow_half", slice(cb, None))):
                row.update({f"{half}_{k}": v for k, v in probe(emb, sentences, cols).items()})
        cbow_cols = emb.metadata["sentence_encoder"]["cbow_dim"] if name == "hybrid" else emb.dim
        row.update(similarity(emb, cbow_cols))
        row["encode_sentences_per_s"] = encode_speed(emb, lines, args.workdir)
        results[name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)

    header = ("encoder", "words/s", "BShift", "(ref)", "WC", "(ref)", "WS353", "SimLex", "sent/s")
    print(
        f"corpus {n_tokens:,} tokens x {args.epochs} epochs, {args.threads} threads, "
        f"load at start {load[0]:.2f}"
    )
    print(f"{header[0]:<16}" + "".join(f"{h:>9}" for h in header[1:]))
    for name, row in results.items():
        ref = REFERENCE.get(name, {})
        cells = (
            f"{row['words_per_s'] / 1e3:.1f}k",
            f"{row['bigram_shift']:.1f}",
            f"{ref.get('bigram_shift', float('nan')):.1f}",
            f"{row['word_content']:.1f}",
            f"{ref.get('word_content', float('nan')):.1f}",
            f"{row['wordsim353']:.3f}",
            f"{row['simlex999']:.3f}",
            f"{row['encode_sentences_per_s'] / 1e3:.1f}k",
        )
        print(f"{name:<16}" + "".join(f"{c:>9}" for c in cells))
    if "hybrid" in results:
        h = results["hybrid"]
        print(
            f"hybrid halves: CBOW half BShift {h['cbow_half_bigram_shift']:.1f} WC "
            f"{h['cbow_half_word_content']:.1f}; CMOW half BShift "
            f"{h['cmow_half_bigram_shift']:.1f} WC {h['cmow_half_word_content']:.1f}"
        )
    if "cbow" in results:
        base = results["cbow"]
        for name in ("cmow", "hybrid"):
            if name in results:
                r = results[name]
                print(
                    f"{name} vs cbow: bigram shift {r['bigram_shift'] - base['bigram_shift']:+.1f}"
                    f" points (target >= +10), word content "
                    f"{r['word_content'] - base['word_content']:+.1f} points"
                    + (" (target >= -5)" if name == "hybrid" else "")
                )
        for name in ("cmow", "hybrid", "word2vec-cbow"):
            if name in results:
                ratio = results[name]["words_per_s"] / base["words_per_s"]
                print(f"{name} trains at {ratio:.2f}x the words/s of cbow")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "n_tokens": n_tokens,
                    "results": results,
                    "reference": REFERENCE,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
