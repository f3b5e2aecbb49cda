"""Diagnosis: why unsupervised alignment fails on the English-German man pages.

Not part of the test suite. Run from the project root (reuses bench_align.py's cached stores)::

    python tests/benchmarks/diagnose_unsupervised.py --json /tmp/diagnose_unsupervised.json

VecMap's unsupervised mode (Artetxe, Labaka and Agirre, ACL 2018) has two stages; each is
measured against the gold FreeDict dictionary (train + test pairs), on the same stores as
``bench_align.py`` (skip-gram, dim 300, 5 epochs):

1. **Initialization**: the similarity-distribution signatures of the 4,000 most frequent words
   of each side, matched by CSLS in both directions. Measured: the share of induced pairs that
   are gold translations (among the pairs whose source word has a gold entry with both words in
   the 4,000), and for gold pairs inside the 4,000 the rank of the true translation under
   signature-CSLS retrieval (P@1, P@10, median rank; chance P@1 is 1/4000).
2. **Self-learning**: is the true solution a better optimum of VecMap's objective than the one
   the unsupervised search reaches? Measured: the objective (mean nearest-neighbour cosine,
   both directions, 20,000-word cutoff) and MUSE's criterion of self-learning started from
   the gold train dictionary, versus those of the unsupervised run. If the gold-started run
   scores higher, the search failed (initialization); if lower, the objective itself cannot
   tell the right mapping on this data.

3. **A low-dimensional basin** (``--pca-basin``): in the 10-dimensional PCA spaces of the
   2,000 most frequent words of each side, the rotation fitted on the gold pairs and refined by
   ICP (nearest neighbours both ways, then Procrustes) is a stable local optimum; its mutual
   nearest neighbours seed full self-learning. If that seed reaches the right mapping and
   scores best on the ICP objective, the unsupervised problem reduces to finding that basin;
   ``--restarts`` random orthogonal starts (the search of Hoshen and Wolf, EMNLP 2018)
   measure how often ICP lands in it (distance to the gold rotation, Frobenius norm; two
   random rotations are about sqrt(2 * 10) = 4.5 apart).

A **control** repeats stage 1 on two halves of the English corpus (same language, same
domain, disjoint text: the ideal isomorphic case at half the size), where a correct
initialization pairs each word with itself; then (unless ``--control-stage1-only``) the full
unsupervised alignment between the halves, scored by BLI with each English word of the test
dictionary as its own translation. It shows whether the method works on real embeddings of
this corpus size when the two spaces are as alike as two corpora can be.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_align import SHARED, train_or_load


def gold_pairs(source: Any, target: Any) -> dict[int, set[int]]:
    from wordvec.align_dictionary import read_dictionary

    gold: dict[int, set[int]] = {}
    for name in ("en-de.train.txt", "en-de.test.txt"):
        for s, t in read_dictionary(SHARED / name).pairs:
            i, j = source.vocab.get(s), target.vocab.get(t)
            if i >= 0 and j >= 0:
                gold.setdefault(i, set()).add(j)
    return gold


def init_quality(source: Any, target: Any, gold: dict[int, set[int]], n: int) -> dict[str, Any]:
    """Stage 1 against ``gold`` (source row -> target rows)."""
    from wordvec.align import similarity_signature
    from wordvec.align_mapping import fit_normalization
    from wordvec.align_retrieval import csls_penalty, induce_dictionary, nearest, unit_rows

    normalize = ("unit", "center", "unit")
    xn, _ = fit_normalization(source.vectors, normalize)
    zn, _ = fit_normalization(target.vectors, normalize)
    started = time.perf_counter()
    xs = similarity_signature(xn[:n], normalize)
    zs = similarity_signature(zn[:n], normalize)
    induced = induce_dictionary(xs, zs, csls_k=10, direction="union")
    seconds = time.perf_counter() - started
    inside = {s: {t for t in ts if t < n} for s, ts in gold.items() if s < n}
    inside = {s: ts for s, ts in inside.items() if ts}
    judged = [
        (s, t)
        for s, t in zip(induced.source_ids.tolist(), induced.target_ids.tolist(), strict=True)
        if s in inside
    ]
    correct = sum(t in inside[s] for s, t in judged)
    queries = np.array(sorted(inside), dtype=np.int64)
    x_unit, z_unit = unit_rows(xs), unit_rows(zs)
    penalty = csls_penalty(z_unit, x_unit, 10) / 2
    ids, _ = nearest(x_unit[queries], z_unit, n, target_penalty=penalty)
    ranks = np.array(
        [
            next(r for r, c in enumerate(row) if c in inside[int(q)])
            for q, row in zip(queries.tolist(), ids.tolist(), strict=True)
        ]
    )
    return {
        "n": n,
        "seconds": seconds,
        "induced_pairs": int(induced.source_ids.size),
        "judged_pairs": len(judged),
        "correct_pairs": int(correct),
        "precision_of_induced": correct / max(len(judged), 1),
        "gold_queries_inside": int(queries.size),
        "p_at_1": float(np.mean(ranks < 1)),
        "p_at_10": float(np.mean(ranks < 10)),
        "median_rank": float(np.median(ranks)),
        "chance_p_at_1": float(np.mean([len(inside[int(q)]) for q in queries]) / n),
    }


def objective_of(source: Any, target: Any, config: Any, dictionary: Any = None) -> dict[str, Any]:
    from wordvec.align import align

    result = align(source, target, config, dictionary=dictionary)
    return {
        "objective": result.objective,
        "criterion": result.criterion,
        "iterations": result.iterations,
        "seconds": result.seconds,
        "mapped": (result.source, result.target),
    }


def gold_precision(source: Any, target: Any, gold: dict[int, set[int]]) -> float:
    """CSLS P@1 over every gold source word of the mapped spaces."""
    from wordvec.align_retrieval import csls_penalty, nearest, unit_rows

    x, z = unit_rows(source.vectors), unit_rows(target.vectors)
    queries = np.array(sorted(gold), dtype=np.int64)
    ids, _ = nearest(x[queries], z, 1, target_penalty=csls_penalty(z, x, 10) / 2)
    return float(np.mean([ids[i, 0] in gold[int(q)] for i, q in enumerate(queries.tolist())]))


def pca_basin(
    source: Any, target: Any, gold: dict[int, set[int]], args: argparse.Namespace
) -> dict[str, Any]:
    """Stage 3 (see the module docstring)."""
    from wordvec.align import AlignConfig, _self_learning
    from wordvec.align_mapping import fit_normalization

    n, d = args.basin_words, args.basin_dim
    normalize = ("unit", "center", "unit")
    xn = fit_normalization(source.vectors, normalize)[0].astype(np.float32)
    zn = fit_normalization(target.vectors, normalize)[0].astype(np.float32)

    def pca(m: Any) -> Any:
        m = m - m.mean(0)
        p = m @ np.linalg.svd(m, full_matrices=False)[2][:d].T
        return (p / np.linalg.norm(p, axis=1, keepdims=True)).astype(np.float32)

    x, z = pca(xn[:n]), pca(zn[:n])

    def procrustes(src: Any, tgt: Any) -> Any:
        u, _, vt = np.linalg.svd(x[src].T @ z[tgt])
        return (u @ vt).astype(np.float32)

    def icp(w: Any, iterations: int = 15) -> tuple[Any, float, Any, Any]:
        for _ in range(iterations + 1):
            sim = (x @ w) @ z.T
            forward, backward = sim.argmax(1), sim.argmax(0)
            score = float(sim.max(1).mean() + sim.max(0).mean()) / 2
            w = procrustes(
                np.concatenate([np.arange(n), backward]), np.concatenate([forward, np.arange(n)])
            )
        return w, score, forward, backward

    pairs = np.array(
        [
            (s, min(t for t in ts if t < n))
            for s, ts in gold.items()
            if s < n and any(t < n for t in ts)
        ]
    )
    gold_rotation, gold_score, forward, backward = icp(procrustes(pairs[:, 0], pairs[:, 1]))
    mutual = np.flatnonzero(backward[forward] == np.arange(n))
    judged = [i for i in mutual.tolist() if i in gold]
    started = time.perf_counter()
    run = _self_learning(
        xn,
        zn,
        mutual.astype(np.int64),
        forward[mutual].astype(np.int64),
        AlignConfig(init="dictionary"),
        0,
        lambda message: None,
    )
    from wordvec.align import align_procrustes
    from wordvec.embeddings import Embeddings

    w = align_procrustes(xn[run.source_ids], zn[run.target_ids]).astype(np.float32)
    mapped = (
        Embeddings.from_words(source.vocab.words, xn @ w),
        Embeddings.from_words(target.vocab.words, zn),
    )
    seeded = {
        "seed_pairs": int(mutual.size),
        "seed_correct": int(sum(forward[i] in gold[i] for i in judged)),
        "seed_judged": len(judged),
        "self_learning_iterations": run.iterations,
        "self_learning_seconds": time.perf_counter() - started,
        "gold_csls_p_at_1": gold_precision(*mapped, gold),
    }
    rng = np.random.default_rng(args.train_seed)
    scores, distances = [], []
    started = time.perf_counter()
    for _ in range(args.restarts):
        q = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
        w, score, _, _ = icp(q)
        scores.append(score)
        distances.append(float(np.linalg.norm(w - gold_rotation)))
    best = int(np.argmax(scores))
    return {
        "words": n,
        "dim": d,
        "gold_rotation_score": gold_score,
        "seeded_from_gold_basin": seeded,
        "restarts": args.restarts,
        "restart_seconds": time.perf_counter() - started,
        "best_restart_score": scores[best],
        "best_restart_distance": distances[best],
        "closest_restart_distance": min(distances),
        "restarts_within_1": int(sum(dist < 1.0 for dist in distances)),
    }


def control_halves(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """Stage 1 between embeddings of the two halves (alternate lines) of the English corpus."""
    import lzma

    from wordvec.train import Word2VecConfig, train_word2vec

    args.halves_dir.mkdir(parents=True, exist_ok=True)
    halves = [args.halves_dir / "en.even.txt", args.halves_dir / "en.odd.txt"]
    if not all(p.exists() for p in halves):
        with lzma.open(SHARED / "en.man.txt.xz", "rt", encoding="utf-8") as f:
            lines = f.readlines()
        halves[0].write_text("".join(lines[0::2]), encoding="utf-8")
        halves[1].write_text("".join(lines[1::2]), encoding="utf-8")
    config = Word2VecConfig(dim=args.dim, epochs=args.epochs, min_count=args.min_count, threads=2)
    first, second = (train_word2vec(str(p), config) for p in halves)
    gold = {i: {second.vocab.get(w)} for i, w in enumerate(first.vocab.words) if w in second.vocab}
    report = init_quality(first, second, gold, n)
    if not args.control_stage1_only:
        from wordvec.align import AlignConfig, align
        from wordvec.align_dictionary import TranslationPairs, read_dictionary
        from wordvec.align_retrieval import evaluate_bli

        started = time.perf_counter()
        result = align(first, second, AlignConfig(init="unsupervised"))
        seconds = time.perf_counter() - started
        words = sorted({s for s, _ in read_dictionary(SHARED / "en-de.test.txt").pairs})
        identity = TranslationPairs.of(((w, w) for w in words), "en test words, identity")
        scores = evaluate_bli(result.source, result.target, identity)
        report["unsupervised_run"] = {
            "seconds": seconds,
            "iterations": result.iterations,
            "criterion": result.criterion,
            "coverage": scores.coverage,
            "csls_p_at_1": scores.precision["csls"][1],
            "nn_p_at_1": scores.precision["nn"][1],
            "csls_p_at_10": scores.precision["csls"][10],
        }
    return report


def main() -> int:
    from wordvec.align import AlignConfig
    from wordvec.align_dictionary import read_dictionary

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/wordvec-bench-align"))
    parser.add_argument(
        "--halves-dir", type=Path, default=Path("/tmp/wordvec-diagnose-unsupervised")
    )
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--unsupervised-vocab", type=int, default=4000)
    parser.add_argument("--skip-control", action="store_true")
    parser.add_argument(
        "--control-stage1-only",
        action="store_true",
        help="Skip the control's unsupervised alignment (about a minute).",
    )
    parser.add_argument("--pca-basin", action="store_true", help="Run stage 3.")
    parser.add_argument("--basin-words", type=int, default=2000)
    parser.add_argument("--basin-dim", type=int, default=10)
    parser.add_argument("--restarts", type=int, default=200)
    parser.add_argument(
        "--skip-unsupervised-run",
        action="store_true",
        help="Stage 2 for the train-dictionary start only (compare with bench_align.py's "
        "unsupervised row).",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    source, target = train_or_load("en", args), train_or_load("de", args)
    gold = gold_pairs(source, target)
    n = args.unsupervised_vocab
    report: dict[str, Any] = {"vocabulary": {"en": len(source), "de": len(target)}}
    report["init_en_de"] = init_quality(source, target, gold, n)
    print(f"stage 1, en-de: {report['init_en_de']}", file=sys.stderr, flush=True)

    train = read_dictionary(SHARED / "en-de.train.txt")
    runs = {
        "self-learning from the train dictionary": objective_of(
            source, target, AlignConfig(), train
        )
    }
    if not args.skip_unsupervised_run:  # ~700 iterations: 12 minutes on an idle machine
        runs["unsupervised"] = objective_of(source, target, AlignConfig(init="unsupervised"))
    report["stage2"] = {}
    for name, run in runs.items():
        mapped = run.pop("mapped")
        run["gold_csls_p_at_1"] = gold_precision(*mapped, gold)
        report["stage2"][name] = run
        print(f"stage 2, {name}: {run}", file=sys.stderr, flush=True)
    if args.pca_basin:
        report["pca_basin"] = pca_basin(source, target, gold, args)
        print(f"stage 3: {report['pca_basin']}", file=sys.stderr, flush=True)
    if not args.skip_control:
        report["init_control_en_halves"] = control_halves(args, n)
        print(f"control: {report['init_control_en_halves']}", file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
