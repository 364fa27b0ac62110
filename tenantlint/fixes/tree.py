"""A file's libcst tree with positions and parents: the nodes a finding's span covers,
the function around them, and character offsets for edits."""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from tenantlint.diagnostics import Location
from tenantlint.positions import Lines


class CstFile:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = Lines(text)
        self.module = cst.parse_module(text)
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)

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
        found = []
        for node, where in self.positions.items():
            if isinstance(node, kind):
                start = self.lines.offset(where.start.line, where.start.column)
                end = self.lines.offset(where.end.line, where.end.column)
                if low <= start and end <= high and end > start:
                    found.append((start, -end, node))
        return [node for _s, _e, node in sorted(found, key=lambda item: (item[0], item[1]))]

    def ancestors(self, node: cst.CSTNode):
        while node in self.parents:
            node = self.parents[node]
            yield node

    def function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        return next((n for n in self.ancestors(node) if isinstance(n, cst.FunctionDef)), None)

    def class_of(self, node: cst.CSTNode) -> cst.ClassDef | None:
        return next((n for n in self.ancestors(node) if isinstance(n, cst.ClassDef)), None)
