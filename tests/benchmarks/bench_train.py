"""Benchmark: wordvec's skip-gram/CBOW trainers against gensim and fastText, same corpus, same run.

Not part of the test suite. Needs the ``fasttext`` package (``pip install fasttext-wheel``) and
the shared English corpora (``../shared/data/en``). Run from the project root::

    python tests/benchmarks/bench_train.py --json /tmp/bench_train.json

The corpus is the first ~4M tokens of the shared English data as its README defines them (every
other 10,000-token block of gcide + wordnet + kjv + web), one block per line. Every trainer gets
the same hyper-parameters: dim 100, window 5, 5 negatives, min_count 5, 5 epochs, 2 threads,
sample 1e-3; each keeps its own default learning rate and noise distribution. Each run is a
fresh subprocess reporting wall time from start to trained model (corpus reading and vocabulary
included, for every tool), words/s (corpus tokens x epochs / wall time), the CPU time of all
threads (less sensitive than wall time to other processes on a shared machine) and peak
resident memory (VmHWM). Quality is measured with one evaluation code for all (gensim's
``evaluate_word_pairs`` / ``evaluate_word_analogies`` on the trained vectors): WordSim-353 and
SimLex-999 Spearman, Google analogy accuracy with restrict_vocab=30000.

``--memory-check`` also trains wordvec skip-gram for one epoch on the corpus and on the corpus
concatenated four times with four times the min_count (so the same vocabulary), and reports
both peaks (memory grows with the vocabulary, not the corpus).
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
PARAMS = {
    "dim": 100,
    "window": 5,
    "negatives": 5,
    "min_count": 5,
    "epochs": 5,
    "threads": 2,
    "sample": 1e-3,
}

CHILD = r"""
import json, sys, threading, time
import numpy as np
name, corpus, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) / 1024
# VmHWM also counts pages of memory-mapped files that were read (the encoded corpus: dropped
# by the kernel under pressure); RssAnon, sampled, is what the process itself allocates.
anon_peak = [0.0]
training = threading.Event()
training.set()
def sample():
    while training.is_set():
        anon_peak[0] = max(anon_peak[0], status("RssAnon"))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
cpu_start = time.process_time()
p = params
if name.startswith("wordvec"):
    from wordvec.train import Word2VecConfig, train_word2vec
    model = "cbow" if "cbow" in name else "skipgram"
    cfg = Word2VecConfig(model=model, dim=p["dim"], window=p["window"], n_negatives=p["negatives"],
                         min_count=p["min_count"], epochs=p["epochs"], threads=p["threads"],
                         sample=p["sample"], subwords="subwords" in name)
    emb = train_word2vec(corpus, cfg)
    words, vectors = list(emb.vocab.words), emb.vectors
elif name.startswith("gensim"):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence
    kwargs = dict(vector_size=p["dim"], window=p["window"], negative=p["negatives"],
                  min_count=p["min_count"], epochs=p["epochs"], workers=p["threads"],
                  sample=p["sample"], sg=0 if "cbow" in name else 1)
    if "corpus_file" in name:
        m = Word2Vec(corpus_file=corpus, **kwargs)
    else:
        m = Word2Vec(sentences=LineSentence(corpus), **kwargs)
    words, vectors = list(m.wv.index_to_key), m.wv.vectors
else:
    import fasttext
    model = "cbow" if "cbow" in name else "skipgram"
    subwords = "subwords" in name
    m = fasttext.train_unsupervised(corpus, model=model, dim=p["dim"], ws=p["window"],
                                    neg=p["negatives"], minCount=p["min_count"],
                                    epoch=p["epochs"], thread=p["threads"], t=p["sample"],
                                    minn=3 if subwords else 0, maxn=6 if subwords else 0,
                                    verbose=0)
    words = [w for w in m.words if w != "</s>"]
    vectors = np.array([m.get_word_vector(w) for w in words], dtype=np.float32)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu_start
peak = status("VmHWM")
training.clear()  # the evaluation below is not part of the training's memory
anon_peak[0] = max(anon_peak[0], status("RssAnon"))
from gensim.models import KeyedVectors
from gensim.test.utils import datapath
import logging
logging.disable(logging.WARNING)
kv = KeyedVectors(vectors.shape[1]); kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
ws = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]
sl = kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0]
an = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)[0]
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak,
                  "anon_peak_mb": anon_peak[0], "n_words": len(words),
                  "wordsim353": ws, "simlex999": sl, "analogy": an}))
