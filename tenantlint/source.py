"""Reading a file into text the way Python would, or a one-line reason why not."""
from __future__ import annotations

import io
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path

_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"%PDF", b"\x7fELF")


@dataclass(frozen=True)
class Source:
    text: str | None
    error: str = ""


def read_source(path: Path, max_size: int) -> Source:
    try:
        if path.is_dir():
            try:
                os.scandir(path).close()
            except OSError as exc:
                return Source(None, f"cannot list folder: {exc.strerror or exc}: its files are not analyzed")
            return Source(None, "is a directory, not a file")
        size = path.stat().st_size
        if size > max_size:
            return Source(None, f"file is {size:,} bytes, above max-file-size ({max_size:,}): not analyzed")
        data = path.read_bytes()
    except OSError as exc:
        return Source(None, f"cannot read file: {exc.strerror or exc}")
    return decode(data, sql=path.suffix == ".sql")


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
