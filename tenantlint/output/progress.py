"""A progress bar on stderr for long scans, only where a person is watching: stderr is
a terminal, not under pre-commit (`PRE_COMMIT=1`), not in CI (`CI` set), not `TERM=dumb`.
It never touches stdout, so piped or redirected reports stay clean."""
from __future__ import annotations

import os
import sys
from typing import Mapping, TextIO

MIN_FILES = 200  # below this a scan finishes before a bar is worth drawing


def wanted(n_files: int, stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    env = env if env is not None else os.environ
    if n_files < MIN_FILES or env.get("PRE_COMMIT") or env.get("CI") or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """`bar(path)` after each file; `close()` erases the line."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.width = total, 0, width
        self.stream = stream if stream is not None else sys.stderr
        self._last = -1

    def __call__(self, _path: str = "") -> None:
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        if filled == self._last and self.done != self.total:
            return
        self._last = filled
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\rscanning [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        if self.done:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
            self.stream.flush()


def for_scan(n_files: int, stream: TextIO | None = None, env: Mapping[str, str] | None = None
             ) -> Bar | None:
    return Bar(n_files, stream) if wanted(n_files, stream, env) else None


def color_wanted(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (even empty: a gate errs on the plain side)."""
    stream = stream if stream is not None else sys.stdout
    env = env if env is not None else os.environ
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["wanted", "Bar", "for_scan", "color_wanted"]