"""

TRAINERS = [
    "gensim-skipgram",
    "gensim-skipgram-corpus_file",
    "fasttext-skipgram",
    "fasttext-skipgram-subwords",
    "wordvec-skipgram",
    "wordvec-skipgram-subwords",
    "gensim-cbow",
    "gensim-cbow-corpus_file",
    "fasttext-cbow",
    "fasttext-cbow-subwords",
    "wordvec-cbow",
    "wordvec-cbow-subwords",
]


def make_corpus(workdir: Path, max_lines: int | None = None) -> tuple[Path, int]:
    """The ~4M-token corpus, or its first ``max_lines`` 10,000-token lines (a quick check)."""
    path = workdir / "en4m.txt"
    if not path.exists():
        tokens: list[str] = []
        for name in ("gcide", "wordnet", "kjv", "web"):
            with lzma.open(SHARED / f"{name}.txt.xz", "rt", encoding="utf-8") as f:
                tokens.extend(f.read().split())
        with open(path, "w", encoding="utf-8") as out:
            for block, start in enumerate(range(0, len(tokens), 10_000)):
                if block % 2 == 0:
                    out.write(" ".join(tokens[start : start + 10_000]) + "\n")
    if max_lines is not None:
        with open(path, encoding="utf-8") as f:
            head = [line for _, line in zip(range(max_lines), f, strict=False)]
        path = workdir / f"en4m.head{max_lines}.txt"
        path.write_text("".join(head), encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        n_tokens = sum(len(line.split()) for line in f)
    return path, n_tokens


def run(name: str, corpus: Path, params: dict[str, float]) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(corpus), json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-train"
    )
    parser.add_argument("--only", nargs="*", default=None, help="Run only these trainers.")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--lines",
        type=int,
        default=None,
        help="Train on the first N 10,000-token lines only (quick before/after checks).",
    )
    parser.add_argument("--memory-check", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus, n_tokens = make_corpus(args.workdir, args.lines)
    run("wordvec-cbow", corpus, {**PARAMS, "epochs": 1})  # compile and cache the kernels
    results: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeats):
        for name in args.only or TRAINERS:
            results.setdefault(name, []).append(run(name, corpus, PARAMS))
            r = results[name][-1]
            print(
                f"{name:<30} {r['seconds']:7.1f} s ({r['cpu_seconds']:.1f} s CPU)  WS "
                f"{r['wordsim353']:.3f}  SL "
                f"{r['simlex999']:.3f}  an {r['analogy']:.3f}",
                file=sys.stderr,
                flush=True,
            )

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    epochs = PARAMS["epochs"]
    print(f"corpus: {n_tokens:,} tokens x {epochs} epochs; {PARAMS}; medians of {args.repeats}")
    header = ("trainer", "wall s", "CPU s", "M words/s", "peak MB", "WS353", "SimLex", "analogy")
    print(f"{header[0]:<30}" + "".join(f"{h:>10}" for h in header[1:]))
    summary = {}
    for name, runs in results.items():
        row = {k: median([r[k] for r in runs]) for k in runs[0]}
        row["words_per_s"] = n_tokens * PARAMS["epochs"] / row["seconds"]
        summary[name] = row
        cells = (
            f"{row['seconds']:.1f}",
            f"{row['cpu_seconds']:.1f}",
            f"{row['words_per_s'] / 1e6:.3f}",
            f"{row['peak_mb']:.0f}",
            f"{row['wordsim353']:.3f}",
            f"{row['simlex999']:.3f}",
            f"{row['analogy']:.3f}",
        )
        print(f"{name:<30}" + "".join(f"{c:>10}" for c in cells))
    for model in ("skipgram", "cbow"):
        ours = summary.get(f"wordvec-{model}")
        for rival in (f"gensim-{model}", f"gensim-{model}-corpus_file", f"fasttext-{model}"):
            if ours and rival in summary:
                ratio = summary[rival]["seconds"] / ours["seconds"]
                print(f"wordvec-{model} vs {rival}: {ratio:.2f}x the words/s")
    if args.memory_check:
        big = args.workdir / "en4m_x4.txt"
        if not big.exists():
            text = corpus.read_text(encoding="utf-8")
            big.write_text(text * 4, encoding="utf-8")
        one = {**PARAMS, "epochs": 1}
        small = run("wordvec-skipgram", corpus, one)
        # min_count x 4 on the corpus x 4 keeps exactly the same vocabulary (with the same
        # min_count, words seen 2-4 times would join it, and memory grows with the vocabulary).
        big_run = run("wordvec-skipgram", big, {**one, "min_count": 4 * PARAMS["min_count"]})
        print(
            f"memory: peak resident {small['peak_mb']:.0f} MB on the corpus, "
            f"{big_run['peak_mb']:.0f} MB on it x4 (min_count x4: {small['n_words']:,} and "
            f"{big_run['n_words']:,} words); anonymous (without the pages of the memory-mapped "
            f"corpus) {small['anon_peak_mb']:.0f} / {big_run['anon_peak_mb']:.0f} MB"
        )
        summary["memory"] = {
            "corpus_peak_mb": small["peak_mb"],
            "corpus_x4_peak_mb": big_run["peak_mb"],
            "corpus_anon_peak_mb": small["anon_peak_mb"],
            "corpus_x4_anon_peak_mb": big_run["anon_peak_mb"],
        }
    if args.json:
        args.json.write_text(
            json.dumps(
                {"params": PARAMS, "n_tokens": n_tokens, "runs": results, "summary": summary},
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
