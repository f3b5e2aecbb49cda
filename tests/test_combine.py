"""Meta-embeddings: vocabulary merging, every method's shape and arithmetic, css on a planted
case, the nearest-neighbour fill of missing words and the streamed store output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import wordvec
from wordvec.combine import METHODS, CombineConfig, combine, merge_vocabularies, write_combined
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, StoreError
from wordvec.formats.store import write_store


def unit(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def random_embeddings(words: list[str], dim: int, seed: int, counts: bool = True) -> Embeddings:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(words), dim)).astype(np.float32)
    n = len(words)
    return Embeddings.from_words(
        words, vectors, counts=np.arange(n, 0, -1, dtype=np.int64) * 3 if counts else None
    )


@pytest.fixture(scope="module")
def three() -> list[Embeddings]:
    """Overlapping vocabularies of different sizes and dimensions; one without counts."""
    return [
        random_embeddings([f"w{i}" for i in range(0, 60)], 8, 0),
        random_embeddings([f"w{i}" for i in range(20, 90)], 12, 1, counts=False),
        random_embeddings([f"w{i}" for i in range(10, 50)] + ["only_c"], 8, 2),
    ]


# --- vocabulary -------------------------------------------------------------------------------


def test_merged_order_is_mean_relative_frequency() -> None:
    counts_a = np.array([50, 30, 20], dtype=np.int64)  # total 100
    counts_b = np.array([600, 300, 100], dtype=np.int64)  # total 1000
    merged = merge_vocabularies([["x", "y", "z"], ["y", "q", "x"]], [counts_a, counts_b])
    # relative: x (0.5 + 0.1) / 2 = 0.3, y (0.3 + 0.6) / 2 = 0.45, z 0.1, q 0.15
    assert merged.words == ("y", "x", "q", "z")
    assert merged.counts is not None
    # score x mean total 550, rounded
    assert np.abs(merged.counts - np.array([247.5, 165, 82.5, 55])).max() <= 0.5
    assert merged.source_rows.tolist() == [[1, 0, -1, 2], [0, 2, 1, -1]]
    inter = merge_vocabularies([["x", "y", "z"], ["y", "q", "x"]], [counts_a, counts_b],
                               "intersection")  # fmt: skip
    assert inter.words == ("y", "x")
    assert inter.source_rows.tolist() == [[1, 0], [0, 2]]


def test_merged_without_counts_uses_zipf_and_first_appearance() -> None:
    merged = merge_vocabularies([["a", "b"], ["b", "a"], ["c"]], [None, None, None])
    # a and b tie (1/H + 1/(2H) each); a appeared first. c: 1 / 3 > (1/H2 + 1/(2 H2)) / 3.
    assert merged.words == ("a", "b", "c")
    assert merged.counts is None
    with pytest.raises(ConfigError, match="intersection"):
        merge_vocabularies([["a"], ["b"]], [None, None], "intersection")


# --- shapes and vocabularies of every method --------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("vocabulary", ["union", "intersection"])
def test_shapes_and_vocabularies(three: list[Embeddings], method: str, vocabulary: str) -> None:
    config = CombineConfig(method=method, vocabulary=vocabulary, block_rows=16)  # type: ignore[arg-type]
    meta = combine(three, config)
    union = set().union(*(e.vocab.words for e in three))
    inter = set.intersection(*(set(e.vocab.words) for e in three))
    assert set(meta.vocab.words) == (union if vocabulary == "union" else inter)
    expected_dim = {"concat": 28, "avg": 12, "svd": 12, "css": 8}[method]
    assert meta.vectors.shape == (len(meta.vocab), expected_dim)
    assert np.isfinite(meta.vectors).all()
    assert meta.vocab.counts is None  # the second source has no counts
    assert meta.metadata["method"] == method
    assert [s["name"] for s in meta.metadata["sources"]] == [f"<embeddings {i}>" for i in range(3)]


def test_concat_and_avg_arithmetic(three: list[Embeddings]) -> None:
    a, b, _ = three
    config = CombineConfig(method="concat", vocabulary="intersection", weights=(2.0, 0.5))
    meta = combine([a, b], config)
    rows_a = [a.vocab.id_of(w) for w in meta.vocab.words]
    rows_b = [b.vocab.id_of(w) for w in meta.vocab.words]
    expected = np.hstack([2 * unit(a.vectors[rows_a]), 0.5 * unit(b.vectors[rows_b])])
    np.testing.assert_allclose(meta.vectors, expected, atol=1e-6)

    avg = combine([a, b], CombineConfig(method="avg", vocabulary="intersection"))
    padded = np.zeros((len(rows_a), 12), dtype=np.float32)
    padded[:, :8] = unit(a.vectors[rows_a])
    np.testing.assert_allclose(avg.vectors, (padded + unit(b.vectors[rows_b])) / 2, atol=1e-6)


def test_centering_makes_each_source_mean_free_before_concat(three: list[Embeddings]) -> None:
    a, b, _ = three
    shifted = Embeddings(a.vocab, a.vectors + 5.0)  # a common offset dominates every cosine
    meta = combine([shifted, b], CombineConfig(method="concat", center=True, oov_fill=0))
    block = meta.vectors[[meta.vocab.id_of(w) for w in a.vocab.words], :8]
    np.testing.assert_allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-5)
    assert np.abs(block.mean(axis=0)).max() < 0.2  # centred before the final L2 step


def test_svd_is_pca_of_the_concatenation(three: list[Embeddings]) -> None:
    a, b, _ = three
    concat = combine([a, b], CombineConfig(method="concat", vocabulary="intersection"))
    svd = combine([a, b], CombineConfig(method="svd", dim=5, vocabulary="intersection",
                                        block_rows=7))  # fmt: skip
    centred = concat.vectors.astype(np.float64) - concat.vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    reference = u[:, :5] * s[:5]
    # Same principal components up to the sign of each.
    signs = np.sign((reference * svd.vectors).sum(axis=0))
    np.testing.assert_allclose(svd.vectors, reference * signs, atol=1e-4)
    assert 0 < svd.metadata["explained_variance"] < 1


def test_block_size_does_not_change_the_result(three: list[Embeddings]) -> None:
    for method in METHODS:
        small = combine(three, CombineConfig(method=method, block_rows=3))  # type: ignore[arg-type]
        large = combine(three, CombineConfig(method=method))  # type: ignore[arg-type]
        assert small.vocab == large.vocab
        np.testing.assert_allclose(small.vectors, large.vectors, atol=1e-5)


# --- css on a planted case --------------------------------------------------------------------


def similarity_agreement(x: NDArray[np.floating], truth: NDArray[np.floating]) -> float:
    """Correlation of all pairwise cosines of ``x`` with those of ``truth`` (rotation-free)."""
    upper = np.triu_indices(x.shape[0], 1)
    return float(
        np.corrcoef((unit(x) @ unit(x).T)[upper], (unit(truth) @ unit(truth).T)[upper])[0, 1]
    )


def planted_copies(n: int = 400, dim: int = 16, noise: float = 0.35) -> tuple[NDArray, ...]:
    rng = np.random.default_rng(7)
    truth = rng.standard_normal((n, dim)) * (1.0 / np.arange(1, dim + 1) ** 0.3)
    copies = []
    for _ in range(2):
        rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        copies.append((truth + noise * rng.standard_normal((n, dim))) @ rotation)
    return truth, copies[0].astype(np.float32), copies[1].astype(np.float32)


@pytest.mark.parametrize("refine", [0, 3])
def test_css_recovers_the_space_better_than_either_copy(refine: int) -> None:
    truth, a, b = planted_copies()
    words = [f"w{i}" for i in range(truth.shape[0])]
    order = np.random.default_rng(1).permutation(len(words))  # the copies list words differently
    ea = Embeddings.from_words(words, a)
    eb = Embeddings.from_words([words[i] for i in order], b[order])
    meta = combine([ea, eb], CombineConfig(method="css", refine_iterations=refine))
    rows = [meta.vocab.id_of(w) for w in words]
    recovered = similarity_agreement(meta.vectors[rows], truth)
    single = max(similarity_agreement(a, truth), similarity_agreement(b, truth))
    assert recovered > single + 0.03, (recovered, single)
    assert meta.metadata["sources"][1]["shared_with_target"] == len(words)
    # A plain average of the unmapped copies is no better than chance alignment would be.
    unmapped = combine([ea, eb], CombineConfig(method="avg"))
    assert similarity_agreement(unmapped.vectors[rows], truth) < recovered


# --- filling missing words --------------------------------------------------------------------


def test_missing_word_is_filled_from_its_nearest_neighbours() -> None:
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    a = rng.standard_normal((31, 6)).astype(np.float32)
    a[30] = a[4] + 0.01 * a[9]  # "new" is next to w4 and then w9 in source A
    a[9] = a[4] + 0.05 * rng.standard_normal(6)
    b = rng.standard_normal((30, 5)).astype(np.float32)
    ea = Embeddings.from_words([*words, "new"], a)
    eb = Embeddings.from_words(words, b)  # lacks "new"
    meta = combine([ea, eb], CombineConfig(method="concat", oov_fill=2))
    row = meta.vectors[meta.vocab.id_of("new")]
    np.testing.assert_allclose(row[:6], unit(a[30:31])[0], atol=1e-6)
    np.testing.assert_allclose(row[6:], (unit(b[[4]]) + unit(b[[9]]))[0] / 2, atol=1e-6)
    assert meta.metadata["sources"][1]["filled"] == 1

    no_fill = combine([ea, eb], CombineConfig(method="concat", oov_fill=0))
    assert not no_fill.vectors[no_fill.vocab.id_of("new"), 6:].any()
    assert no_fill.metadata["sources"][1]["filled"] == 0
    avg = combine([ea, eb], CombineConfig(method="avg", oov_fill=0))
    padded = np.zeros(6, dtype=np.float32)
    padded[:6] = unit(a[30:31])[0]
    np.testing.assert_allclose(avg.vectors[avg.vocab.id_of("new")], padded, atol=1e-6)


def test_css_keeps_union_vocabulary_and_fills_in_the_common_space() -> None:
    truth, a, b = planted_copies(n=200)
    words = [f"w{i}" for i in range(200)]
    ea = Embeddings.from_words(words[:150], a[:150])
    eb = Embeddings.from_words(words[50:], b[50:])
    meta = combine([ea, eb], CombineConfig(method="css", oov_fill=5))
    assert len(meta) == 200 and meta.dim == 16
    only_a = [meta.vocab.id_of(w) for w in words[:50]]
    # Filled rows average two sources, so they are as long as the shared ones, and their
    # neighbourhoods still follow the planted truth.
    assert similarity_agreement(meta.vectors[only_a], truth[:50]) > 0.5


# --- errors and the store ---------------------------------------------------------------------


def test_bad_inputs(three: list[Embeddings], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="2 weights given for 3 sources"):
        combine(three, CombineConfig(weights=(1.0, 2.0)))
    with pytest.raises(ConfigError, match="at least two sources"):
        combine(three[:1], CombineConfig())
    with pytest.raises(ConfigError, match="dim applies only"):
        CombineConfig(method="concat", dim=10)
    with pytest.raises(ConfigError, match="weights must be positive"):
        CombineConfig(weights=(1.0, -1.0))
    with pytest.raises(ConfigError, match="exceeds"):
        combine(three, CombineConfig(method="svd", dim=100))
    with pytest.raises(ConfigError, match="target 5"):
        combine(three, CombineConfig(target=5))
    lonely = random_embeddings(["zzz"], 8, 4)
    with pytest.raises(ConfigError, match="shares no word"):
        combine([three[0], lonely], CombineConfig(method="css"))
    with pytest.raises(StoreError, match=r"missing\.h5: no such file"):
        combine([three[0], tmp_path / "missing.h5"], CombineConfig())


def test_written_store_records_sources_and_method(three: list[Embeddings], tmp_path: Path) -> None:
    paths = []
    for i, embeddings in enumerate(three):
        paths.append(tmp_path / f"s{i}.h5")
        write_store(paths[-1], embeddings)
    out = tmp_path / "meta.h5"
    config = CombineConfig(method="css", block_rows=5)
    summary = write_combined(out, paths, config)
    in_memory = combine(paths, config)
    with wordvec.load(out) as store:
        assert list(store) == list(in_memory.vocab.words)
        np.testing.assert_allclose(np.asarray(store.vectors), in_memory.vectors, atol=1e-6)
        assert store.metadata["method"] == "css"
        assert store.metadata["config"]["block_rows"] == 5
        assert [s["name"] for s in store.metadata["sources"]] == [str(p) for p in paths]
        assert store.most_similar("w30", topn=1)
    assert summary["n_words"] == len(in_memory) and summary["dim"] == 8
