"""A small progress bar for long runs: rows, experiments, rate and ETA on one terminal line.

It writes to a stream (standard error by default) only when that stream is a
terminal, at most about ten times a second, rewriting one line with carriage return;
elsewhere (a pipe, a log file, ``--quiet``) it writes nothing. It needs no
dependency.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Progress"]


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """One-line progress of a run over ``total`` units of work (bytes, rows, ...).

    Parameters
    ----------
    total : float, optional
        The amount of work; with it the line shows a bar, the share done
        and the ETA. Without it, only counts and the rate.
    stream : file-like, optional
        Where to write; ``sys.stderr`` by default (looked up when created).
    enabled : bool, optional
        Force the bar on or off; by default on when ``stream.isatty()``.
    interval : float
        Least seconds between two redraws (``update(force=True)`` ignores it).
    clock : callable
        Monotonic time in seconds (tests pass a fake one).
    label : str
        Text at the start of the line (e.g. ``'pass 1/2'``).
    """

    def __init__(
        self,
        total: float | None = None,
        *,
        stream: Any = None,
        enabled: bool | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        label: str = "",
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            try:
                enabled = bool(self.stream.isatty())
            except (AttributeError, ValueError):  # no isatty, or a closed stream
                enabled = False
        self.enabled = enabled
        self.total = total
        self.interval = interval
        self.clock = clock
        self.label = label
        self.start = clock()
        self._last = -float("inf")
        self._width = 0
        self._shown = False

    def line(self, done: float, rows: int, experiments: int, elapsed: float) -> str:
        """The text of the line for this state (no carriage return)."""
        rate = rows / elapsed if elapsed > 0 else 0.0
        parts = [self.label] if self.label else []
        total = self.total
        if total and total > 0:
            frac = min(max(done / total, 0.0), 1.0)
            filled = int(frac * 20)
            parts.append(f"[{'#' * filled}{'.' * (20 - filled)}] {100 * frac:3.0f}%")
        parts += [f"{rows:,} rows", f"{experiments:,} experiments", f"{_si(rate)} rows/s"]
        if total and total > 0 and 0 < done < total and elapsed > 0:
            parts.append(f"ETA {_clock(elapsed * (total - done) / done)}")
        elif total and done >= total:
            parts.append(f"done in {_clock(elapsed)}")
        return "  ".join(parts)

    def update(self, done: float, *, rows: int, experiments: int, force: bool = False) -> None:
        """Redraw with ``done`` units of work, ``rows`` rows and ``experiments`` experiments."""
        if not self.enabled:
            return
        now = self.clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(done, rows, experiments, now - self.start)
        pad = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line (if anything was drawn)."""
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
