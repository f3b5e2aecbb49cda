"""Benchmark: every compression method on real 300-dimensional vectors, against the dense store.

Not part of the test suite. Needs the shared English corpora (``../shared/data/en``). Run from
the project root::

    python tests/benchmarks/bench_compress.py --json /tmp/bench_compress.json
    python tests/benchmarks/bench_compress.py --only pq-M30 pq-M30-norot rq-M16-K64
    python tests/benchmarks/bench_compress.py --only pq-M15 pq-M15-derived pq-M15-nooov
    python tests/benchmarks/bench_compress.py --oov-scaling --json /tmp/bench_oov_scaling.json

The corpus is the one of ``bench_train.py`` (the first ~4M tokens of the shared English data),
built in ``--workdir`` (default ``/tmp/wordvec-bench-compress``); skip-gram vectors are trained
on it once (300 dims, 5 epochs, min_count 5, ``--threads 1``, seed 1) and cached there as
``sg300.h5``. Each setting is then compressed from that store (compression time includes the
fidelity measures of ``compress_store``; the compressed store and its report are cached next to
it as ``NAME.h5``/``NAME.json`` and reused while the settings match, so an interrupted run
resumes), and every store, the dense one included, is measured the same way in this run:

* size on disk of the whole file and of the vector matrix alone (vectors or codes, codebooks,
  scales, norms, word->row map), and both ratios to the dense float32 store (as ``wordvec
  train`` writes it: format version 1); the whole-file ratio to the same dense vectors in the
  compact layout too (``repack_store``, format version 3);
* every setting is compressed with the n-gram index of the OOV fallback *stored*
  (``wordvec compress --oov-index stored``); settings ending in ``-derived`` are that store
  repacked with the index derived from the words (``--oov-index derived``, the default: only
  its parameters are stored, the posting lists are rebuilt on the first unknown word), those
  ending in ``-nooov`` repacked without it (``--oov-index none``);
* WordSim-353 and SimLex-999 Spearman, Google analogy accuracy (restrict_vocab=30000; wordvec's
  evaluation, equal to gensim's ``evaluate_word_pairs`` / ``evaluate_word_analogies``);
* lookup latency: median of ``v[word]`` over 2,000 random vocabulary words; ``most_similar``
  latency: median over 100 random words (top 10, exact search over the codes); OOV latency:
  the first unknown word after opening (which reads and unpacks a compressed n-gram index, or
  rebuilds a derived one; median over 5 openings) and the median over 200 more (vocabulary
  words with one letter changed);
* the loss of each Spearman score against the dense store and whether the issue's targets hold
  (>= 10x smaller with <= 0.02 loss, >= 30x smaller with <= 0.05), judged on the whole file.

Compressed stores cached by an earlier version of this script in the classic layout (format
version 2) are repacked into the compact one (same codes) instead of being compressed again.

``--oov-scaling`` measures only the first unknown word, stored against derived index, at two
vocabulary sizes: the 35k words of the trained store and every word type of the shared English
corpora (~232k), written compactly with 8-dimensional random vectors (the index does not depend
on the vectors): index bytes in the file, time to write it (the Numba builder), and the first
unknown word after opening (unpacking the stored index, or rebuilding the derived one in NumPy;
median over 7 openings), plus the steady OOV median.

Timings are medians in one process with warm caches; the script prints ``uptime``'s load average
with them, since the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SETTINGS: dict[str, dict[str, Any]] = {
    "float16": {"method": "float16"},
    "int8": {"method": "int8"},
    "prune-10k": {"method": "prune", "keep": 10_000},
    "pq-M75": {"method": "pq", "n_codebooks": 75},
    "pq-M75-nooov": {"method": "pq", "n_codebooks": 75},
    "pq-M30": {"method": "pq", "n_codebooks": 30},
    "pq-M20": {"method": "pq", "n_codebooks": 20},
    "pq-M15": {"method": "pq", "n_codebooks": 15},
    "pq-M15-derived": {"method": "pq", "n_codebooks": 15},
    "pq-M15-nooov": {"method": "pq", "n_codebooks": 15},
    "pq-M20-keep20k": {"method": "pq", "n_codebooks": 20, "keep": 20_000},
    "rq-M8": {"method": "rq", "n_codebooks": 8},
    # Also available (slow on a busy 2-core machine): pass them to --only.
    "pq-M60": {"method": "pq", "n_codebooks": 60},
    "pq-M30-norot": {"method": "pq", "n_codebooks": 30, "rotate": False},
    "rq-M16-K64": {"method": "rq", "n_codebooks": 16, "n_codewords": 64},
}
DEFAULT_SETTINGS = list(SETTINGS)[:12]
# Suffix of a setting -> how its store keeps the OOV n-gram index (repacked from the setting
# without the suffix, which stores it).
OOV_SUFFIXES = {"-derived": "derived", "-nooov": "none"}
FIRST_OOV_OPENINGS = 5
TARGETS = ((10.0, 0.02), (30.0, 0.05))


def trained_store(workdir: Path) -> Path:
    sys.path.insert(0, str(HERE))
    from bench_train import make_corpus

    store = workdir / "sg300.h5"
    if not store.exists():
        corpus, _ = make_corpus(workdir)
        subprocess.run(
            [sys.executable, "-c", "from wordvec.cli.main import cli; cli()", "train",
             str(corpus), "-o", str(store), "--dim", "300", "--epochs", "5", "--min-count", "5",
             "--threads", "1", "--seed", "1"],
            check=True,
        )  # fmt: skip
    return store


def matrix_bytes(path: Path) -> int:
    import h5py

    # Every root-level dataset (vectors or codes, codebooks, rotation, scales, norms, word ->
    # row map); the vocabulary, OOV index and subword groups are not the matrix.
    with h5py.File(path, "r") as f:
        return sum(int(item.nbytes) for item in f.values() if isinstance(item, h5py.Dataset))


def misspelled(words: list[str], seed: int) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for word in words:
        pos = int(rng.integers(0, len(word)))
        out.append(word[:pos] + "qxz"[pos % 3] + word[pos + 1 :])
    return out


def measure(path: Path, seed: int = 7) -> dict[str, float]:
    import numpy as np

    import wordvec
    from wordvec.eval import EvalVectors, evaluate_analogy, evaluate_similarity

    start = time.perf_counter()
    with wordvec.load(path) as v:
        open_ms = (time.perf_counter() - start) * 1e3
        rng = np.random.default_rng(seed + 1)
        typos = misspelled([v.word_at(int(i)) for i in rng.integers(0, 20000, 201)], seed)
        typos = [t for t in typos if v.is_oov(t)]
    first_oov_ms = first_oov_median(path, typos[:FIRST_OOV_OPENINGS])
    with wordvec.load(path) as v:
        v[typos[0]]
        oov_times = []
        for word in typos[1:]:
            start = time.perf_counter()
            v[word]
            oov_times.append(time.perf_counter() - start)
        view = EvalVectors(v)
        result = {
            "wordsim353": evaluate_similarity(view, "wordsim353").spearman,
            "simlex999": evaluate_similarity(view, "simlex999").spearman,
            "analogy": evaluate_analogy(view, "google", restrict_vocab=30000).accuracy,
        }
        rng = np.random.default_rng(seed)
        words = [v.word_at(int(i)) for i in rng.integers(0, len(v), 2000)]
        lookups = []
        for word in words:
            start = time.perf_counter()
            v[word]
            lookups.append(time.perf_counter() - start)
        searches = []
        for word in words[:100]:
            start = time.perf_counter()
            v.most_similar(word, topn=10)
            searches.append(time.perf_counter() - start)
        result["lookup_us"] = statistics.median(lookups) * 1e6
        result["most_similar_ms"] = statistics.median(searches) * 1e3
        result["open_ms"] = open_ms
        result["first_oov_ms"] = first_oov_ms
        result["oov_ms"] = statistics.median(oov_times) * 1e3
    result["file_bytes"] = os.path.getsize(path)
    result["matrix_bytes"] = matrix_bytes(path)
    return result


def first_oov_median(path: Path, words: list[str]) -> float:
    """Median ms of the first unknown word after opening, over one opening per word."""
    import wordvec

    times = []
    for word in words:
        with wordvec.load(path) as v:
            start = time.perf_counter()
            v[word]
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def corpus_types(folder: Path) -> list[str]:
    """Every word type of the shared English corpora, most frequent first."""
    import lzma
    from collections import Counter

    counts: Counter[str] = Counter()
    for path in sorted(folder.glob("*.txt.xz")):
        with lzma.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                counts.update(line.split())
    return [word for word, _ in counts.most_common()]


def oov_scaling(workdir: Path, dense: Path) -> dict[str, Any]:
    """First-OOV latency of stored against derived n-gram indexes at two vocabulary sizes."""
    import h5py
    import numpy as np

    import wordvec
    from wordvec.embeddings import Embeddings
    from wordvec.formats.store import write_store

    with wordvec.load(dense) as v:
        bench_words = list(v)
    shared = HERE.parent.parent.parent / "shared" / "data" / "en"
    vocabularies = {"35k (bench store)": bench_words, "all shared/en types": corpus_types(shared)}
    rows: dict[str, dict[str, Any]] = {}
    for label, words in vocabularies.items():
        rng = np.random.default_rng(3)
        emb = Embeddings.from_words(words, rng.standard_normal((len(words), 8)).astype(np.float32))
        typos = [t for t in misspelled(words[:300], 11) if t not in set(words[:300])]
        for mode in ("stored", "derived"):
            path = workdir / f"oov-scaling-{len(words)}-{mode}.h5"
            start = time.perf_counter()
            write_store(path, emb, compact=True, oov_index=mode)
            write_s = time.perf_counter() - start
            with h5py.File(path, "r") as f:
                index_bytes = sum(d.id.get_storage_size() for d in f["oov_index"].values())
            steady = []
            with wordvec.load(path) as v:
                typos = [t for t in typos if v.is_oov(t)]
                v[typos[0]]
                for word in typos[1:201]:
                    start = time.perf_counter()
                    v[word]
                    steady.append(time.perf_counter() - start)
            row = {
                "n_words": len(words),
                "mode": mode,
                "file_bytes": os.path.getsize(path),
                "index_bytes": index_bytes,
                "write_s": write_s,
                "first_oov_ms": first_oov_median(path, typos[1:8]),
                "oov_ms": statistics.median(steady) * 1e3,
            }
            rows[f"{label} {mode}"] = row
            print(f"{label} {mode}: {json.dumps(row)}", file=sys.stderr, flush=True)
            os.remove(path)
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    print("| vocabulary | words | index | index MB in file | write s | first OOV ms | OOV ms |")
    print("|---" * 7 + "|")
    for label, row in rows.items():
        print(
            f"| {label.rsplit(' ', 1)[0]} | {row['n_words']:,} | {row['mode']} | "
            f"{row['index_bytes'] / 1e6:.2f} | {row['write_s']:.2f} | "
            f"{row['first_oov_ms']:.1f} | {row['oov_ms']:.2f} |"
        )
    return {"load": load, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-compress"
    )
    parser.add_argument("--only", nargs="*", default=None, help="Run only these settings.")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--oov-scaling",
        action="store_true",
        help="Only measure the first unknown word, stored against derived index, at 35k and "
        "~232k words.",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from wordvec.compress import CompressConfig, compress_store, repack_store
    from wordvec.formats.store import read_layout

    dense = trained_store(args.workdir)
    if args.oov_scaling:
        result = oov_scaling(args.workdir, dense)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return 0
    dense_compact = args.workdir / "sg300-compact.h5"
    if not dense_compact.exists() or read_layout(dense_compact).oov_index != "stored":
        repack_store(dense, dense_compact, oov_index="stored")
    rows: dict[str, dict[str, Any]] = {
        "dense float32": {**measure(dense), "seconds": 0.0},
        "dense float32 compact": {**measure(dense_compact), "seconds": 0.0},
    }
    for name in args.only or DEFAULT_SETTINGS:
        target = args.workdir / f"{name}.h5"
        sidecar = target.with_suffix(".json")
        suffix = next((s for s in OOV_SUFFIXES if name.endswith(s)), None)
        if suffix is not None:
            # The same codes as the setting without the suffix, with the n-gram index derived
            # or dropped.
            base_name = name.removesuffix(suffix)
            base_target = args.workdir / f"{base_name}.h5"
            if base_name not in rows or not base_target.exists():
                print(f"{name}: run {base_name} first", file=sys.stderr)
                continue
            repack_store(base_target, target, oov_index=OOV_SUFFIXES[suffix])
            cached = json.loads(base_target.with_suffix(".json").read_text())
            rows[name] = {**measure(target), **{k: v for k, v in cached.items() if k != "settings"}}
            print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
            continue
        # A compressed store is reused (with its compression report) when it was made with the
        # same settings, so an interrupted run resumes; every store is measured again here.
        cached = json.loads(sidecar.read_text()) if sidecar.exists() else None
        if (
            cached is not None
            and target.exists()
            and cached["settings"] == SETTINGS[name]
            and (
                read_layout(target).format_version < 3 or read_layout(target).oov_index != "stored"
            )
        ):
            # Made by an earlier version of this script (or with another OOV index): the same
            # codes, repacked compactly with the stored index.
            classic = target.with_suffix(".classic.h5")
            os.replace(target, classic)
            repack_store(classic, target, oov_index="stored")
            os.remove(classic)
        if cached is None or cached["settings"] != SETTINGS[name] or not target.exists():
            start = time.perf_counter()
            report = compress_store(
                dense, target, CompressConfig(**SETTINGS[name]), oov_index="stored"
            )
            cached = {
                "settings": SETTINGS[name],
                "seconds": time.perf_counter() - start,
                "mean_cosine": report.mean_cosine,
                "neighbour_recall_at_10": report.neighbour_recall_at_10,
            }
            sidecar.write_text(json.dumps(cached))
        rows[name] = {**measure(target), **{k: v for k, v in cached.items() if k != "settings"}}
        print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
    base = rows["dense float32"]
    load = os.getloadavg()
    import wordvec

    with wordvec.load(dense) as v:
        print(f"vectors: {len(v):,} words x {v.dim} dims (skip-gram on ~4M tokens of shared/en)")
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    header = (
        "| setting | file MB | file ratio | vs compact dense | matrix MB | matrix ratio | WS353 "
        "| SimLex | analogy | open ms | lookup us | OOV ms (first) | most_similar ms | compress s |"
    )
    print(header)
    print("|---" * 14 + "|")
    compact_base = rows["dense float32 compact"]
    for name, row in rows.items():
        row["file_ratio"] = base["file_bytes"] / row["file_bytes"]
        row["compact_file_ratio"] = compact_base["file_bytes"] / row["file_bytes"]
        row["matrix_ratio"] = base["matrix_bytes"] / row["matrix_bytes"]
        row["ws_loss"] = base["wordsim353"] - row["wordsim353"]
        row["sl_loss"] = base["simlex999"] - row["simlex999"]
        print(
            f"| {name} | {row['file_bytes'] / 1e6:.2f} | {row['file_ratio']:.1f}x | "
            f"{row['compact_file_ratio']:.1f}x | "
            f"{row['matrix_bytes'] / 1e6:.2f} | {row['matrix_ratio']:.1f}x | "
            f"{row['wordsim353']:.3f} | {row['simlex999']:.3f} | {row['analogy']:.3f} | "
            f"{row['open_ms']:.1f} | {row['lookup_us']:.0f} | "
            f"{row['oov_ms']:.2f} ({row['first_oov_ms']:.1f}) | "
            f"{row['most_similar_ms']:.1f} | {row['seconds']:.0f} |"
        )
    for ratio, loss in TARGETS:
        passing = [
            name
            for name, row in rows.items()
            if row["file_ratio"] >= ratio and max(row["ws_loss"], row["sl_loss"]) <= loss
        ]
        verdict = "PASS" if passing else "FAIL"
        print(f"target >= {ratio:.0f}x with <= {loss} Spearman loss: {verdict} {passing}")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
