"""Benchmark: cross-lingual alignment on real English-German man pages (shared/data/xling).

Not part of the test suite. Run from the project root::

    python tests/benchmarks/bench_align.py --json /tmp/bench_align.json

Both corpora (same domain, not parallel; already normalized: NFKC, lower case, Latin letters
only) are embedded with wordvec's own skip-gram trainer; the trained stores are cached in
``--workdir`` (keyed by the training settings), so reruns skip training. The English-German
FreeDict dictionary is split by source word into train (seed) and test pairs; every method is
evaluated on the test pairs by BLI precision@1/5/10, with nearest-neighbour and CSLS
retrieval over the whole target vocabulary, with coverage (test source words whose pairs
have both words in the vocabularies) and the alignment's wall time (normalization, seed,
self-learning, final mapping and the MUSE criterion; not training, not evaluation).

Methods (``--methods`` picks some):

- ``gensim-tm``: the competitor in the same run: gensim's ``TranslationMatrix`` (Mikolov et
  al., 2013: least squares on unit vectors) fitted on the train pairs;
- ``procrustes``: orthogonal Procrustes on the train pairs (normalize unit,center,unit);
- ``supervised``: the train pairs with VecMap's final steps (whitening, re-weighting,
  de-whitening), no self-learning;
- ``self-learning``: VecMap-style self-learning started from the train pairs;
- ``identical``: self-learning from identically spelled words (no dictionary);
- ``unsupervised``: self-learning from the similarity-distribution initialization.

``--sweep`` instead measures the options whose defaults were chosen on this data (dropout
schedule, convergence threshold, lagged CSLS, final steps) and prints one table.
``--scale N`` times one supervised alignment and a full default self-learning run on random
N-word, 300-dimensional spaces; ``--csls-scale N`` times CSLS retrieval between two random
N-word spaces and reports the peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "xling"
METHODS = ("gensim-tm", "procrustes", "supervised", "self-learning", "identical", "unsupervised")


def train_or_load(language: str, args: argparse.Namespace) -> Any:
    """The skip-gram embeddings of one corpus, trained once and cached as a store."""
    import wordvec
    from wordvec.formats.store import write_store
    from wordvec.train import Word2VecConfig, train_word2vec

    args.workdir.mkdir(parents=True, exist_ok=True)
    key = f"{language}.sg.d{args.dim}.e{args.epochs}.mc{args.min_count}.s{args.train_seed}.h5"
    path = args.workdir / key
    if not path.exists():
        config = Word2VecConfig(
            model="skipgram",
            dim=args.dim,
            epochs=args.epochs,
            min_count=args.min_count,
            threads=2,
            seed=args.train_seed,
        )
        started = time.perf_counter()
        embeddings = train_word2vec([str(SHARED / f"{language}.man.txt.xz")], config)
        write_store(path, embeddings)
        print(f"trained {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with wordvec.load(str(path)) as store:
        return store.to_embeddings()


def bli_row(name: str, source: Any, target: Any, test: Any, seconds: float, **extra: Any) -> dict:
    from wordvec.align_retrieval import evaluate_bli

    scores = evaluate_bli(source, target, test)
    row = {
        "method": name,
        "seconds": seconds,
        "coverage": scores.coverage,
        "covered": scores.n_source_words_found,
        "source_words": scores.n_source_words,
        **{f"{m}@{k}": p for m, ps in scores.precision.items() for k, p in ps.items()},
        **extra,
    }
    print(
        f"{name:>28}: nn@1 {row['nn@1']:.3f}  csls@1 {row['csls@1']:.3f}  "
        f"csls@10 {row['csls@10']:.3f}  ({seconds:.1f} s)",
        file=sys.stderr,
    )
    return row


def run_gensim(source: Any, target: Any, train: Any, test: Any) -> dict:
    from gensim.models import KeyedVectors
    from gensim.models.translation_matrix import TranslationMatrix

    from wordvec.align_retrieval import unit_rows
    from wordvec.embeddings import Embeddings

    def keyed(embeddings: Any) -> Any:
        kv = KeyedVectors(embeddings.dim)
        kv.add_vectors(list(embeddings.vocab.words), embeddings.vectors)
        return kv

    pairs = [(s, t) for s, t in train.pairs if s in source.vocab and t in target.vocab]
    started = time.perf_counter()
    model = TranslationMatrix(keyed(source), keyed(target), word_pairs=pairs)
    seconds = time.perf_counter() - started
    mapped = unit_rows(source.vectors) @ model.translation_matrix.astype(np.float32)
    return bli_row(
        "gensim TranslationMatrix",
        Embeddings(source.vocab, mapped),
        Embeddings(target.vocab, unit_rows(target.vectors)),
        test,
        seconds,
    )


def run_align(name: str, source: Any, target: Any, train: Any, test: Any, config: Any) -> dict:
    from wordvec.align import align

    result = align(source, target, config, dictionary=train)
    return bli_row(
        name,
        result.source,
        result.target,
        test,
        result.seconds,
        iterations=result.iterations,
        criterion=result.criterion,
        final_pairs=int(result.source_ids.size),
    )


def method_configs(args: argparse.Namespace) -> dict[str, Any]:
    from wordvec.align import AlignConfig

    orthogonal = {"whiten": False, "src_reweight": 0.0, "tgt_reweight": 0.0}
    return {
        "procrustes": ("Procrustes", AlignConfig(self_learning=False, **orthogonal)),
        "supervised": (
            "supervised + VecMap steps",
            AlignConfig(self_learning=False, whiten=True, src_reweight=0.5, tgt_reweight=0.5),
        ),
        "self-learning": ("self-learning (train seed)", AlignConfig()),
        "identical": ("identical strings", AlignConfig(init="identical")),
        "unsupervised": ("unsupervised", AlignConfig(init="unsupervised")),
    }


def sweep(source: Any, target: Any, train: Any, test: Any) -> list[dict]:
    """The measurements behind AlignConfig's defaults: each row changes one option of the
    default (seeded) configuration, or of the VecMap-like unsupervised one."""
    from wordvec.align import AlignConfig

    orthogonal = {"whiten": False, "src_reweight": 0.0, "tgt_reweight": 0.0}
    variants: list[tuple[str, dict[str, Any]]] = [
        ("dictionary: defaults", {}),
        ("dictionary: VecMap schedule (0.1, 3, 1e-6)",
         {"stochastic_initial": 0.1, "stochastic_interval": 3, "threshold": 1e-6}),
        ("dictionary: threshold 1e-6", {"threshold": 1e-6}),
        ("dictionary: exact CSLS", {"lagged_csls": False}),
        ("dictionary: orthogonal final step", orthogonal),
        ("identical: defaults", {"init": "identical"}),
        ("identical: keep 0.1", {"init": "identical", "stochastic_initial": 0.1}),
        ("unsupervised: interval 3", {"init": "unsupervised", "stochastic_interval": 3}),
        ("unsupervised: cutoff 4000", {"init": "unsupervised", "vocabulary_cutoff": 4000}),
    ]  # fmt: skip
    return [
        run_align(name, source, target, train, test, AlignConfig(**settings))
        for name, settings in variants
    ]


def scale(n_words: int) -> list[dict]:
    """Time on random n-word 300-d spaces: supervised and self-learning iterations."""
    from wordvec.align import AlignConfig, align
    from wordvec.align_dictionary import TranslationPairs
    from wordvec.embeddings import Embeddings

    rng = np.random.default_rng(0)
    dim = 300
    spectrum = 1.0 / np.arange(1, dim + 1) ** 0.5
    x = (rng.standard_normal((n_words, dim)) * spectrum).astype(np.float32)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    z = (x @ q + 0.05 * rng.standard_normal((n_words, dim))).astype(np.float32)
    words = [f"w{i}" for i in range(n_words)]
    source = Embeddings.from_words(words, x)
    target = Embeddings.from_words(words, z)
    seed = TranslationPairs.of((w, w) for w in words[:5000])
    rows = []
    for name, config in (
        ("supervised", AlignConfig(self_learning=False)),
        ("self-learning", AlignConfig()),
    ):
        result = align(source, target, config, dictionary=seed)
        per_iteration = [h["seconds"] for h in result.history]
        rows.append(
            {
                "method": f"{name} ({n_words} x {n_words}, dim {dim})",
                "seconds": result.seconds,
                "iterations": result.iterations,
                "seconds_per_iteration": float(np.mean(per_iteration)) if per_iteration else None,
            }
        )
        print(rows[-1], file=sys.stderr)
    return rows


def csls_scale(n_words: int, dim: int = 300, n_queries: int = 2000) -> list[dict]:
    """CSLS retrieval between two random n-word spaces: r_S of every target word (one full
    n x n pass, block by block) and the top-10 of ``n_queries`` queries; peak memory stays
    near the two matrices plus one block, never n x n."""
    import resource

    from wordvec.align_retrieval import csls_penalty, nearest, unit_rows

    rng = np.random.default_rng(0)
    x = unit_rows(rng.standard_normal((n_words, dim), dtype=np.float32))
    z = unit_rows(rng.standard_normal((n_words, dim), dtype=np.float32))
    started = time.perf_counter()
    penalty = csls_penalty(z, x, 10)
    penalty_seconds = time.perf_counter() - started
    nearest(x[:n_queries], z, 10, target_penalty=penalty / 2)
    row = {
        "method": f"CSLS k=10, {n_words} x {n_words}, dim {dim}",
        "seconds_r_s": penalty_seconds,
        "seconds": time.perf_counter() - started,
        "queries": n_queries,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "matrices_mb": 2 * x.nbytes / 2**20,
    }
    print(row, file=sys.stderr)
    return [row]


def table(rows: list[dict]) -> str:
    lines = [
        "| method | nn P@1 | nn P@5 | nn P@10 | csls P@1 | csls P@5 | csls P@10 | coverage | "
        "iterations | time (s) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        if "nn@1" not in r:
            continue
        lines.append(
            f"| {r['method']} | {r['nn@1']:.3f} | {r['nn@5']:.3f} | {r['nn@10']:.3f} | "
            f"{r['csls@1']:.3f} | {r['csls@5']:.3f} | {r['csls@10']:.3f} | "
            f"{r['coverage']:.3f} ({r['covered']}/{r['source_words']}) | "
            f"{r.get('iterations', '')} | {r['seconds']:.1f} |"
        )
    timings = [r for r in rows if "nn@1" not in r]
    if timings:
        lines += ["", "| timing | seconds | details |", "|---|--:|---|"]
        for r in timings:
            details = ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in r.items()
                if k not in ("method", "seconds") and v is not None
            )
            lines.append(f"| {r['method']} | {r['seconds']:.1f} | {details} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/wordvec-bench-align"))
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--csls-scale", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from wordvec.align_dictionary import read_dictionary

    rows: list[dict] = []
    info: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(args).items()}}
    if args.scale or args.csls_scale:
        rows += scale(args.scale) if args.scale else []
        rows += csls_scale(args.csls_scale) if args.csls_scale else []
    else:
        source, target = train_or_load("en", args), train_or_load("de", args)
        info["vocabulary"] = {"en": len(source), "de": len(target)}
        train = read_dictionary(SHARED / "en-de.train.txt")
        test = read_dictionary(SHARED / "en-de.test.txt")
        if args.sweep:
            rows += sweep(source, target, train, test)
        else:
            configs = method_configs(args)
            for method in args.methods.split(","):
                if method == "gensim-tm":
                    rows.append(run_gensim(source, target, train, test))
                else:
                    name, config = configs[method]
                    rows.append(run_align(name, source, target, train, test, config))
                    rows[-1]["config"] = dataclasses.asdict(config)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({**info, "rows": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
