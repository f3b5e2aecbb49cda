"""Cross-lingual alignment: map two independently trained embedding spaces into one.

Two spaces trained apart are only comparable after a mapping. This module learns it the way
VecMap does (supervised, semi-supervised, identical strings or fully unsupervised), with
CSLS-based dictionary induction from MUSE, on NumPy/BLAS with bounded memory:

1. **Normalization** (Artetxe, Labaka and Agirre, EMNLP 2016, "Learning principled bilingual
   mappings of word embeddings while preserving monolingual invariance"): ``unit``, ``center``,
   ``unitdim``, ... applied identically to both sides; the default ``unit,center,unit`` is
   VecMap's.
2. **Initial dictionary**: a seed dictionary, every identically spelled word (Artetxe et al.,
   ACL 2017, "Learning bilingual word embeddings with (almost) no bilingual data"; Smith et al.,
   ICLR 2017), or, unsupervised, the nearest neighbours of the words' *similarity
   distributions* (Artetxe, Labaka and Agirre, ACL 2018, "A robust self-learning method for
   fully unsupervised cross-lingual mappings of word embeddings"): for the most frequent words
   ``X``, the rows of ``sqrt(X X^T)`` (``U S U^T`` from the SVD ``X = U S V^T``), sorted, do
   not depend on the language's coordinate system, so they can be compared across languages.
3. **Self-learning** (ACL 2017 and 2018): alternately fit the orthogonal Procrustes map
   ``W = U V^T`` (``U S V^T = svd(X_d^T Z_d)``; Schönemann, 1966; Xing et al., NAACL 2015) and
   re-induce the dictionary over the ``vocabulary_cutoff`` most frequent words of each side
   with CSLS (Conneau, Lample, Ranzato, Denoyer and Jégou, ICLR 2018, "Word translation without
   parallel data"), in both directions, with stochastic dictionary induction: each similarity
   is kept with probability ``keep_prob``, which starts at ``stochastic_initial`` and is
   multiplied by ``stochastic_multiplier`` whenever the objective (mean nearest-neighbour
   similarity) has not improved for ``stochastic_interval`` iterations; after a run at
   ``keep_prob = 1`` without improvement the loop stops.
4. **Final mapping** (Artetxe, Labaka and Agirre, AAAI 2018, "Generalizing and improving
   bilingual word embedding mappings with a multi-step framework of linear transformations"):
   whitening of both sides, orthogonal mapping, re-weighting by the singular values
   (``s ** src_reweight``, ``s ** tgt_reweight``) and de-whitening; with ``whiten=False`` and no
   re-weighting it is plain orthogonal Procrustes.

MUSE's unsupervised model-selection criterion (the mean cosine of the CSLS translations of the
most frequent source words) is reported for every alignment and picks the best of
``restarts`` unsupervised runs.

Everything that scales with vocabulary x vocabulary is computed a block of rows at a time
(:mod:`wordvec.align_retrieval`); the learned mapping (normalization statistics and one matrix
per side) is saved as ``.npz`` with a JSON header (:mod:`wordvec.align_mapping`) and applies to
any store of the same language later (:func:`apply_mapping`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from wordvec.align_dictionary import (
    DictionaryIds,
    TranslationPairs,
    identical_pairs,
    lookup_pairs,
    read_dictionary,
    write_dictionary,
)
from wordvec.align_mapping import (
    AlignmentMapping,
    SideTransform,
    fit_normalization,
    load_mapping,
    parse_normalization,
    save_mapping,
)
from wordvec.align_retrieval import (
    CSLS_NEIGHBOURS,
    DEFAULT_BLOCK_BYTES,
    DIRECTIONS,
    BLIScores,
    Direction,
    evaluate_bli,
    induce_dictionary,
    mean_csls_cosine,
    nearest,
    neighbourhoods,
)
from wordvec.embeddings import Embeddings
from wordvec.errors import ConfigError, WordvecError

INITS = ("dictionary", "identical", "unsupervised")
# (stochastic_initial, stochastic_interval, threshold); see AlignConfig.
_SCHEDULE_UNSUPERVISED = (0.1, 50, 1e-6)
_SCHEDULE_SEEDED = (1.0, 3, 1e-4)
DEWHITEN_CHOICES = ("src", "tgt", None)
Init = Literal["dictionary", "identical", "unsupervised"]
Dewhiten = Literal["src", "tgt"] | None
Progress = Callable[[str], None]

__all__ = [
    "AlignConfig",
    "AlignResult",
    "AlignmentMapping",
    "BLIScores",
    "DictionaryIds",
    "SideTransform",
    "TranslationPairs",
    "align",
    "align_procrustes",
    "align_to_pivot",
    "apply_mapping",
    "evaluate_bli",
    "fit_final_mapping",
    "identical_pairs",
    "induce_dictionary",
    "load_mapping",
    "lookup_pairs",
    "mean_csls_cosine",
    "nearest",
    "neighbourhoods",
    "orthogonal_from_cross",
    "read_dictionary",
    "save_mapping",
    "similarity_signature",
    "write_dictionary",
]


class AlignmentError(WordvecError):
    """The alignment cannot proceed with these inputs (e.g. no seed pair in the vocabularies)."""


@dataclass(frozen=True)
class AlignConfig:
    """How to align; the defaults are VecMap's recipe except where measurement on the English-
    German man-page benchmark (``tests/benchmarks/bench_align.py``) chose otherwise.

    ``init`` picks the initial dictionary: ``"dictionary"`` (pairs given to :func:`align`),
    ``"identical"`` (identically spelled words) or ``"unsupervised"``. ``self_learning`` then
    iterates Procrustes and dictionary induction; without it a seed dictionary is used as is
    (supervised). The final mapping steps (``whiten`` ... ``dim_reduction``) are applied once,
    to the final dictionary; ``whiten=False`` with both re-weightings 0 is orthogonal
    Procrustes (the target side then stays as normalized). Left at ``None``, the final steps
    are VecMap's (whitening, re-weighting 0.5) after self-learning and orthogonal Procrustes
    for a mapping fitted on the seed alone (:meth:`final_steps`).

    The self-learning schedule (``stochastic_initial``, ``stochastic_interval``,
    ``threshold``), left at ``None``, depends on the seed (:meth:`schedule`): VecMap's
    ``(0.1, 50, 1e-6)`` for unsupervised runs, where dropout is what escapes a poor start,
    and ``(1.0, 3, 1e-4)`` from a seed dictionary or identical strings, where the seed is
    already good (chosen by ``bench_align.py --sweep``). ``lagged_csls``
    computes CSLS from the previous iteration's neighbourhoods (one pass instead of two).

    Raises :class:`ConfigError` for out-of-range values.
    """

    init: Init = "dictionary"
    self_learning: bool = True
    normalize: tuple[str, ...] = ("unit", "center", "unit")
    whiten: bool | None = None
    src_reweight: float | None = None
    tgt_reweight: float | None = None
    src_dewhiten: Dewhiten = "src"
    tgt_dewhiten: Dewhiten = "tgt"
    dim_reduction: int | None = None
    vocabulary_cutoff: int = 20_000
    csls_k: int = CSLS_NEIGHBOURS
    direction: Direction = "union"
    stochastic_initial: float | None = None
    stochastic_multiplier: float = 2.0
    stochastic_interval: int | None = None
    threshold: float | None = None
    max_iterations: int = 1000
    lagged_csls: bool = True
    unsupervised_vocab: int = 4000
    restarts: int = 1
    selection_queries: int = 10_000
    seed: int = 0
    block_bytes: int = DEFAULT_BLOCK_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalize", parse_normalization(self.normalize))
        checks = [
            (self.init in INITS, f"init must be one of {', '.join(INITS)} (got {self.init!r})"),
            (
                self.direction in DIRECTIONS,
                f"direction must be one of {', '.join(DIRECTIONS)} (got {self.direction!r})",
            ),
            (
                self.src_dewhiten in DEWHITEN_CHOICES and self.tgt_dewhiten in DEWHITEN_CHOICES,
                "src_dewhiten / tgt_dewhiten must be 'src', 'tgt' or None",
            ),
            (
                self.dim_reduction is None or self.dim_reduction >= 1,
                f"dim_reduction must be at least 1 (got {self.dim_reduction})",
            ),
            (
                self.vocabulary_cutoff >= 1,
                f"vocabulary_cutoff must be at least 1 (got {self.vocabulary_cutoff})",
            ),
            (self.csls_k >= 0, f"csls_k must be >= 0 (0: nearest neighbour) (got {self.csls_k})"),
            (
                self.stochastic_initial is None or 0 < self.stochastic_initial <= 1,
                f"stochastic_initial must be in (0, 1] (got {self.stochastic_initial})",
            ),
            (
                self.stochastic_multiplier > 1,
                f"stochastic_multiplier must be > 1 (got {self.stochastic_multiplier})",
            ),
            (
                self.stochastic_interval is None or self.stochastic_interval >= 1,
                f"stochastic_interval must be at least 1 (got {self.stochastic_interval})",
            ),
            (
                self.threshold is None or self.threshold >= 0,
                f"threshold must be >= 0 (got {self.threshold})",
            ),
            (self.max_iterations >= 1, f"max_iterations must be >= 1 (got {self.max_iterations})"),
            (
                self.unsupervised_vocab >= 2,
                f"unsupervised_vocab must be at least 2 (got {self.unsupervised_vocab})",
            ),
            (self.restarts >= 1, f"restarts must be at least 1 (got {self.restarts})"),
            (
                self.selection_queries >= 1,
                f"selection_queries must be at least 1 (got {self.selection_queries})",
            ),
            (self.block_bytes >= 4, f"block_bytes must be at least 4 (got {self.block_bytes})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def schedule(self) -> tuple[float, int, float]:
        """``(stochastic_initial, stochastic_interval, threshold)`` with the defaults of
        ``init`` filled in where a field is ``None``: VecMap's ``(0.1, 50, 1e-6)`` for
        unsupervised runs, ``(1.0, 3, 1e-4)`` from a seed (see the class docstring)."""
        defaults = _SCHEDULE_UNSUPERVISED if self.init == "unsupervised" else _SCHEDULE_SEEDED
        chosen = (self.stochastic_initial, self.stochastic_interval, self.threshold)
        initial, interval, threshold = (
            default if value is None else value
            for value, default in zip(chosen, defaults, strict=True)
        )
        return float(initial), int(interval), float(threshold)

    def final_steps(self) -> tuple[bool, float, float]:
        """``(whiten, src_reweight, tgt_reweight)`` with ``None`` fields filled in: VecMap's
        ``(True, 0.5, 0.5)`` after self-learning, orthogonal ``(False, 0, 0)`` for a mapping
        fitted on the seed dictionary alone (see the class docstring)."""
        defaults = (True, 0.5, 0.5) if self.self_learning else (False, 0.0, 0.0)
        whiten = defaults[0] if self.whiten is None else self.whiten
        src = defaults[1] if self.src_reweight is None else self.src_reweight
        tgt = defaults[2] if self.tgt_reweight is None else self.tgt_reweight
        return bool(whiten), float(src), float(tgt)

    @property
    def orthogonal(self) -> bool:
        """True when the final mapping is plain orthogonal Procrustes."""
        whiten, src_reweight, tgt_reweight = self.final_steps()
        return not whiten and src_reweight == 0 and tgt_reweight == 0 and self.dim_reduction is None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["normalize"] = list(self.normalize)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlignConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown alignment settings: {', '.join(unknown)}")
        values = dict(data)
        if "normalize" in values:
            values["normalize"] = tuple(values["normalize"])
        return cls(**values)


# --- the linear algebra -----------------------------------------------------------------------


def align_procrustes(source_pairs: Any, target_pairs: Any) -> NDArray[np.float64]:
    """The orthogonal ``W`` (dim, dim) minimizing ``||X W - Z||_F`` for row-aligned pairs
    ``X`` = ``source_pairs`` and ``Z`` = ``target_pairs`` (both (n, dim)): ``W = U V^T`` with
    ``U S V^T = svd(X^T Z)``. float64. Raises :class:`ConfigError` on mismatched shapes."""
    x = np.asarray(source_pairs, dtype=np.float64)
    z = np.asarray(target_pairs, dtype=np.float64)
    _check_pairs(x, z)
    return orthogonal_from_cross(x.T @ z)


def orthogonal_from_cross(cross: Any) -> NDArray[np.float64]:
    """Procrustes from the cross-product ``X^T Z`` (d_x, d_z) alone, which can be summed
    over blocks of pairs: ``W = U V^T`` with ``U S V^T = svd(X^T Z)`` (thin SVD, so the two
    dimensions may differ: ``W`` then has orthonormal rows or columns). float64."""
    u, _, vt = np.linalg.svd(np.asarray(cross, dtype=np.float64), full_matrices=False)
    return u @ vt


def _check_pairs(x: NDArray[Any], z: NDArray[Any]) -> None:
    if x.ndim != 2 or x.shape != z.shape:
        raise ConfigError(
            f"paired vectors must be two (n, dim) matrices of one shape (got {x.shape} and "
            f"{z.shape})"
        )
    if x.shape[0] == 0:
        raise ConfigError("a mapping needs at least one dictionary pair")


def _whitening(m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(W, W^-1)`` with ``(m W)^T (m W) = I``: ``W = (m^T m)^(-1/2)`` (symmetric)."""
    eigenvalues, vectors = np.linalg.eigh(m.T @ m)
    if eigenvalues.min() <= eigenvalues.max() * 1e-10:
        raise ConfigError(
            f"whitening needs dictionary vectors spanning all {m.shape[1]} dimensions (got "
            f"{m.shape[0]} pairs of rank below that): use more pairs or whiten=False"
        )
    root = np.sqrt(eigenvalues)
    return (vectors / root) @ vectors.T, (vectors * root) @ vectors.T


