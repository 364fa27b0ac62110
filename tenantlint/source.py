"""Reading a file into text the way Python would, or a one-line reason why not.

Only regular files are read: a FIFO named `x.py` would block the scan forever and a
link to `/dev/zero` would read until memory runs out, so the file is opened
non-blocking, checked with `fstat` on the open descriptor (no race with a rename), and
its size checked against the limit before a byte is read. Each file is read once: the
text analyzed and the content digest the result cache keys on come from the same bytes."""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"%PDF", b"\x7fELF")
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

# Test hook: called with the path after its bytes were read and before they are analyzed,
# so a test can edit the file at the one moment a scan is most exposed to it. None (one
# attribute test per file) outside tests.
after_read: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class Source:
    text: str | None
    error: str = ""
    digest: bytes = b""  # sha256 of the bytes read ("" when nothing could be read)


@dataclass(frozen=True)
class Raw:
    data: bytes | None
    error: str = ""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: Path, max_size: int, *, head: bool = False) -> Raw:
    """The bytes of a regular file no larger than `max_size`, or why not. With `head`, a
    larger file gives its first `max_size + 1` bytes instead (enough to screen it, and to
    see that it is too large)."""
    try:
        st = os.stat(path)  # before opening: opening some devices has effects (a tape rewinds)
        if stat.S_ISDIR(st.st_mode):
            try:
                os.scandir(path).close()
            except OSError as exc:
                return Raw(None, f"cannot list folder: {exc.strerror or exc}: its files are not analyzed")
            return Raw(None, "is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            return Raw(None, f"is {_kind(st.st_mode)}, not a regular file: not analyzed")
        fd = os.open(path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())  # what was opened, whatever the path points at now
            if not stat.S_ISREG(st.st_mode):
                return Raw(None, f"is {_kind(st.st_mode)}, not a regular file: not analyzed")
            if st.st_size > max_size and not head:
                return Raw(None, f"file is {st.st_size:,} bytes, above max-file-size ({max_size:,}): not analyzed")
            limit = max_size + 1
            data = fh.read(min(limit, st.st_size + 1))
            while st.st_size < len(data) < limit:  # it grew since fstat: read on, up to the limit
                more = fh.read(min(limit - len(data), 1 << 20))
                if not more:
                    break
                data += more
    except OSError as exc:
        return Raw(None, f"cannot read file: {exc.strerror or exc}")
    if len(data) > max_size and not head:
        return Raw(None, f"file is over max-file-size ({max_size:,} bytes): not analyzed")
    if after_read is not None:
        after_read(path)
    return Raw(data)


def read_source(path: Path, max_size: int) -> Source:
    raw = read_bytes(path, max_size)
    if raw.data is None:
        return Source(None, raw.error)
    source = decode(raw.data, sql=path.suffix == ".sql")
    return Source(source.text, source.error, hashlib.sha256(raw.data).digest())


def decode(data: bytes, sql: bool = False) -> Source:
    if data.startswith(_BINARY_MAGIC):
        return Source(None, "binary content, not source text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Source(None, "UTF-16 encoded: Python source must be UTF-8 or declare an 8-bit encoding")
    if b"\x00" in data:
        return Source(None, "file contains NUL bytes")
    if sql:
        encoding = "utf-8-sig"
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except (SyntaxError, LookupError) as exc:
            return Source(None, f"bad encoding declaration: {exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        return Source(None, f"cannot decode as {encoding}{where}: {reason}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(text)
