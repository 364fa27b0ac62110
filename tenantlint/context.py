"""Per-file state shared by every checker: settings, catalog, imports, positions, and
the statement index that gives each finding its enclosing function and the lines on
which a suppression comment counts."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import PositionProvider

from tenantlint.config import Settings
from tenantlint.diagnostics import Diagnostic, Location
from tenantlint.names import ImportMap, _child_statements

if TYPE_CHECKING:
    from tenantlint.catalog import TenantCatalog


@dataclass
class StatementIndex:
    """Statement spans and def/class spans, from one walk over statement lists only."""

    statements: list[tuple[int, int]] = field(default_factory=list)  # (start, end) lines
    scopes: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, qualname)

    @classmethod
    def build(cls, module: cst.Module, positions) -> "StatementIndex":
        index = cls()

        def walk(stmts, prefix: str) -> None:
            for stmt in stmts:
                pos = positions.get(stmt)
                if pos is None:
                    continue
                start, end = pos.start.line, pos.end.line
                if isinstance(stmt, cst.SimpleStatementLine):
                    index.statements.append((start, end))
                    continue
                body = getattr(stmt, "body", None)
                body_pos = positions.get(body) if body is not None else None
                # A compound statement's header: up to the line its body starts on.
                header_end = max(start, body_pos.start.line - 1) if body_pos else start
                if isinstance(body, cst.SimpleStatementSuite):
                    header_end = start
                index.statements.append((start, header_end))
                name = prefix
                if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                    name = f"{prefix}.{stmt.name.value}" if prefix else stmt.name.value
                    index.scopes.append((start, end, name))
                walk(_child_statements(stmt), name)

        walk(module.body, "")
        index.statements.sort()
        return index

    def statement_at(self, line: int) -> tuple[int, int]:
        best = (line, line)
        for start, end in self.statements:
            if start > line:
                break
            if start <= line <= end and (best == (line, line) or end - start <= best[1] - best[0]):
                best = (start, end)
        return best

    def scope_at(self, line: int) -> str:
        best = ""
        for start, end, name in self.scopes:
            if start <= line <= end and len(name) >= len(best):
                best = name
        return best


class FileContext:
    def __init__(self, *, path: str, source: str, settings: Settings, catalog: "TenantCatalog",
                 module: cst.Module | None = None, positions=None, module_name: str = "") -> None:
        self.path = path
        self.source = source
        self.settings = settings
        self.catalog = catalog
        self.module = module
        self.module_name = module_name
        # Positions cost more than the parse itself (PositionProvider regenerates the whole
        # module): `positions` may be a thunk, resolved on first use, so a file in which no
        # checker reports or asks for source text never pays for them.
        self._positions = positions if not callable(positions) else None
        self._resolve_positions = positions if callable(positions) else None
        self._index: StatementIndex | None = None
        self.imports = ImportMap(module, module_name) if module is not None else None
        self.diagnostics: list[Diagnostic] = []
        self._providers = None
        self._line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(i + 1)

    @property
    def positions(self):
        if self._positions is None:
            self._positions = self._resolve_positions() if self._resolve_positions else {}
        return self._positions

    @property
    def index(self) -> StatementIndex:
        if self._index is None:
            self._index = StatementIndex.build(self.module, self.positions) if self.module is not None \
                else StatementIndex()
        return self._index

    def code_for(self, node: cst.CSTNode) -> str:
        pos = self.positions.get(node)
        if pos is None:
            return ""
        return self.text_between(pos.start.line, pos.start.column, pos.end.line, pos.end.column)

    def text_between(self, line: int, col: int, end_line: int, end_col: int) -> str:
        start = self._line_starts[line - 1] + col if line - 1 < len(self._line_starts) else len(self.source)
        end = self._line_starts[end_line - 1] + end_col if end_line - 1 < len(self._line_starts) else len(self.source)
        return self.source[start:end]

    def line_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def report(self, code: str, message: str, line: int, column: int, end_line: int, end_column: int,
               *, snippet: str = "", suppress_lines: tuple[int, int] | None = None) -> None:
        from tenantlint.rules import rule_for

        rule = rule_for(code)
        if suppress_lines is None:
            stmt = self.index.statement_at(line)
            suppress_lines = (min(stmt[0], line), max(stmt[1], end_line))
        self.diagnostics.append(Diagnostic(
            code=code, name=rule.name, severity=rule.severity, message=message, path=self.path,
            location=Location(line, column, end_line, end_column), context=self.scope_at(line),
            snippet=snippet, suppress_lines=suppress_lines,
        ))

    def scope_at(self, line: int) -> str:
        return self.index.scope_at(line)

    def in_scope_provider(self, node: cst.CSTNode) -> bool:
        """Inside `with provider(...)`, a `@provider` function, or `provider(<here>)`."""
        if self._providers is None:
            from tenantlint.providers import ProviderRanges

            self._providers = ProviderRanges(self.module, self.source, self.settings.scope_providers,
                                             self.imports, self.positions)
        return self._providers.contains(self.positions.get(node))


def resolve_positions(wrapper: cst.MetadataWrapper):
    return wrapper.resolve(PositionProvider)
