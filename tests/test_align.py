"""Alignment: Procrustes, the final VecMap steps, self-learning from a seed, identical strings and
unsupervised initialization on planted spaces; normalization; mappings saved and applied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wordvec.align import (
    AlignConfig,
    AlignmentError,
    align,
    align_procrustes,
    align_to_pivot,
    apply_mapping,
    fit_final_mapping,
    similarity_signature,
)
from wordvec.align_dictionary import TranslationPairs, identical_pairs, lookup_pairs
from wordvec.align_mapping import (
    AlignmentMapping,
    SideTransform,
    apply_normalization,
    fit_normalization,
    load_mapping,
    parse_normalization,
    save_mapping,
)
from wordvec.align_retrieval import evaluate_bli, induce_dictionary
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, FormatError

ORTHOGONAL = {"whiten": False, "src_reweight": 0.0, "tgt_reweight": 0.0}


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def structured_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Vectors with a decaying spectrum in a random basis, like trained embeddings (a few
    strong directions, many weak ones): the similarity distributions of words then differ
    from word to word, which the unsupervised signature needs."""
    spectrum = 1.0 / np.arange(1, dim + 1) ** 0.7
    return (rng.standard_normal((n, dim)) * spectrum) @ random_rotation(dim, rng)


@pytest.fixture(scope="module")
def planted() -> dict[str, object]:
    """A source space and its translation: target = rotated source + noise, in a jittered
    frequency order (rank + N(0, 10)), target words named differently except 40 %."""
    rng = np.random.default_rng(0)
    n, dim = 400, 24
    x = structured_vectors(n, dim, rng).astype(np.float32)
    rotation = random_rotation(dim, rng)
    z = x @ rotation + 0.01 * rng.standard_normal((n, dim))
    order = np.argsort(np.arange(n) + rng.normal(0, 10, n), kind="stable")
    shared = rng.random(n) < 0.4
    source_words = [f"w{i}" for i in range(n)]
    target_words = [f"w{i}" if shared[i] else f"v{i}" for i in order]
    source = Embeddings.from_words(source_words, x)
    target = Embeddings.from_words(target_words, z[order].astype(np.float32))
    gold = {f"w{i}": f"w{i}" if shared[i] else f"v{i}" for i in range(n)}
    return {"source": source, "target": target, "gold": gold, "rotation": rotation}


def _accuracy(pairs: list[tuple[str, str]], gold: dict[str, str]) -> float:
    return float(np.mean([gold[s] == t for s, t in pairs]))


def _all_pairs(gold: dict[str, str]) -> TranslationPairs:
    return TranslationPairs.of(gold.items(), "gold")


# --- linear algebra ---------------------------------------------------------------------------


def test_procrustes_recovers_a_rotation() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 16))
    rotation = random_rotation(16, rng)
    np.testing.assert_allclose(align_procrustes(x, x @ rotation), rotation, atol=1e-10)
    noisy = align_procrustes(x, x @ rotation + 0.05 * rng.standard_normal((200, 16)))
    np.testing.assert_allclose(noisy, rotation, atol=0.02)
    np.testing.assert_allclose(noisy @ noisy.T, np.eye(16), atol=1e-10)
    with pytest.raises(ConfigError):
        align_procrustes(x, x[:10])


def test_final_mapping_orthogonal_case_is_procrustes() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((100, 8))
    rotation = random_rotation(8, rng)
    map_x, map_z = fit_final_mapping(x, x @ rotation, AlignConfig(**ORTHOGONAL))
    np.testing.assert_allclose(map_x, rotation, atol=1e-10)
    np.testing.assert_allclose(map_z, np.eye(8), atol=1e-10)


