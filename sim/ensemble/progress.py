"""Progress of a long ensemble: a bar on a terminal, plain lines in logs, or nothing."""

from __future__ import annotations

import sys
import time


class Progress:
    """Reports runs done, runs per second and time left on standard error.

    On a terminal it draws a tqdm bar; otherwise (CI logs, pipes) it prints a
    plain line at most every ``every`` seconds; with ``quiet`` it says nothing.
    """

    def __init__(self, total: int, quiet: bool = False, every: float = 5.0, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.quiet, self.every = quiet, every
        self.start = self.last = time.monotonic()
        self.bar = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="runs", unit_scale=True, file=self.stream,
                            dynamic_ncols=True, smoothing=0.1)

    def extend(self, more: int):
        """The target grew (``--until-ci`` adds batches)."""
        self.total += more
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def update(self, runs: int):
        """``runs`` more runs are done."""
        self.done += runs
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(runs)
            return
        now = time.monotonic()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            left = (self.total - self.done) / rate if rate > 0 else float("inf")
            print(f"{self.done:,}/{self.total:,} runs ({self.done / self.total:.0%}), "
                  f"{rate:,.0f} runs/s, about {left:,.0f} s left",
                  file=self.stream, flush=True)

    def close(self):
        """Finish the bar, if any."""
        if self.bar is not None:
            self.bar.close()
