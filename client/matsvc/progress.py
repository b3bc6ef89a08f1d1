"""A text progress bar on stderr: redrawn in place with \\r on a terminal; in a log or a pipe
(where \\r would pile up into one endless line) a plain line now and then instead."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

BAR_WIDTH = 30
STAGE_WIDTH = 48


def render(fraction: float, stage: str = "", label: str = "", width: int = BAR_WIDTH) -> str:
    """One line: `label [#########.........]  30% stage`."""
    fraction = min(max(float(fraction or 0.0), 0.0), 1.0)
    filled = int(fraction * width)
    bar = "#" * filled + "." * (width - filled)
    stage = " ".join(stage.split())  # stage texts are one line, whatever the server sends
    if len(stage) > STAGE_WIDTH:
        stage = stage[:STAGE_WIDTH - 1] + "…"
    text = f"[{bar}] {round(fraction * 100):3d}%" + (f" {stage}" if stage else "")
    return f"{label} {text}" if label else text


class ProgressBar:
    """`update(fraction, stage)` as often as wanted; `close()` ends the line.

    Off a terminal a line is written when the stage text changes, when another `step` of the work
    is done, or after `interval` seconds of neither, so logs show the job moving without flooding.
    """

    def __init__(self, label: str = "", stream: TextIO | None = None, is_tty: bool | None = None,
                 step: float = 0.1, interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.is_tty = is_tty if is_tty is not None else _isatty(self.stream)
        self.step, self.interval, self.clock = step, interval, clock
        self._width = 0  # of the line on screen, to blank what a shorter redraw leaves behind
        self._last: tuple[float, str, float] | None = None  # fraction, stage, time of the last plain line

    def update(self, fraction: float, stage: str = "") -> None:
        line = render(fraction, stage, self.label)
        if self.is_tty:
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif self._due(fraction, stage):
            self.stream.write(line + "\n")
            self._last = (fraction, stage, self.clock())
        self.stream.flush()

    def _due(self, fraction: float, stage: str) -> bool:
        if self._last is None:
            return True
        last_fraction, last_stage, last_time = self._last
        return (stage != last_stage or fraction - last_fraction >= self.step or fraction >= 1.0 > last_fraction
                or self.clock() - last_time >= self.interval)

    def close(self) -> None:
        if self.is_tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