def fit_final_mapping(
    source_pairs: Any, target_pairs: Any, config: AlignConfig
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """VecMap's multi-step mapping (Artetxe et al., AAAI 2018) from row-aligned pairs:
    ``(W_x, W_z)`` (dim, d') such that ``X W_x`` and ``Z W_z`` live in one space.

    Steps (switched by :meth:`AlignConfig.final_steps`): whitening ``W1 = (M^T M)^(-1/2)``
    of each side; orthogonal mapping ``U S V^T = svd((X W1x)^T (Z W1z))``; re-weighting by
    ``S ** src_reweight`` / ``S ** tgt_reweight``; de-whitening with the source's (``"src"``)
    or target's (``"tgt"``) ``W1^-1`` expressed in the mapped basis; dimensionality reduction
    to the first ``dim_reduction`` components. Without dimensionality reduction both matrices
    are finally rotated by ``V^T`` (cosines unchanged), so the orthogonal case gives
    ``W_z = I``.
    """
    x = np.asarray(source_pairs, dtype=np.float64)
    z = np.asarray(target_pairs, dtype=np.float64)
    _check_pairs(x, z)
    dim = x.shape[1]
    identity = np.eye(dim)
    whiten, src_reweight, tgt_reweight = config.final_steps()
    if whiten:
        wx1, wx1_inverse = _whitening(x)
        wz1, wz1_inverse = _whitening(z)
    else:
        wx1 = wx1_inverse = wz1 = wz1_inverse = identity
    wx2, s, wz2_t = np.linalg.svd((x @ wx1).T @ (z @ wz1))
    wz2 = wz2_t.T
    map_x = (wx1 @ wx2) * s**src_reweight
    map_z = (wz1 @ wz2) * s**tgt_reweight
    dewhiten = {
        "src": wx2.T @ wx1_inverse @ wx2,
        "tgt": wz2.T @ wz1_inverse @ wz2,
        None: identity,
    }
    map_x = map_x @ dewhiten[config.src_dewhiten]
    map_z = map_z @ dewhiten[config.tgt_dewhiten]
    if config.dim_reduction is not None:
        keep = min(config.dim_reduction, dim)
        return map_x[:, :keep], map_z[:, :keep]
    return map_x @ wz2_t, map_z @ wz2_t


def similarity_signature(vectors: Any, normalize: tuple[str, ...]) -> NDArray[np.float32]:
    """The language-independent signature of ``n`` words (ACL 2018): ``sqrt(M)`` of their
    similarity matrix ``M = X X^T``, i.e. ``U S U^T`` for ``X = U S V^T``, each row sorted and
    then normalized by ``normalize``. Input (n, dim); output (n, n) float32. Any orthogonal
    map of ``X`` leaves it unchanged, and words that translate each other tend to have similar
    distributions of similarities."""
    x = np.asarray(vectors, dtype=np.float32)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    signature = (u * s) @ u.T
    signature.sort(axis=1)
    normalized, _ = fit_normalization(signature, normalize)
    return normalized


# --- the driver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignResult:
    """What :func:`align` returns: the ``mapping``, both sides mapped into the shared space
    (``source``, ``target``: :class:`Embeddings`, float32), the dictionary the final mapping was
    fitted on (row ids, int64), how the seed dictionary was covered, the self-learning history
    (one dict per iteration), MUSE's criterion for the result, and the time taken."""

    mapping: AlignmentMapping
    source: Embeddings
    target: Embeddings
    source_ids: NDArray[np.int64]
    target_ids: NDArray[np.int64]
    seed: DictionaryIds | None
    seed_pairs: int
    iterations: int
    converged: bool
    objective: float | None
    criterion: float
    seconds: float
    history: tuple[dict[str, Any], ...] = ()
    restart_criteria: tuple[float, ...] = ()
    config: AlignConfig = field(default_factory=AlignConfig)

    def induced_pairs(self) -> list[tuple[str, str]]:
        """The final dictionary as distinct ``(source word, target word)`` pairs."""
        src_words, tgt_words = self.source.vocab.words, self.target.vocab.words
        pairs = zip(self.source_ids.tolist(), self.target_ids.tolist(), strict=True)
        return list(dict.fromkeys((src_words[s], tgt_words[t]) for s, t in pairs))

    def summary(self) -> dict[str, Any]:
        """JSON-able figures (no matrices)."""
        return {
            "init": self.config.init,
            "self_learning": self.config.self_learning,
            "seed_dictionary": None if self.seed is None else self.seed.to_dict(),
            "seed_pairs_used": self.seed_pairs,
            "iterations": self.iterations,
            "converged": self.converged,
            "objective": self.objective,
            "criterion_mean_csls_cosine": self.criterion,
            "restart_criteria": list(self.restart_criteria),
            "final_dictionary_pairs": int(self.source_ids.size),
            "seconds": self.seconds,
            "config": self.config.to_json(),
            "final_steps": dict(
                zip(
                    ("whiten", "src_reweight", "tgt_reweight"),
                    self.config.final_steps(),
                    strict=True,
                )
            ),
            "schedule": dict(
                zip(
                    ("stochastic_initial", "stochastic_interval", "threshold"),
                    self.config.schedule(),
                    strict=True,
                )
            ),
        }


def _words_of(vectors: Any) -> tuple[str, ...]:
    if isinstance(vectors, Embeddings):
        return vectors.vocab.words
    return tuple(vectors.words_at(0, len(vectors)))


def align(
    source: Any,
    target: Any,
    config: AlignConfig | None = None,
    *,
    dictionary: TranslationPairs | None = None,
    progress: Progress | None = None,
) -> AlignResult:
    """Learn a mapping of ``source`` and ``target`` (:class:`Embeddings` or stores) into one
    space and map both.

    ``dictionary`` (required for ``init="dictionary"``, ignored otherwise) gives the seed
    pairs; those with a word missing from either vocabulary are counted in ``result.seed``.
    ``progress``, if given, receives one line per step (initialization, each self-learning
    iteration). Rows are taken in vocabulary order: the first ``vocabulary_cutoff`` /
    ``unsupervised_vocab`` rows should be the most frequent words (as in every store our
    trainer writes).

    Raises :class:`ConfigError` for a bad configuration or mismatched inputs and
    :class:`AlignmentError` if no seed pair is found in the vocabularies.
    """
    config = config or AlignConfig()
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    if config.dim_reduction is not None and config.dim_reduction > min(source.dim, target.dim):
        raise ConfigError(
            f"dim_reduction {config.dim_reduction} exceeds the dimension of the vectors"
        )
    if source.dim != target.dim:
        raise ConfigError(
            f"source vectors have {source.dim} dimensions, target vectors {target.dim}: "
            "orthogonal mappings need equal dimensions"
        )
    xn, x_stats = fit_normalization(source.vectors, config.normalize)
    zn, z_stats = fit_normalization(target.vectors, config.normalize)

    seed, seed_source, seed_target = _initial_dictionary(
        source, target, xn, zn, config, dictionary, say
    )
    criteria: list[float] = []
    best: _Run | None = None
    n_runs = config.restarts if config.self_learning and config.init == "unsupervised" else 1
    for restart in range(n_runs):
        run = (
            _self_learning(xn, zn, seed_source, seed_target, config, restart, say)
            if config.self_learning
            else _Run(seed_source, seed_target, 0, True, None, ())
        )
        run, criterion = _finish(run, xn, zn, config)
        if n_runs > 1:
            say(f"restart {restart + 1}/{n_runs}: mean CSLS cosine {criterion:.4f}")
        if best is None or criterion > max(criteria):
            best = run
        criteria.append(criterion)
    assert best is not None and best.mapped is not None
    criterion = max(criteria)
    xw, zw, map_x, map_z = best.mapped

    mapping = AlignmentMapping(
        {
            "src": SideTransform(config.normalize, x_stats, map_x.astype(np.float32)),
            "tgt": SideTransform(config.normalize, z_stats, map_z.astype(np.float32)),
        },
        config.to_json(),
        {"criterion_mean_csls_cosine": criterion, "iterations": best.iterations},
    )
    return AlignResult(
        mapping=mapping,
        source=_mapped_embeddings(source, xw, mapping, "src"),
        target=_mapped_embeddings(target, zw, mapping, "tgt"),
        source_ids=best.source_ids,
        target_ids=best.target_ids,
        seed=seed,
        seed_pairs=int(seed_source.size),
        iterations=best.iterations,
        converged=best.converged,
        objective=best.objective,
        criterion=criterion,
        seconds=time.perf_counter() - started,
        history=best.history,
        restart_criteria=tuple(criteria) if n_runs > 1 else (),
        config=config,
    )


@dataclass(frozen=True)
class _Run:
    source_ids: NDArray[np.int64]
    target_ids: NDArray[np.int64]
    iterations: int
    converged: bool
    objective: float | None
    history: tuple[dict[str, Any], ...]
    mapped: tuple[Any, Any, Any, Any] | None = None


def _initial_dictionary(
    source: Any,
    target: Any,
    xn: NDArray[np.float32],
    zn: NDArray[np.float32],
    config: AlignConfig,
    dictionary: TranslationPairs | None,
    say: Progress,
) -> tuple[DictionaryIds | None, NDArray[np.int64], NDArray[np.int64]]:
    """The seed pairs as row ids, and the seed dictionary's coverage (None if unsupervised)."""
    if config.init == "unsupervised":
        start = time.perf_counter()
        n = min(config.unsupervised_vocab, xn.shape[0], zn.shape[0])
        induced = induce_dictionary(
            similarity_signature(xn[:n], config.normalize),
            similarity_signature(zn[:n], config.normalize),
            csls_k=config.csls_k,
            direction=config.direction,
            block_bytes=config.block_bytes,
        )
        say(
            f"unsupervised initialization: similarity signatures of {n} words, "
            f"{induced.source_ids.size} pairs ({time.perf_counter() - start:.1f} s)"
        )
        return None, induced.source_ids, induced.target_ids
    if config.init == "identical":
        pairs = identical_pairs(_words_of(source), _words_of(target))
    elif dictionary is None:
        raise ConfigError('init="dictionary" needs a dictionary of seed pairs')
    else:
        pairs = dictionary
    seed = lookup_pairs(pairs, source, target)
    if seed.n_found == 0:
        raise AlignmentError(
            f"{pairs.name}: none of the {seed.n_pairs} seed pairs has both words in the "
            "vocabularies"
        )
    say(
        f"seed dictionary ({pairs.name}): {seed.n_found} of {seed.n_pairs} pairs found "
        f"({seed.n_missing_source} miss the source word, {seed.n_missing_target} the target "
        "word)"
    )
    return seed, seed.source_ids, seed.target_ids


def _finish(
    run: _Run, xn: NDArray[np.float32], zn: NDArray[np.float32], config: AlignConfig
) -> tuple[_Run, float]:
    """Fit the final mapping on the run's dictionary, map both sides, score with MUSE's
    criterion over the ``vocabulary_cutoff`` most frequent words."""
    map_x, map_z = fit_final_mapping(xn[run.source_ids], zn[run.target_ids], config)
    xw = xn @ map_x.astype(np.float32)
    zw = zn @ map_z.astype(np.float32)
    criterion = mean_csls_cosine(
        xw[: config.vocabulary_cutoff],
        zw[: config.vocabulary_cutoff],
        n_queries=config.selection_queries,
        csls_k=max(config.csls_k, 1),
        block_bytes=config.block_bytes,
    )
    return dataclasses.replace(run, mapped=(xw, zw, map_x, map_z)), criterion


def _self_learning(
    xn: NDArray[np.float32],
    zn: NDArray[np.float32],
    source_ids: NDArray[np.int64],
    target_ids: NDArray[np.int64],
    config: AlignConfig,
    restart: int,
    say: Progress,
) -> _Run:
    """VecMap's self-learning loop from the seed pairs; returns the final dictionary."""
    xc = xn[: min(config.vocabulary_cutoff, xn.shape[0])]
    zc = zn[: min(config.vocabulary_cutoff, zn.shape[0])]
    keep_prob, interval, threshold = config.schedule()
    best_objective = -np.inf
    objective: float | None = None
    last_improvement = 0
    history: list[dict[str, Any]] = []
    penalties: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None
    converged = False
    iteration = 0
    while iteration < config.max_iterations:
        iteration += 1
        if iteration - last_improvement > interval:
            if keep_prob >= 1.0:
                converged = True
                iteration -= 1  # this round only confirmed convergence
                break
            keep_prob = min(1.0, keep_prob * config.stochastic_multiplier)
            last_improvement = iteration
        start = time.perf_counter()
        w = align_procrustes(xn[source_ids], zn[target_ids]).astype(np.float32)
        # A different, reproducible dropout pattern in every iteration of every restart.
        seed = int(np.random.SeedSequence([config.seed, restart, iteration]).generate_state(1)[0])
        induced = induce_dictionary(
            xc @ w,
            zc,
            csls_k=config.csls_k,
            direction=config.direction,
            keep_prob=keep_prob,
            seed=seed,
            block_bytes=config.block_bytes,
            penalties=penalties,
        )
        if config.lagged_csls:
            # CSLS of the next iteration uses this mapping's r: one pass over the similarities
            # instead of two; r moves little from one iteration to the next.
            penalties = (induced.source_neighbourhood, induced.target_neighbourhood)
        source_ids, target_ids, objective = (
            induced.source_ids,
            induced.target_ids,
            induced.objective,
        )
        if objective - best_objective >= threshold:
            best_objective = objective
            last_improvement = iteration
        seconds = time.perf_counter() - start
        history.append(
            {
                "iteration": iteration,
                "objective": objective,
                "keep_prob": keep_prob,
                "pairs": int(source_ids.size),
                "seconds": seconds,
            }
        )
        say(
            f"iteration {iteration:4d}  objective {objective:.5f}  keep {keep_prob:.2f}  "
            f"dictionary {source_ids.size} pairs  ({seconds:.2f} s)"
        )
    else:
        say(f"stopped after max_iterations={config.max_iterations} without converging")
    return _Run(source_ids, target_ids, iteration, converged, objective, tuple(history))


def _mapped_embeddings(
    original: Any, mapped: NDArray[np.float32], mapping: AlignmentMapping, side: str
) -> Embeddings:
    metadata = dict(getattr(original, "metadata", {}) or {})
    metadata["alignment"] = {"side": side, "config": dict(mapping.config)}
    vocab = original.vocab if isinstance(original, Embeddings) else None
    if vocab is not None:
        # Subword buckets live in the unmapped space and normalization is not linear, so they
        # cannot follow; a store written from these embeddings falls back on its n-gram index.
        return Embeddings(vocab, mapped, None, metadata)
    counts = None if original.counts is None else np.array(original.counts)
    return Embeddings.from_words(
        original.words_at(0, len(original)), mapped, counts=counts, metadata=metadata
    )


def apply_mapping(
    vectors: Any, mapping: AlignmentMapping, side: str = "src", *, rows_per_block: int = 65_536
) -> Embeddings:
    """Map every word of ``vectors`` (:class:`Embeddings` or a :class:`VectorStore`) into the
    shared space with ``mapping``'s transform for ``side``; returns new :class:`Embeddings`
    (float32, same vocabulary and counts, metadata noting the alignment). The store is read a
    block of rows at a time. Subword buckets are not carried over (see ``_mapped_embeddings``);
    map an out-of-vocabulary vector with ``mapping.map_vectors(store[word], side)``.

    Raises :class:`ConfigError` for an unknown side or a dimension mismatch.
    """
    transform = mapping.side(side)
    matrix = vectors.vectors
    if matrix.shape[1] != transform.dim:
        raise ConfigError(
            f"the vectors have dimension {matrix.shape[1]}, side {side!r} of the mapping "
            f"expects {transform.dim}"
        )
    mapped = np.empty((matrix.shape[0], transform.mapped_dim), dtype=np.float32)
    for start in range(0, matrix.shape[0], rows_per_block):
        stop = min(start + rows_per_block, matrix.shape[0])
        mapped[start:stop] = transform.map(np.asarray(matrix[start:stop], dtype=np.float32))
    return _mapped_embeddings(vectors, mapped, mapping, side)


def align_to_pivot(
    pivot: Embeddings,
    others: Mapping[str, Embeddings],
    config: AlignConfig | None = None,
    *,
    dictionaries: Mapping[str, TranslationPairs] | None = None,
    pivot_name: str = "pivot",
    progress: Progress | None = None,
) -> tuple[AlignmentMapping, dict[str, AlignResult]]:
    """Map several languages into one space, the pivot's: each language of ``others`` is
    aligned to ``pivot`` as a source (with ``dictionaries[name]`` for ``init="dictionary"``),
    and its map is composed with the inverse of the pivot-side map of that pair, so the pivot
    stays as normalized and every language lands in its space. Any two languages are then
    comparable (e.g. for BLI between two non-pivot languages).

    Returns the joint mapping (side ``pivot_name`` plus one side per language) and each pair's
    :class:`AlignResult`. Raises :class:`ConfigError` with ``dim_reduction`` (the pivot-side map
    must be invertible) or a name clash.
    """
    config = config or AlignConfig()
    if config.dim_reduction is not None:
        raise ConfigError("align_to_pivot needs invertible maps: dim_reduction must be None")
    if pivot_name in others:
        raise ConfigError(f"language name {pivot_name!r} is used for the pivot")
    if not others:
        raise ConfigError("align_to_pivot needs at least one language besides the pivot")
    say = progress or (lambda _line: None)
    sides: dict[str, SideTransform] = {}
    results: dict[str, AlignResult] = {}
    for name, embeddings in others.items():
        say(f"aligning {name} to {pivot_name}")
        dictionary = None if dictionaries is None else dictionaries.get(name)
        result = align(embeddings, pivot, config, dictionary=dictionary, progress=say)
        src, tgt = result.mapping.side("src"), result.mapping.side("tgt")
        inverse = np.linalg.inv(tgt.matrix.astype(np.float64))
        composed = (src.matrix.astype(np.float64) @ inverse).astype(np.float32)
        sides[name] = SideTransform(src.normalize, src.statistics, composed)
        if pivot_name not in sides:
            identity = np.eye(tgt.dim, dtype=np.float32)
            sides[pivot_name] = SideTransform(tgt.normalize, tgt.statistics, identity)
        results[name] = result
    ordered = {pivot_name: sides.pop(pivot_name), **sides}
    return AlignmentMapping(ordered, config.to_json(), {"pivot": pivot_name}), results
