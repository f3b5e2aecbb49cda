"""A learned cross-lingual mapping: per language, a normalization pipeline with its statistics
and one matrix, saved as ``.npz`` (arrays plus a JSON header, no pickle) and applicable to any
vectors of that language later, including words and stores the alignment never saw.

Normalization steps (VecMap's, Artetxe et al., 2016/2018), applied in order to each side with
that side's own statistics:

- ``unit``: every vector scaled to length 1;
- ``center``: the mean vector (of the training vocabulary) subtracted from every vector;
- ``unitdim``: every dimension divided by its standard deviation (over the training vocabulary);
- ``centeremb``: every vector's own mean subtracted from its components;
- ``none``: nothing.

``unit`` and ``centeremb`` are per vector; ``center`` and ``unitdim`` keep the statistic they
learned, so a new word is normalized exactly as the training words were.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wordvec.errors import ConfigError, FormatError

NORMALIZATION_STEPS = ("unit", "center", "unitdim", "centeremb", "none")
MAPPING_FORMAT = "wordvec-alignment"
MAPPING_FORMAT_VERSION = 1
_HEADER_KEY = "header_json"


def parse_normalization(steps: str | Sequence[str]) -> tuple[str, ...]:
    """``"unit,center,unit"`` or a sequence of step names -> a validated tuple of steps
    (``unit-dim`` = ``unitdim``). Raises :class:`ConfigError` for an unknown step."""
    if isinstance(steps, str):
        steps = [s.strip() for s in steps.split(",") if s.strip()]
    # "unit-dim" and "center-emb" read better on a command line; VecMap spells them without.
    parsed = tuple(s.replace("-", "") for s in steps)
    unknown = [s for s in parsed if s not in NORMALIZATION_STEPS]
    if unknown:
        raise ConfigError(
            f"unknown normalization step(s) {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(NORMALIZATION_STEPS)}"
        )
    return parsed


def fit_normalization(
    vectors: Any, steps: Sequence[str]
) -> tuple[NDArray[np.float32], tuple[NDArray[np.float64] | None, ...]]:
    """Normalize ``vectors`` (n, dim) by ``steps``; returns a new float32 matrix and, per step,
    the statistic it learned (the mean for ``center``, the standard deviations for
    ``unitdim``, else ``None``)."""
    matrix = np.array(vectors, dtype=np.float32, copy=True, order="C")
    statistics: list[NDArray[np.float64] | None] = []
    for step in parse_normalization(steps):
        statistic: NDArray[np.float64] | None = None
        if step == "center":
            statistic = matrix.mean(axis=0, dtype=np.float64)
        elif step == "unitdim":
            statistic = matrix.std(axis=0, dtype=np.float64)
        _apply_step(matrix, step, statistic)
        statistics.append(statistic)
    return matrix, tuple(statistics)


def apply_normalization(
    vectors: Any, steps: Sequence[str], statistics: Sequence[NDArray[np.float64] | None]
) -> NDArray[np.float32]:
    """Normalize ``vectors`` (n, dim) with statistics learned by :func:`fit_normalization`."""
    steps = parse_normalization(steps)
    if len(statistics) != len(steps):
        raise ConfigError(f"{len(steps)} normalization steps but {len(statistics)} statistics")
    matrix = np.array(vectors, dtype=np.float32, copy=True, order="C", ndmin=2)
    for step, statistic in zip(steps, statistics, strict=True):
        _apply_step(matrix, step, statistic)
    return matrix


def _apply_step(matrix: NDArray[np.float32], step: str, statistic: Any) -> None:
    if step == "unit":
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0  # a zero vector stays zero instead of becoming NaN
        matrix /= norms
    elif step == "center":
        matrix -= np.asarray(statistic, dtype=np.float32)
    elif step == "unitdim":
        std = np.asarray(statistic, dtype=np.float32).copy()
        std[std == 0] = 1.0
        matrix /= std
    elif step == "centeremb":
        matrix -= matrix.mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class SideTransform:
    """How one language enters the shared space: ``normalize`` with ``statistics`` (one per
    step, see :func:`fit_normalization`), then ``@ matrix`` ((dim, mapped_dim) float32)."""

    normalize: tuple[str, ...]
    statistics: tuple[NDArray[np.float64] | None, ...]
    matrix: NDArray[np.float32]

    def __post_init__(self) -> None:
        parse_normalization(self.normalize)
        if len(self.statistics) != len(self.normalize):
            raise ConfigError(
                f"{len(self.normalize)} normalization steps but {len(self.statistics)} statistics"
            )
        if self.matrix.ndim != 2:
            raise ConfigError(f"a mapping matrix must be 2-d (got shape {self.matrix.shape})")
        for step, statistic in zip(self.normalize, self.statistics, strict=True):
            if (step in ("center", "unitdim")) != (statistic is not None):
                raise ConfigError(f"normalization step {step!r} has the wrong statistics")
            if statistic is not None and statistic.shape != (self.dim,):
                raise ConfigError(
                    f"statistics of {step!r} have shape {statistic.shape}, expected ({self.dim},)"
                )

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def mapped_dim(self) -> int:
        return int(self.matrix.shape[1])

    def map(self, vectors: Any) -> NDArray[np.float32]:
        """Normalize and map ``vectors`` ((n, dim) or (dim,)) into the shared space: float32
        (n, mapped_dim), or (mapped_dim,) for one vector. Raises :class:`ConfigError` on a
        dimension mismatch."""
        array = np.asarray(vectors)
        single = array.ndim == 1
        if array.shape[-1] != self.dim:
            raise ConfigError(f"vectors have dimension {array.shape[-1]}, the mapping {self.dim}")
        mapped = apply_normalization(array, self.normalize, self.statistics) @ self.matrix
        return mapped[0] if single else mapped


@dataclass(frozen=True)
class AlignmentMapping:
    """The maps of several languages ("sides") into one shared space. A pairwise alignment has
    sides ``"src"`` and ``"tgt"``; :func:`wordvec.align.align_to_pivot` one side per language.
    ``config`` is the alignment configuration (JSON-able), ``metadata`` anything else worth
    keeping (source files, scores)."""

    sides: Mapping[str, SideTransform]
    config: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sides:
            raise ConfigError("a mapping needs at least one side")
        mapped = {t.mapped_dim for t in self.sides.values()}
        if len(mapped) != 1:
            raise ConfigError(f"the sides map into spaces of different sizes {sorted(mapped)}")

    def side(self, name: str) -> SideTransform:
        """The transform of side ``name``; raises :class:`ConfigError` if there is none."""
        try:
            return self.sides[name]
        except KeyError:
            raise ConfigError(
                f"the mapping has no side {name!r} (it has {', '.join(self.sides)})"
            ) from None

    def map_vectors(self, vectors: Any, side: str = "src") -> NDArray[np.float32]:
        """Vectors of language ``side`` in the shared space (see :meth:`SideTransform.map`)."""
        return self.side(side).map(vectors)


def save_mapping(path: str | os.PathLike[str], mapping: AlignmentMapping) -> None:
    """Write ``mapping`` as an ``.npz`` file (replaced atomically): the matrices and statistics
    as arrays, everything else in a JSON header with a format name and version."""
    arrays: dict[str, NDArray[Any]] = {}
    sides: dict[str, Any] = {}
    for index, (name, transform) in enumerate(mapping.sides.items()):
        prefix = f"side{index}"
        arrays[f"{prefix}_matrix"] = np.asarray(transform.matrix, dtype=np.float32)
        for step_index, statistic in enumerate(transform.statistics):
            if statistic is not None:
                arrays[f"{prefix}_stat{step_index}"] = np.asarray(statistic, dtype=np.float64)
        sides[name] = {"prefix": prefix, "normalize": list(transform.normalize)}
    header = {
        "format": MAPPING_FORMAT,
        "format_version": MAPPING_FORMAT_VERSION,
        "sides": sides,
        "config": dict(mapping.config),
        "metadata": dict(mapping.metadata),
    }
    arrays[_HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".mapping-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)  # type: ignore[arg-type]
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load_mapping(path: str | os.PathLike[str]) -> AlignmentMapping:
    """Read a mapping written by :func:`save_mapping`. Raises :class:`FormatError` if the file
    is not such a mapping (or a newer version of it), ``OSError`` if it cannot be read."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise FormatError(path, f"not an .npz alignment mapping ({exc})") from exc
    with archive:
        if _HEADER_KEY not in archive.files:
            raise FormatError(path, "not a wordvec alignment mapping (no header)")
        try:
            header = json.loads(archive[_HEADER_KEY].tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(path, f"corrupted mapping header ({exc})") from exc
        if not isinstance(header, dict) or header.get("format") != MAPPING_FORMAT:
            raise FormatError(path, "not a wordvec alignment mapping")
        version = header.get("format_version")
        if version != MAPPING_FORMAT_VERSION:
            raise FormatError(
                path,
                f"mapping format version {version} is not supported (this wordvec reads "
                f"version {MAPPING_FORMAT_VERSION}); upgrade wordvec",
            )
        sides: dict[str, SideTransform] = {}
        try:
            for name, entry in header["sides"].items():
                prefix, steps = entry["prefix"], tuple(entry["normalize"])
                statistics = tuple(
                    np.array(archive[f"{prefix}_stat{i}"], dtype=np.float64)
                    if f"{prefix}_stat{i}" in archive.files
                    else None
                    for i in range(len(steps))
                )
                matrix = np.array(archive[f"{prefix}_matrix"], dtype=np.float32)
                sides[name] = SideTransform(steps, statistics, matrix)
            return AlignmentMapping(sides, header.get("config", {}), header.get("metadata", {}))
        except (KeyError, TypeError, AttributeError) as exc:
            raise FormatError(path, f"incomplete mapping: missing {exc}") from exc
        except ConfigError as exc:
            raise FormatError(path, f"inconsistent mapping: {exc}") from exc
