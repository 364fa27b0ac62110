"""Per-file state shared by every checker: settings, catalog, imports, positions, and
the statement index that gives each finding its enclosing function and the lines on
which a suppression comment counts."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tenantlint.config import Settings
from tenantlint.diagnostics import Diagnostic, Location
from tenantlint.names import ImportMap, child_statements
from tenantlint.positions import Lines, Positions, statement_start
from tenantlint.reach import Reach
from tenantlint.tenant_sources import TenantSources
from tenantlint.trace import Decision, Recorder

if TYPE_CHECKING:
    from tenantlint.catalog import TenantCatalog


@dataclass
class StatementIndex:
    """Statement spans and def/class spans, from one walk over statement lists only."""

    statements: list[tuple[int, int]] = field(default_factory=list)  # (start, end) lines
    scopes: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, qualname)

    @classmethod
    def build(cls, module: ast.Module) -> "StatementIndex":
        index = cls()

        def walk(stmts, prefix: str) -> None:
            for stmt in stmts:
                start, end = statement_start(stmt), stmt.end_lineno or stmt.lineno
                children = child_statements(stmt)
                if not children:
                    index.statements.append((start, end))
                    continue
                # A compound statement's header: up to the line its body starts on.
                body = getattr(stmt, "body", None) or children
                index.statements.append((start, max(start, body[0].lineno - 1)))
                name = prefix
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}.{stmt.name}" if prefix else stmt.name
                    index.scopes.append((start, end, name))
                walk(children, name)

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
                 module: ast.Module | None = None, module_name: str = "") -> None:
        self.path = path
        self.source = source
        self.settings = settings
        self.catalog = catalog
        self.module = module
        self.module_name = module_name
        # (function, parameter) -> trusted at every call: what this file's verdicts took from
        # other files' calls (tenantlint/handed_values.py); a cached result is re-checked on it
        self.caller_answers: dict[tuple[str, str], bool] = {}
        self.lines = Lines(source)
        self.positions = Positions(self.lines)
        self._index: StatementIndex | None = None
        self.imports = ImportMap(module, module_name) if module is not None else None
        self.diagnostics: list[Diagnostic] = []
        self._providers = None
        self._tenant_sources: TenantSources | None = None
        self.trace: Recorder | None = None  # on only for `tenantlint why` (tenantlint/trace.py)
        self._reach: Reach | None = None

    @property
    def index(self) -> StatementIndex:
        if self._index is None:
            self._index = StatementIndex.build(self.module) if self.module is not None \
                else StatementIndex()
        return self._index

    def code_for(self, node: ast.AST) -> str:
        pos = self.positions.get(node)
        if pos is None:
            return ""
        return self.text_between(pos.start.line, pos.start.column, pos.end.line, pos.end.column)

    def text_between(self, line: int, col: int, end_line: int, end_col: int) -> str:
        return self.source[self.lines.offset(line, col):self.lines.offset(end_line, end_col)]

    def line_of_offset(self, offset: int) -> int:
        return self.lines.line_of_offset(offset)

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
            snippet=snippet, suppress_lines=suppress_lines, reach=self.reach_at(line),
        ))

    def reach_at(self, line: int) -> str:
        """`request`, `task` or `unknown`: where the code at this line runs (tenantlint/reach.py)."""
        if self._reach is None:
            self._reach = Reach(self.module, self.module_name, getattr(self.catalog, "reach", None))
        return self._reach.at(line)

    def scope_at(self, line: int) -> str:
        return self.index.scope_at(line)

    @property
    def tenant_sources(self) -> TenantSources:
        """Where values come from in this file: `ctx.tenant_sources.function(def_node)
        .is_tenant(expr)` / `.request_input(expr)` (see tenantlint/tenant_sources.py)."""
        if self._tenant_sources is None:
            self._tenant_sources = TenantSources(self.settings.tenant_sources, self.settings.tenant_columns,
                                                 self.module, self.imports, self.catalog.request_helpers)
        return self._tenant_sources

    def decide(self, node, family: str, subject: str, verdict: str, reason: str,
               evidence: tuple[str, int] | None = None) -> None:
        """Say what decided a verdict (see tenantlint/trace.py); nothing unless traced."""
        if self.trace is None:
            return
        if isinstance(node, tuple):
            line, end_line = node
        else:
            pos = self.positions.get(node)
            if pos is None:
                return
            line, end_line = pos.start.line, pos.end.line
        self.trace.record(Decision(family, line, end_line, subject, verdict, reason, evidence))

    def in_scope_provider(self, node: ast.AST) -> bool:
        """Inside `with provider(...)`, a `@provider` function, or `provider(<here>)`."""
        if self._providers is None:
            from tenantlint.providers import ProviderRanges

            self._providers = ProviderRanges(self.module, self.source, self.settings.scope_providers,
                                             self.imports, self.positions)
        # Most files have no provider: no need for the node's position (costly: columns
        # are counted in characters).
        return bool(self._providers.ranges) and self._providers.contains(self.positions.get(node))

