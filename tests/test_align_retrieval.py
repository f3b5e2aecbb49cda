"""Blocked CSLS, retrieval, dictionary induction and BLI against dense NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from wordvec.align_dictionary import TranslationPairs
from wordvec.align_retrieval import (
    NoCoverageError,
    csls_penalty,
    evaluate_bli,
    induce_dictionary,
    mean_csls_cosine,
    nearest,
    neighbourhoods,
    unit_rows,
)
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError

# Block sizes in bytes: one row per block, a few rows, a block that does not divide the rows,
# and everything at once.
BLOCKS = [4, 4 * 29 * 3, 4 * 29 * 7, 1 << 27]


def _spaces(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = unit_rows(rng.standard_normal((37, 8)))
    b = unit_rows(rng.standard_normal((29, 8)))
    return a, b


def _topk_mean(sims: np.ndarray, k: int) -> np.ndarray:
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def _dense_csls(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """The full CSLS matrix 2 cos - r_T(x) - r_S(y) (MUSE's definition)."""
    sims = a @ b.T
    return 2 * sims - _topk_mean(sims, k)[:, None] - _topk_mean(sims.T, k)[None, :]


@pytest.mark.parametrize("block_bytes", BLOCKS)
def test_neighbourhoods_match_dense_reference(block_bytes: int) -> None:
    a, b = _spaces()
    sims = a @ b.T
    hoods = neighbourhoods(a, b, 3, block_bytes=block_bytes)
    np.testing.assert_allclose(hoods.row_mean, _topk_mean(sims, 3), atol=1e-6)
    np.testing.assert_allclose(hoods.column_mean, _topk_mean(sims.T, 3), atol=1e-6)
    np.testing.assert_allclose(hoods.row_best, sims.max(axis=1), atol=1e-6)
    np.testing.assert_allclose(hoods.column_best, sims.max(axis=0), atol=1e-6)


def test_k_is_capped_by_the_other_space() -> None:
    a, b = _spaces()
    hoods = neighbourhoods(a, b[:2], 10)
    np.testing.assert_allclose(hoods.row_mean, (a @ b[:2].T).mean(axis=1), atol=1e-6)
    with pytest.raises(ConfigError):
        neighbourhoods(a, b, 0)
    with pytest.raises(ConfigError, match="dimensions"):
        neighbourhoods(a, b[:, :4], 3)


@pytest.mark.parametrize("block_bytes", BLOCKS)
def test_csls_retrieval_matches_dense_reference(block_bytes: int) -> None:
    a, b = _spaces(1)
    penalty = csls_penalty(b, a, 10, block_bytes=block_bytes)
    np.testing.assert_allclose(penalty, _topk_mean((a @ b.T).T, 10), atol=1e-6)
    ids, scores = nearest(a, b, 5, target_penalty=penalty / 2, block_bytes=block_bytes)
    expected = np.argsort(-_dense_csls(a, b, 10), axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(ids, expected)
    rows = np.arange(a.shape[0])[:, None]
    np.testing.assert_allclose(scores, (a @ b.T - penalty / 2)[rows, ids], atol=1e-6)


def test_nearest_neighbour_retrieval_and_ties() -> None:
    a, b = _spaces(2)
    ids, scores = nearest(a, b, 4, block_bytes=4 * 29 * 2)
    np.testing.assert_array_equal(ids, np.argsort(-(a @ b.T), axis=1, kind="stable")[:, :4])
    assert np.all(np.diff(scores, axis=1) <= 0)
    # Equal scores: the lower target id wins.
    twins = np.vstack([b[3], b[3], b[3]])
    ids, _ = nearest(b[3:4], twins, 2)
    assert ids.tolist() == [[0, 1]]
    ids, _ = nearest(a, b, 100)  # k beyond the targets: all of them
    assert ids.shape == (37, 29)


@pytest.mark.parametrize("direction", ["union", "forward", "backward"])
@pytest.mark.parametrize("csls_k", [0, 3])
def test_induced_dictionary_matches_dense_reference(direction: str, csls_k: int) -> None:
    a, b = _spaces(3)
    scores = _dense_csls(a, b, csls_k) if csls_k else a @ b.T
    forward = (np.arange(a.shape[0]), scores.argmax(axis=1))
    backward = (scores.argmax(axis=0), np.arange(b.shape[0]))
    parts = {"forward": [forward], "backward": [backward], "union": [forward, backward]}
    expected_source = np.concatenate([p[0] for p in parts[direction]])
    expected_target = np.concatenate([p[1] for p in parts[direction]])
    induced = induce_dictionary(
        a,
        b,
        csls_k=csls_k,
        direction=direction,
        block_bytes=4 * 29 * 5,  # type: ignore[arg-type]
    )
    np.testing.assert_array_equal(induced.source_ids, expected_source)
    np.testing.assert_array_equal(induced.target_ids, expected_target)
    sims = a @ b.T
    objectives = {
        "forward": sims.max(axis=1).mean(),
        "backward": sims.max(axis=0).mean(),
        "union": (sims.max(axis=1).mean() + sims.max(axis=0).mean()) / 2,
    }
    assert induced.objective == pytest.approx(objectives[direction], abs=1e-6)


def test_stochastic_induction_is_reproducible_and_block_independent() -> None:
    a, b = _spaces(4)
    runs = [induce_dictionary(a, b, keep_prob=0.3, seed=7, block_bytes=size) for size in BLOCKS]
    for run in runs[1:]:
        np.testing.assert_array_equal(run.source_ids, runs[0].source_ids)
        np.testing.assert_array_equal(run.target_ids, runs[0].target_ids)
    other = induce_dictionary(a, b, keep_prob=0.3, seed=8)
    full = induce_dictionary(a, b, keep_prob=1.0)
    assert not np.array_equal(other.target_ids, runs[0].target_ids)
    assert not np.array_equal(full.target_ids, runs[0].target_ids)
    # Extreme dropout still gives every word a valid translation.
    sparse = induce_dictionary(a, b, keep_prob=0.01, seed=1)
    assert sparse.target_ids.min() >= 0 and sparse.source_ids.min() >= 0
    with pytest.raises(ConfigError):
        induce_dictionary(a, b, keep_prob=0.0)
    with pytest.raises(ConfigError):
        induce_dictionary(a, b, direction="sideways")  # type: ignore[arg-type]


def test_mean_csls_cosine_is_high_for_aligned_spaces() -> None:
    a, b = _spaces(5)
    assert mean_csls_cosine(a, a) == pytest.approx(1.0, abs=1e-5)
    assert mean_csls_cosine(a, b) < 0.9


def _embeddings(prefix: str, vectors: np.ndarray) -> Embeddings:
    return Embeddings.from_words([f"{prefix}{i}" for i in range(len(vectors))], vectors)


def test_bli_precision_and_coverage_by_hand() -> None:
    a, b = _spaces(6)
    src, tgt = _embeddings("s", a), _embeddings("t", b)
    sims = a @ b.T
    nn_order = np.argsort(-sims, axis=1, kind="stable")
    csls_order = np.argsort(-_dense_csls(a, b, 10), axis=1, kind="stable")
    pairs = [
        ("s0", f"t{nn_order[0, 0]}"),  # right at rank 1 (nn)
        ("s1", f"t{nn_order[1, 3]}"),  # rank 4 ...
        ("s1", f"t{nn_order[1, 7]}"),  # ... and an alternative at rank 8: P@5 counts s1
        ("s2", f"t{nn_order[2, 20]}"),  # beyond 10
        ("s3", "nonexistent"),  # not covered
        ("missing", "t0"),  # not covered
    ]
    scores = evaluate_bli(src, tgt, TranslationPairs.of(pairs, "hand"), ks=(1, 5, 10))
    assert scores.precision["nn"] == {1: pytest.approx(1 / 3), 5: pytest.approx(2 / 3),
                                      10: pytest.approx(2 / 3)}  # fmt: skip
    assert scores.n_source_words == 5 and scores.n_source_words_found == 3
    assert scores.coverage == pytest.approx(3 / 5)
    assert scores.n_pairs == 6 and scores.n_pairs_found == 4
    # CSLS precision from the dense reference ranking.
    gold = {0: {nn_order[0, 0]}, 1: {nn_order[1, 3], nn_order[1, 7]}, 2: {nn_order[2, 20]}}
    for k in (1, 5, 10):
        hits = [bool(gold[q] & set(csls_order[q, :k].tolist())) for q in gold]
        assert scores.precision["csls"][k] == pytest.approx(np.mean(hits))
    assert scores.to_dict()["precision"]["nn"]["1"] == pytest.approx(1 / 3)


def test_bli_without_coverage_raises() -> None:
    a, b = _spaces()
    with pytest.raises(NoCoverageError):
        evaluate_bli(_embeddings("s", a), _embeddings("t", b), TranslationPairs.of([("x", "y")]))
    with pytest.raises(ConfigError):
        evaluate_bli(
            _embeddings("s", a), _embeddings("t", b), TranslationPairs.of([("s0", "t0")]),
            methods=("exact",),
        )  # fmt: skip


def test_kernels_match_with_jit_disabled() -> None:
    """The kernels are plain Python under NUMBA_DISABLE_JIT=1: same answers, dropout included
    (uint64 hash arithmetic wraps the same way; NumPy only warns about it)."""
    import os
    import subprocess
    import sys

    code = (
        "import warnings, numpy as np\n"
        "warnings.simplefilter('ignore')\n"
        "from wordvec.align_retrieval import induce_dictionary, neighbourhoods\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.standard_normal((9, 4)).astype(np.float32)\n"
        "b = rng.standard_normal((7, 4)).astype(np.float32)\n"
        "d = induce_dictionary(a, b, csls_k=2, keep_prob=0.5, seed=3, block_bytes=4 * 7 * 2)\n"
        "h = neighbourhoods(a, b, 3)\n"
        "print(d.source_ids.tolist(), d.target_ids.tolist(), h.column_mean.round(5).tolist())\n"
    )
    outputs = []
    for disable in ("1", "0"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


def test_induction_with_given_penalties_takes_one_pass() -> None:
    a, b = _spaces(7)
    exact = induce_dictionary(a, b, csls_k=3, keep_prob=0.5, seed=2)
    given = induce_dictionary(
        a, b, csls_k=3, keep_prob=0.5, seed=2, block_bytes=4 * 29 * 4,
        penalties=(exact.source_neighbourhood, exact.target_neighbourhood),
    )  # fmt: skip
    np.testing.assert_array_equal(given.source_ids, exact.source_ids)
    np.testing.assert_array_equal(given.target_ids, exact.target_ids)
    assert given.objective == pytest.approx(exact.objective)
    np.testing.assert_allclose(given.target_neighbourhood, exact.target_neighbourhood)
    with pytest.raises(ConfigError, match="penalties"):
        induce_dictionary(
            a, b, penalties=(exact.source_neighbourhood[:3], exact.target_neighbourhood)
        )
