"""Benchmark: meta-embeddings (``wordvec combine``) of three sources from our own trainers.

Not part of the test suite. Needs the shared English corpora (``../shared/data/en``). Run from
the project root::

    python tests/benchmarks/bench_combine.py --json /tmp/bench_combine.json

Corpus: the ~4M-token benchmark corpus of ``bench_train.py`` (every other 10,000-token block of
gcide + wordnet + kjv + web, one block per line), built by its ``make_corpus``. Sources, each
trained once with one thread and cached in ``--workdir`` (default
``/tmp/wordvec-bench-combine``):

- ``sg``: ``wordvec train`` skip-gram (dim 100, window 5, 5 negatives, 5 epochs, min_count 5);
- ``cbow-sub``: ``wordvec train --model cbow --subwords`` (same settings, n-grams 3-6);
- ``pu``: ``wordvec train-pu`` (dim 100, window 15, 15 iterations);
- ``pu-10k``: the 10,000 most frequent words of ``pu`` (``wordvec convert --limit``), a
  source with a smaller vocabulary, so the union needs the nearest-neighbour fill.

Every combination runs ``wordvec combine`` in a fresh subprocess (``s`` is that call from
start to finished store; ``peak MB`` its VmHWM, which includes the pages of the memory-mapped
stores it read, and in brackets the sampled peak of its anonymous memory). ``--memory-check N``
also combines two synthetic N x 100 stores (css, union with fill). Sources and meta-embeddings
are scored by ``wordvec.eval`` (what ``wordvec eval`` runs): WordSim-353 and SimLex-999
Spearman (pairs with unknown words dropped; their share is reported) and Google analogy
accuracy (3CosAdd, restrict_vocab 30000). Results go to stdout as a table (and ``--json``);
the load average is printed with the timings because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_train import make_corpus  # noqa: E402

CLI = "from wordvec.cli.main import cli; cli()"
SOURCES: dict[str, list[str]] = {
    "sg": ["train", "--threads", "1", "--seed", "1"],
    "cbow-sub": ["train", "--model", "cbow", "--subwords", "--threads", "1", "--seed", "1"],
    "pu": ["train-pu", "--threads", "1", "--seed", "1"],
}
PARTIAL = ("pu-10k", "pu", 10_000)  # name, source, words kept: a smaller-vocabulary source
# name -> (sources, combine options beyond the sources and -o).
FULL = ["sg", "cbow-sub", "pu"]
MIXED = ["sg", "cbow-sub", "pu-10k"]
METHODS: dict[str, tuple[list[str], list[str]]] = {
    "concat": (FULL, ["--method", "concat"]),
    "concat-center": (FULL, ["--method", "concat", "--center"]),
    "avg": (FULL, ["--method", "avg"]),
    "svd-100": (FULL, ["--method", "svd", "--dim", "100"]),
    "svd-200": (FULL, ["--method", "svd", "--dim", "200"]),
    "css": (FULL, ["--method", "css"]),
    "css-refine": (FULL, ["--method", "css", "--refine", "5"]),
    "sg+cbow css": (["sg", "cbow-sub"], ["--method", "css"]),
    "sg+pu css": (["sg", "pu"], ["--method", "css"]),
    "sg+pu concat": (["sg", "pu"], ["--method", "concat"]),
    "sg+pu avg": (["sg", "pu"], ["--method", "avg"]),
    "sg+pu svd-100": (["sg", "pu"], ["--method", "svd", "--dim", "100"]),
    "mixed css": (MIXED, ["--method", "css"]),
    "mixed css no-fill": (MIXED, ["--method", "css", "--oov-fill", "0"]),
    "mixed concat": (MIXED, ["--method", "concat"]),
    "mixed concat no-fill": (MIXED, ["--method", "concat", "--oov-fill", "0"]),
}

MEASURE = r"""
import json, sys, threading, time
from wordvec.cli.main import cli

def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) / 1024

# VmHWM counts the pages of the memory-mapped sources that were read (file-backed, dropped by
# the kernel under pressure); the peak of anonymous memory (RssAnon, sampled) is what the
# combination itself allocates.
anon_peak = [0.0]
def sample():
    while True:
        anon_peak[0] = max(anon_peak[0], status("RssAnon"))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    seconds = time.perf_counter() - start
    anon_peak[0] = max(anon_peak[0], status("RssAnon"))
    result = {"seconds": seconds, "peak_mb": status("VmHWM"), "anon_peak_mb": anon_peak[0]}
    print(json.dumps(result), file=sys.stderr)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def train_sources(workdir: Path, corpus: Path) -> dict[str, Path]:
    """Train every source once; a cached store is reused (delete it to retrain). The partial
    source is the full one's most frequent words (``wordvec convert --limit``)."""
    stores = {}
    for name, args in SOURCES.items():
        path = workdir / f"{name}.h5"
        if not path.exists():
            print(f"training {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", CLI, *args, str(corpus), "-o", str(path), "--no-progress"],
                check=True,
                env=_env(),
            )
            print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        stores[name] = path
    name, full, limit = PARTIAL
    stores[name] = workdir / f"{name}.h5"
    if not stores[name].exists():
        command = ["convert", str(stores[full]), str(stores[name]), "--limit", str(limit)]
        subprocess.run([sys.executable, "-c", CLI, *command], check=True, env=_env())
    return stores


