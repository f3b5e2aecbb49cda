"""Benchmark: ``wordvec.eval.evaluate_analogy`` against gensim's ``evaluate_word_analogies``.

Not part of the test suite. Run from the project root::

    python tests/benchmarks/bench_eval.py               # full Google set, restrict_vocab 30,000,
                                                        # 300 dims (the required size)
    python tests/benchmarks/bench_eval.py --size small  # quick look (every 10th question)
    python tests/benchmarks/bench_eval.py --size medium --json bench_eval.json

The vocabulary holds every word of gensim's ``questions-words.txt`` at random places among the
first ``--restrict-vocab`` rows, then random filler words up to ``--words``; the vectors are
random float32 with planted structure (within a section, the second word of a pair is the first
plus that section's offset plus noise) so that a good share of questions is answered right and
the accuracies compared are not all zero. They are written once to a store in ``--workdir``.

Both sides answer the same questions with 3CosAdd, ``restrict_vocab`` and gensim's case rule:
wordvec from the store (``wordvec.load``; each run makes a fresh view, so normalizing the rows
is timed; one warm-up run first loads the Numba kernel from its cache or compiles it), gensim
from ``KeyedVectors`` holding the same matrix. The table gives the median of ``--repeats``
runs and the gensim / wordvec ratio, and the script checks that the total accuracy and every
section's correct/incorrect counts are equal.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZES = {
    "small": {"dim": 50, "restrict_vocab": 5_000, "words": 8_000, "every": 10},
    "medium": {"dim": 300, "restrict_vocab": 30_000, "words": 40_000, "every": 10},
    "full": {"dim": 300, "restrict_vocab": 30_000, "words": 40_000, "every": 1},
}


def make_store(
    workdir: Path, n_words: int, restrict_vocab: int, dim: int, noise: float, seed: int
) -> Path:
    """The synthetic store (reused when it exists); returns its path."""
    from wordvec.embeddings import Embeddings
    from wordvec.eval.datasets import read_analogy_dataset
    from wordvec.formats.store import write_store

    path = workdir / f"analogy_{n_words}_{restrict_vocab}_{dim}_{noise}_{seed}.h5"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    planted: dict[str, np.ndarray] = {}
    for section in read_analogy_dataset("google").sections:
        offset = rng.standard_normal(dim).astype(np.float32)
        for a, b, c, d in section.questions:
            for x, y in ((a, b), (c, d)):
                if x not in planted:
                    planted[x] = rng.standard_normal(dim).astype(np.float32)
                if y not in planted:
                    planted[y] = planted[x] + offset + noise * rng.standard_normal(dim)
    dataset_words = list(planted)
    if restrict_vocab < len(dataset_words) or n_words < restrict_vocab:
        raise SystemExit(f"need {len(dataset_words)} <= --restrict-vocab <= --words")
    words: list[str | None] = [None] * n_words
    vectors = rng.standard_normal((n_words, dim)).astype(np.float32)
    places = rng.choice(restrict_vocab, size=len(dataset_words), replace=False)
    for place, word in zip(places.tolist(), dataset_words, strict=True):
        words[place] = word
        vectors[place] = planted[word]
    filler = iter(range(n_words))
    names = [w if w is not None else f"filler{next(filler)}" for w in words]
    write_store(path, Embeddings.from_words(names, vectors))
    return path


def question_file(workdir: Path, every: int) -> Path:
    """gensim's questions-words.txt, or every ``every``-th question of each section."""
    from wordvec.eval.datasets import dataset_path, read_analogy_dataset

    if every == 1:
        return dataset_path("google")
    path = workdir / f"questions_every{every}.txt"
    lines = []
    for section in read_analogy_dataset("google").sections:
        lines.append(f": {section.name}")
        lines += [" ".join(q) for q in section.questions[::every]]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wordvec(store: Path, questions: Path, restrict_vocab: int) -> tuple[float, Any]:
    import wordvec
    from wordvec.eval import evaluate_analogy

    start = time.perf_counter()
    with wordvec.load(str(store)) as vectors:
        result = evaluate_analogy(vectors, questions, restrict_vocab=restrict_vocab)
    return time.perf_counter() - start, result


