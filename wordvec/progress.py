"""A minimal progress bar for long work: rate and ETA on stderr, redrawn at most 5 times a second.

It draws only when asked to (``enabled``), so library calls stay silent unless the CLI or the
user turns it on; ``enabled=None`` means "when stderr is a terminal".
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


def _format_count(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{unit}"
    # Slow work (a few codebooks a second) would otherwise show a rate of "0".
    return f"{value:.2g}" if 0 < abs(value) < 10 and value != int(value) else f"{value:.0f}"


def _format_seconds(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """``with Progress("counting", total=n, unit="tokens") as bar: bar.update(k)``."""

    def __init__(
        self,
        description: str,
        *,
        total: float | None = None,
        unit: str = "it",
        enabled: bool | None = None,
        stream: TextIO | None = None,
        min_interval: float = 0.2,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.min_interval = min_interval
        self.done = 0.0
        self._start = time.perf_counter()
        self._last_draw = 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(success=exc_type is None)

    def update(self, amount: float = 1) -> None:
        self.done += amount
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw(now, final=False)

    def _draw(self, now: float, *, final: bool) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        text = f"{self.description}: {_format_count(self.done)}"
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(fraction * 20)
            text += f"/{_format_count(self.total)} [{'#' * filled}{'.' * (20 - filled)}] "
            text += f"{fraction:4.0%}"
            if not final and rate > 0:
                text += f" ETA {_format_seconds((self.total - self.done) / rate)}"
        text += f" {_format_count(rate)} {self.unit}/s, {_format_seconds(elapsed)}"
        end = "\n" if final else ""
        self.stream.write(f"\r{text}\033[K{end}")
        self.stream.flush()

    def close(self, *, success: bool = True) -> None:
        if self.enabled and success:
            self._draw(time.perf_counter(), final=True)
        elif self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False