def test_final_mapping_whitening_steps() -> None:
    rng = np.random.default_rng(3)
    x = structured_vectors(300, 10, rng)
    z = x @ random_rotation(10, rng) + 0.1 * rng.standard_normal((300, 10))
    # Whitening and orthogonal mapping only: both sides whitened, then matched.
    plain = AlignConfig(src_reweight=0.0, tgt_reweight=0.0, src_dewhiten=None, tgt_dewhiten=None)
    map_x, map_z = fit_final_mapping(x, z, plain)
    xw, zw = x @ map_x, z @ map_z
    np.testing.assert_allclose(xw.T @ xw, np.eye(10), atol=1e-8)
    np.testing.assert_allclose(zw.T @ zw, np.eye(10), atol=1e-8)
    # The default (VecMap's full recipe) maps pairs closer together than random pairs.
    map_x, map_z = fit_final_mapping(x, z, AlignConfig())
    xw, zw = x @ map_x, z @ map_z
    cos = np.sum(xw * zw, axis=1) / np.linalg.norm(xw, axis=1) / np.linalg.norm(zw, axis=1)
    assert cos.mean() > 0.9
    reduced_x, reduced_z = fit_final_mapping(x, z, AlignConfig(dim_reduction=4))
    assert reduced_x.shape == reduced_z.shape == (10, 4)
    with pytest.raises(ConfigError, match="whitening"):
        fit_final_mapping(x[:5], z[:5], AlignConfig())


def test_signature_ignores_rotation() -> None:
    rng = np.random.default_rng(4)
    x = structured_vectors(50, 12, rng)
    steps = ("unit", "center", "unit")
    np.testing.assert_allclose(
        similarity_signature(x, steps),
        similarity_signature(x @ random_rotation(12, rng), steps),
        atol=1e-4,
    )


# --- normalization ------------------------------------------------------------------------------


def test_normalization_steps_and_replay() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((60, 6)) * 3 + 1
    unit, _ = fit_normalization(x, ["unit"])
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1, atol=1e-6)
    centered, stats = fit_normalization(x, ["unit", "center"])
    np.testing.assert_allclose(centered.mean(axis=0), 0, atol=1e-6)
    assert stats[0] is None and stats[1] is not None
    scaled, _ = fit_normalization(x, ["unitdim"])
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-5)
    per_row, _ = fit_normalization(x, ["centeremb"])
    np.testing.assert_allclose(per_row.mean(axis=1), 0, atol=1e-6)
    steps = ("unit", "center", "unitdim", "unit")
    fitted, stats = fit_normalization(x, steps)
    np.testing.assert_allclose(apply_normalization(x, steps, stats), fitted, atol=1e-6)
    # A new vector is normalized with the training statistics, not its own.
    np.testing.assert_allclose(apply_normalization(x[:1], steps, stats), fitted[:1], atol=1e-6)
    zero, _ = fit_normalization(np.zeros((2, 3)), ["unit"])
    assert np.isfinite(zero).all()
    with pytest.raises(ConfigError, match="unknown normalization"):
        fit_normalization(x, ["unit", "whiten"])
    assert parse_normalization("unit, center,unit-dim") == ("unit", "center", "unitdim")


# --- alignment modes ----------------------------------------------------------------------------


def test_supervised_alignment_recovers_the_rotation(planted: dict) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    seed = TranslationPairs.of(list(gold.items())[:100], "seed")
    config = AlignConfig(self_learning=False, normalize=("none",), **ORTHOGONAL)
    result = align(source, target, config, dictionary=seed)
    np.testing.assert_allclose(result.mapping.side("src").matrix, planted["rotation"], atol=0.02)
    assert result.iterations == 0 and result.seed is not None and result.seed.n_found == 100
    scores = evaluate_bli(result.source, result.target, _all_pairs(gold), ks=(1,))
    assert scores.precision["nn"][1] == 1.0 and scores.precision["csls"][1] == 1.0


def test_self_learning_from_a_small_seed(planted: dict) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    lines: list[str] = []
    seed = TranslationPairs.of(list(gold.items())[:30], "seed")
    # VecMap's stochastic schedule: keep probability 0.1, doubled after 3 flat iterations.
    config = AlignConfig(stochastic_initial=0.1, stochastic_interval=3, threshold=1e-6)
    result = align(source, target, config, dictionary=seed, progress=lines.append)
    assert result.converged and result.iterations > 3
    assert _accuracy(result.induced_pairs(), gold) > 0.97
    assert any(line.startswith("iteration") and "objective" in line for line in lines)
    keep = [h["keep_prob"] for h in result.history]
    assert keep[0] == 0.1 and keep[-1] == 1.0 and sorted(keep) == keep
    assert set(keep) == {0.1, 0.2, 0.4, 0.8, 1.0}
    assert result.criterion > 0.9
    scores = evaluate_bli(result.source, result.target, _all_pairs(gold), ks=(1,))
    assert scores.precision["csls"][1] > 0.97


