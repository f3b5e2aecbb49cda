"""Diagnosis: why hash embeddings with a table of a tenth of the vocabulary lose relatedness.

Not part of the test suite. Needs the ~4M-token English corpus of ``bench_train.py``. Run from
the project root::

    python tests/benchmarks/diagnose_hash.py --lines 99                  # ablations, ~1M tokens
    python tests/benchmarks/diagnose_hash.py --ceiling /tmp/c2/hb/sg.h5  # least-squares ceiling
    python tests/benchmarks/diagnose_hash.py --center sg.h5 hash3500.h5   # shared component

**Ablations** (``--lines N``: the first N 10,000-token lines; skip-gram, 100 dims, 5 epochs,
min_count 5, one thread, seed 1, all trained in this process): full skip-gram; fastText
subwords (own word rows, 200,000 n-gram buckets); hash embeddings of the whole word only
(n-grams switched off with ``min_n = max_n = 64``) with as many rows as words and with a tenth;
n-grams 3..6 with 3 and 4 hashes and floret's 4..5 with 2; the whole word's rows repeated 10
times in every bag (weight ~1/3 instead of ~1/25: the bag function is patched here, the
library has no such option); learning rates 0.025 and 0.1. Each is scored raw and with the
vocabulary's mean vector subtracted (``--hash-center``): WordSim-353, SimLex-999, analogy.

**Ceiling** (``--ceiling STORE``, a skip-gram store): for several hashing schemes with 3,500
rows, the table ``T`` minimising ``sum_w weight_w ||mean of T over bag(w) - x_w||^2`` (exact
least squares, uniform and sqrt(count) weights) and the scores of the vectors it gives: what
any training could at best keep of the skip-gram geometry with that table.

**Shared component** (``--center STORE...``): for each store, the mean cosine of 2,000 random
pairs of its 30,000 most frequent words, and the scores raw and with the vocabulary's mean
vector subtracted (what ``--hash-center`` does to a hash table).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def scores(words: list[str], vectors: np.ndarray, workdir: Path) -> list[float]:
    import wordvec
    from wordvec.embeddings import Embeddings
    from wordvec.eval import EvalVectors, evaluate_analogy, evaluate_similarity
    from wordvec.formats.store import write_store

    path = Path(tempfile.mktemp(suffix=".h5", dir=workdir))
    write_store(path, Embeddings.from_words(words, vectors.astype(np.float32)), oov_index=False)
    try:
        with wordvec.load(path) as v:
            view = EvalVectors(v)
            out = [
                evaluate_similarity(view, name, restrict_vocab=30000).spearman
                for name in ("wordsim353", "simlex999")
            ]
            out.append(evaluate_analogy(view, "google", restrict_vocab=30000).accuracy)
    finally:
        path.unlink()
    return [round(float(x), 3) for x in out]


def ablations(corpus: Path, workdir: Path) -> None:
    from wordvec import hash_embeddings, train
    from wordvec.train import Word2VecConfig, train_word2vec

    base = Word2VecConfig(dim=100, epochs=5, min_count=5, threads=1, seed=1)
    sg = train_word2vec(str(corpus), base)
    n = len(sg.vocab)
    tenth = max(1, n // 10)
    hashed = dataclasses.replace(base, hash_embeddings=True, hash_rows=tenth, n_hashes=3)
    word_only = dataclasses.replace(hashed, subword_min_n=64, subword_max_n=64)
    settings: dict[str, tuple[Any, int]] = {
        "skip-gram": (base, 1),
        "fastText subwords 3-6, 200k buckets": (
            dataclasses.replace(base, subwords=True, n_buckets=200_000),
            1,
        ),
        f"hash word only, {n} rows": (dataclasses.replace(word_only, hash_rows=n), 1),
        f"hash word only, {tenth} rows": (word_only, 1),
        f"hash 3-6 x3, {tenth} rows": (hashed, 1),
        f"hash 3-6 x4, {tenth} rows": (dataclasses.replace(hashed, n_hashes=4), 1),
        f"hash 4-5 x2 (floret), {tenth} rows": (
            dataclasses.replace(hashed, n_hashes=2, subword_min_n=4, subword_max_n=5),
            1,
        ),
        f"hash 3-6 x3, {tenth} rows, word rows x10": (hashed, 10),
        f"hash 3-6 x3, {tenth} rows, lr 0.025": (
            dataclasses.replace(hashed, learning_rate=0.025),
            1,
        ),
        f"hash 3-6 x3, {tenth} rows, lr 0.1": (dataclasses.replace(hashed, learning_rate=0.1), 1),
    }
    original = hash_embeddings.hash_bags
    print(f"{n:,} words; WordSim-353 / SimLex-999 / analogy, raw | centred")
    for name, (config, repeat) in settings.items():
        if repeat > 1:
            train.hash_bags = _repeating_word_rows(original, repeat)  # type: ignore[assignment]
        try:
            emb = sg if name == "skip-gram" else train_word2vec(str(corpus), config)
        finally:
            train.hash_bags = original  # type: ignore[assignment]
        words = list(emb.vocab.words)
        raw = scores(words, emb.vectors, workdir)
        centred = scores(words, emb.vectors - emb.vectors.mean(axis=0), workdir)
        print(f"{name}: {raw} | {centred}", flush=True)


def _repeating_word_rows(original: Any, repeat: int) -> Any:
    """``hash_bags`` with the whole word's rows listed ``repeat`` times in every bag."""

    def bags(words_utf8: Any, word_offsets: Any, params: Any) -> tuple[Any, Any]:
        offsets, rows = original(words_utf8, word_offsets, params)
        k = params.n_hashes
        sizes = np.diff(offsets) + (repeat - 1) * k
        new_offsets = np.zeros(offsets.size, dtype=np.int64)
        np.cumsum(sizes, out=new_offsets[1:])
        parts = []
        for i in range(offsets.size - 1):
            lo, hi = int(offsets[i]), int(offsets[i + 1])
            parts += [np.tile(rows[lo : lo + k], repeat), rows[lo + k : hi]]
        return new_offsets, np.concatenate(parts).astype(np.int32)

    return bags


