"""Benchmark: compass alignment (CADE) against independent training + orthogonal Procrustes.

Not part of the test suite. Needs the shared English corpora (``../shared/data/en``). Run from
the project root::

    python tests/benchmarks/bench_compass.py --json /tmp/bench_compass.json

Two slices of one language whose usage differs in known places: the King James Bible (1611
English) and the World English Bible (a modern translation of the same text). Words such as
*suffer* (KJV: allow), *meat* (KJV: any food), *quick* (KJV: alive) or *coasts* (KJV: borders)
changed sense or were replaced; *water*, *king* or *silver* did not.

Both methods train CBOW with the same hyper-parameters (dim 100, window 5, 5 negatives,
min_count 5, 5 epochs, 2 threads):

- **compass**: :func:`wordvec.compass.train_compass` on both slices;
- **procrustes**: each slice trained on its own (:func:`wordvec.train.train_word2vec`), then the
  first mapped onto the second by orthogonal Procrustes over every shared word (the
  unit-normalised vectors; :func:`wordvec.align.align_procrustes`, as ``wordvec align`` fits
  it), the usual baseline of diachronic studies (Hamilton, Leskovec and Jurafsky, ACL 2016).

Reported for each method, over the words counted at least ``--min-count`` times in both slices:
the median cross-slice cosine; the mean cosine and mean percentile (share of shared words with a
lower cosine) of the hand-picked stable and shifted lists; the AUC of telling them apart by
cosine; the agreement of the cosines between two seeds (Spearman; how reproducible the
shift scores are); the most shifted words; and the wall time.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "en"
SLICES = ("kjv", "web")
STABLE = [
    "water", "king", "son", "father", "mother", "house", "land", "day", "bread", "gold",
    "silver", "sheep", "fire", "sword", "hand", "city", "river", "mountain", "wife", "brother",
    "tree", "stone", "horse", "wine", "night", "blood", "priest", "field", "gate", "servant",
]  # fmt: skip
# KJV sense or rendering -> WEB: suffer (allow), meat (any food), room (place, "in the room
# of"), tables (tablets of stone), let (hinder, once), wealth (well-being), bowels (compassion),
# lord (KJV's LORD is WEB's Yahweh), armies ("LORD of hosts" -> "Yahweh of Armies"), assembly
# (KJV's church), grave (WEB's Sheol), spirit ("Holy Ghost" -> "Holy Spirit"), lamp
# (candlestick -> lampstand), meal ("meat offering" -> "meal offering"), apparel; and words
# too rare in WEB to be ranked at the default --min-count (ghost, corn, coasts, quick...).
SHIFTED = [
    "suffer", "meat", "room", "tables", "let", "wealth", "bowels", "lord", "armies",
    "assembly", "grave", "spirit", "lamp", "meal", "apparel", "quick", "coasts", "corn",
    "charity", "conversation", "prevent", "ghost", "reins", "virtue", "cunning", "careful",
]  # fmt: skip
PARAMS = {"dim": 100, "window": 5, "negatives": 5, "min_count": 5, "epochs": 5, "threads": 2}


def decompress(workdir: Path) -> list[Path]:
    paths = []
    for name in SLICES:
        path = workdir / f"{name}.txt"
        if not path.exists():
            with lzma.open(SHARED / f"{name}.txt.xz", "rt", encoding="utf-8") as f:
                path.write_text(f.read(), encoding="utf-8")
        paths.append(path)
    return paths


def w2v_config(seed: int) -> Any:
    from wordvec.train import Word2VecConfig

    p = PARAMS
    return Word2VecConfig(
        model="cbow", dim=p["dim"], window=p["window"], n_negatives=p["negatives"],
        min_count=p["min_count"], epochs=p["epochs"], threads=p["threads"], seed=seed,
    )  # fmt: skip


def run_compass(paths: list[Path], seed: int) -> tuple[Any, Any, float]:
    from wordvec.compass import CompassConfig, train_compass

    start = time.perf_counter()
    result = train_compass(paths, CompassConfig(word2vec=w2v_config(seed)))
    seconds = time.perf_counter() - start
    return result.slices[SLICES[0]], result.slices[SLICES[1]], seconds


def run_procrustes(paths: list[Path], seed: int) -> tuple[Any, Any, float]:
    import dataclasses

    from wordvec.align import align_procrustes
    from wordvec.train import train_word2vec

    start = time.perf_counter()
    first = train_word2vec(paths[0], w2v_config(seed))
    second = train_word2vec(paths[1], w2v_config(seed))
    a = first.vectors / np.linalg.norm(first.vectors, axis=1, keepdims=True)
    b = second.vectors / np.linalg.norm(second.vectors, axis=1, keepdims=True)
    b_ids = second.vocab.ids_of(first.vocab.words)
    shared = b_ids >= 0
    rotation = align_procrustes(a[shared], b[b_ids[shared]])
    mapped = dataclasses.replace(first, vectors=(a @ rotation).astype(np.float32))
    second = dataclasses.replace(second, vectors=b.astype(np.float32))
    seconds = time.perf_counter() - start
    return mapped, second, seconds


def shift_scores(first: Any, second: Any, min_count: int) -> dict[str, float]:
    from wordvec.compass import rank_shifted

    return {r.word: r.cosine for r in rank_shifted(first, second, topn=None, min_count=min_count)}


def summarize(scores: dict[str, float], other_seed: dict[str, float]) -> dict[str, Any]:
    words = list(scores)
    values = np.array([scores[w] for w in words])
    order = np.argsort(values)
    percentile = np.empty(len(words))
    percentile[order] = np.arange(len(words)) / max(len(words) - 1, 1)
    position = {w: percentile[i] for i, w in enumerate(words)}
    stable = [w for w in STABLE if w in scores]
    shifted = [w for w in SHIFTED if w in scores]
    # AUC: the chance that a random stable word has a higher cosine than a random shifted one.
    wins = [float(scores[s] > scores[t]) for s in stable for t in shifted]
    common = [w for w in words if w in other_seed]
    from scipy.stats import spearmanr

    rho = spearmanr([scores[w] for w in common], [other_seed[w] for w in common])[0]
    return {
        "n_shared_words": len(words),
        "median_cosine": float(np.median(values)),
        "stable_words": stable,
        "stable_mean_cosine": float(np.mean([scores[w] for w in stable])),
        "stable_mean_percentile": float(np.mean([position[w] for w in stable])),
        "shifted_words": shifted,
        "shifted_mean_cosine": float(np.mean([scores[w] for w in shifted])),
        "shifted_mean_percentile": float(np.mean([position[w] for w in shifted])),
        "auc_stable_vs_shifted": float(np.mean(wins)),
        "seed_spearman": float(rho),
        "most_shifted": [(words[i], round(float(values[i]), 3)) for i in order[:25]],
        "listed": {w: round(scores[w], 3) for w in stable + shifted},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-compass"
    )
    parser.add_argument(
        "--min-count", type=int, default=10, help="Rank words seen this often in both slices."
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    paths = decompress(args.workdir)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    report: dict[str, Any] = {"params": PARAMS, "slices": SLICES, "min_count": args.min_count}
    for method, run in (("compass", run_compass), ("procrustes", run_procrustes)):
        runs = [run(paths, seed) for seed in (1, 2)]
        scores = [shift_scores(a, b, args.min_count) for a, b, _ in runs]
        summary = summarize(scores[0], scores[1])
        summary["seconds"] = [round(s, 1) for _, _, s in runs]
        report[method] = summary
        print(
            f"{method:<11} {summary['seconds']} s  median cos {summary['median_cosine']:.3f}  "
            f"stable {summary['stable_mean_cosine']:.3f} "
            f"(pct {summary['stable_mean_percentile']:.2f})  "
            f"shifted {summary['shifted_mean_cosine']:.3f} "
            f"(pct {summary['shifted_mean_percentile']:.2f})  AUC "
            f"{summary['auc_stable_vs_shifted']:.3f}  seed rho {summary['seed_spearman']:.3f}",
            file=sys.stderr,
            flush=True,
        )
    report["load_before"] = load_before
    report["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    header = ("method", "time s", "median cos", "stable cos", "shifted cos", "AUC", "seed rho")
    print(f"slices {SLICES}, words counted >= {args.min_count} in both; {PARAMS}")
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    print(f"{header[0]:<12}" + "".join(f"{h:>12}" for h in header[1:]))
    for method in ("compass", "procrustes"):
        s = report[method]
        cells = (
            f"{s['seconds'][0]:.1f}",
            f"{s['median_cosine']:.3f}",
            f"{s['stable_mean_cosine']:.3f}",
            f"{s['shifted_mean_cosine']:.3f}",
            f"{s['auc_stable_vs_shifted']:.3f}",
            f"{s['seed_spearman']:.3f}",
        )
        print(f"{method:<12}" + "".join(f"{c:>12}" for c in cells))
    for method in ("compass", "procrustes"):
        print(f"{method} most shifted: {report[method]['most_shifted']}")
        print(f"{method} listed words: {report[method]['listed']}")
    ratio = report["procrustes"]["seconds"][0] / report["compass"]["seconds"][0]
    print(f"compass time / procrustes time: {1 / ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