def test_identical_strings_mode(planted: dict) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    shared = identical_pairs(source.vocab.words, target.vocab.words)
    assert 0.3 < len(shared) / len(source) < 0.5
    result = align(source, target, AlignConfig(init="identical", stochastic_interval=3))
    assert result.seed is not None and result.seed.n_found == len(shared)
    assert _accuracy(result.induced_pairs(), gold) > 0.97


def test_unsupervised_initialization_and_self_learning(planted: dict) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    config = AlignConfig(init="unsupervised", unsupervised_vocab=200, stochastic_interval=3)
    # The signature alone already finds many translations among the 200 most frequent words
    # (chance: 1 in 200) ...
    steps = config.normalize
    xn, _ = fit_normalization(source.vectors, steps)
    zn, _ = fit_normalization(target.vectors, steps)
    initial = induce_dictionary(
        similarity_signature(xn[:200], steps), similarity_signature(zn[:200], steps)
    )
    pairs = [
        (source.vocab.words[s], target.vocab.words[t])
        for s, t in zip(initial.source_ids, initial.target_ids, strict=True)
    ]
    assert _accuracy(pairs, gold) > 0.2
    # ... and self-learning turns them into a full alignment.
    result = align(source, target, config)
    assert result.seed is None and result.seed_pairs == 400
    assert _accuracy(result.induced_pairs(), gold) > 0.97


def test_unsupervised_restarts_pick_the_best_criterion(planted: dict) -> None:
    config = AlignConfig(
        init="unsupervised", unsupervised_vocab=200, stochastic_interval=2, restarts=2
    )
    result = align(planted["source"], planted["target"], config)
    assert len(result.restart_criteria) == 2
    assert result.criterion == max(result.restart_criteria)


