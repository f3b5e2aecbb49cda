"""The PU-learning solver against dense NumPy references, and training on planted topics."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

from wordvec.cooccurrence import ppmi
from wordvec.errors import ConfigError, TrainingDivergedError
from wordvec.pu import (
    CCDSolver,
    Factorization,
    FactorizationProblem,
    PUConfig,
    build_problem,
    confidence_weights,
    cooccurrence_problem,
    factorize,
    initial_factorization,
    load_checkpoint,
    objective,
    train_pu,
    update_context_side,
    update_word_side,
)
from wordvec.pu_kernels import cholesky_solve

RHO = 2.0**-4
LAM = 0.05


def random_problem(
    m: int = 9, n: int = 7, density: float = 0.35, seed: int = 0
) -> tuple[FactorizationProblem, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[0, :] = False  # an empty row: only the unobserved term and no ridge
    mask[1, 0] = True
    targets = np.where(mask, rng.uniform(0.1, 3.0, (m, n)), 0.0)
    conf = np.where(mask, rng.uniform(0.2, 1.0, (m, n)), 0.0)
    problem = build_problem(scipy.sparse.csr_matrix(targets), scipy.sparse.csr_matrix(conf))
    return problem, targets, np.where(mask, conf, RHO)


def dense_objective(
    state: Factorization, targets: np.ndarray, weights: np.ndarray, mask: np.ndarray
) -> float:
    p = (
        state.word_vectors @ state.context_vectors.T
        + state.word_biases[:, None]
        + state.context_biases[None, :]
    )
    fit = float(np.sum(weights * (targets - p) ** 2))
    penalty = LAM * (
        float(mask.sum(axis=1) @ (state.word_vectors**2).sum(axis=1))
        + float(mask.sum(axis=0) @ (state.context_vectors**2).sum(axis=1))
    )
    return fit + penalty


def dense_row_update(
    state: Factorization, targets: np.ndarray, weights: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ridge regression per row on the full dense matrix."""
    k = state.word_vectors.shape[1]
    g = np.hstack([state.context_vectors, np.ones((state.context_vectors.shape[0], 1))])
    new_w = np.empty_like(state.word_vectors)
    new_b = np.empty_like(state.word_biases)
    for i in range(targets.shape[0]):
        c = weights[i]
        ridge = np.diag(np.r_[np.full(k, LAM * mask[i].sum()), 0.0])
        lhs = g.T @ (c[:, None] * g) + ridge
        rhs = g.T @ (c * (targets[i] - state.context_biases))
        x = np.linalg.solve(lhs, rhs)
        new_w[i], new_b[i] = x[:k], x[k]
    return new_w, new_b


def test_cholesky_solve() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    a = a @ a.T + np.eye(6)
    b = rng.standard_normal(6)
    work, x = a.copy(), b.copy()
    assert cholesky_solve(work, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10)
    assert not cholesky_solve(-np.eye(3), np.ones(3))


def test_objective_equals_dense() -> None:
    problem, targets, weights = random_problem()
    mask = targets != 0
    state = initial_factorization(problem.shape, 4, 1.0, seed=3)
    state.word_biases[:] = np.linspace(-1, 1, problem.shape[0])
    state.context_biases[:] = np.linspace(0.5, -0.5, problem.shape[1])
    expected = dense_objective(state, targets, weights, mask)
    for threads in (1, 3):
        assert objective(problem, state, RHO, LAM, threads) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
