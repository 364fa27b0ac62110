"""A file's libcst tree with positions and parents: the nodes a finding's span covers,
the function around them, and character offsets for edits."""
from __future__ import annotations

import bisect

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tenantlint.diagnostics import Location
from tenantlint.positions import Lines


class CstFile:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = Lines(text)
        self.module = cst.parse_module(text)
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)
        self.memo: dict = {}  # per-scope facts the fixers compute once (reach.py)
        spans = []
        for node, where in self.positions.items():
            start = self.lines.offset(where.start.line, where.start.column)
            end = self.lines.offset(where.end.line, where.end.column)
            if end > start:
                spans.append((start, -end, id(node), node))
        spans.sort(key=lambda item: item[:3])
        self._spans = spans
        self._starts = [item[0] for item in spans]

    @staticmethod
    def parse(text: str) -> "CstFile | None":
        try:
            return CstFile(text)
        except Exception:  # noqa: BLE001 - libcst's parse errors have no stable base class
            return None

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        found = self.positions[node]
        return (self.lines.offset(found.start.line, found.start.column),
                self.lines.offset(found.end.line, found.end.column))

    def code(self, node: cst.CSTNode) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def location_span(self, location: Location) -> tuple[int, int]:
        return (self.lines.offset(location.line, location.column - 1),
                self.lines.offset(location.end_line, location.end_column - 1))

    def within(self, location: Location, kind=cst.CSTNode) -> list:
        """Nodes of `kind` inside the finding's span, outermost first."""
        low, high = self.location_span(location)
        first = bisect.bisect_left(self._starts, low)
        found = []
        for start, neg_end, _id, node in self._spans[first:]:
            if start > high:
                break
            if -neg_end <= high and isinstance(node, kind):
                found.append(node)
        return found

    def ancestors(self, node: cst.CSTNode):
        """The nodes whose span holds this one's, innermost first (from the spans: libcst's
        parent metadata costs a second walk of the whole tree)."""
        start, end = self.span(node)
        last = bisect.bisect_right(self._starts, start)
        holders = [(s, -neg_end, n) for s, neg_end, _id, n in self._spans[:last]
                   if -neg_end >= end and n is not node]
        holders.sort(key=lambda item: item[1] - item[0])
        return [n for _s, _e, n in holders]

    def function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        return next((n for n in self.ancestors(node) if isinstance(n, cst.FunctionDef)), None)

    def class_of(self, node: cst.CSTNode) -> cst.ClassDef | None:
        return next((n for n in self.ancestors(node) if isinstance(n, cst.ClassDef)), None)
