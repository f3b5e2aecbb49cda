"""Benchmark: wordvec's word2vec text/binary readers against gensim's ``load_word2vec_format``.

Not part of the test suite. Run from the project root::

    python tests/benchmarks/bench_formats.py --words 200000 --dim 300 --repeats 3

It writes a synthetic word2vec text file (values printed as gensim prints them) and a binary
file once into ``--workdir``, then, in a fresh subprocess per measurement, times (1) gensim's
``KeyedVectors.load_word2vec_format`` and (2) wordvec reading the same file into memory
(``read_embeddings(read_word2vec_*(path))``), and (3) wordvec converting it to a store (the
streaming path, bounded memory). For binary files it also times the reader with the record
scan forced to NumPy and forced to the Numba kernels (the default picks by record count).
Each subprocess reports the wall and CPU time of the read alone (imports are done before the
clock starts; a Numba kernel's first call, which loads it from the cache, is timed) and its
peak resident memory (``VmHWM``, imports included); the table shows medians and the
gensim / wordvec ratios. Vectors are checked equal to gensim's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
kind, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
binary = path.endswith(".bin")
if kind == "gensim":
    from gensim.models import KeyedVectors
elif kind.startswith("wordvec"):
    from wordvec.formats import word2vec
    from wordvec.formats.base import read_embeddings
    from wordvec.formats.word2vec import read_word2vec_binary, read_word2vec_text
    if not binary:
        from wordvec.formats import text_kernels  # imports numba (not timed, as gensim's import)
    if kind == "wordvec-numpy":
        word2vec.KERNEL_MIN_RECORDS = 1 << 62
    elif kind == "wordvec-numba":
        word2vec.KERNEL_MIN_RECORDS = 0
        import numba  # the import is not timed; the kernels' first call (cache load) is
else:
    from wordvec.formats.convert import convert
    from wordvec.formats import text_kernels
start, cpu = time.perf_counter(), time.process_time()
if kind == "gensim":
    n = len(KeyedVectors.load_word2vec_format(path, binary=binary))
elif kind.startswith("wordvec"):
    n = len(read_embeddings((read_word2vec_binary if binary else read_word2vec_text)(path)))
else:
    n = convert(path, out).n_words
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "n": n}))
"""


def make_files(workdir: Path, n_words: int, dim: int, kinds: list[str]) -> list[Path]:
    import numpy as np
    from gensim.models import KeyedVectors

    paths = [workdir / ("vectors.bin" if kind == "binary" else "vectors.txt") for kind in kinds]
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(0)
    kv = KeyedVectors(dim)
    kv.add_vectors(
        [f"w{i}" for i in range(n_words)], rng.standard_normal((n_words, dim)).astype("f4")
    )
    for path in paths:
        kv.save_word2vec_format(str(path), binary=path.suffix == ".bin")
    return paths


def measure(kind: str, path: Path, workdir: Path) -> dict[str, float]:
    out = workdir / "out.h5"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    if out.exists():
        out.unlink()
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--formats", nargs="+", choices=["text", "binary"], default=["text", "binary"]
    )
    args = parser.parse_args()
    workdir = (
        args.workdir
        or Path(tempfile.gettempdir()) / f"wordvec-bench-formats-{args.words}x{args.dim}"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    files = make_files(workdir, args.words, args.dim, args.formats)

    import numpy as np
    from gensim.models import KeyedVectors

    from wordvec.formats.base import read_embeddings
    from wordvec.formats.word2vec import read_word2vec_binary, read_word2vec_text

    for path in files:
        reader = read_word2vec_binary if path.suffix == ".bin" else read_word2vec_text
        ours = read_embeddings(reader(path, limit=2000))
        theirs = KeyedVectors.load_word2vec_format(
            str(path), binary=path.suffix == ".bin", limit=2000
        )
        assert np.array_equal(ours.vectors, theirs.vectors), f"vectors differ from gensim: {path}"
    for path in files:
        measure("wordvec", path, workdir)  # warm the Numba cache and the page cache

    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for path in files:
        kinds = ["gensim", "wordvec", "convert"]
        if path.suffix == ".bin":
            kinds[2:2] = ["wordvec-numpy", "wordvec-numba"]
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.repeats):
            for kind in runs:
                runs[kind].append(measure(kind, path, workdir))
        results[path.name] = runs

    size = {p.name: os.path.getsize(p) / 1e6 for p in files}
    print(f"{args.words:,} words x {args.dim} dims, medians of {args.repeats} fresh processes")
    print(
        f"{'file':<14}{'reader':<28}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}"
        f"{'gensim/this':>13}{'(CPU)':>8}"
    )
    summary = {}
    for name, runs in results.items():
        gensim_s = statistics.median(r["seconds"] for r in runs["gensim"])
        gensim_cpu = statistics.median(r["cpu"] for r in runs["gensim"])
        labels = {
            "gensim": "gensim load_word2vec_format",
            "wordvec": "wordvec read (in memory)",
            "wordvec-numpy": "  forced NumPy record scan",
            "wordvec-numba": "  forced Numba record scan",
            "convert": "wordvec convert -> store",
        }
        for kind in runs:
            secs = statistics.median(r["seconds"] for r in runs[kind])
            cpu = statistics.median(r["cpu"] for r in runs[kind])
            peak = statistics.median(r["peak_mb"] for r in runs[kind])
            print(
                f"{name:<14}{labels[kind]:<28}{secs:>9.2f}{cpu:>8.2f}{peak:>9.0f}"
                f"{gensim_s / secs:>12.1f}x{gensim_cpu / cpu:>7.1f}x"
            )
            summary[f"{name}:{kind}"] = {
                "seconds": secs,
                "cpu": cpu,
                "peak_mb": peak,
                "ratio": gensim_s / secs,
                "cpu_ratio": gensim_cpu / cpu,
            }
        print(f"{'':<14}({size[name]:.0f} MB file)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"workdir": str(workdir), "json": str(args.json)},
                    "results": results,
                    "summary": summary,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
