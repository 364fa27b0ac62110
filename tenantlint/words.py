"""The identifiers a source text names, found once per text for every screen that asks.

Each checker's `wants` screen and its `active` test read a file's words; computed per
checker, that was one scan of the whole text each (about a second of Django's cold scan).
The last few texts are remembered: a file's screens and checkers run back to back, and a
`str` keeps its hash, so a lookup costs no second pass over the text."""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=4)
def word_counts(source: str) -> Counter:
    """How often each ASCII identifier occurs in `source`."""
    return Counter(IDENTIFIER.findall(source))


@lru_cache(maxsize=4)
def words_of(source: str) -> frozenset[str]:
    """The ASCII identifiers of `source` (a superset of the names its code uses)."""
    return frozenset(word_counts(source))


_ASCII_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_WORD_BYTES = _LETTERS | frozenset(b"0123456789")


def token_offsets(data: bytes, word: bytes) -> list[int]:
    """Where `word` occurs in `data` as one of the words `IDENTIFIER` finds there (in
    order): not inside a longer word, where a word starts at its first letter or `_`
    (`12ab` holds the word `ab`). Empty for what can never be such a word."""
    if not _ASCII_WORD.fullmatch(word):
        return []
    out, size, n = [], len(word), len(data)
    i = data.find(word)
    while i != -1:
        end = i + size
        if end == n or data[end] not in _WORD_BYTES:
            j = i - 1
            while j >= 0 and 48 <= data[j] <= 57:  # digits before it start no word
                j -= 1
            if j < 0 or data[j] not in _LETTERS:
                out.append(i)
        i = data.find(word, i + 1)
    return out


def remembered(compute):
    """`compute(owner, source)` remembered for the last (owner, source) asked: a screen
    that several checkers of one file ask in a row is computed once."""
    last: list = [None, None, None]

    def lookup(owner, source: str):
        if last[0] is owner and last[1] is source:
            return last[2]
        value = compute(owner, source)
        last[:] = [owner, source, value]
        return value

    lookup.__doc__ = compute.__doc__
    lookup.__name__ = compute.__name__
    return lookup
