"""What the corpus trainers share: cutting an encoded corpus into jobs and running an epoch's jobs
on Python threads that call GIL-free Numba kernels on shared matrices (Hogwild).

A trainer supplies one function ``run_job(first_sentence, last_sentence, slot, lr_start, lr_end)``
that trains one job with thread ``slot``'s random state and scratch and returns ``(raw_tokens,
loss_sum, loss_terms)``; this module hands out jobs in corpus order, decays the learning rate
linearly with the tokens processed so far, draws the progress bar and re-raises the first error
of any thread in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from wordvec.progress import Progress

RunJob = Callable[[int, int, int, float, float], tuple[int, float, int]]


def sentence_jobs(
    sentence_offsets: NDArray[np.int64], tokens_per_job: int
) -> list[tuple[int, int]]:
    """Contiguous sentence ranges ``[first, last)`` of about ``tokens_per_job`` tokens each (at
    least one sentence per job)."""
    jobs = []
    first = 0
    n = int(sentence_offsets.shape[0] - 1)
    while first < n:
        target = sentence_offsets[first] + tokens_per_job
        last = int(np.searchsorted(sentence_offsets, target, side="left"))
        last = min(max(last, first + 1), n)
        jobs.append((first, last))
        first = last
    return jobs


@dataclass
class _Totals:
    raw: int = 0
    loss: float = 0.0
    terms: int = 0


def run_epoch_threads(
    jobs: list[tuple[int, int]],
    sentence_offsets: NDArray[np.int64],
    n_threads: int,
    run_job: RunJob,
    *,
    lr0: float,
    lr_min: float,
    done_before: int,
    total: int,
    bar: Progress,
) -> float:
    """Run one epoch's ``jobs`` on ``n_threads`` threads; returns the mean sampled loss.

    The learning rate falls linearly from ``lr0`` at token 0 to ``lr_min`` at token ``total``
    (all epochs); a job gets the rates at its first and last token, counted from
    ``done_before`` plus the tokens finished so far in this epoch.
    """
    work: queue.Queue[tuple[int, int]] = queue.Queue()
    for job in jobs:
        work.put(job)
    lock = threading.Lock()
    totals = _Totals()
    errors: list[BaseException] = []

    def learning_rate_at(tokens: int) -> float:
        return max(lr_min, lr0 - (lr0 - lr_min) * tokens / max(total, 1))

    def worker(slot: int) -> None:
        try:
            while True:
                try:
                    first, last = work.get_nowait()
                except queue.Empty:
                    return
                with lock:
                    position = done_before + totals.raw
                size = int(sentence_offsets[last] - sentence_offsets[first])
                raw, loss, terms = run_job(
                    first, last, slot, learning_rate_at(position), learning_rate_at(position + size)
                )
                with lock:
                    totals.raw += raw
                    totals.loss += loss
                    totals.terms += terms
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    reported = 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.1)
        with lock:
            raw, loss, terms = totals.raw, totals.loss, totals.terms
        bar.description = f"training (loss {loss / max(terms, 1):.4f})"
        bar.update(raw - reported)
        reported = raw
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    bar.update(totals.raw - reported)
    return totals.loss / max(totals.terms, 1)
