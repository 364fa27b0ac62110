"""Line/column ranges of stdlib `ast` nodes, in the units findings are reported in.

CPython records every expression's and statement's span on the node itself
(`lineno`, `col_offset`, `end_lineno`, `end_col_offset`), so positions cost nothing
until a finding needs one. Two conversions are left: columns are UTF-8 byte offsets
(a finding reports characters), and lines follow Python's own newlines (`\\r\\n`, `\\r`,
`\\n`), which `Lines` splits the same way.
"""
from __future__ import annotations

import ast
import bisect
import re
from typing import NamedTuple

_NEWLINE = re.compile(r"\r\n?|\n")


class Pos(NamedTuple):
    line: int  # 1-based
    column: int  # 0-based, in characters


class Range(NamedTuple):
    start: Pos
    end: Pos


class Lines:
    """A source's line starts (Python's newlines) and offset <-> line/column helpers."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def line(self, number: int) -> str:
        """Line `number` (1-based), without its newline."""
        if not 1 <= number <= len(self.starts):
            return ""
        start = self.starts[number - 1]
        end = self.starts[number] if number < len(self.starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")

    def offset(self, line: int, column: int) -> int:
        """Character offset of a (1-based line, 0-based character column)."""
        if line - 1 >= len(self.starts):
            return len(self.source)
        return self.starts[max(line, 1) - 1] + column

    def line_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def char_column(self, line: int, byte_column: int) -> int:
        text = self.line(line)
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8", "surrogatepass")[:byte_column].decode("utf-8", "replace"))


class Positions:
    """`positions[node]` / `positions.get(node)` for ast nodes: a Range with character
    columns, or None (get) for the nodes CPython gives no span (operators, contexts,
    `arguments`, `comprehension`, `withitem`...)."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def get(self, node: ast.AST) -> Range | None:
        line = getattr(node, "lineno", None)
        end_line = getattr(node, "end_lineno", None)
        if line is None or end_line is None:
            if isinstance(node, ast.withitem):
                return _join(self.get(node.context_expr), self.get(node.optional_vars))
            return None
        chars = self.lines.char_column
        return Range(Pos(line, chars(line, node.col_offset)), Pos(end_line, chars(end_line, node.end_col_offset)))

    def __getitem__(self, node: ast.AST) -> Range:
        found = self.get(node)
        if found is None:
            raise KeyError(type(node).__name__)
        return found


def _join(first: Range | None, last: Range | None) -> Range | None:
    if first is None or last is None:
        return first
    return Range(first.start, last.end)


def statement_start(stmt: ast.AST) -> int:
    """A statement's first line: a decorated def or class starts at its first decorator."""
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        return min(d.lineno for d in decorators) if all(hasattr(d, "lineno") for d in decorators) else stmt.lineno
    return stmt.lineno