def run_gensim(kv: Any, questions: Path, restrict_vocab: int) -> tuple[float, Any]:
    start = time.perf_counter()
    outcome = kv.evaluate_word_analogies(str(questions), restrict_vocab=restrict_vocab)
    return time.perf_counter() - start, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--dim", type=int, default=None)
    parser.add_argument("--restrict-vocab", type=int, default=None)
    parser.add_argument("--words", type=int, default=None)
    parser.add_argument("--every", type=int, default=None, help="use every k-th question")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--noise", type=float, default=3.0, help="planted-structure noise")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()
    config = dict(SIZES[args.size])
    for key in config:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    logging.getLogger("gensim").setLevel(logging.WARNING)

    from gensim.models import KeyedVectors

    import wordvec

    args.workdir.mkdir(parents=True, exist_ok=True)
    store = make_store(
        args.workdir,
        config["words"],
        config["restrict_vocab"],
        config["dim"],
        args.noise,
        args.seed,
    )
    questions = question_file(args.workdir, config["every"])
    with wordvec.load(str(store)) as vectors:
        kv = KeyedVectors(config["dim"])
        kv.add_vectors(list(vectors), np.array(vectors.vectors))
    restrict = config["restrict_vocab"]

    cold, ours = run_wordvec(store, questions, restrict)  # loads or compiles the kernel
    ours_times, gensim_times = [], []
    for _ in range(args.repeats):
        seconds, ours = run_wordvec(store, questions, restrict)
        ours_times.append(seconds)
        seconds, (gensim_score, gensim_sections) = run_gensim(kv, questions, restrict)
        gensim_times.append(seconds)

    ours_counts = [(s.name, s.correct, s.incorrect) for s in (*ours.sections, ours.total)]
    gensim_counts = [
        (s["section"], len(s["correct"]), len(s["incorrect"])) for s in gensim_sections
    ]
    equal = ours.accuracy == gensim_score and ours_counts == gensim_counts
    ours_median, gensim_median = statistics.median(ours_times), statistics.median(gensim_times)
    n_answered = ours.total.correct + ours.total.incorrect
    print(
        f"analogy benchmark ({args.size}): {ours.total.n_questions:,} questions "
        f"({n_answered:,} answerable), restrict_vocab {restrict:,}, {config['dim']} dims, "
        f"{config['words']:,} words; median of {args.repeats}"
    )
    print(f"{'':<10} {'seconds':>9} {'questions/s':>12} {'accuracy':>9}")
    for name, seconds, accuracy in (
        ("gensim", gensim_median, gensim_score),
        ("wordvec", ours_median, ours.accuracy),
    ):
        print(f"{name:<10} {seconds:>9.3f} {n_answered / seconds:>12,.0f} {accuracy:>9.4f}")
    print(f"wordvec first run (kernel load/compile included): {cold:.3f} s")
    print(f"speed-up gensim / wordvec: {gensim_median / ours_median:.1f}x")
    print(f"accuracy and per-section counts equal: {'yes' if equal else 'NO'}")
    if not equal:
        for mine, theirs in zip(ours_counts, gensim_counts, strict=True):
            if mine != theirs:
                print(f"  differs: wordvec {mine} gensim {theirs}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "size": args.size,
                    "config": config | {"noise": args.noise, "seed": args.seed},
                    "repeats": args.repeats,
                    "n_questions": ours.total.n_questions,
                    "n_answerable": n_answered,
                    "wordvec_seconds": ours_times,
                    "wordvec_first_run_seconds": cold,
                    "gensim_seconds": gensim_times,
                    "speedup": gensim_median / ours_median,
                    "accuracy": {"wordvec": ours.accuracy, "gensim": gensim_score},
                    "equal": equal,
                },
                indent=2,
            )
            + "\n"
        )
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
