"""Reports as bytes that can always be written.

Paths come from the file system: a name that is not UTF-8 reaches us as surrogate
escapes (`\udc80`-`\udcff`), which are written back as the original bytes. A message
may quote source text holding a lone surrogate of another kind (`"\ud800"` in a string
literal): that one is written as the escape `\ud800`. Either way the report is written,
whole; a security gate's report must never be lost to an encoding error."""
from __future__ import annotations

import codecs

ERRORS = "tenantlint-escape"


def _escape(exc: UnicodeError):
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start:exc.end]:
        point = ord(char)
        out.append(bytes([point - 0xDC00]) if 0xDC80 <= point <= 0xDCFF else f"\\u{point:04x}".encode("ascii"))
    return b"".join(out), exc.end


codecs.register_error(ERRORS, _escape)


def encode(text: str) -> bytes:
    """UTF-8 bytes of `text`, with the escapes described above."""
    return text.encode("utf-8", ERRORS)
