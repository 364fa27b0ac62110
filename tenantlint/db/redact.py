"""Credentials out of every message that may quote a DSN.

libpq echoes the connection string in some syntax errors (`end of string reached when
looking for matching "]" in IPv6 host address in URI: "postgresql://bob:s3cret@[::1"`),
and a CI log is no place for a password. Redacted: the password of a URI's user info,
`password=` in key/value form or in a URI query, and any other occurrence of those
values (raw or percent-decoded) anywhere in the message."""
from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
_URI_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^:/?#@\s\"]*:)(?P<secret>[^@\s\"]*)(?=@)")
_KEY_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'?|[^\s&\"]+)", re.I)


def _secrets(dsn: str) -> set[str]:
    found = set()
    for pattern in (_URI_PASSWORD, _KEY_PASSWORD):
        for match in pattern.finditer(dsn):
            secret = match.group("secret")
            found |= {secret, secret.strip("'"), unquote(secret), unquote(secret.strip("'"))}
    return {s for s in found if s}


def redact(message: str, dsn: str | None = None) -> str:
    """`message` with the DSN's credentials (and any URI or key/value password in the
    message itself) masked."""
    for secret in sorted(_secrets(dsn or ""), key=len, reverse=True):
        message = message.replace(secret, MASK)
    for pattern in (_URI_PASSWORD, _KEY_PASSWORD):
        message = pattern.sub(lambda m: m.group("head") + MASK, message)
    return message
