"""Bilingual lexicon induction on a planted case: the target space is a known random rotation
of the source space plus noise, so every translation is known. The source is mapped into the
target space first (with the known rotation, or one learnt by orthogonal Procrustes from a
training dictionary), as an alignment would do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError
from wordvec.eval import EvaluationError, evaluate_bli
from wordvec.formats.store import write_store
from wordvec.store import VectorStore

N_WORDS, DIM = 1500, 40


def rotated_pair(
    noise: float, seed: int = 0, n_hubs: int = 0, offset: float = 0.0
) -> tuple[Embeddings, Embeddings]:
    """Source words ``s0..`` already mapped into the target space, target words ``t0..``
    (shuffled) with ``t_i = s_i Q + noise`` for a random orthogonal ``Q``. With ``offset``
    the words share a common direction; ``n_hubs`` extra target words then sit near the mean
    of all targets: close to every source word, the right answer of none."""
    source, target, rotation = planted_spaces(noise, seed, offset)
    rng = np.random.default_rng(seed + 100)
    words = [f"t{i}" for i in range(N_WORDS)]
    if n_hubs:
        hubs = target.mean(axis=0) + 0.3 * rng.standard_normal((n_hubs, DIM))
        hubs *= np.linalg.norm(target, axis=1).mean() / np.linalg.norm(hubs, axis=1)[:, None]
        target = np.vstack([target, hubs])
        words += [f"hub{i}" for i in range(n_hubs)]
    return source_embeddings(source @ rotation), target_embeddings(words, target, rng)


def planted_spaces(
    noise: float, seed: int, offset: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    source = rng.standard_normal((N_WORDS, DIM)) + offset
    rotation, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    target = source @ rotation + noise * rng.standard_normal((N_WORDS, DIM))
    return source, target, rotation


def source_embeddings(vectors: np.ndarray) -> Embeddings:
    return Embeddings.from_words([f"s{i}" for i in range(len(vectors))], vectors.astype(np.float32))


def target_embeddings(
    words: list[str], vectors: np.ndarray, rng: np.random.Generator
) -> Embeddings:
    order = rng.permutation(len(words))
    return Embeddings.from_words([words[i] for i in order], vectors[order].astype(np.float32))


def write_dictionary(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_planted_rotation_is_recovered(tmp_path: Path) -> None:
    src, tgt = rotated_pair(noise=0.1)
    lines = [f"s{i} t{i}" for i in range(0, N_WORDS, 5)]  # 300 source words
    lines += ["s0 t7", "s5 t9"]  # extra (wrong) gold translations do not hurt
    lines += ["unknown t3", "s10 missing"]  # one uncovered source word, one dropped pair
    pairs = write_dictionary(tmp_path / "dict.txt", lines)
    result = evaluate_bli(src, tgt, pairs)
    assert result.n_source_words == 301 and result.n_covered == 300
    assert result.coverage == pytest.approx(300 / 301)
    for method in ("nn", "csls"):
        assert result.precision[method][1] == 1.0
        assert result.precision[method][10] == 1.0
    assert result.score == 1.0


def test_unaligned_spaces_score_at_chance_and_procrustes_recovers(tmp_path: Path) -> None:
    source, target, _ = planted_spaces(noise=0.3, seed=4)
    rng = np.random.default_rng(4)
    tgt = target_embeddings([f"t{i}" for i in range(N_WORDS)], target, rng)
    test_pairs = write_dictionary(tmp_path / "test.txt", [f"s{i} t{i}" for i in range(1000, 1500)])
    unaligned = evaluate_bli(source_embeddings(source), tgt, test_pairs)
    assert unaligned.precision["nn"][10] < 0.05
    # Orthogonal Procrustes on a training dictionary disjoint from the test one.
    u, _, vt = np.linalg.svd(source[:500].T @ target[:500])
    aligned = evaluate_bli(source_embeddings(source @ (u @ vt)), tgt, test_pairs)
    assert aligned.precision["nn"][1] > 0.99 and aligned.precision["csls"][1] > 0.99


def test_noise_lowers_precision_and_alternatives_count(tmp_path: Path) -> None:
    src, tgt = rotated_pair(noise=1.3, seed=1)
    pairs = write_dictionary(tmp_path / "d.txt", [f"s{i} t{i}" for i in range(400)])
    result = evaluate_bli(src, tgt, pairs)
    for method in ("nn", "csls"):
        p = result.precision[method]
        assert 0.2 < p[1] < 0.95 and p[1] <= p[5] <= p[10]
    # Adding the nn's own first guess as a second gold translation makes nn P@1 perfect.
    cos = (src.vectors[:400] / np.linalg.norm(src.vectors[:400], axis=1)[:, None]) @ (
        tgt.vectors / np.linalg.norm(tgt.vectors, axis=1)[:, None]
    ).T
    top = np.argmax(cos, axis=1)[:, None]
    lines = [f"s{i} t{i}" for i in range(400)]
    lines += [f"s{i} {tgt.vocab.words[top[i, 0]]}" for i in range(400)]
    generous = evaluate_bli(src, tgt, write_dictionary(tmp_path / "d2.txt", lines), methods=["nn"])
    assert generous.precision["nn"][1] == 1.0 and generous.n_covered == 400


def test_csls_demotes_hubs(tmp_path: Path) -> None:
    src, tgt = rotated_pair(noise=1.2, seed=2, n_hubs=60, offset=0.8)
    pairs = write_dictionary(tmp_path / "d.txt", [f"s{i} t{i}" for i in range(0, N_WORDS, 3)])
    result = evaluate_bli(src, tgt, pairs)
    assert result.precision["csls"][1] > result.precision["nn"][1] + 0.15


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_retrieval_equals_the_formula(tmp_path: Path, method: str) -> None:
    """Brute force: rank by cos (nn) or 2 cos(x, y) - r_T(x) - r_S(y) (csls, both r over the
    10 nearest); the gold translation of each word is its 3rd candidate, so P@1 = P@2 = 0 and
    P@3 = 1 exactly when evaluate_bli ranks as the formula does."""
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((60, 8)).astype(np.float32)
    ys = rng.standard_normal((80, 8)).astype(np.float32)
    xs /= np.linalg.norm(xs, axis=1)[:, None]
    ys /= np.linalg.norm(ys, axis=1)[:, None]
    cos = xs.astype(np.float64) @ ys.T.astype(np.float64)
    r_target = np.sort(cos, axis=1)[:, -10:].mean(axis=1)  # of each source word
    r_source = np.sort(cos, axis=0)[-10:, :].mean(axis=0)  # of each target word
    scores = cos if method == "nn" else 2 * cos - r_target[:, None] - r_source[None, :]
    third = np.argsort(-scores, axis=1)[:, 2]
    src = Embeddings.from_words([f"s{i}" for i in range(60)], xs)
    tgt = Embeddings.from_words([f"t{i}" for i in range(80)], ys)
    pairs = write_dictionary(tmp_path / "d.txt", [f"s{i} t{j}" for i, j in enumerate(third)])
    result = evaluate_bli(src, tgt, pairs, methods=[method], ks=(1, 2, 3))
    assert result.precision[method] == {1: 0.0, 2: 0.0, 3: 1.0}


def test_through_stores_and_bad_input(tmp_path: Path) -> None:
    src, tgt = rotated_pair(noise=0.1)
    write_store(tmp_path / "src.h5", src)
    write_store(tmp_path / "tgt.h5", tgt)
    pairs = write_dictionary(tmp_path / "d.txt", [f"s{i} t{i}" for i in range(50)])
    with VectorStore(tmp_path / "src.h5") as s, VectorStore(tmp_path / "tgt.h5") as t:
        assert evaluate_bli(s, t, pairs) == evaluate_bli(src, tgt, pairs)
        assert 0 < evaluate_bli(s, t, pairs, restrict_vocab=700).n_covered < 50
    with pytest.raises(EvaluationError, match="no pair has its source word"):
        evaluate_bli(src, tgt, write_dictionary(tmp_path / "none.txt", ["a b"]))
    other = Embeddings.from_words(["t0"], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ConfigError, match="align them first"):
        evaluate_bli(src, other, pairs)
    with pytest.raises(ConfigError, match="methods"):
        evaluate_bli(src, tgt, pairs, methods=["isf"])
    with pytest.raises(FormatError, match="line 2"):
        evaluate_bli(src, tgt, write_dictionary(tmp_path / "bad.txt", ["a b", "c"]))
