"""Benchmark: PU-learning factorization (Jiang et al., NAACL 2018) against skip-gram on small
corpora, where PU learning is meant to help.

Not part of the test suite. Needs the shared English corpora (``../shared/data/en``). Run from
the project root::

    python tests/benchmarks/bench_pu.py --json /tmp/bench_pu.json

Corpora: the first ~0.5M, 1M and 2M tokens of the shared English data as its README defines the
benchmark corpus (every other 10,000-token block of gcide + wordnet + kjv + web), one block per
line. Trainers: ``pu`` (wordvec.pu defaults: dim 100, window 15, rho 2^-4, lambda 2^-11,
x_max 10, 4 iterations of 3 sweeps, CCD++ solver), ``pu-15x1`` (the earlier schedule:
15 iterations of one sweep), ``pu-als`` (the same with the exact ALS solver),
optionally ``glove`` (same machinery, rho 0, log counts, x_max 100), ``wordvec-skipgram`` and
``gensim-skipgram`` (dim 100, window 5, 5 negatives, 5 epochs, sample 1e-3); all min_count 5
and 2 threads. Each run is a fresh subprocess reporting wall time (corpus reading included),
CPU time (user + system, all threads: a fairer comparison when other jobs share the cores),
peak resident memory (VmHWM), WordSim-353 / SimLex-999 Spearman from gensim's
``evaluate_word_pairs`` (pairs with unknown words are skipped, so the OOV ratio is reported
too) and the accuracy on gensim's ``questions-words.txt`` analogies (questions with unknown
words skipped). The load average is recorded before and after; results are written to the
JSON file after every run, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import lzma
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "en"
SIZES = (500_000, 1_000_000, 2_000_000)
TRAINERS = ("gensim-skipgram", "pu", "wordvec-skipgram", "pu-als")

CHILD = r"""
import json, sys, time
import numpy as np
name, corpus = sys.argv[1], sys.argv[2]
start = time.perf_counter()
extra = {}
if name in ("pu", "pu-als", "pu-15x1", "glove"):
    from wordvec.pu import PUConfig, train_pu
    schedule = {"iterations": 15, "sweeps": 1} if name == "pu-15x1" else {}
    cfg = PUConfig(model="glove" if name == "glove" else "pu", min_count=5, threads=2,
                   x_max=100.0 if name == "glove" else 10.0,
                   solver="als" if name == "pu-als" else "ccd", **schedule)
    emb = train_pu(corpus, cfg)
    words, vectors = list(emb.vocab.words), emb.vectors
    extra = {"objective": emb.metadata["objective"], "n_observed": emb.metadata["n_observed"]}
elif name == "wordvec-skipgram":
    from wordvec.train import Word2VecConfig, train_word2vec
    emb = train_word2vec(corpus, Word2VecConfig(threads=2))
    words, vectors = list(emb.vocab.words), emb.vectors
else:
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence
    m = Word2Vec(sentences=LineSentence(corpus), vector_size=100, window=5, negative=5,
                 min_count=5, epochs=5, workers=2, sample=1e-3, sg=1, seed=1)
    words, vectors = list(m.wv.index_to_key), m.wv.vectors
seconds = time.perf_counter() - start
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
import logging
from gensim.models import KeyedVectors
from gensim.test.utils import datapath
logging.disable(logging.WARNING)
kv = KeyedVectors(vectors.shape[1]); kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
ws = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
sl = kv.evaluate_word_pairs(datapath("simlex999.txt"))
an = kv.evaluate_word_analogies(datapath("questions-words.txt"))[0]
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak, "n_words": len(words),
                  "wordsim353": ws[1][0], "wordsim353_oov": ws[2],
                  "simlex999": sl[1][0], "simlex999_oov": sl[2], "analogy": an, **extra}))
"""


def make_corpora(workdir: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    """One file per size: the first ``size`` tokens of the benchmark corpus (whole blocks)."""
    paths = {size: workdir / f"en{size // 1000}k.txt" for size in sizes}
    if all(p.exists() for p in paths.values()):
        return paths
    tokens: list[str] = []
    for name in ("gcide", "wordnet", "kjv", "web"):
        with lzma.open(SHARED / f"{name}.txt.xz", "rt", encoding="utf-8") as f:
            tokens.extend(f.read().split())
    blocks = [
        tokens[start : start + 10_000]
        for block, start in enumerate(range(0, len(tokens), 10_000))
        if block % 2 == 0
    ]
    for size, path in paths.items():
        with open(path, "w", encoding="utf-8") as out:
            for block in blocks[: size // 10_000]:
                out.write(" ".join(block) + "\n")
    return paths


def run(name: str, corpus: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(corpus)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def load_average() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-pu"
    )
    parser.add_argument("--only", nargs="*", default=None, help="Run only these trainers.")
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpora = make_corpora(args.workdir, tuple(args.sizes))
    # Compile and cache the kernels outside the timed runs, on a few lines of the corpus.
    warmup = args.workdir / "warmup.txt"
    with open(corpora[min(corpora)], encoding="utf-8") as f:
        warmup.write_text("".join(f.readline() for _ in range(3)), encoding="utf-8")
    trainers = args.only or TRAINERS
    for name in ("pu", "pu-als", "pu-15x1", "wordvec-skipgram"):
        if name in trainers:
            run(name, warmup)
    report = {"sizes": args.sizes, "load_before": load_average(), "results": {}}
    results: dict[str, dict[str, dict[str, float]]] = report["results"]  # type: ignore[assignment]
    for size, corpus in sorted(corpora.items()):
        for name in trainers:
            r = run(name, corpus)
            r["load_after"] = load_average()[0]
            results.setdefault(str(size), {})[name] = r
            print(
                f"{size:>9} {name:<18} {r['seconds']:7.1f} s (cpu {r['cpu_seconds']:6.1f} s) "
                f"{r['peak_mb']:6.0f} MB  WS {r['wordsim353']:.3f}  SL {r['simlex999']:.3f}  "
                f"AN {r['analogy']:.3f}  load {r['load_after']:.1f}",
                file=sys.stderr,
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps(report, indent=2))
    report["load_after"] = load_average()
    header = ("tokens", "trainer", "wall s", "cpu s", "wall/gensim", "peak MB", "words")
    header += ("WS353", "SimLex", "analogy")
    print(f"{header[0]:>9}  {header[1]:<18}" + "".join(f"{h:>12}" for h in header[2:]))
    for size, rows in results.items():
        gensim = rows.get("gensim-skipgram")
        for name, r in rows.items():
            ratio = f"{r['seconds'] / gensim['seconds']:.2f}" if gensim else "-"
            cells = (
                f"{r['seconds']:.1f}",
                f"{r['cpu_seconds']:.1f}",
                ratio,
                f"{r['peak_mb']:.0f}",
                f"{r['n_words']:.0f}",
                f"{r['wordsim353']:.3f}",
                f"{r['simlex999']:.3f}",
                f"{r['analogy']:.3f}",
            )
            print(f"{size:>9}  {name:<18}" + "".join(f"{c:>12}" for c in cells))
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
