"""Benchmark: hash (Bloom) embeddings against full skip-gram on the same corpus.

Not part of the test suite. Needs the ~4M-token English corpus of ``bench_train.py`` (built from
``../shared/data/en`` into ``--workdir`` if missing). Run from the project root::

    python tests/benchmarks/bench_hash.py --workdir /tmp/wordvec-bench-hash --json out.json

Each setting is trained with the CLI (skip-gram, 100 dims, 5 epochs, min_count 5,
``--threads 1``, seed 1), the full model and ``--hash-embeddings`` with 50,000, 100,000 and 3,500
table rows (3 hashes, n-grams 3..6), and 3,500 and 50,000 rows with ``--hash-center``; a store
already in the workdir with its ``NAME.json`` training summary is reused, so an interrupted run
resumes. Every store is measured in this run:

* file size, and the vector matrix alone (the dense ``vectors`` or the ``hash_table``, plus
  ``norms``);
* WordSim-353 and SimLex-999 Spearman and Google analogy accuracy, all with
  ``restrict_vocab=30000`` (pairs with a word outside it dropped, as gensim does), and the two
  Spearman scores over *all* pairs with unknown words answered by the store's fallback
  (n-gram neighbours for the full model, the word's own hash bag for hash embeddings);
* median ``v[word]`` and ``most_similar`` latency (2,000 and 100 random vocabulary words).

Training times are single runs on a shared machine: the script prints ``uptime``'s load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SETTINGS: dict[str, list[str]] = {
    "sg": [],
    "hash50k": ["--hash-embeddings", "--hash-rows", "50000", "--hashes", "3"],
    "hash100k": ["--hash-embeddings", "--hash-rows", "100000", "--hashes", "3"],
    # A tenth of the vocabulary (35,033 words): the target size.
    "hash3500": ["--hash-embeddings", "--hash-rows", "3500", "--hashes", "3"],
    # The same, with the vocabulary's mean vector subtracted from the finished table.
    "hash3500c": ["--hash-embeddings", "--hash-rows", "3500", "--hashes", "3", "--hash-center"],
    "hash50kc": ["--hash-embeddings", "--hash-rows", "50000", "--hashes", "3", "--hash-center"],
}


def train(workdir: Path, name: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from bench_train import make_corpus

    store, summary = workdir / f"{name}.h5", workdir / f"{name}.json"
    if not (store.exists() and summary.exists() and summary.stat().st_size):
        corpus, _ = make_corpus(workdir)
        out = subprocess.run(
            [sys.executable, "-c", "from wordvec.cli.main import cli; cli()", "train",
             str(corpus), "-o", str(store), "--dim", "100", "--epochs", "5", "--min-count", "5",
             "--threads", "1", "--seed", "1", "--no-progress", "--json", *SETTINGS[name]],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        summary.write_text(out)
    result: dict[str, Any] = json.loads(summary.read_text())
    return result


def measure(path: Path) -> dict[str, float]:
    import h5py

    import wordvec
    from wordvec.eval import EvalVectors, evaluate_analogy, evaluate_similarity

    sys.path.insert(0, str(HERE))
    from bench_compress import measure as measure_store

    result = measure_store(path)
    with h5py.File(path, "r") as f:
        result["matrix_bytes"] = sum(
            int(f[name].nbytes) for name in ("vectors", "hash_table", "norms") if name in f
        )
    with wordvec.load(path) as v:
        view = EvalVectors(v)
        for dataset in ("wordsim353", "simlex999"):
            result[dataset] = evaluate_similarity(view, dataset, restrict_vocab=30000).spearman
            every = evaluate_similarity(view, dataset, restrict_vocab=30000, oov="fallback")
            result[f"{dataset}_all"] = every.spearman
            result[f"{dataset}_coverage"] = every.coverage
        result["analogy"] = evaluate_analogy(view, "google", restrict_vocab=30000).accuracy
        result["n_words"] = len(v)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-bench-hash"
    )
    parser.add_argument("--only", nargs="*", default=None, help="Run only these settings.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    for name in args.only or list(SETTINGS):
        summary = train(args.workdir, name)
        rows[name] = {"train_s": summary["seconds"], **measure(args.workdir / f"{name}.h5")}
    base = rows.get("sg")
    print("load:", os.getloadavg())
    header = (
        "setting | words | file MB | matrix MB | matrix ratio | WS353 | SimLex | analogy | "
        "WS353 all | SimLex all | lookup us | most_similar ms | train s"
    )
    print(header)
    for name, r in rows.items():
        ratio = base["matrix_bytes"] / r["matrix_bytes"] if base else float("nan")
        print(
            f"{name} | {r['n_words']} | {r['file_bytes'] / 1e6:.1f} | "
            f"{r['matrix_bytes'] / 1e6:.2f} | {ratio:.1f}x | {r['wordsim353']:.3f} | "
            f"{r['simlex999']:.3f} | {r['analogy']:.3f} | {r['wordsim353_all']:.3f} | "
            f"{r['simlex999_all']:.3f} | {r['lookup_us']:.0f} | {r['most_similar_ms']:.1f} | "
            f"{r['train_s']:.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