def test_one_update_equals_dense_reference(threads: int) -> None:
    problem, targets, weights = random_problem(seed=4)
    mask = targets != 0
    state = initial_factorization(problem.shape, 3, 1.0, seed=5)
    state.context_biases[:] = np.linspace(-0.3, 0.7, problem.shape[1])
    new_w, new_b = dense_row_update(state, targets, weights, mask)
    assert update_word_side(problem, state, RHO, LAM, threads) == 0
    np.testing.assert_allclose(state.word_vectors, new_w, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(state.word_biases, new_b, rtol=1e-6, atol=1e-9)
    # The context side is the same update on the transpose.
    flipped = Factorization(
        state.context_vectors, state.context_biases, state.word_vectors, state.word_biases
    )
    new_h, new_c = dense_row_update(flipped, targets.T, weights.T, mask.T)
    update_context_side(problem, state, RHO, LAM, threads)
    np.testing.assert_allclose(state.context_vectors, new_h, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(state.context_biases, new_c, rtol=1e-6, atol=1e-9)


def dense_coordinate_update(
    state: Factorization, targets: np.ndarray, weights: np.ndarray, mask: np.ndarray, c: int
) -> np.ndarray:
    """Each row's exact minimizer over ``W[i, c]`` alone, from the dense objective: it is a
    quadratic in that coordinate, so three evaluations give it."""
    new = state.word_vectors[:, c].copy()
    for i in range(targets.shape[0]):

        def f(x: float, i: int = i) -> float:
            trial = Factorization(
                state.word_vectors.copy(),
                state.word_biases,
                state.context_vectors,
                state.context_biases,
            )
            trial.word_vectors[i, c] = x
            return dense_objective(trial, targets, weights, mask)

        x0 = new[i]
        f0, fp, fm = f(x0), f(x0 + 1.0), f(x0 - 1.0)
        curvature = (fp + fm - 2 * f0) / 2  # exact for a quadratic
        new[i] = x0 - (fp - fm) / 2 / (2 * curvature)
    return new


@pytest.mark.parametrize("threads", [1, 3])
def test_ccd_coordinate_pass_equals_dense_reference(threads: int) -> None:
    problem, targets, weights = random_problem(seed=4)
    mask = targets != 0
    state = initial_factorization(problem.shape, 4, 1.0, seed=5)
    state.word_biases[:] = np.linspace(-0.4, 0.6, problem.shape[0])
    state.context_biases[:] = np.linspace(-0.3, 0.7, problem.shape[1])
    solver = CCDSolver(problem, state, RHO, LAM, threads, block_size=1)
    for c in (2, 0):
        expected = dense_coordinate_update(state, targets, weights, mask, c)
        solver.update_block(c, c + 1, rows=True)
        solver.store(state)
        np.testing.assert_allclose(state.word_vectors[:, c], expected, rtol=1e-7, atol=1e-9)
        # The column side is the same update on the transpose; it sees the row pass's change
        # through the pending-change mechanism.
        flipped = Factorization(
            state.context_vectors, state.context_biases, state.word_vectors, state.word_biases
        )
        expected = dense_coordinate_update(flipped, targets.T, weights.T, mask.T, c)
        solver.update_block(c, c + 1, rows=False)
        solver.store(state)
        np.testing.assert_allclose(state.context_vectors[:, c], expected, rtol=1e-7, atol=1e-9)
    # After a column pass the column-ordered residuals are exact.
    p = (
        state.word_vectors @ state.context_vectors.T
        + state.word_biases[:, None]
        + state.context_biases[None, :]
    )
    exact = (targets - p).T[mask.T]  # column order: by column, then row
    np.testing.assert_allclose(solver.column_residuals, exact, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("block_size", [1, 3, 8])
def test_ccd_objective_decreases_and_equals_dense(block_size: int) -> None:
    problem, targets, weights = random_problem(m=30, n=25, density=0.2, seed=7)
    mask = targets != 0
    state = initial_factorization(problem.shape, 6, 0.5, seed=2)
    solver = CCDSolver(problem, state, RHO, LAM, 2, block_size=block_size)
    values = [objective(problem, state, RHO, LAM)]
    for _ in range(15):
        values.append(solver.iterate())
        solver.store(state)
        assert values[-1] == pytest.approx(dense_objective(state, targets, weights, mask), rel=1e-6)
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(values))
    assert values[-1] < 0.7 * values[0]


@pytest.mark.parametrize("sweeps", [1, 3])
def test_ccd_in_float32_tracks_float64(sweeps: int) -> None:
    """The float32 solver (the default for co-occurrence problems) follows the float64 one:
    same objective to float32 rounding, still decreasing, and extra sweeps go further."""
    rng = np.random.default_rng(3)
    mask = rng.random((60, 50)) < 0.3
    targets = np.where(mask, rng.uniform(0.1, 3.0, mask.shape), 0.0)
    conf = np.where(mask, rng.uniform(0.2, 1.0, mask.shape), 0.0)
    values = {}
    for dtype in (np.float64, np.float32):
        problem = build_problem(
            scipy.sparse.csr_matrix(targets), scipy.sparse.csr_matrix(conf), dtype=dtype
        )
        assert problem.targets.dtype == dtype and problem.t_confidences.dtype == dtype
        state = initial_factorization(problem.shape, 8, 0.5, seed=2)
        solver = CCDSolver(problem, state, RHO, LAM, 2, block_size=4, sweeps=sweeps)
        assert solver.row_factors.dtype == dtype and solver.row_residuals.dtype == dtype
        values[dtype] = [solver.iterate() for _ in range(10)]
    np.testing.assert_allclose(values[np.float32], values[np.float64], rtol=1e-5)
    assert all(b <= a * (1 + 1e-6) for a, b in itertools.pairwise(values[np.float32]))


def test_more_sweeps_go_further_per_pass() -> None:
    """Each sweep over a block is exact coordinate descent on the same data: a pass with more
    sweeps ends lower (the sweeps after the first cost no pass over the entries)."""
    problem, _, _ = random_problem(m=40, n=35, density=0.25, seed=11)
    after = {}
    for sweeps in (1, 2, 5):
        state = initial_factorization(problem.shape, 6, 0.5, 3)
        solver = CCDSolver(problem, state, RHO, LAM, 1, block_size=4, sweeps=sweeps)
        solver.update_block(0, 4, rows=True)
        solver.store(state)
        after[sweeps] = objective(problem, state, RHO, LAM)
    assert after[5] < after[2] < after[1]


def test_ccd_reaches_the_als_objective() -> None:
    problem, _, _ = random_problem(m=40, n=35, density=0.25, seed=11)
    final = {}
    for solver in ("als", "ccd"):
        config = PUConfig(
            dim=4, iterations=80, regularization=LAM, rho=RHO, threads=2, solver=solver
        )
        state = factorize(problem, config, state=initial_factorization(problem.shape, 4, 0.5, 3))
        final[solver] = objective(problem, state, RHO, LAM)
    # Non-convex: the two may stop in different local minima, but of about the same depth.
    assert final["ccd"] == pytest.approx(final["als"], rel=0.02)


@pytest.mark.parametrize("solver", ["ccd", "als"])
def test_objective_decreases_monotonically(solver: str) -> None:
    problem, targets, weights = random_problem(m=30, n=25, density=0.2, seed=7)
    mask = targets != 0
    config = PUConfig(dim=5, iterations=12, regularization=LAM, rho=RHO, threads=2, solver=solver)
    values: list[float] = []
    state = initial_factorization(problem.shape, 5, 0.1, seed=1)
    start = objective(problem, state, RHO, LAM)
    factorize(problem, config, state=state, on_iteration=lambda _, v: values.append(v))
    assert len(values) == 12
    assert values[0] < start
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(values))
    assert values[-1] == pytest.approx(dense_objective(state, targets, weights, mask), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cooccurrence_problem_equals_the_scipy_construction(dtype: type) -> None:
    """The Numba construction (PPMI, confidences, transpose) against ppmi() + build_problem."""
    rng = np.random.default_rng(5)
    dense = np.where(rng.random((40, 40)) < 0.3, rng.integers(1, 50, (40, 40)), 0).astype(float)
    dense = dense + dense.T
    dense[7] = dense[:, 7] = 0  # a word with no co-occurrences
    counts = scipy.sparse.csr_matrix(dense)
    config = PUConfig(x_max=10)
    fast = cooccurrence_problem(counts, config, dtype=dtype)
    reference = build_problem(ppmi(counts), confidence_weights(counts, 10.0))
    tolerance = 1e-12 if dtype == np.float64 else 1e-6
    for name in ("indptr", "indices", "t_indptr", "t_indices"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(reference, name))
    for name in ("targets", "confidences", "t_targets", "t_confidences"):
        assert getattr(fast, name).dtype == dtype
        np.testing.assert_allclose(
            getattr(fast, name), getattr(reference, name), rtol=tolerance, atol=tolerance
        )
    assert fast.shape == (40, 40)


def test_glove_problem_keeps_log_one_entries() -> None:
    counts = scipy.sparse.csr_matrix(np.array([[0, 1, 4], [1, 0, 20], [4, 20, 2.0]]))
    problem = cooccurrence_problem(counts, PUConfig(model="glove", x_max=10))
    assert problem.indices.size == 7  # log 1 = 0 is still an observed entry
    np.testing.assert_allclose(problem.targets, np.log(counts.data))
    np.testing.assert_allclose(problem.confidences, np.minimum(1, (counts.data / 10) ** 0.75))
    np.testing.assert_array_equal(problem.t_indices, problem.indices)  # symmetric pattern


def test_divergence_is_reported() -> None:
    problem, _, _ = random_problem()
    problem.targets[3] = np.inf  # overflowing targets make the factors non-finite
    with pytest.raises(TrainingDivergedError):
        factorize(problem, PUConfig(dim=2, iterations=1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "svd"},
        {"dim": 0},
        {"window": 0},
        {"rho": -1.0},
        {"regularization": float("nan")},
        {"x_max": 0.0},
        {"iterations": 0},
        {"context_smoothing": 1.5},
        {"threads": -1},
        {"min_count": 0},
    ],
)
def test_bad_config(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        PUConfig(**kwargs)  # type: ignore[arg-type]


# --- end to end on a planted-topic corpus ------------------------------------------------------

N_TOPICS = 6
TOPIC_SIZE = 8


@pytest.fixture(scope="module")
def topic_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sentences of 12 words: 10 drawn from one topic's 8 words, 2 from any topic (GloVe
    learns nothing from pairs never seen together, so some must cross topics)."""
    rng = np.random.default_rng(0)
    words = [[f"t{t}w{i}" for i in range(TOPIC_SIZE)] for t in range(N_TOPICS)]
    lines = []
    for _ in range(1500):
        topic = words[int(rng.integers(N_TOPICS))]
        noise = [words[int(rng.integers(N_TOPICS))][int(rng.integers(TOPIC_SIZE))] for _ in "ab"]
        lines.append(" ".join([*rng.choice(topic, size=10), *noise]))
    path = tmp_path_factory.mktemp("pu") / "topics.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("model", ["pu", "glove"])
def test_topic_mates_are_nearest_neighbours(topic_corpus: Path, model: str) -> None:
    config = PUConfig(
        model=model,
        dim=10,
        window=5,
        iterations=8,
        threads=2,
        x_max=100.0 if model == "glove" else 10.0,
    )
    emb = train_pu(topic_corpus, config)
    assert emb.metadata["config"]["model"] == model
    assert len(emb) == N_TOPICS * TOPIC_SIZE
    objective_trace = emb.metadata["objective"]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(objective_trace))
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    topics = [w.split("w")[0] for w in emb.vocab.words]
    hits = 0
    for i in range(len(topics)):
        hits += topics[int(np.argmax(sims[i]))] == topics[i]
    assert hits == len(topics)


def test_checkpoint_resume_matches_uninterrupted(topic_corpus: Path, tmp_path: Path) -> None:
    ckpt = str(tmp_path / "run.npz")
    full = train_pu(topic_corpus, PUConfig(dim=6, window=3, iterations=4, threads=1))
    train_pu(topic_corpus, PUConfig(dim=6, window=3, iterations=2, threads=1), checkpoint=ckpt)
    resumed = train_pu(
        topic_corpus,
        PUConfig(dim=6, window=3, iterations=4, threads=1),
        checkpoint=ckpt,
        resume=True,
    )
    np.testing.assert_allclose(resumed.vectors, full.vectors, rtol=1e-5, atol=1e-6)
    # Both solvers minimize the same objective: a run may continue with the other one.
    switched = train_pu(
        topic_corpus,
        PUConfig(dim=6, window=3, iterations=5, threads=1, solver="als"),
        checkpoint=ckpt,
        resume=True,
    )
    assert switched.metadata["iterations_done"] == 5
    assert switched.metadata["objective"][-1] <= resumed.metadata["objective"][-1]
    with pytest.raises(ConfigError):
        load_checkpoint(ckpt, PUConfig(dim=7, window=3), (48, 48))
    with pytest.raises(ConfigError):
        train_pu(topic_corpus, PUConfig(), checkpoint=str(tmp_path / "none.npz"), resume=True)
