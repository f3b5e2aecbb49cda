"""Numba kernels for sampling: alias-table construction and a per-thread random generator.

Trainers keep one ``uint64`` state per thread (seeded from the run's seed and the thread index)
and call :func:`next_random` / :func:`draw_alias` inside their kernels, so runs are reproducible
for a given seed and thread count and no thread shares a generator.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def build_alias_kernel(probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Vose's alias method on probabilities summing to 1."""
    n = probs.shape[0]
    scaled = probs * n
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = 0
    n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    # Whatever is left is 1 up to rounding: accept it always.
    return accept, alias


@numba.njit(cache=True, nogil=True, inline="always")
def next_random(state: NDArray[np.uint64], slot: int) -> np.uint64:
    """splitmix64 step on ``state[slot]``; returns 64 random bits."""
    state[slot] += np.uint64(0x9E3779B97F4A7C15)
    z = state[slot]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True, inline="always")
def next_uniform(state: NDArray[np.uint64], slot: int) -> float:
    """A float in [0, 1) with 53 random bits."""
    return float(next_random(state, slot) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, nogil=True, inline="always")
def next_below(state: NDArray[np.uint64], slot: int, n: int) -> np.int64:
    """A uniform integer in ``[0, n)`` for ``n < 2**32``, by Lemire's multiply-shift: no
    64-bit division, which costs more than the rest of a negative draw."""
    high = next_random(state, slot) >> np.uint64(32)
    return np.int64((high * np.uint64(n)) >> np.uint64(32))


@numba.njit(cache=True, nogil=True, inline="always")
def draw_alias(
    accept: NDArray[np.float64], alias: NDArray[np.int32], state: NDArray[np.uint64], slot: int
) -> np.int64:
    n = accept.shape[0]
    # np.int64 returns: Numba keeps uint64 through int() and would unify uint64 and int64
    # returns to float64.
    i = next_below(state, slot, n)
    if next_uniform(state, slot) < accept[i]:
        return i
    return np.int64(alias[i])


def seed_states(seed: int, n_threads: int) -> NDArray[np.uint64]:
    """Independent generator states for ``n_threads`` threads, derived from ``seed``."""
    seq = np.random.SeedSequence(seed)
    return np.asarray(seq.generate_state(max(n_threads, 1), dtype=np.uint64), dtype=np.uint64)