def ceiling(store: Path, workdir: Path) -> None:
    import scipy.sparse as sparse

    import wordvec
    from wordvec.hash_embeddings import HashParams, hash_bags, words_to_arrays

    with wordvec.load(store) as v:
        words = list(v)
        x = np.asarray(v.vectors, dtype=np.float64)
        counts = np.asarray(v.counts, dtype=np.float64)
    print(f"{store}: {len(words):,} words; skip-gram itself: {scores(words, x, workdir)}")
    blob, offsets = words_to_arrays(words)
    for rows, k, min_n, max_n in [(3500, 3, 3, 6), (3500, 2, 4, 5), (3500, 3, 64, 64)]:
        bag_offsets, bag_rows = hash_bags(blob, offsets, HashParams(rows, k, min_n, max_n))
        sizes = np.diff(bag_offsets)
        a = sparse.csr_matrix(
            (np.repeat(1.0 / sizes, sizes), bag_rows, bag_offsets), shape=(len(words), rows)
        )
        found = []
        for label, weight in (("uniform", np.ones(len(words))), ("sqrt-count", np.sqrt(counts))):
            aw = sparse.diags(weight) @ a
            gram = (aw.T @ aw).toarray() + 1e-6 * np.eye(rows)
            table = np.linalg.solve(gram, aw.T @ (weight[:, None] * x))
            fitted = a @ table
            error = ((fitted - x) ** 2).sum() / (x**2).sum()
            found.append(f"{label}: {scores(words, fitted, workdir)} (rel. error {error:.2f})")
        print(f"{rows} rows, {k} hashes, n-grams {min_n}-{max_n}: " + "; ".join(found))


def shared_component(stores: list[Path], workdir: Path) -> None:
    import wordvec

    for store in stores:
        with wordvec.load(store) as v:
            words = list(v)
            vectors = np.asarray(v.vectors, dtype=np.float32)
        top = vectors[:30000] / np.linalg.norm(vectors[:30000], axis=1, keepdims=True)
        rng = np.random.default_rng(0)
        a, b = rng.integers(0, top.shape[0], (2, 2000))
        mean_cosine = float((top[a] * top[b]).sum(axis=1).mean())
        raw = scores(words, vectors, workdir)
        centred = scores(words, vectors - vectors.mean(axis=0), workdir)
        print(f"{store}: mean cosine of random pairs {mean_cosine:.2f}; {raw} | centred {centred}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wordvec-diagnose-hash"
    )
    parser.add_argument("--lines", type=int, default=None, help="Ablations on this many lines.")
    parser.add_argument("--ceiling", type=Path, default=None, help="Skip-gram store to fit.")
    parser.add_argument("--center", type=Path, nargs="*", default=[], help="Stores to centre.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average: {os.getloadavg()}")
    if args.lines:
        sys.path.insert(0, str(HERE))
        from bench_train import make_corpus

        corpus, tokens = make_corpus(args.workdir, max_lines=args.lines)
        print(f"corpus: {tokens:,} tokens")
        ablations(corpus, args.workdir)
    if args.ceiling:
        ceiling(args.ceiling, args.workdir)
    if args.center:
        shared_component(args.center, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
