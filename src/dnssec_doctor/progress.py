"""The progress line a probe draws on a terminal's stderr while it waits (``check``,
``probe``): the command line's, kept out of ``render`` (which does no I/O) and out of
``commands.py`` (which tests do not import)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class ProgressLine:
    """One self-rewriting status line on a terminal's stderr: the zone being walked, the
    queries sent, and the servers still awaited (the slow ones are what users wait on)."""

    WIDTH = 120  # the most a line shows

    def __init__(self, stream: Any = sys.stderr) -> None:
        self.stream = stream
        self.zone = ""
        self.sent = 0
        self.waiting: dict[str, int] = {}
        self.shown = 0.0
        self.width = 0

    def __call__(self, event: str, subject: str) -> None:
        if event == "zone":
            self.zone = subject
        elif event == "sent":
            self.sent += 1
            self.waiting[subject] = self.waiting.get(subject, 0) + 1
        elif event == "done" and self.waiting.get(subject):
            self.waiting[subject] -= 1
            if not self.waiting[subject]:
                del self.waiting[subject]
        now = time.monotonic()
        if now - self.shown >= 0.1:
            self.shown = now
            awaited = ", ".join(list(self.waiting)[:3])
            self._show(f"probing {self.zone}  {self.sent} queries  waiting for {awaited or '-'}")

    def _show(self, text: str) -> None:
        text = text[: self._columns()]
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def _columns(self) -> int:
        """The most this line may show: less than the terminal's width, or a line that
        wraps would leave its first rows behind when it is cleared."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a terminal after all
            return self.WIDTH
        return max(1, min(self.WIDTH, columns - 1))

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()

    @staticmethod
    def erase(stream: Any) -> None:
        """Blank whatever line another process drew on this terminal (a probe's child
        killed before it could clear its own): back to the line's start, erase to its end
        (the terminal's own width, whatever it is)."""
        stream.write("\r\x1b[K")
        stream.flush()