def test_seed_coverage_is_reported_not_dropped(planted: dict) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    pairs = [*list(gold.items())[:20], ("nope", gold["w1"]), ("w1", "nope"), ("nah", "nein")]
    found = lookup_pairs(TranslationPairs.of(pairs), source, target)
    assert (found.n_pairs, found.n_found) == (23, 20)
    assert (found.n_missing_source, found.n_missing_target) == (2, 2)
    assert found.missing_examples == (("nope", gold["w1"]), ("w1", "nope"), ("nah", "nein"))
    result = align(
        source, target, AlignConfig(self_learning=False, whiten=False), dictionary=
        TranslationPairs.of(pairs),
    )  # fmt: skip
    assert result.seed is not None and result.seed.to_dict()["pairs_found"] == 20
    with pytest.raises(AlignmentError):
        align(source, target, dictionary=TranslationPairs.of([("nope", "nah")]))
    with pytest.raises(ConfigError, match="needs a dictionary"):
        align(source, target, AlignConfig(init="dictionary"))


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        AlignConfig(init="magic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        AlignConfig(stochastic_initial=0)
    with pytest.raises(ConfigError):
        AlignConfig(src_dewhiten="both")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        AlignConfig(normalize=("unit", "bogus"))
    config = AlignConfig(normalize="unit,center")  # type: ignore[arg-type]
    assert config.normalize == ("unit", "center")
    assert AlignConfig.from_json(config.to_json()) == config
    assert AlignConfig(**ORTHOGONAL).orthogonal and not AlignConfig().orthogonal
    # The schedule's defaults depend on the seed; explicit values win.
    assert AlignConfig().schedule() == (1.0, 3, 1e-4)
    assert AlignConfig(init="unsupervised").schedule() == (0.1, 50, 1e-6)
    assert AlignConfig(init="identical", stochastic_initial=0.2).schedule() == (0.2, 3, 1e-4)
    # VecMap's final steps after self-learning, orthogonal Procrustes on a seed alone.
    assert AlignConfig().final_steps() == (True, 0.5, 0.5)
    assert AlignConfig(self_learning=False).final_steps() == (False, 0.0, 0.0)
    assert AlignConfig(self_learning=False, whiten=True).final_steps() == (True, 0.0, 0.0)
    with pytest.raises(ConfigError, match="unknown"):
        AlignConfig.from_json({"nonsense": 1})


# --- mappings -----------------------------------------------------------------------------------


def test_mapping_save_load_apply_round_trip(planted: dict, tmp_path: Path) -> None:
    source, target, gold = planted["source"], planted["target"], planted["gold"]
    seed = TranslationPairs.of(list(gold.items())[:100], "seed")
    result = align(source, target, AlignConfig(self_learning=False), dictionary=seed)
    path = tmp_path / "mapping.npz"
    save_mapping(path, result.mapping)
    loaded = load_mapping(path)
    assert list(loaded.sides) == ["src", "tgt"]
    assert loaded.config == result.mapping.config
    for side in ("src", "tgt"):
        a, b = result.mapping.side(side), loaded.side(side)
        np.testing.assert_array_equal(a.matrix, b.matrix)
        assert a.normalize == b.normalize
        for s, t in zip(a.statistics, b.statistics, strict=True):
            assert (s is None and t is None) or np.array_equal(s, t)  # type: ignore[arg-type]
    mapped = apply_mapping(source, loaded, "src")
    np.testing.assert_allclose(mapped.vectors, result.source.vectors, atol=1e-5)
    assert mapped.vocab == source.vocab and mapped.metadata["alignment"]["side"] == "src"
    # One new vector maps exactly as the same vector inside the vocabulary did.
    single = loaded.map_vectors(source.vectors[7], "src")
    np.testing.assert_allclose(single, result.source.vectors[7], atol=1e-5)
    np.testing.assert_allclose(
        apply_mapping(target, loaded, "tgt", rows_per_block=7).vectors,
        result.target.vectors,
        atol=1e-5,
    )
    with pytest.raises(ConfigError, match="no side"):
        apply_mapping(source, loaded, "fr")
    with pytest.raises(ConfigError, match="dimension"):
        loaded.map_vectors(np.zeros(3), "src")


def test_apply_mapping_to_a_store(planted: dict, tmp_path: Path) -> None:
    import wordvec
    from wordvec.formats.store import write_store

    source = planted["source"]
    steps = ("unit", "center", "unit")
    _, stats = fit_normalization(source.vectors, steps)
    rotation = planted["rotation"].astype(np.float32)
    mapping = AlignmentMapping({"src": SideTransform(steps, stats, rotation)})
    write_store(tmp_path / "src.h5", source)
    with wordvec.load(str(tmp_path / "src.h5")) as store:
        mapped = apply_mapping(store, mapping, rows_per_block=64)
    np.testing.assert_allclose(
        mapped.vectors, mapping.map_vectors(source.vectors, "src"), atol=1e-6
    )
    assert mapped.vocab.words == source.vocab.words


def test_bad_mapping_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(FormatError):
        load_mapping(bad)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.eye(3))
    with pytest.raises(FormatError, match="no header"):
        load_mapping(other)
    import json

    header = {"format": "wordvec-alignment", "format_version": 99, "sides": {}}
    future = tmp_path / "future.npz"
    np.savez(future, header_json=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    with pytest.raises(FormatError, match="version 99"):
        load_mapping(future)
    with pytest.raises(FileNotFoundError):
        load_mapping(tmp_path / "missing.npz")


def test_several_languages_into_one_pivot_space() -> None:
    rng = np.random.default_rng(6)
    n, dim = 300, 16
    base = structured_vectors(n, dim, rng)
    words = [f"w{i}" for i in range(n)]

    def language(seed: int) -> Embeddings:
        local = np.random.default_rng(seed)
        noisy = base @ random_rotation(dim, local) + 0.01 * local.standard_normal((n, dim))
        return Embeddings.from_words(words, noisy.astype(np.float32))

    pivot, others = language(10), {"de": language(11), "fr": language(12)}
    mapping, results = align_to_pivot(
        pivot, others, AlignConfig(init="identical", stochastic_interval=2)
    )
    assert list(mapping.sides) == ["pivot", "de", "fr"]
    np.testing.assert_array_equal(mapping.side("pivot").matrix, np.eye(dim, dtype=np.float32))
    de = mapping.map_vectors(others["de"].vectors, "de")
    fr = mapping.map_vectors(others["fr"].vectors, "fr")
    # de and fr never met, but both landed in the pivot's space: translation between them works.
    scores = evaluate_bli(
        Embeddings.from_words(words, de),
        Embeddings.from_words(words, fr),
        TranslationPairs.of((w, w) for w in words),
        ks=(1,),
    )
    assert scores.precision["nn"][1] > 0.95
    assert set(results) == {"de", "fr"}
    with pytest.raises(ConfigError):
        align_to_pivot(pivot, others, AlignConfig(dim_reduction=4))
