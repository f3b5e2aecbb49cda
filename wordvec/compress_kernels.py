"""Numba kernels for k-means, the building block of product and residual quantization.

The driver (:mod:`wordvec.compress`) validates inputs, computes point-to-centroid distances with
BLAS (the ``O(n k d)`` part, which a matrix product does fastest) and calls these kernels for
the rest: k-means++ seeding (Arthur & Vassilvitskii, 2007) and the centroid update. Randomness
comes from the splitmix64 generator of :mod:`wordvec.sampling_kernels`, so a seed fixes the
result.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from wordvec.sampling_kernels import next_below, next_uniform


@numba.njit(cache=True, nogil=True)
def _squared_distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    total = 0.0
    for j in range(a.shape[0]):
        diff = a[j] - b[j]
        total += diff * diff
    return total


# Serial on purpose: k-means++ is K short passes over the points, and a parallel region per
# pass spends more on thread hand-offs than it saves (badly so on a busy machine).
@numba.njit(cache=True, nogil=True)
def kmeans_plusplus(
    points: NDArray[np.float32],
    n_clusters: int,
    state: NDArray[np.uint64],
    centroids: NDArray[np.float32],
    nearest: NDArray[np.float64],
) -> None:
    """Fill ``centroids`` ``(n_clusters, d)`` with k-means++ seeds drawn from ``points``
    ``(n, d)``: the first uniformly, each next one with probability proportional to its squared
    distance to the nearest seed so far. ``nearest`` ``(n,)`` is scratch space (left holding
    each point's squared distance to its nearest seed). ``state`` is a one-slot RNG state."""
    n = points.shape[0]
    first = next_below(state, 0, n)
    centroids[0] = points[first]
    for i in range(n):
        nearest[i] = _squared_distance(points[i], centroids[0])
    for c in range(1, n_clusters):
        total = 0.0
        for i in range(n):
            total += nearest[i]
        chosen = n - 1
        if total > 0.0:
            target = next_uniform(state, 0) * total
            running = 0.0
            for i in range(n):
                running += nearest[i]
                if running > target:
                    chosen = i
                    break
        else:  # every point already coincides with a seed: any point will do
            chosen = next_below(state, 0, n)
        centroids[c] = points[chosen]
        for i in range(n):
            dist = _squared_distance(points[i], centroids[c])
            if dist < nearest[i]:
                nearest[i] = dist


@numba.njit(cache=True, nogil=True)
def accumulate_centroids(
    points: NDArray[np.float32],
    labels: NDArray[np.int64],
    sums: NDArray[np.float64],
    counts: NDArray[np.int64],
) -> None:
    """Add every point to the running sum of its cluster: ``sums[labels[i]] += points[i]``,
    ``counts[labels[i]] += 1`` (sums in float64 so large clusters lose no precision)."""
    for i in range(points.shape[0]):
        label = labels[i]
        counts[label] += 1
        for j in range(points.shape[1]):
            sums[label, j] += points[i, j]