def run_combine(sources: list[Path], output: Path, options: list[str]) -> dict[str, float]:
    command = [sys.executable, "-c", MEASURE, "combine", *map(str, sources), "-o", str(output)]
    result = subprocess.run(
        [*command, *options, "--quiet"], capture_output=True, text=True, env=_env()
    )
    if result.returncode != 0:
        raise RuntimeError(f"combine {options} failed:\n{result.stderr}")
    return json.loads(result.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def evaluate(path: Path) -> dict[str, float]:
    import wordvec
    from wordvec.eval.suite import run_evaluation

    with wordvec.load(path) as store:
        report = run_evaluation(store, restrict_vocab=30_000)
        scores: dict[str, float] = {"n_words": len(store), "dim": store.dim}
    for outcome in report.outcomes:
        result: Any = outcome.result
        name = Path(outcome.dataset).stem.split(".")[0]
        if outcome.task == "similarity":
            scores[name] = result.spearman
            scores[f"{name}_oov"] = result.n_oov / result.n_pairs
        else:
            scores["analogy"] = result.accuracy
    scores["similarity_mean"] = (scores["wordsim353"] + scores["simlex999"]) / 2
    return scores


def memory_check(workdir: Path, n_words: int, dim: int) -> dict[str, float]:
    """Two synthetic stores of ``n_words`` x ``dim`` sharing all but 2 % of their words, combined
    by css over the union (fill included): the peak memory of the run against the bytes of
    the sources and of the output."""
    import numpy as np

    from wordvec.embeddings import Embeddings
    from wordvec.formats.store import write_store

    rng = np.random.default_rng(0)
    missing = n_words // 50
    paths = []
    for i, first in enumerate((0, missing)):
        path = workdir / f"synthetic{i}-{n_words}x{dim}.h5"
        if not path.exists():
            words = [f"w{j}" for j in range(first, first + n_words)]
            vectors = rng.standard_normal((n_words, dim), dtype=np.float32)
            write_store(path, Embeddings.from_words(words, vectors))
        paths.append(path)
    output = workdir / "synthetic-meta.h5"
    timing = run_combine(paths, output, ["--method", "css"])
    source_mb = sum(p.stat().st_size for p in paths) / 2**20
    result = {**timing, "sources_mb": source_mb, "output_mb": output.stat().st_size / 2**20}
    result["load"] = os.getloadavg()[0]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path("/tmp") / "wordvec-bench-combine", help="Cache."
    )
    parser.add_argument("--train-only", action="store_true", help="Only train the sources.")
    parser.add_argument("--only", nargs="*", default=None, help="Run only these methods.")
    parser.add_argument("--repeats", type=int, default=1, help="Timed runs per method.")
    parser.add_argument(
        "--memory-check",
        type=int,
        default=0,
        metavar="N",
        help="Also combine two synthetic N-word x 100-dim stores and report peak memory.",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus, n_tokens = make_corpus(args.workdir)
    stores = train_sources(args.workdir, corpus)
    if args.train_only:
        return 0
    rows: dict[str, dict[str, float]] = {name: evaluate(path) for name, path in stores.items()}
    for name in METHODS if args.only is None else args.only:
        names, options = METHODS[name]
        output = args.workdir / f"meta-{name.replace(' ', '-')}.h5"
        sources = [stores[n] for n in names]
        runs = [run_combine(sources, output, options) for _ in range(args.repeats)]
        timing = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
        rows[name] = {**evaluate(output), **timing, "load": os.getloadavg()[0]}
        print(f"{name}: {rows[name]}", file=sys.stderr, flush=True)

    best = max(rows[s]["similarity_mean"] for s in FULL)
    print(f"corpus: {n_tokens:,} tokens; medians of {args.repeats} runs; sources: {SOURCES}")
    print(
        "| vectors | words | dim | WS353 | SimLex | mean | analogy | OOV pairs | s | peak MB "
        "(anon) | load |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, r in rows.items():
        oov = (r["wordsim353_oov"] + r["simlex999_oov"]) / 2
        cells = [name, f"{r['n_words']:.0f}", f"{r['dim']:.0f}", f"{r['wordsim353']:.3f}"]
        cells += [f"{r['simlex999']:.3f}", f"{r['similarity_mean']:.3f}", f"{r['analogy']:.3f}"]
        cells.append(f"{oov:.1%}")
        if "seconds" in r:
            memory = f"{r['peak_mb']:.0f} ({r['anon_peak_mb']:.0f})"
            cells += [f"{r['seconds']:.1f}", memory, f"{r['load']:.2f}"]
        else:
            cells += ["", "", ""]
        print("| " + " | ".join(cells) + " |")
    winners = [n for n in rows if n not in stores and rows[n]["similarity_mean"] > best]
    print(f"best single full source, similarity mean {best:.3f}; beaten by: {', '.join(winners)}")
    if args.memory_check:
        check = memory_check(args.workdir, args.memory_check, 100)
        rows["memory_check"] = check
        print(
            f"memory check: two {args.memory_check:,} x 100 stores ({check['sources_mb']:.0f} MB)"
            f" -> css union {check['output_mb']:.0f} MB in {check['seconds']:.1f} s, peak "
            f"{check['peak_mb']:.0f} MB resident, {check['anon_peak_mb']:.0f} MB anonymous "
            f"(load {check['load']:.1f})"
        )
    if args.json:
        args.json.write_text(json.dumps({"tokens": n_tokens, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
